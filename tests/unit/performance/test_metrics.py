"""Binary classification metrics: hand-worked cases, scikit-learn oracles (ties included), monotonicity of
ROC AUC, and undefined cases (zero denominators, one class, empty) returning None."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from include.monitoring.performance.metrics import (
    CONFUSION_METRICS,
    Confusion,
    accuracy,
    binary_metrics,
    f1,
    precision,
    recall,
    roc_auc,
)

PROPERTY = settings(max_examples=60, deadline=None, database=None)
ALL = ("accuracy", "precision", "recall", "f1", "roc_auc")


@st.composite
def labelled_scores(draw, min_size=1, max_size=200):
    """Labels and scores rounded to one decimal, so ties between positives and negatives are common."""
    size = draw(st.integers(min_size, max_size))
    labels = draw(st.lists(st.integers(0, 1), min_size=size, max_size=size))
    scores = draw(st.lists(st.integers(0, 10), min_size=size, max_size=size))
    return np.array(labels), np.array(scores, dtype="float64") / 10


# --- hand-worked ------------------------------------------------------------------------------------------------------


def test_binary_metrics_four_rows_hand_worked():
    """labels [1, 1, 0, 0], scores [0.9, 0.4, 0.6, 0.1], threshold 0.5 -> predicted [1, 0, 1, 0]:
    tp = 1, fn = 1, fp = 1, tn = 1; accuracy 2/4, precision 1/2, recall 1/2, f1 2/(2+1+1) = 0.5.
    ROC AUC, positive-negative pairs: (0.9, 0.6) win, (0.9, 0.1) win, (0.4, 0.6) loss, (0.4, 0.1) win -> 3/4."""
    labels, scores = np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.6, 0.1])
    assert Confusion.of(labels, scores >= 0.5) == Confusion(tp=1, fp=1, tn=1, fn=1)
    values = binary_metrics(labels, scores, 0.5, ALL)
    assert values == pytest.approx({"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5, "roc_auc": 0.75})


def test_roc_auc_tied_scores_hand_worked_count_half():
    """labels [1, 0, 1, 0], scores [0.8, 0.8, 0.3, 0.2]. Pairs (positive, negative):
    (0.8, 0.8) tie = 1/2, (0.8, 0.2) = 1, (0.3, 0.8) = 0, (0.3, 0.2) = 1 -> 2.5 / 4 = 0.625."""
    assert roc_auc(np.array([1, 0, 1, 0]), np.array([0.8, 0.8, 0.3, 0.2])) == pytest.approx(0.625, abs=1e-15)


def test_f1_precision_recall_three_rows_hand_worked():
    """Confusion tp=2, fp=1, fn=3, tn=4: precision 2/3, recall 2/5, f1 = 2*2 / (2*2 + 1 + 3) = 0.5
    (= 2 * (2/3) * (2/5) / (2/3 + 2/5) = (8/15) / (16/15))."""
    c = Confusion(tp=2, fp=1, tn=4, fn=3)
    assert precision(c) == pytest.approx(2 / 3)
    assert recall(c) == pytest.approx(0.4)
    assert f1(c) == pytest.approx(0.5)
    assert accuracy(c) == pytest.approx(0.6)


# --- oracles ----------------------------------------------------------------------------------------------------------


@PROPERTY
@given(data=labelled_scores(), threshold=st.sampled_from([0.25, 0.5, 0.75]))
def test_confusion_metrics_random_labels_match_sklearn(data, threshold):
    labels, scores = data
    predicted = (scores >= threshold).astype(int)
    values = binary_metrics(labels, scores, threshold, ("accuracy", "precision", "recall", "f1"))
    assert values["accuracy"] == pytest.approx(accuracy_score(labels, predicted), abs=1e-9)
    if predicted.sum():
        assert values["precision"] == pytest.approx(precision_score(labels, predicted), abs=1e-9)
    if labels.sum():
        assert values["recall"] == pytest.approx(recall_score(labels, predicted), abs=1e-9)
    if labels.sum() or predicted.sum():
        assert values["f1"] == pytest.approx(f1_score(labels, predicted), abs=1e-9)


@PROPERTY
@given(data=labelled_scores(min_size=2))
def test_roc_auc_random_scores_with_ties_matches_sklearn(data):
    labels, scores = data
    assume(0 < labels.sum() < labels.size)
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-9)


def test_roc_auc_continuous_scores_matches_sklearn():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, size=2000)
    scores = rng.normal(size=2000) + labels
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-9)


# --- properties -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scores, expected", [([0.9, 0.8, 0.2, 0.1], 1.0), ([0.1, 0.2, 0.8, 0.9], 0.0),
                                              ([0.5, 0.5, 0.5, 0.5], 0.5)], ids=["perfect", "inverted", "constant"])
def test_roc_auc_ordering_extremes_gives_expected(scores, expected):
    assert roc_auc(np.array([1, 1, 0, 0]), np.array(scores)) == pytest.approx(expected, abs=1e-15)


@PROPERTY
@given(data=labelled_scores(min_size=2), index=st.integers(0, 199), raise_by=st.floats(0.01, 2.0))
def test_roc_auc_raising_a_positive_score_does_not_lower_it(data, index, raise_by):
    """Moving a positive's score up (or a negative's down) can only improve the ranking."""
    labels, scores = data
    assume(0 < labels.sum() < labels.size)
    index %= labels.size
    moved = scores.copy()
    moved[index] += raise_by if labels[index] else -raise_by
    assert roc_auc(labels, moved) >= roc_auc(labels, scores) - 1e-12


@PROPERTY
@given(data=labelled_scores(min_size=2))
def test_binary_metrics_perfect_predictions_are_one(data):
    labels, _ = data
    assume(0 < labels.sum() < labels.size)
    values = binary_metrics(labels, labels.astype("float64"), 0.5, ALL)
    assert values == pytest.approx(dict.fromkeys(ALL, 1.0))


# --- undefined cases --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("labels", [[1, 1, 1], [0, 0, 0]], ids=["all_positive", "all_negative"])
def test_roc_auc_one_class_is_none(labels):
    assert roc_auc(np.array(labels), np.array([0.2, 0.5, 0.9])) is None


def test_binary_metrics_empty_window_all_none():
    values = binary_metrics(np.array([], dtype=int), np.array([], dtype="float64"), 0.5, ALL)
    assert values == dict.fromkeys(ALL)


@pytest.mark.parametrize(
    "confusion, name",
    [(Confusion(tp=0, fp=0, tn=5, fn=3), "precision"), (Confusion(tp=0, fp=2, tn=5, fn=0), "recall"),
     (Confusion(tp=0, fp=0, tn=5, fn=0), "f1"), (Confusion(tp=0, fp=0, tn=0, fn=0), "accuracy")],
    ids=["precision_no_predicted_positive", "recall_no_positive", "f1_no_positive_at_all", "accuracy_no_rows"],
)
def test_confusion_metric_zero_denominator_is_none(confusion, name):
    assert CONFUSION_METRICS[name](confusion) is None


def test_confusion_metric_zero_numerator_is_zero_not_none():
    c = Confusion(tp=0, fp=3, tn=2, fn=4)
    assert (precision(c), recall(c), f1(c)) == (0.0, 0.0, 0.0)


def test_binary_metrics_only_requested_names_returned():
    values = binary_metrics(np.array([0, 1]), np.array([0.2, 0.7]), 0.5, ("roc_auc", "f1"))
    assert list(values) == ["roc_auc", "f1"]


def test_roc_auc_nan_score_is_not_silently_nan():
    """A NaN score makes the ranking undefined: the result must be None or an error, never a NaN that compares
    False against every tier (reference.fit_reference passes raw scores, so a NaN baseline disables alerts)."""
    labels, scores = np.array([0, 1, 0, 1]), np.array([0.1, np.nan, 0.3, 0.8])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = roc_auc(labels, scores)
        except ValueError:
            return
    assert result is None or not math.isnan(result)
