"""The p-value behind a performance alert: Fisher's exact test for proportions, the band's normal tail otherwise,
and the class floor of band-judged binary metrics. Checked by hand, against scipy's hypergeometric distribution,
against scikit-learn's metrics, and for calibration under no change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import accuracy_score, precision_score, recall_score

from include.monitoring.performance.metrics import binary_statistics, multiclass_statistics
from include.monitoring.performance.significance import (
    band_p_value,
    exact_p_value,
    proportion,
    too_few_for_band,
)


def test_exact_p_value_by_hand():
    """Window 0 of 3 right, reference 3 of 3: of the C(6, 3) = 20 ways to place the 3 successes, one leaves the
    window none, so P(window <= 0) = 1/20."""
    assert exact_p_value((0, 3), (3, 0)) == pytest.approx(1 / 20)
    # Window 1 of 3 against 3 of 3: 4 successes and 2 failures in all; the window's 3 rows hold both failures in
    # C(4,1) C(2,2) = 4 of the 20 ways, and it cannot do worse: p = 4/20.
    assert exact_p_value((1, 2), (3, 0)) == pytest.approx(0.2)
    assert exact_p_value((3, 0), (0, 3)) == pytest.approx(1.0)  # the window is better: nothing to see


@given(st.integers(0, 60), st.integers(0, 60), st.integers(1, 400), st.integers(0, 400))
def test_exact_p_value_is_the_hypergeometric_lower_tail(successes, failures, reference_successes, reference_failures):
    """Independent oracle: given all successes, the window's count is hypergeometric; p = P(X <= observed)."""
    if successes + failures == 0:
        assert exact_p_value((successes, failures), (reference_successes, reference_failures)) is None
        return
    total = successes + failures + reference_successes + reference_failures
    expected = stats.hypergeom.cdf(successes, total, successes + reference_successes, successes + failures)
    got = exact_p_value((successes, failures), (reference_successes, reference_failures))
    assert got == pytest.approx(min(1.0, expected), rel=1e-9, abs=1e-12)


@given(st.integers(1, 80), st.integers(0, 79))
def test_exact_p_value_falls_as_the_window_gets_worse(trials, successes):
    successes = min(successes, trials - 1)
    reference = (790, 210)
    worse = exact_p_value((successes, trials - successes), reference)
    better = exact_p_value((successes + 1, trials - successes - 1), reference)
    assert worse <= better


@pytest.mark.parametrize("n", [50, 150, 1000])
@pytest.mark.parametrize("alpha", [1e-4, 1e-3, 0.05])
def test_exact_test_holds_its_level_when_nothing_changed(n, alpha):
    """The test's size, computed exactly rather than by simulation: a window of n labels drawn at the reference's
    own rate has p <= alpha with probability at most alpha (Fisher's test is exact, so conservative), also at the
    1e-4 that pages."""
    reference = (7_900, 2_100)
    rate = reference[0] / sum(reference)
    correct = np.arange(n + 1)
    p_values = np.array([exact_p_value((int(k), n - int(k)), reference) for k in correct])
    size = stats.binom.pmf(correct[p_values <= alpha], n, rate).sum()
    assert 0 < size <= alpha
    assert size > alpha / 20  # and not so conservative that it cannot see a real drop


def test_empty_window_or_reference_gives_no_p_value():
    assert exact_p_value((0, 0), (10, 5)) is None
    assert exact_p_value((3, 2), (0, 0)) is None
    # No predicted positives: precision has no trials, so no proportion to test (the band or nothing judges it).
    assert proportion("binary_classification", "precision", {"tp": 0, "fp": 0, "tn": 8, "fn": 2}) is None


def test_proportions_are_the_counts_behind_scikit_learns_metrics():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 500)
    scores = np.clip(labels * 0.3 + rng.random(500) * 0.7, 0, 1)
    statistics = binary_statistics(labels, scores, 0.5)
    predicted = (scores >= 0.5).astype(int)
    for name, oracle in (("accuracy", accuracy_score), ("precision", precision_score), ("recall", recall_score)):
        successes, failures = proportion("binary_classification", name, statistics)
        assert successes / (successes + failures) == pytest.approx(oracle(labels, predicted), abs=1e-12)
    assert proportion("binary_classification", "accuracy", statistics)[0] + \
        proportion("binary_classification", "accuracy", statistics)[1] == 500


def test_multiclass_accuracy_is_a_proportion_and_other_metrics_are_not():
    labels = ["a", "b", "c", "a", "b", "c", "a"]
    predicted = ["a", "b", "a", "a", "c", "c", "b"]
    statistics = multiclass_statistics(labels, predicted)
    assert proportion("multiclass_classification", "accuracy", statistics) == (4, 3)
    # recall[c]: of the rows whose label is c, those predicted c (a: 2 of 3, b: 1 of 2, c: 1 of 2)
    assert proportion("multiclass_classification", "recall[a]", statistics) == (2, 1)
    assert proportion("multiclass_classification", "recall[c]", statistics) == (1, 1)
    assert proportion("multiclass_classification", "recall[z]", statistics) is None  # a class never seen
    assert proportion("multiclass_classification", "macro_f1", statistics) is None
    assert proportion("binary_classification", "roc_auc", {"tp": 1, "fp": 1, "tn": 1, "fn": 1}) is None
    assert proportion("regression", "mae", {"n": 3}) is None
    assert proportion("binary_classification", "accuracy", None) is None  # an estimate has no counts


def test_band_p_value_is_the_normal_tail_in_the_worse_direction():
    assert band_p_value((0.85, 0.04), 0.77, higher_is_better=True) == pytest.approx(stats.norm.sf(2.0))
    assert band_p_value((0.85, 0.04), 0.93, higher_is_better=True) == pytest.approx(stats.norm.sf(-2.0))
    assert band_p_value((0.40, 0.05), 0.50, higher_is_better=False) == pytest.approx(stats.norm.sf(2.0))  # log loss
    assert band_p_value((0.85, 0.0), 0.5, True) is None  # a band without spread judges nothing
    assert band_p_value(None, 0.5, True) is None and band_p_value((0.85, 0.04), None, True) is None


def test_band_judged_metrics_wait_for_enough_labels_and_of_each_class():
    def why(task, n, statistics):
        return too_few_for_band(task, n, statistics, min_band_labels=100, min_class_labels=50)

    assert why("regression", 99, {"n": 99}) == "99 labels; metrics without an exact test are judged from min_band_labels=100"
    assert why("regression", 100, {"n": 100}) == ""
    assert why("binary_classification", 120, {"n": 120, "positives": 17}) == (
        "17 positive and 103 negative labels; judged from min_class_labels=50 of each class")
    assert why("binary_classification", 120, {"n": 120, "positives": 60}) == ""
    assert why("binary_classification", 120, {"n": 120, "positives": 70}) == ""
    assert why("binary_classification", 100, {"n": 100, "positives": 51}).startswith("51 positive and 49 negative")
    assert why("binary_classification", 500, None) == ""  # estimates: judged on the window's scores
    assert why("binary_classification", 60, None).startswith("60 labels")


def test_the_concept_changes_first_hour_in_its_slice_is_beyond_one_in_ten_thousand():
    """The demo's concept change in its first labelled hour (the scorecard's page): 29 of 56 self-employed
    predictions right where the reference has 3,177 of 4,042, far below the 1e-4 that pages even after a
    correction over a handful of tests."""
    assert exact_p_value((29, 27), (3_177, 4_042 - 3_177)) < 1e-4 / 4
