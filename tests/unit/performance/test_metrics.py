"""Performance metrics of the three task types: hand-worked cases, scikit-learn oracles on random data (ties,
imbalance, several seeds), properties (aggregating the statistics of a split gives the metrics of the whole,
invariances, bounds) and undefined cases (empty, one class, NaN, constant targets) returning None."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

from include.monitoring.performance import metrics
from include.monitoring.performance.metrics import (
    BINARY_METRICS,
    CONFUSION_METRICS,
    ECE_BINS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    Confusion,
    accuracy,
    aggregate_binary,
    aggregate_multiclass,
    aggregate_regression,
    binary_metrics,
    binary_statistics,
    f1,
    multiclass_metrics,
    multiclass_statistics,
    pr_auc,
    precision,
    recall,
    regression_metrics,
    regression_statistics,
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


# === binary: pr_auc, log_loss, brier, ece =============================================================================

TOLERANCE = 1e-9
SEEDS = (0, 1, 2, 3, 4)
AGGREGATABLE_BINARY = ("accuracy", "precision", "recall", "f1", "log_loss", "brier", "ece")


def assert_matches(values: dict, expected: dict) -> None:
    """Same keys; None where the oracle is None or NaN (undefined), else equal to 1e-9 (relative for large values)."""
    assert list(values) == list(expected)
    for name, want in expected.items():
        if want is None or math.isnan(want):
            assert values[name] is None, name
        else:
            assert values[name] == pytest.approx(want, abs=TOLERANCE, rel=TOLERANCE), name


def json_round_trip(record: dict) -> dict:
    return json.loads(json.dumps(record, allow_nan=False))


def pieces(n: int, cuts: list[int]) -> list[slice]:
    """Consecutive slices covering range(n), cut at `cuts` (mod n + 1): empty windows included."""
    points = [0, *sorted(cut % (n + 1) for cut in cuts), n]
    return [slice(start, stop) for start, stop in zip(points, points[1:], strict=False)]


def random_binary(seed: int, n: int = 600, positive_share: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Imbalanced labels and scores leaning towards them, on 200 levels (so ties are common) taken at the middles
    (k + 0.5) / 200, never on an ECE bin edge, where calibration_curve and np.histogram disagree (see below)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < positive_share).astype(int)
    raw = np.clip(rng.beta(2, 5, n) + 0.3 * labels, 0.0, 0.999)
    return labels, (np.floor(raw * 200) + 0.5) / 200


def calibration_curve_ece(labels: np.ndarray, scores: np.ndarray) -> float:
    """ECE from scikit-learn's uniform calibration curve (the non-empty bins' mean label and mean score) weighted by
    np.histogram's counts. calibration_curve puts a score lying exactly on an inner edge in the lower bin
    (searchsorted, left), np.histogram in the upper one: the two agree only off the edges."""
    fraction_positive, mean_score = calibration_curve(labels, scores, n_bins=ECE_BINS, strategy="uniform")
    counts, _ = np.histogram(scores, bins=ECE_BINS, range=(0.0, 1.0))
    return float(np.sum(counts[counts > 0] / len(scores) * np.abs(mean_score - fraction_positive)))


def histogram_ece(labels: np.ndarray, scores: np.ndarray) -> float:
    """ECE with every bin statistic from np.histogram: its bins are the specified ones, edges included."""
    def per_bin(weights=None):
        return np.histogram(scores, bins=ECE_BINS, range=(0.0, 1.0), weights=weights)[0]
    counts, score_sums, label_sums = per_bin(), per_bin(scores), per_bin(labels.astype(float))
    filled = counts > 0
    gaps = np.abs(score_sums[filled] / counts[filled] - label_sums[filled] / counts[filled])
    return float(np.sum(counts[filled] / len(scores) * gaps))


def sklearn_binary(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    predicted = (scores >= threshold).astype(int)
    return {"accuracy": accuracy_score(labels, predicted), "precision": precision_score(labels, predicted),
            "recall": recall_score(labels, predicted), "f1": f1_score(labels, predicted),
            "roc_auc": roc_auc_score(labels, scores), "pr_auc": average_precision_score(labels, scores),
            "log_loss": log_loss(labels, scores, labels=[0, 1]), "brier": brier_score_loss(labels, scores, pos_label=1),
            "ece": calibration_curve_ece(labels, scores)}


def test_pr_auc_tied_scores_hand_worked():
    """labels [1, 0, 1, 0, 1], scores [0.9, 0.8, 0.8, 0.3, 0.1]; 3 positives. Thresholds from the top:
    >= 0.9: 1 row, tp 1, precision 1,   recall 1/3 (adds 1/3);
    >= 0.8: 3 rows (the tie enters whole), tp 2, precision 2/3, recall 2/3 (adds 1/3);
    >= 0.3: 4 rows, tp 2, adds no recall;  >= 0.1: 5 rows, tp 3, precision 3/5, adds 1/3.
    AP = (1 + 2/3 + 3/5) / 3 = (15 + 10 + 9) / 45 = 34/45."""
    labels, scores = np.array([1, 0, 1, 0, 1]), np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    assert pr_auc(labels, scores) == pytest.approx(34 / 45, abs=1e-15)


def test_probability_metrics_four_rows_hand_worked():
    """labels [1, 0, 1, 0], scores [0.82, 0.88, 0.31, 0.05].
    log_loss = -(ln 0.82 + ln 0.12 + ln 0.31 + ln 0.95) / 4 (probability given to the true class).
    brier = (0.18² + 0.88² + 0.69² + 0.05²) / 4 = (0.0324 + 0.7744 + 0.4761 + 0.0025) / 4 = 0.32135.
    ece bins: [0.8, 0.9) holds 0.82 and 0.88, mean score 0.85, mean label 0.5 -> 2/4 * 0.35 = 0.175;
    [0.3, 0.4) holds 0.31 with label 1 -> 1/4 * 0.69 = 0.1725; [0, 0.1) holds 0.05 with label 0 -> 1/4 * 0.05 = 0.0125;
    total 0.36."""
    labels, scores = np.array([1, 0, 1, 0]), np.array([0.82, 0.88, 0.31, 0.05])
    values = binary_metrics(labels, scores, 0.5, ("log_loss", "brier", "ece"))
    expected_log_loss = -(math.log(0.82) + math.log(0.12) + math.log(0.31) + math.log(0.95)) / 4
    assert values == pytest.approx({"log_loss": expected_log_loss, "brier": 0.32135, "ece": 0.36}, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("threshold", [0.3, 0.5])
def test_binary_metrics_imbalanced_tied_scores_match_sklearn(seed, threshold):
    labels, scores = random_binary(seed)
    assert_matches(binary_metrics(labels, scores, threshold, BINARY_METRICS), sklearn_binary(labels, scores, threshold))


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_metrics_continuous_scores_match_sklearn(seed):
    rng = np.random.default_rng(100 + seed)
    labels = (rng.random(3000) < 0.3).astype(int)
    scores = 1 / (1 + np.exp(-(rng.normal(size=3000) + 1.5 * labels - 1)))
    assert_matches(binary_metrics(labels, scores, 0.5, BINARY_METRICS), sklearn_binary(labels, scores, 0.5))


@PROPERTY
@given(data=labelled_scores())
def test_pr_auc_random_scores_with_ties_matches_sklearn(data):
    labels, scores = data
    assume(labels.sum() > 0)
    assert pr_auc(labels, scores) == pytest.approx(average_precision_score(labels, scores), abs=TOLERANCE)


@PROPERTY
@given(data=labelled_scores())
def test_log_loss_and_brier_scores_including_0_and_1_match_sklearn(data):
    """Scores of exactly 0 and 1 exercise the clipping; one-class windows are defined (labels=[0, 1])."""
    labels, scores = data
    values = binary_metrics(labels, scores, 0.5, ("log_loss", "brier"))
    assert values["log_loss"] == pytest.approx(log_loss(labels, scores, labels=[0, 1]), abs=TOLERANCE)
    assert values["brier"] == pytest.approx(brier_score_loss(labels, scores, pos_label=1), abs=TOLERANCE)


@PROPERTY
@given(data=labelled_scores())
def test_ece_scores_on_bin_edges_matches_np_histogram_bins(data):
    """Scores in tenths: many lie exactly on bin edges, which go to the upper bin (1.0 to the last) as in np.histogram."""
    labels, scores = data
    assert binary_metrics(labels, scores, 0.5, ("ece",))["ece"] == pytest.approx(histogram_ece(labels, scores), abs=TOLERANCE)


@pytest.mark.parametrize("score, wrong_label", [(0.0, 1), (1.0, 0), (1e-20, 1), (1 - 1e-17, 0)])
def test_log_loss_certain_wrong_score_clipped_like_sklearn(score, wrong_label):
    """A certain and wrong score costs -log(eps) = 36.04, not infinity; 1 - 1e-17 rounds to 1.0 before clipping."""
    labels, scores = np.array([wrong_label, 1 - wrong_label]), np.array([score, score])
    value = binary_metrics(labels, scores, 0.5, ("log_loss",))["log_loss"]
    assert value == pytest.approx(log_loss(labels, scores), abs=TOLERANCE)
    assert math.isfinite(value)


def test_ece_bin_edges_left_closed_last_bin_closed():
    record = binary_statistics(np.array([0, 1, 1, 0]), np.array([0.0, 0.5, 1.0, 0.0999]), 0.5)
    assert record["bin_count"] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 1]


# --- binary: properties -----------------------------------------------------------------------------------------------


@PROPERTY
@given(data=labelled_scores(), seed=st.integers(0, 2**32 - 1))
def test_binary_metrics_row_order_does_not_matter(data, seed):
    labels, scores = data
    order = np.random.default_rng(seed).permutation(labels.size)
    assert_matches(binary_metrics(labels[order], scores[order], 0.5, BINARY_METRICS),
                   {k: math.nan if v is None else v for k, v in binary_metrics(labels, scores, 0.5, BINARY_METRICS).items()})


@PROPERTY
@given(data=labelled_scores(min_size=2))
def test_ranking_metrics_strictly_increasing_transform_of_scores_unchanged(data):
    labels, scores = data
    assume(0 < labels.sum() < labels.size)
    for metric in (roc_auc, pr_auc):
        assert metric(labels, np.sqrt(scores) * 7 - 2) == pytest.approx(metric(labels, scores), abs=1e-12)


@PROPERTY
@given(data=labelled_scores(), threshold=st.sampled_from([0.25, 0.5, 0.75]))
def test_binary_metrics_within_bounds(data, threshold):
    labels, scores = data
    values = binary_metrics(labels, scores, threshold, BINARY_METRICS)
    for name, value in values.items():
        if value is not None:
            assert value >= 0, name
            assert name == "log_loss" or value <= 1, name
    assert values["pr_auc"] is None or values["pr_auc"] > 0  # every positive is reached at the lowest threshold


def test_bootstrap_standard_errors_new_binary_metrics_are_positive_floats():
    labels, scores = random_binary(0, n=300, positive_share=0.3)
    errors = metrics.bootstrap_standard_errors(labels, scores, 0.5, BINARY_METRICS, np.random.default_rng(1), reps=30)
    assert all(isinstance(errors[name], float) and errors[name] > 0 for name in BINARY_METRICS)


# --- binary: aggregation ----------------------------------------------------------------------------------------------


@PROPERTY
@given(data=labelled_scores(), cuts=st.lists(st.integers(0, 400), max_size=4), threshold=st.sampled_from([0.25, 0.5]))
def test_aggregate_binary_of_split_windows_equals_metrics_of_all_rows(data, cuts, threshold):
    labels, scores = data
    records = [json_round_trip(binary_statistics(labels[part], scores[part], threshold))
               for part in pieces(labels.size, cuts)]
    whole = binary_metrics(labels, scores, threshold, AGGREGATABLE_BINARY)
    expected = {**{k: math.nan if v is None else v for k, v in whole.items()}, "roc_auc": None, "pr_auc": None}
    assert_matches(aggregate_binary(records, (*AGGREGATABLE_BINARY, "roc_auc", "pr_auc")), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_aggregate_binary_days_of_hourly_records_match_sklearn(seed):
    labels, scores = random_binary(seed, n=2400)
    records = [binary_statistics(labels[hour::24], scores[hour::24], 0.5) for hour in range(24)]
    expected = {k: v for k, v in sklearn_binary(labels, scores, 0.5).items() if k in AGGREGATABLE_BINARY}
    assert_matches(aggregate_binary(records, AGGREGATABLE_BINARY), expected)


def test_binary_statistics_four_rows_hand_worked_json_safe():
    """labels [1, 1, 0, 0], scores [0.9, 0.4, 0.6, 0.1], threshold 0.5: tp 1 (0.9), fn 1 (0.4), fp 1 (0.6), tn 1.
    log losses -ln 0.9, -ln 0.4, -ln 0.4, -ln 0.9; squared errors 0.01, 0.36, 0.36, 0.01 (sum 0.74);
    bins 9 (0.9, label 1), 4 (0.4, label 1), 1 (0.1) and 5 for 0.6: the binary 0.6 lies below the edge
    np.linspace(0, 1, 11)[6] = 0.6000000000000001 (np.histogram agrees; it is also below the real 6/10)."""
    record = binary_statistics(np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.6, 0.1]), 0.5)
    assert json_round_trip(record) == record
    assert {k: record[k] for k in ("n", "positives", "tp", "fp", "tn", "fn")} == {
        "n": 4, "positives": 2, "tp": 1, "fp": 1, "tn": 1, "fn": 1}
    assert record["log_loss_sum"] == pytest.approx(-2 * (math.log(0.9) + math.log(0.4)), abs=1e-12)
    assert record["brier_sum"] == pytest.approx(0.74, abs=1e-12)
    assert record["bin_count"] == [0, 1, 0, 0, 1, 1, 0, 0, 0, 1]
    assert record["bin_count"] == np.histogram([0.9, 0.4, 0.6, 0.1], bins=ECE_BINS, range=(0, 1))[0].tolist()
    assert record["bin_label_sum"] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    assert record["bin_score_sum"] == pytest.approx([0, 0.1, 0, 0, 0.4, 0.6, 0, 0, 0, 0.9])


def test_aggregate_binary_window_with_non_probability_score_leaves_probability_metrics_none():
    """As on the concatenated rows, where a score of 1.5 makes log_loss, brier and ece undefined."""
    good = binary_statistics(np.array([1, 0]), np.array([0.8, 0.3]), 0.5)
    bad = binary_statistics(np.array([1, 0]), np.array([1.5, 0.3]), 0.5)
    values = aggregate_binary([good, json_round_trip(bad)], AGGREGATABLE_BINARY)
    assert values == {"accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0,
                      "log_loss": None, "brier": None, "ece": None}


@pytest.mark.parametrize("records", [[], [binary_statistics(np.array([], dtype=int), np.array([]), 0.5)]],
                         ids=["no_records", "empty_window"])
def test_aggregate_binary_no_rows_all_none(records):
    assert aggregate_binary(records, BINARY_METRICS) == dict.fromkeys(BINARY_METRICS)


# --- binary: the class the model served -------------------------------------------------------------------------------

SERVED_LABELS = np.array([1, 1, 1, 0, 0, 0, 1, 1])
SERVED_SCORES = np.array([0.9, 0.45, 0.3, 0.55, 0.2, 0.7, 0.6, 0.4])
SERVED = np.array([1, 1, 0, 1, 0, 1, 1, 1], dtype="float64")  # as a model cutting at 0.4 would serve, bar row 2


def served_oracle(labels: np.ndarray, scores: np.ndarray, served: np.ndarray) -> dict:
    """scikit-learn's confusion metrics of the served classes and its ranking metrics of the scores."""
    return {"accuracy": accuracy_score(labels, served), "precision": precision_score(labels, served),
            "recall": recall_score(labels, served), "f1": f1_score(labels, served),
            "roc_auc": roc_auc_score(labels, scores)}


def test_binary_metrics_served_classes_hand_worked_differ_from_the_threshold():
    """Served [1, 1, 0, 1, 0, 1, 1, 1] against labels [1, 1, 1, 0, 0, 0, 1, 1]: tp 4 (rows 0, 1, 6, 7), fn 1 (row 2),
    fp 2 (rows 3, 5), tn 1 (row 4) -> accuracy 5/8, precision 4/6, recall 4/5, f1 8/11. At score >= 0.5 the same
    rows give tp 2, fn 3, fp 2, tn 1 -> accuracy 3/8: the served class decides, not the threshold."""
    values = binary_metrics(SERVED_LABELS, SERVED_SCORES, 0.5, ALL, served=SERVED)
    assert values == pytest.approx({"accuracy": 5 / 8, "precision": 4 / 6, "recall": 4 / 5, "f1": 8 / 11,
                                    "roc_auc": roc_auc_score(SERVED_LABELS, SERVED_SCORES)}, abs=1e-15)
    assert_matches(values, served_oracle(SERVED_LABELS, SERVED_SCORES, SERVED.astype(int)))
    assert binary_metrics(SERVED_LABELS, SERVED_SCORES, 0.5, ("accuracy",))["accuracy"] == 3 / 8


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_metrics_served_at_another_threshold_match_sklearn_on_the_served_class(seed):
    """A model that served score >= 0.35, with 5 % of its decisions overridden: the confusion metrics are
    scikit-learn's on what it served, and differ from those at performance.threshold; the ranking and probability
    metrics are of the scores either way."""
    labels, scores = random_binary(seed, n=2000, positive_share=0.3)
    served = ((scores >= 0.35) ^ (np.random.default_rng(seed).random(scores.size) < 0.05)).astype(int)
    values = binary_metrics(labels, scores, 0.5, BINARY_METRICS, served=served.astype("float64"))
    assert_matches({name: values[name] for name in ALL}, served_oracle(labels, scores, served))
    at_threshold = binary_metrics(labels, scores, 0.5, BINARY_METRICS)
    assert values["accuracy"] != pytest.approx(at_threshold["accuracy"], abs=1e-3)
    for name in ("roc_auc", "pr_auc", "log_loss", "brier", "ece"):
        assert values[name] == at_threshold[name], name


def test_binary_metrics_rows_without_a_served_class_fall_back_to_the_threshold():
    """NaN served classes (null or unreadable in the table) are classified as score >= threshold, row by row."""
    served = SERVED.copy()
    served[[2, 7]] = np.nan  # row 2: score 0.3 -> 0 (as served); row 7: score 0.4 -> 0 (served 1)
    expected = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    assert metrics.predicted_positive(SERVED_SCORES, 0.5, served).astype(int).tolist() == expected.tolist()
    assert_matches(binary_metrics(SERVED_LABELS, SERVED_SCORES, 0.5, ALL, served=served),
                   served_oracle(SERVED_LABELS, SERVED_SCORES, expected))
    everywhere_nan = binary_metrics(SERVED_LABELS, SERVED_SCORES, 0.5, ALL, served=np.full(8, np.nan))
    assert everywhere_nan == binary_metrics(SERVED_LABELS, SERVED_SCORES, 0.5, ALL)


@PROPERTY
@given(data=labelled_scores(), cuts=st.lists(st.integers(0, 400), max_size=4), seed=st.integers(0, 2**16))
def test_aggregate_binary_of_split_windows_with_served_classes_equals_metrics_of_all_rows(data, cuts, seed):
    labels, scores = data
    served = np.random.default_rng(seed).choice([0.0, 1.0, np.nan], labels.size)
    records = [json_round_trip(binary_statistics(labels[part], scores[part], 0.5, served[part]))
               for part in pieces(labels.size, cuts)]
    whole = binary_metrics(labels, scores, 0.5, AGGREGATABLE_BINARY, served=served)
    assert_matches(aggregate_binary(records, AGGREGATABLE_BINARY),
                   {k: math.nan if v is None else v for k, v in whole.items()})


def test_bootstrap_standard_errors_resample_the_served_classes_with_their_rows():
    """Served classes that are always right give an accuracy of 1 in every resample: no spread. At the threshold
    the same rows are sometimes wrong, and their accuracy spreads."""
    labels, scores = random_binary(1, n=300, positive_share=0.3)
    served = labels.astype("float64")
    errors = metrics.bootstrap_standard_errors(labels, scores, 0.5, ("accuracy", "roc_auc"), np.random.default_rng(1),
                                               reps=30, served=served)
    assert errors["accuracy"] == 0.0 and errors["roc_auc"] > 0
    at_threshold = metrics.bootstrap_standard_errors(labels, scores, 0.5, ("accuracy",), np.random.default_rng(1),
                                                     reps=30)
    assert at_threshold["accuracy"] > 0


# --- binary: undefined cases ------------------------------------------------------------------------------------------


def test_binary_metrics_empty_window_every_metric_none():
    values = binary_metrics(np.array([], dtype=int), np.array([], dtype="float64"), 0.5, BINARY_METRICS)
    assert values == dict.fromkeys(BINARY_METRICS)


def test_pr_auc_no_positive_is_none_where_sklearn_gives_zero():
    labels, scores = np.array([0, 0, 0]), np.array([0.2, 0.5, 0.9])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert average_precision_score(labels, scores) == 0.0
    assert pr_auc(labels, scores) is None


def test_pr_auc_all_positive_is_one_as_sklearn():
    labels, scores = np.array([1, 1, 1]), np.array([0.2, 0.5, 0.5])
    assert pr_auc(labels, scores) == average_precision_score(labels, scores) == 1.0


@pytest.mark.parametrize("labels", [[1, 1, 1], [0, 0, 0]], ids=["all_positive", "all_negative"])
def test_probability_metrics_one_class_defined_and_match_sklearn(labels):
    labels, scores = np.array(labels), np.array([0.2, 0.5, 0.9])
    values = binary_metrics(labels, scores, 0.5, ("log_loss", "brier", "ece"))
    assert values["log_loss"] == pytest.approx(log_loss(labels, scores, labels=[0, 1]), abs=TOLERANCE)
    assert values["brier"] == pytest.approx(brier_score_loss(labels, scores, pos_label=1), abs=TOLERANCE)
    assert values["ece"] == pytest.approx(histogram_ece(labels, scores), abs=TOLERANCE)


def test_binary_metrics_all_nan_scores_ranking_and_probability_metrics_none():
    """NaN >= threshold is False: the confusion metrics see every row predicted negative (the caller drops such rows);
    no ranking or probability can be read from NaN."""
    labels, scores = np.array([1, 0, 0, 1]), np.full(4, np.nan)
    values = binary_metrics(labels, scores, 0.5, BINARY_METRICS)
    assert values == {"accuracy": 0.5, "precision": None, "recall": 0.0, "f1": 0.0,
                      **dict.fromkeys(("roc_auc", "pr_auc", "log_loss", "brier", "ece"))}


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1.5, -0.1])
def test_binary_metrics_one_unusable_score(bad):
    """Ranking metrics need finite scores, probability metrics scores in [0, 1] (scikit-learn raises on both)."""
    labels, scores = np.array([1, 0, 1, 0]), np.array([0.9, 0.2, bad, 0.4])
    values = binary_metrics(labels, scores, 0.5, ("roc_auc", "pr_auc", "log_loss", "brier", "ece"))
    finite = math.isfinite(bad)
    assert (values["roc_auc"] is not None, values["pr_auc"] is not None) == (finite, finite)
    assert {values[name] for name in ("log_loss", "brier", "ece")} == {None}


# === multiclass =======================================================================================================


@st.composite
def class_pairs(draw, min_size=0, max_size=60):
    """True classes from a-d (d rare), predictions from a-e: e is never a true class."""
    size = draw(st.integers(min_size, max_size))
    labels = draw(st.lists(st.sampled_from("aaabbcd"), min_size=size, max_size=size))
    predicted = draw(st.lists(st.sampled_from("aabbcde"), min_size=size, max_size=size))
    return np.array(labels, dtype=str), np.array(predicted, dtype=str)


def sklearn_multiclass(labels: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict:
    """zero_division=np.nan: an undefined class F1 is left out of the macro average, as multiclass_metrics does."""
    labels, predicted = np.asarray(labels).astype(str), np.asarray(predicted).astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        def f1_average(average):
            return f1_score(labels, predicted, labels=classes, average=average, zero_division=np.nan)
        recalls = recall_score(labels, predicted, labels=classes, average=None, zero_division=np.nan)
    return {"accuracy": accuracy_score(labels, predicted), "macro_f1": f1_average("macro"),
            "weighted_f1": f1_average("weighted"), **{f"recall[{c}]": r for c, r in zip(classes, recalls, strict=True)}}


def test_multiclass_metrics_five_rows_hand_worked():
    """labels [a, a, b, b, c], predicted [a, b, b, b, a]. Confusion (rows true, columns predicted a, b, c):
    a [1, 1, 0], b [0, 2, 0], c [1, 0, 0]. accuracy 3/5.
    F1 = 2 tp / (true + predicted): a 2/(2+2) = 0.5, b 4/(2+3) = 0.8, c 0/(1+0) = 0;
    macro (0.5 + 0.8 + 0) / 3 = 1.3/3; weighted by support (2, 2, 1): (1 + 1.6 + 0) / 5 = 0.52.
    recall a 1/2, b 2/2, c 0/1."""
    values = multiclass_metrics(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "a"], MULTICLASS_METRICS)
    assert values == pytest.approx({"accuracy": 0.6, "macro_f1": 1.3 / 3, "weighted_f1": 0.52,
                                    "recall[a]": 0.5, "recall[b]": 1.0, "recall[c]": 0.0})
    assert multiclass_statistics(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "a"]) == {
        "classes": ["a", "b", "c"], "confusion": [[1, 1, 0], [0, 2, 0], [1, 0, 0]]}


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_metrics_imbalanced_int_classes_match_sklearn(seed):
    """Int classes 0-5 with shares from 60 % down to 1 %, predictions right 70 % of the time, else any of 0-6
    (6 is never a true class)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(6, size=800, p=[0.6, 0.2, 0.1, 0.05, 0.04, 0.01])
    predicted = np.where(rng.random(800) < 0.7, labels, rng.integers(0, 7, 800))
    classes = sorted({str(c) for c in (*labels, *predicted)})
    assert_matches(multiclass_metrics(labels, predicted, MULTICLASS_METRICS), sklearn_multiclass(labels, predicted, classes))


@PROPERTY
@given(data=class_pairs(min_size=1))
def test_multiclass_metrics_random_classes_match_sklearn(data):
    labels, predicted = data
    classes = sorted({*labels, *predicted})
    assert_matches(multiclass_metrics(labels, predicted, MULTICLASS_METRICS), sklearn_multiclass(labels, predicted, classes))


@PROPERTY
@given(data=class_pairs(), cuts=st.lists(st.integers(0, 120), max_size=4))
def test_aggregate_multiclass_of_split_windows_equals_metrics_of_all_rows(data, cuts):
    """Windows see different class lists; the merge is by class name."""
    labels, predicted = data
    records = [json_round_trip(multiclass_statistics(labels[part], predicted[part])) for part in pieces(labels.size, cuts)]
    whole = multiclass_metrics(labels, predicted, MULTICLASS_METRICS)
    assert_matches(aggregate_multiclass(records, MULTICLASS_METRICS),
                   {k: math.nan if v is None else v for k, v in whole.items()})


@PROPERTY
@given(data=class_pairs(min_size=1))
def test_multiclass_accuracy_is_support_weighted_recall_and_scores_within_bounds(data):
    labels, predicted = data
    values = multiclass_metrics(labels, predicted, MULTICLASS_METRICS)
    support = {c: int(np.sum(labels == c)) for c in {*labels, *predicted}}
    weighted_recall = sum(support[c] * (values[f"recall[{c}]"] or 0.0) for c in support) / labels.size
    assert values["accuracy"] == pytest.approx(weighted_recall, abs=1e-12)
    assert all(0 <= value <= 1 for value in values.values() if value is not None)


@PROPERTY
@given(data=class_pairs(min_size=1))
def test_multiclass_metrics_renaming_classes_renames_recall_keys_only(data):
    labels, predicted = data
    rename = dict(zip("abcde", ("x9", "x1", "x7", "x3", "x5"), strict=True))
    renamed = multiclass_metrics([rename[c] for c in labels], [rename[c] for c in predicted], MULTICLASS_METRICS)
    original = multiclass_metrics(labels, predicted, MULTICLASS_METRICS)
    expected = {(f"recall[{rename[k[7:-1]]}]" if k.startswith("recall[") else k): v for k, v in original.items()}
    assert renamed == pytest.approx(expected)


def test_multiclass_given_classes_absent_class_left_out_of_macro_like_sklearn_zero_division_nan():
    """classes [a, b, c]; rows a->a, a->b, b->b, z->z. The unexpected z is reported after the given classes.
    c has no true or predicted row: its F1 is undefined and left out, so macro_f1 = (a 2/3 + b 2/3 + z 1) / 3 rather
    than a quarter of the same sum; recall[c] is None."""
    labels, predicted = ["a", "a", "b", "z"], ["a", "b", "b", "z"]
    values = multiclass_metrics(labels, predicted, MULTICLASS_METRICS, classes=["a", "b", "c"])
    assert list(values) == ["accuracy", "macro_f1", "weighted_f1", "recall[a]", "recall[b]", "recall[c]", "recall[z]"]
    assert values["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert values["recall[c]"] is None
    assert_matches(values, sklearn_multiclass(np.array(labels), np.array(predicted), ["a", "b", "c", "z"]))
    records = [multiclass_statistics(labels[:2], predicted[:2]), multiclass_statistics(labels[2:], predicted[2:])]
    assert aggregate_multiclass(records, MULTICLASS_METRICS, classes=["a", "b", "c"]) == values


def test_multiclass_unseen_predicted_class_recall_none_f1_zero_in_macro():
    """labels [a, a], predicted [a, e]: e is predicted but never true, so recall[e] is undefined, while its F1,
    2 * 0 / (0 + 1) = 0, is defined and counts in macro_f1. a: 2 * 1 / (2 + 1) = 2/3. macro (2/3 + 0) / 2 = 1/3;
    weighted by support (2, 0): 2/3."""
    values = multiclass_metrics(["a", "a"], ["a", "e"], MULTICLASS_METRICS)
    assert values == {"accuracy": 0.5, "macro_f1": pytest.approx(1 / 3), "weighted_f1": pytest.approx(2 / 3),
                      "recall[a]": 0.5, "recall[e]": None}


def test_multiclass_int_and_string_classes_are_the_same_class():
    assert multiclass_metrics([1, 2, 2], ["1", "2", "1"], MULTICLASS_METRICS) == multiclass_metrics(
        ["1", "2", "2"], [1, 2, 1], MULTICLASS_METRICS)


def test_multiclass_empty_all_none_and_recall_keys_only_for_given_classes():
    assert multiclass_metrics([], [], MULTICLASS_METRICS) == dict.fromkeys(("accuracy", "macro_f1", "weighted_f1"))
    assert multiclass_metrics([], [], MULTICLASS_METRICS, classes=["a"]) == {
        "accuracy": None, "macro_f1": None, "weighted_f1": None, "recall[a]": None}
    assert aggregate_multiclass([], MULTICLASS_METRICS) == dict.fromkeys(("accuracy", "macro_f1", "weighted_f1"))
    assert multiclass_statistics([], []) == {"classes": [], "confusion": []}


def test_multiclass_only_requested_names_returned():
    assert list(multiclass_metrics(["a", "b"], ["a", "a"], ("macro_f1",))) == ["macro_f1"]


# === regression =======================================================================================================

AGGREGATABLE_REGRESSION = ("mae", "rmse", "mape", "r2", "mean_error")
QUANTILES = ("residual_p05", "residual_p50", "residual_p95")


@st.composite
def regression_rows(draw, min_size=0, max_size=60):
    """Targets and predictions in quarters of -10..10: zero targets and repeated values are common."""
    size = draw(st.integers(min_size, max_size))
    targets = draw(st.lists(st.integers(-40, 40), min_size=size, max_size=size))
    predictions = draw(st.lists(st.integers(-40, 40), min_size=size, max_size=size))
    return np.array(targets, dtype="float64") / 4, np.array(predictions, dtype="float64") / 4


def sklearn_regression(targets: np.ndarray, predictions: np.ndarray) -> dict:
    """scikit-learn where it has the metric; the residual quantiles from pandas' (linear) Series.quantile."""
    residuals = pd.Series(predictions - targets)
    return {"mae": mean_absolute_error(targets, predictions), "rmse": root_mean_squared_error(targets, predictions),
            "mape": mean_absolute_percentage_error(targets, predictions), "r2": r2_score(targets, predictions),
            "mean_error": float(residuals.mean()),
            **{name: residuals.quantile(q) for name, q in zip(QUANTILES, (0.05, 0.5, 0.95), strict=True)}}


def test_regression_metrics_four_rows_hand_worked():
    """targets [2, 4, 5, 1], predictions [3, 3, 5, 3]: residuals (prediction - target) [1, -1, 0, 2].
    mae 4/4 = 1; rmse sqrt((1 + 1 + 0 + 4) / 4) = sqrt(1.5); mape (1/2 + 1/4 + 0 + 2/1) / 4 = 0.6875;
    mean target 3, total sum of squares 1 + 1 + 4 + 4 = 10, residual 6: r2 = 1 - 6/10 = 0.4; mean_error 2/4 = 0.5.
    Sorted residuals [-1, 0, 1, 2], linear percentiles at position q * 3: p05 at 0.15 -> -1 + 0.15 = -0.85,
    p50 at 1.5 -> 0.5, p95 at 2.85 -> 1 + 0.85 = 1.85."""
    values = regression_metrics([2, 4, 5, 1], [3, 3, 5, 3], REGRESSION_METRICS)
    assert values == pytest.approx({"mae": 1.0, "rmse": math.sqrt(1.5), "mape": 0.6875, "r2": 0.4, "mean_error": 0.5,
                                    "residual_p05": -0.85, "residual_p50": 0.5, "residual_p95": 1.85}, abs=1e-12)
    record = regression_statistics([2, 4, 5, 1], [3, 3, 5, 3])
    assert record == pytest.approx({"n": 4, "sum_residual": 2.0, "sum_abs_residual": 4.0, "sum_sq_residual": 6.0,
                                    "sum_abs_pct_error": 2.75, "sum_target": 12.0, "sum_sq_target": 46.0,
                                    "sum_sq_target_deviation": 10.0, "min_target": 1.0, "max_target": 5.0})


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_metrics_skewed_targets_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    targets = rng.lognormal(3, 1, 1000)
    predictions = targets * rng.normal(1.05, 0.2, 1000) + rng.normal(0, 5, 1000)
    assert_matches(regression_metrics(targets, predictions, REGRESSION_METRICS), sklearn_regression(targets, predictions))


@PROPERTY
@given(data=regression_rows(min_size=1))
def test_regression_metrics_random_rows_with_zero_targets_match_sklearn(data):
    targets, predictions = data
    assume(np.ptp(targets) > 0)  # r2 of constant targets: see test_regression_constant_targets_r2_none
    assert_matches(regression_metrics(targets, predictions, REGRESSION_METRICS), sklearn_regression(targets, predictions))


def test_regression_zero_target_mape_huge_like_sklearn():
    """A zero target divides by eps, as scikit-learn: 0.5 / 2.2e-16 = 2.25e15, averaged over 2 rows."""
    targets, predictions = np.array([0.0, 2.0]), np.array([0.5, 2.0])
    value = regression_metrics(targets, predictions, ("mape",))["mape"]
    assert value == pytest.approx(mean_absolute_percentage_error(targets, predictions), rel=1e-12)
    assert value == pytest.approx(0.25 / np.finfo(np.float64).eps, rel=1e-12)


@pytest.mark.parametrize("predictions, sklearn_value", [([3.0, 3.0, 3.0], 1.0), ([3.0, 4.0, 2.0], 0.0)],
                         ids=["perfect", "imperfect"])
def test_regression_constant_targets_r2_none(predictions, sklearn_value):
    """Nothing to explain (0/0): scikit-learn forces 1.0 (perfect) or 0.0; the other metrics stay defined."""
    targets = np.array([3.0, 3.0, 3.0])
    assert r2_score(targets, predictions) == sklearn_value
    values = regression_metrics(targets, predictions, REGRESSION_METRICS)
    assert values["r2"] is None
    assert all(values[name] is not None for name in REGRESSION_METRICS if name != "r2")


def test_regression_constant_inexact_mean_targets_r2_none_where_sklearn_explodes():
    """mean([0.1] * 3) is not 0.1 in floating point, so scikit-learn divides by a tiny positive number."""
    targets, predictions = np.full(3, 0.1), np.array([0.1, 0.2, 0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert r2_score(targets, predictions) < -1e20
    assert regression_metrics(targets, predictions, ("r2",))["r2"] is None
    assert aggregate_regression([regression_statistics(targets, predictions)], ("r2",))["r2"] is None


def test_regression_one_row_r2_none_others_defined():
    values = regression_metrics([2.0], [3.0], REGRESSION_METRICS)
    assert values == {"mae": 1.0, "rmse": 1.0, "mape": 0.5, "r2": None, "mean_error": 1.0,
                      "residual_p05": 1.0, "residual_p50": 1.0, "residual_p95": 1.0}


def test_regression_empty_all_none():
    assert regression_metrics([], [], REGRESSION_METRICS) == dict.fromkeys(REGRESSION_METRICS)
    assert aggregate_regression([], REGRESSION_METRICS) == dict.fromkeys(REGRESSION_METRICS)
    assert aggregate_regression([regression_statistics([], [])], REGRESSION_METRICS) == dict.fromkeys(REGRESSION_METRICS)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("column", ["targets", "predictions"])
def test_regression_non_finite_value_all_none(bad, column):
    """The caller drops such rows; left in, a NaN would turn every sum into NaN."""
    targets, predictions = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 2.0])
    (targets if column == "targets" else predictions)[1] = bad
    assert regression_metrics(targets, predictions, REGRESSION_METRICS) == dict.fromkeys(REGRESSION_METRICS)
    record = regression_statistics(targets, predictions)
    assert json_round_trip(record) == record
    good = regression_statistics([1.0, 2.0], [1.0, 3.0])
    assert aggregate_regression([good, record], REGRESSION_METRICS) == dict.fromkeys(REGRESSION_METRICS)


# --- regression: properties and aggregation ---------------------------------------------------------------------------


@PROPERTY
@given(data=regression_rows(min_size=1))
def test_regression_metrics_bounds_and_orderings(data):
    targets, predictions = data
    values = regression_metrics(targets, predictions, REGRESSION_METRICS)
    assert abs(values["mean_error"]) <= values["mae"] + 1e-12
    assert values["mae"] <= values["rmse"] + 1e-12
    assert values["residual_p05"] <= values["residual_p50"] <= values["residual_p95"]
    assert values["r2"] is None or values["r2"] <= 1.0
    assert values["mape"] >= 0


@PROPERTY
@given(data=regression_rows(min_size=1), shift=st.integers(-1000, 1000))
def test_regression_shifting_targets_and_predictions_together_keeps_all_but_mape(data, shift):
    targets, predictions = data
    names = tuple(name for name in REGRESSION_METRICS if name != "mape")
    shifted = regression_metrics(targets + shift, predictions + shift, names)
    assert_matches(shifted, {k: math.nan if v is None else v for k, v in regression_metrics(targets, predictions, names).items()})


@PROPERTY
@given(data=regression_rows(), cuts=st.lists(st.integers(0, 120), max_size=4))
def test_aggregate_regression_of_split_windows_equals_metrics_of_all_rows(data, cuts):
    targets, predictions = data
    records = [json_round_trip(regression_statistics(targets[part], predictions[part]))
               for part in pieces(targets.size, cuts)]
    whole = regression_metrics(targets, predictions, AGGREGATABLE_REGRESSION)
    expected = {**{k: math.nan if v is None else v for k, v in whole.items()}, **dict.fromkeys(QUANTILES)}
    assert_matches(aggregate_regression(records, (*AGGREGATABLE_REGRESSION, *QUANTILES)), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_aggregate_regression_large_mean_small_spread_r2_matches_sklearn(seed):
    """Targets about 1e6 with a spread of 1: sum_sq_target - sum_target**2 / n would lose about 4 digits of the
    denominator of r2 (1e12 * n against n); the per-window deviations merged pairwise do not."""
    rng = np.random.default_rng(seed)
    targets = 1e6 + rng.normal(0, 1, 2400)
    predictions = targets + rng.normal(0.1, 0.5, 2400)
    records = [regression_statistics(targets[hour * 100:(hour + 1) * 100], predictions[hour * 100:(hour + 1) * 100])
               for hour in range(24)]
    expected = {k: v for k, v in sklearn_regression(targets, predictions).items() if k in AGGREGATABLE_REGRESSION}
    assert_matches(aggregate_regression(records, AGGREGATABLE_REGRESSION), expected)
