"""Confidence-based performance estimation: hand-worked cases, scikit-learn's isotonic regression and a brute-force
double loop as oracles, agreement with realized metrics when the calibration holds (covariate shift included),
the documented blindness to concept change, properties, and edge cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression

from include.monitoring.performance.estimation import (
    ESTIMABLE,
    MAX_KNOTS,
    _estimated_roc_auc,
    _isotonic_fit,
    calibrate,
    estimate_binary,
    fit_calibration,
)
from include.monitoring.performance.metrics import binary_metrics, roc_auc

PROPERTY = settings(max_examples=60, deadline=None, database=None)
ALL = ESTIMABLE


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _brute_force_roc_auc(probabilities: np.ndarray, scores: np.ndarray) -> float | None:
    """The definition, over every ordered pair i != j."""
    numerator = denominator = 0.0
    for i in range(scores.size):
        for j in range(scores.size):
            if i == j:
                continue
            weight = probabilities[i] * (1 - probabilities[j])
            denominator += weight
            numerator += weight * (1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0.0)
    return numerator / denominator if denominator > 0 else None


# --- hand-worked ------------------------------------------------------------------------------------------------------

# Seven rows; tied scores at 0.2 (labels 1 and 0) and a flat top at 0.4 - 0.6.
HAND_LABELS = np.array([0, 1, 0, 0, 1, 1, 1])
HAND_SCORES = np.array([0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6])


def test_isotonic_fit_hand_worked():
    """Ties pooled first: 0.1 -> 0/1, 0.2 -> 1/2 (2 rows), 0.3 -> 0/1, 0.4, 0.5, 0.6 -> 1 each.
    PAVA: [0], [1/2] fine; 0.3's 0 < 1/2 violates -> pool 0.2 and 0.3: (1 + 0) / (2 + 1) = 1/3, still above 0.
    0.4's 1 > 1/3 fine; 0.5's 1 equals 1 -> pooled, as is 0.6: one block at 1.
    Fit at the distinct scores: [0, 1/3, 1/3, 1, 1, 1]."""
    unique_scores, fitted = _isotonic_fit(HAND_LABELS, HAND_SCORES)
    np.testing.assert_array_equal(unique_scores, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    np.testing.assert_allclose(fitted, [0, 1 / 3, 1 / 3, 1, 1, 1], rtol=0, atol=1e-15)


def test_fit_calibration_hand_worked_drops_plateau_interior():
    """From the fit above, 0.5 lies inside the flat block 0.4 - 0.6 (equal to both neighbours): dropping it leaves the
    interpolant unchanged, so the knots are 0.1, 0.2, 0.3, 0.4, 0.6 and nothing more was reduced (error 0).
    n = 7 rows, positives = 4."""
    calibration = fit_calibration(HAND_LABELS, HAND_SCORES)
    assert calibration["scores"] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.6], abs=1e-15)
    assert calibration["probabilities"] == pytest.approx([0, 1 / 3, 1 / 3, 1, 1], abs=1e-15)
    assert (calibration["n"], calibration["positives"], calibration["max_knot_error"]) == (7, 4, 0.0)


def test_calibrate_hand_worked_interpolates_and_clips():
    """Knots (0.1, 0), (0.2, 1/3), (0.3, 1/3), (0.4, 1), (0.6, 1):
    0.0 -> below the first knot -> 0; 0.15 -> halfway 0 to 1/3 = 1/6; 0.25 -> 1/3; 0.35 -> halfway 1/3 to 1 = 2/3;
    0.5 -> 1; 0.9 -> beyond the last knot -> 1."""
    calibration = fit_calibration(HAND_LABELS, HAND_SCORES)
    calibrated = calibrate(calibration, np.array([0.0, 0.15, 0.25, 0.35, 0.5, 0.9]))
    np.testing.assert_allclose(calibrated, [0, 1 / 6, 1 / 3, 2 / 3, 1, 1], rtol=0, atol=1e-12)


def test_fit_calibration_hand_worked_knot_reduction_to_three():
    """Budget 3 for the knots p = [0, 1/3, 1/3, 1, 1] at [0.1, 0.2, 0.3, 0.4, 0.6]. The greedy walk with tolerance t
    keeps, from each kept knot, the farthest knot within t above it. t < 1/3: all 5 kept. 1/3 <= t < 2/3: 0 -> 0.3
    (p 1/3), then 1 - 1/3 > t forces 0.4, then 0.6: 4 knots. t >= 2/3: 0.1, 0.3 (1/3), 0.6 (1 - 1/3 <= t): 3 knots.
    Reduced map at 0.4: 1/3 + (2/3) * (0.1 / 0.3) = 5/9 vs 1 -> error 4/9 (the largest; at 0.2: 1/6 vs 1/3)."""
    calibration = fit_calibration(HAND_LABELS, HAND_SCORES, max_knots=3)
    assert calibration["scores"] == pytest.approx([0.1, 0.3, 0.6], abs=1e-15)
    assert calibration["probabilities"] == pytest.approx([0, 1 / 3, 1], abs=1e-15)
    assert calibration["max_knot_error"] == pytest.approx(4 / 9, abs=1e-12)


def test_estimate_binary_hand_worked():
    """scores [0.9, 0.6, 0.4, 0.2], p [0.8, 0.5, 0.5, 0.1], threshold 0.5 -> predicted [1, 1, 0, 0].
    E[TP] = 0.8 + 0.5 = 1.3, E[FP] = 0.2 + 0.5 = 0.7, E[FN] = 0.5 + 0.1 = 0.6, E[TN] = 0.5 + 0.9 = 1.4.
    accuracy (1.3 + 1.4) / 4 = 0.675; precision 1.3 / 2 = 0.65; recall 1.3 / 1.9; f1 2.6 / (2.6 + 0.7 + 0.6) = 2/3.
    ROC AUC, pairs (higher score i, lower j) p_i (1 - p_j): (1,2) 0.8*0.5 = 0.4, (1,3) 0.4, (1,4) 0.8*0.9 = 0.72,
    (2,3) 0.5*0.5 = 0.25, (2,4) 0.45, (3,4) 0.45 -> 2.67. Denominator: sum p * sum (1 - p) - sum p (1 - p)
    = 1.9 * 2.1 - (0.16 + 0.25 + 0.25 + 0.09) = 3.99 - 0.75 = 3.24 -> 2.67 / 3.24 = 89/108."""
    values = estimate_binary(np.array([0.8, 0.5, 0.5, 0.1]), np.array([0.9, 0.6, 0.4, 0.2]), 0.5, ALL)
    expected = {"accuracy": 0.675, "precision": 0.65, "recall": 1.3 / 1.9, "f1": 2 / 3, "roc_auc": 89 / 108}
    assert values == pytest.approx(expected, abs=1e-12)


def test_estimate_binary_served_classes_hand_worked():
    """The same rows, the model having served [1, 0, 0, 1] (NaN: the threshold decides, here 0 for score 0.4):
    E[TP] = 0.8 + 0.1 = 0.9, E[FP] = 0.2 + 0.9 = 1.1, E[FN] = 0.5 + 0.5 = 1.0, E[TN] = 0.5 + 0.5 = 1.0.
    accuracy 1.9 / 4 = 0.475; precision 0.9 / 2 = 0.45; recall 0.9 / 1.9; f1 1.8 / (1.8 + 1.1 + 1.0) = 18/39.
    ROC AUC is of the scores: 89/108 as above."""
    values = estimate_binary(np.array([0.8, 0.5, 0.5, 0.1]), np.array([0.9, 0.6, 0.4, 0.2]), 0.5, ALL,
                             served=np.array([1.0, 0.0, np.nan, 1.0]))
    expected = {"accuracy": 0.475, "precision": 0.45, "recall": 0.9 / 1.9, "f1": 18 / 39, "roc_auc": 89 / 108}
    assert values == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_estimate_binary_certain_probabilities_equal_realized_metrics_of_the_served_class(seed):
    """With p in {0, 1} the labels are known: the estimate is metrics.binary_metrics of what the model served."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 40)
    scores = rng.integers(0, 11, 40) / 10
    served = np.where(rng.random(40) < 0.1, np.nan, (scores >= 0.3).astype("float64"))
    assert estimate_binary(labels.astype("float64"), scores, 0.5, ALL, served=served) == pytest.approx(
        binary_metrics(labels, scores, 0.5, ALL, served=served), abs=1e-12)
    assert estimate_binary(labels.astype("float64"), scores, 0.5, ALL, served=served) != pytest.approx(
        estimate_binary(labels.astype("float64"), scores, 0.5, ALL), abs=1e-6)


def test_estimated_roc_auc_tied_scores_count_half():
    """scores [0.5, 0.5], p [1, 0]: pair (0, 1) weight 1 * 1, tied -> 1/2; pair (1, 0) weight 0. Denominator
    1 * 1 - 0 = 1 -> 0.5, as metrics.roc_auc gives for labels [1, 0] with tied scores."""
    assert _estimated_roc_auc(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(0.5, abs=1e-15)


# --- oracles ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_isotonic_fit_random_data_matches_sklearn(seed):
    """Even seeds: scores rounded to two decimals (many ties); odd seeds: continuous. Sizes from 5 to 3000."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 3000))
    scores = rng.random(n)
    if seed % 2 == 0:
        scores = np.round(scores, 2)
    labels = (rng.random(n) < scores ** 2).astype(int)
    unique_scores, fitted = _isotonic_fit(labels, scores)
    ours = fitted[np.searchsorted(unique_scores, scores)]
    theirs = IsotonicRegression().fit_transform(scores, labels)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_calibrate_unreduced_matches_sklearn_predict_between_and_beyond_knots(seed):
    rng = np.random.default_rng(100 + seed)
    scores = np.round(rng.random(2000), 3)
    labels = (rng.random(2000) < scores).astype(int)
    calibration = fit_calibration(labels, scores, max_knots=10**9)
    queries = rng.uniform(-0.2, 1.2, 5000)
    expected = IsotonicRegression(out_of_bounds="clip").fit(scores, labels).predict(queries)
    np.testing.assert_allclose(calibrate(calibration, queries), expected, rtol=0, atol=1e-9)


def test_fit_calibration_default_budget_keeps_values_within_recorded_error():
    """200000 continuous scores give a full fit of more than MAX_KNOTS knots. The reduced map stays within the recorded
    max_knot_error of the full one everywhere (both are piecewise linear, so the sup is at a knot: the recorded error is
    attained, and a dense grid cannot exceed it), which is at most 2 / (MAX_KNOTS - 2) and in practice far less."""
    rng = np.random.default_rng(11)
    latent = rng.normal(size=200_000)
    scores, labels = _sigmoid(1.5 * latent), (rng.random(200_000) < _sigmoid(2 * latent - 0.5)).astype(int)
    full, reduced = fit_calibration(labels, scores, max_knots=10**9), fit_calibration(labels, scores)
    assert len(full["scores"]) > MAX_KNOTS >= len(reduced["scores"]) == len(reduced["probabilities"])
    grid = np.concatenate([np.linspace(-0.1, 1.1, 200_001), scores[:20_000]])
    error = np.max(np.abs(calibrate(reduced, grid) - calibrate(full, grid)))
    assert error <= reduced["max_knot_error"] + 1e-12
    assert reduced["max_knot_error"] <= 2 / (MAX_KNOTS - 2) + 1e-9
    assert reduced["max_knot_error"] < 0.005


@pytest.mark.parametrize("seed", range(300))
def test_estimated_roc_auc_matches_brute_force_double_loop(seed):
    """Scores on a coarse grid (ties within and across p), p from the whole [0, 1] with exact 0s and 1s mixed in."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 25))
    scores = rng.integers(0, 6, n) / 5
    probabilities = rng.random(n)
    probabilities[rng.random(n) < 0.2] = rng.integers(0, 2)
    expected = _brute_force_roc_auc(probabilities, scores)
    result = _estimated_roc_auc(probabilities, scores)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_estimate_binary_certain_probabilities_equal_realized_metrics(seed):
    """With p in {0, 1} the labels are known: every estimate equals metrics.binary_metrics of those labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 40)
    scores = rng.integers(0, 11, 40) / 10
    assert estimate_binary(labels.astype("float64"), scores, 0.5, ALL) == pytest.approx(
        binary_metrics(labels, scores, 0.5, ALL), abs=1e-12)


# --- against realized metrics -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_estimate_binary_true_probabilities_within_001_of_realized(seed):
    """Scores that are the true probabilities (p = score); labels drawn from them. At n = 50000 the realized metrics
    scatter around the estimate by about 0.003 (one standard error), so 0.01 is above 3 standard errors."""
    rng = np.random.default_rng(seed)
    scores = rng.beta(2, 3, 50_000)
    labels = (rng.random(scores.size) < scores).astype(int)
    estimated = estimate_binary(scores, scores, 0.5, ALL)
    realized = binary_metrics(labels, scores, 0.5, ALL)
    assert estimated == pytest.approx(realized, abs=0.01)


def _window(rng: np.random.Generator, n: int, mean: float, spread: float, label_slope: float = 2.0,
            label_offset: float = -0.5) -> tuple[np.ndarray, np.ndarray]:
    """A latent feature x; the model scores sigmoid(1.5 x + 0.3) (monotone in x but not calibrated), and the labels
    follow P(1 | x) = sigmoid(label_slope x + label_offset). Moving (mean, spread) is covariate shift;
    changing (label_slope, label_offset) is concept change."""
    latent = rng.normal(mean, spread, n)
    labels = (rng.random(n) < _sigmoid(label_slope * latent + label_offset)).astype(int)
    return labels, _sigmoid(1.5 * latent + 0.3)


def _estimated_and_realized(calibration: dict, labels: np.ndarray, scores: np.ndarray) -> tuple[dict, dict]:
    return estimate_binary(calibrate(calibration, scores), scores, 0.5, ALL), binary_metrics(labels, scores, 0.5, ALL)


@pytest.mark.parametrize("seed", range(3))
def test_estimate_tracks_realized_metrics_under_covariate_shift(seed):
    """Calibrated on a reference with x ~ N(0, 1); the shifted window has x ~ N(1, 0.7). Every realized metric moves by
    more than 0.03 (accuracy 0.74 -> 0.78, precision 0.65 -> 0.78, recall 0.88 -> 0.99, ROC AUC 0.86 -> 0.80), and the
    estimate follows within 0.015 (realized noise ~0.003 plus the reference's isotonic fit error)."""
    rng = np.random.default_rng(seed)
    calibration = fit_calibration(*_window(rng, 50_000, 0.0, 1.0))
    estimated_before, realized_before = _estimated_and_realized(calibration, *_window(rng, 50_000, 0.0, 1.0))
    estimated_after, realized_after = _estimated_and_realized(calibration, *_window(rng, 50_000, 1.0, 0.7))
    assert estimated_before == pytest.approx(realized_before, abs=0.015)
    assert estimated_after == pytest.approx(realized_after, abs=0.015)
    assert all(abs(realized_after[name] - realized_before[name]) > 0.03 for name in ALL)


@pytest.mark.parametrize("seed", range(3))
def test_estimate_blind_to_concept_change_documents_the_limitation(seed):
    """Same scores' distribution, but the labels now follow sigmoid(0.5 x - 1) instead of sigmoid(2 x - 0.5): the realized
    metrics fall by more than 0.1 (accuracy 0.74 -> 0.54, ROC AUC 0.86 -> 0.63), yet the estimate, which only reads the
    scores through the reference's calibration, stays where it was (within 0.01). Only the delayed labels can show this."""
    rng = np.random.default_rng(seed)
    calibration = fit_calibration(*_window(rng, 50_000, 0.0, 1.0))
    estimated_before, realized_before = _estimated_and_realized(calibration, *_window(rng, 50_000, 0.0, 1.0))
    changed = _window(rng, 50_000, 0.0, 1.0, label_slope=0.5, label_offset=-1.0)
    estimated_after, realized_after = _estimated_and_realized(calibration, *changed)
    assert estimated_after == pytest.approx(estimated_before, abs=0.01)
    assert all(realized_before[name] - realized_after[name] > 0.1 for name in ALL)
    assert all(estimated_after[name] - realized_after[name] > 0.1 for name in ALL)


# --- properties -------------------------------------------------------------------------------------------------------


@st.composite
def training_rows(draw, max_size=120):
    """Labels and scores on a 0.05 grid (ties common), plus a knot budget small enough to force reduction at times."""
    size = draw(st.integers(1, max_size))
    labels = draw(st.lists(st.integers(0, 1), min_size=size, max_size=size))
    scores = draw(st.lists(st.integers(0, 20), min_size=size, max_size=size))
    return np.array(labels), np.array(scores, dtype="float64") / 20, draw(st.integers(2, 12))


@PROPERTY
@given(rows=training_rows(), queries=st.lists(st.floats(-1, 2), min_size=1, max_size=50))
def test_calibrate_monotone_in_score_and_within_unit_interval(rows, queries):
    labels, scores, max_knots = rows
    calibration = fit_calibration(labels, scores, max_knots=max_knots)
    calibrated = calibrate(calibration, np.sort(np.array(queries)))
    assert np.all(np.diff(calibrated) >= 0)
    assert np.all((calibrated >= 0) & (calibrated <= 1))
    assert len(calibration["scores"]) <= max_knots


@PROPERTY
@given(rows=training_rows(), queries=st.lists(st.floats(-1, 2), min_size=1, max_size=50))
def test_knot_reduction_error_within_recorded_bound(rows, queries):
    labels, scores, max_knots = rows
    full, reduced = fit_calibration(labels, scores, max_knots=10**9), fit_calibration(labels, scores, max_knots=max_knots)
    grid = np.concatenate([np.array(queries), scores])
    assert np.max(np.abs(calibrate(full, grid) - calibrate(reduced, grid))) <= reduced["max_knot_error"] + 1e-12
    if max_knots > 2:
        assert reduced["max_knot_error"] <= 2 / (max_knots - 2) + 1e-9


@PROPERTY
@given(size=st.integers(1, 80), data=st.data(), threshold=st.sampled_from([0.0, 0.3, 0.5, 0.9]))
def test_estimates_within_unit_interval_or_none(size, data, threshold):
    probabilities = np.array(data.draw(st.lists(st.floats(0, 1), min_size=size, max_size=size)))
    scores = np.array(data.draw(st.lists(st.integers(0, 10), min_size=size, max_size=size)), dtype="float64") / 10
    for name, value in estimate_binary(probabilities, scores, threshold, ALL).items():
        assert value is None or 0 <= value <= 1, name


# --- edge cases -------------------------------------------------------------------------------------------------------


def test_calibration_json_round_trip_gives_same_probabilities():
    rng = np.random.default_rng(3)
    scores = rng.random(5000)
    calibration = fit_calibration((rng.random(5000) < scores).astype(int), scores)
    restored = json.loads(json.dumps(calibration))
    assert restored == calibration
    np.testing.assert_array_equal(calibrate(restored, scores), calibrate(calibration, scores))


def test_empty_inputs():
    with pytest.raises(ValueError, match="no labelled rows"):
        fit_calibration(np.array([], dtype=int), np.array([]))
    assert calibrate(fit_calibration(HAND_LABELS, HAND_SCORES), np.array([])).shape == (0,)
    assert estimate_binary(np.array([]), np.array([]), 0.5, ALL) == dict.fromkeys(ALL)


def test_one_row():
    """Calibration on one row (label 1 at 0.3): one knot, probability 1 for every score.
    Estimate on one row, p 0.7, score 0.6 >= 0.5: E[TP] 0.7, E[FP] 0.3, E[FN] = E[TN] = 0 -> accuracy 0.7,
    precision 0.7, recall 0.7 / 0.7 = 1, f1 1.4 / (1.4 + 0.3) = 14/17; ROC AUC has no pair -> None."""
    calibration = fit_calibration(np.array([1]), np.array([0.3]))
    assert (calibration["scores"], calibration["probabilities"]) == ([0.3], [1.0])
    np.testing.assert_array_equal(calibrate(calibration, np.array([0.0, 0.3, 1.0])), [1.0, 1.0, 1.0])
    values = estimate_binary(np.array([0.7]), np.array([0.6]), 0.5, ALL)
    assert values == pytest.approx({"accuracy": 0.7, "precision": 0.7, "recall": 1.0, "f1": 14 / 17, "roc_auc": None})


def test_all_scores_equal():
    """Calibration on labels [1, 0, 0, 1, 1] all at 0.4: one knot, p = 3/5. Estimate with every score 0.4 < 0.5: all
    predicted negative: E[TN] = 5 * 0.4 = 2 -> accuracy 2/5; precision None (nothing predicted positive); recall 0 / 3
    = 0; f1 0 / (0 + 0 + 3) = 0; ROC AUC: every pair tied -> exactly 1/2."""
    calibration = fit_calibration(np.array([1, 0, 0, 1, 1]), np.full(5, 0.4))
    assert (calibration["scores"], calibration["probabilities"]) == ([0.4], [pytest.approx(0.6)])
    scores = np.full(5, 0.4)
    values = estimate_binary(calibrate(calibration, scores), scores, 0.5, ALL)
    assert values == pytest.approx({"accuracy": 0.4, "precision": None, "recall": 0.0, "f1": 0.0, "roc_auc": 0.5})


def test_all_labels_zero_in_calibration_set():
    """Every calibrated p is 0: no expected positive at all. Scores [0.2, 0.6, 0.9] at threshold 0.5 -> E[FP] = 2,
    E[TN] = 1: accuracy 1/3, precision 0 / 2 = 0, recall 0 / 0 -> None, f1 0 / (0 + 2 + 0) = 0, ROC AUC -> None."""
    calibration = fit_calibration(np.zeros(4, dtype=int), np.array([0.1, 0.4, 0.4, 0.8]))
    assert calibration["probabilities"] == [0.0, 0.0] and calibration["positives"] == 0
    scores = np.array([0.2, 0.6, 0.9])
    values = estimate_binary(calibrate(calibration, scores), scores, 0.5, ALL)
    assert values == pytest.approx({"accuracy": 1 / 3, "precision": 0.0, "recall": None, "f1": 0.0, "roc_auc": None})


def test_non_finite_inputs():
    """A NaN score cannot be fitted on (ValueError); calibrating it gives NaN, and an estimate over it is None rather
    than a NaN that compares False against every alert tier."""
    with pytest.raises(ValueError, match="finite"):
        fit_calibration(np.array([0, 1]), np.array([0.2, np.nan]))
    assert math.isnan(calibrate(fit_calibration(HAND_LABELS, HAND_SCORES), np.array([np.nan]))[0])
    assert estimate_binary(np.array([0.2, 0.8]), np.array([0.1, np.nan]), 0.5, ALL) == dict.fromkeys(ALL)
    assert estimate_binary(np.array([0.2, np.nan]), np.array([0.1, 0.9]), 0.5, ALL) == dict.fromkeys(ALL)


@pytest.mark.parametrize("call, message", [
    (lambda: fit_calibration(np.array([0, 2]), np.array([0.1, 0.2])), "0 or 1"),
    (lambda: fit_calibration(np.array([0, 1]), np.array([0.1])), "same length"),
    (lambda: fit_calibration(np.array([0, 1]), np.array([0.1, 0.2]), max_knots=1), "at least 2"),
    (lambda: calibrate({"scores": [0.1, 0.2], "probabilities": [0.5]}, np.array([0.1])), "as many"),
    (lambda: estimate_binary(np.array([0.5]), np.array([0.5]), 0.5, ("log_loss",)), "cannot estimate"),
    (lambda: estimate_binary(np.array([1.5]), np.array([0.5]), 0.5, ALL), r"\[0, 1\]"),
    (lambda: estimate_binary(np.array([0.5, 0.5]), np.array([0.5]), 0.5, ALL), "same length"),
    (lambda: estimate_binary(np.array([0.5]), np.array([0.5]), 0.5, ALL, served=np.array([1.0, 0.0])), "same length"),
], ids=["label_not_binary", "length_mismatch", "knot_budget_too_small", "bad_calibration", "unknown_metric",
        "probability_out_of_range", "estimate_length_mismatch", "served_length_mismatch"])
def test_invalid_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_estimate_binary_only_requested_names_returned():
    values = estimate_binary(np.array([0.2, 0.7]), np.array([0.2, 0.7]), 0.5, ("roc_auc", "f1"))
    assert list(values) == ["roc_auc", "f1"]


def test_estimated_roc_auc_certain_labels_equals_metrics_roc_auc_continuous():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 2, 3000)
    scores = rng.normal(size=3000) + labels
    assert _estimated_roc_auc(labels.astype("float64"), scores) == pytest.approx(roc_auc(labels, scores), abs=1e-12)
