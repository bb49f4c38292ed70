"""Performance estimated from scores alone, for the hours whose labels have not arrived yet.

Confidence-based performance estimation (the idea behind NannyML's CBPE), written from its definitions:

1. On the reference's labelled rows, `fit_calibration` learns a monotone map score -> P(label = 1)
   (isotonic regression by pool-adjacent-violators) and stores it as JSON-safe step-function knots.
2. On an unlabelled window, `calibrate` turns each score into that probability p, and `estimate_binary`
   reads the metrics the labels would give *in expectation*: a row predicted positive is a true positive
   with probability p and a false positive with probability 1 - p, and so on.

Assumption: the calibration learnt on the reference still holds, i.e. P(label | score) has not changed.
The estimate follows covariate shift (a moved score distribution) but is blind to concept change
(the same score now means another label rate): only the delayed labels can show that.
"""

from __future__ import annotations

import numpy as np

from include.monitoring.performance.metrics import CONFUSION_METRICS, Confusion, predicted_positive

ESTIMABLE = ("accuracy", "precision", "recall", "f1", "roc_auc")
MAX_KNOTS = 200
# Enough halvings of the [0, 1] tolerance range to pin the smallest tolerance that fits the knot budget to ~1e-12.
_TOLERANCE_BISECTIONS = 40


# --- fitting ----------------------------------------------------------------------------------------------------------


def fit_calibration(labels: np.ndarray, scores: np.ndarray, max_knots: int = MAX_KNOTS) -> dict:
    """Isotonic calibration map of the reference's labelled rows, as JSON-safe knots (plain lists, ints, floats).

    `calibrate` interpolates linearly between knots (sklearn's IsotonicRegression predicts the same way).
    The full fit has two knots per pooled block (its lowest and highest score); when that exceeds
    `max_knots`, `_reduce_knots` keeps a subset and "max_knot_error" records the largest resulting change
    of a calibrated probability (0.0 when nothing was dropped; at most 2 / (max_knots - 2) by construction).
    """
    labels, scores = _validated_training_rows(labels, scores)
    if max_knots < 2:
        raise ValueError(f"max_knots must be at least 2 (the ends of the score range), got {max_knots}")
    unique_scores, fitted = _isotonic_fit(labels, scores)
    knot_scores, knot_probabilities = _plateau_ends(unique_scores, fitted)
    kept = _reduce_knots(knot_probabilities, max_knots)
    max_error = np.max(np.abs(np.interp(knot_scores, knot_scores[kept], knot_probabilities[kept]) - knot_probabilities))
    return {
        "method": "isotonic",
        "scores": [float(value) for value in knot_scores[kept]],
        "probabilities": [float(value) for value in knot_probabilities[kept]],
        "max_knot_error": float(max_error),
        "n": int(labels.size),
        "positives": int(labels.sum()),
    }


def _validated_training_rows(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels, scores = np.asarray(labels), np.asarray(scores, dtype="float64")
    if labels.ndim != 1 or labels.shape != scores.shape:
        raise ValueError(f"labels and scores must be 1-D of the same length, got shapes {labels.shape} and {scores.shape}")
    if labels.size == 0:
        raise ValueError("cannot fit a calibration on no labelled rows")
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError(f"labels must be 0 or 1, got values {np.unique(labels)[:10].tolist()}")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"scores must be finite, got {int(np.sum(~np.isfinite(scores)))} non-finite")
    return labels.astype("int64"), scores


def _isotonic_fit(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The full isotonic fit: the distinct scores ascending and the fitted P(label = 1) at each.

    Tied scores are pooled first (one point weighted by its row count, at its label mean), as sklearn does:
    rows with the same score must get the same probability, whatever their order.
    """
    unique_scores, group, counts = np.unique(scores, return_inverse=True, return_counts=True)
    positives = np.bincount(group, weights=labels, minlength=unique_scores.size)
    return unique_scores, _pool_adjacent_violators(positives.astype("int64"), counts)


def _pool_adjacent_violators(positives: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Non-decreasing least-squares fit of the rates positives / counts (weights = counts), one value per point.

    Points are appended left to right; while the last block's rate is not below the block before it,
    the two are pooled (merged into their weighted mean). Equal neighbours are pooled too, so the final
    blocks have strictly increasing rates. Each point is pooled at most once: O(n) after the sort.
    """
    block_positives: list[int] = []
    block_counts: list[int] = []
    block_sizes: list[int] = []  # number of points (distinct scores) in each block, to expand the fit at the end
    for point_positives, point_count in zip(positives.tolist(), counts.tolist(), strict=True):
        merged_positives, merged_count, merged_size = point_positives, point_count, 1
        # Compare rates by cross-multiplying integer counts: exact, so no rounding can leave a tiny violation.
        while block_counts and block_positives[-1] * merged_count >= merged_positives * block_counts[-1]:
            merged_positives += block_positives.pop()
            merged_count += block_counts.pop()
            merged_size += block_sizes.pop()
        block_positives.append(merged_positives)
        block_counts.append(merged_count)
        block_sizes.append(merged_size)
    rates = np.array(block_positives, dtype="float64") / np.array(block_counts, dtype="float64")
    return np.repeat(rates, block_sizes)


def _plateau_ends(unique_scores: np.ndarray, fitted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop points inside a flat block: the linear interpolant through the remaining ones is unchanged."""
    keep = np.ones(fitted.size, dtype=bool)
    keep[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
    return unique_scores[keep], fitted[keep]


def _reduce_knots(probabilities: np.ndarray, max_knots: int) -> np.ndarray:
    """Indices of at most `max_knots` knots to keep (always the first and the last), ascending.

    Between two kept knots both the full and the reduced map are non-decreasing and pass through the same
    end values, so they differ by at most the probability rise between the two: keeping a knot whenever the
    rise since the last kept one would exceed a tolerance bounds the error by that tolerance. The smallest
    tolerance that fits the budget is found by bisection. Each two consecutive kept segments rise by more than
    the tolerance and the total rise is at most 1, so a tolerance of 2 / (max_knots - 2) always fits.
    """
    if probabilities.size <= max_knots:
        return np.arange(probabilities.size)
    low, high = 0.0, 1.0  # a tolerance of 1 keeps only the two ends; invariant: `high` fits the budget
    for _ in range(_TOLERANCE_BISECTIONS):
        middle = (low + high) / 2
        if _knots_within_tolerance(probabilities, middle).size <= max_knots:
            high = middle
        else:
            low = middle
    return _knots_within_tolerance(probabilities, high)


def _knots_within_tolerance(probabilities: np.ndarray, tolerance: float) -> np.ndarray:
    """Greedy walk: from each kept knot, jump to the farthest knot whose probability is within `tolerance`."""
    last = probabilities.size - 1
    kept = [0]
    while kept[-1] < last:
        current = kept[-1]
        farthest = int(np.searchsorted(probabilities, probabilities[current] + tolerance, side="right")) - 1
        # A single step larger than the tolerance is kept as it is: between adjacent knots the maps agree exactly.
        kept.append(min(max(farthest, current + 1), last))
    return np.array(kept)


# --- applying ---------------------------------------------------------------------------------------------------------


def calibrate(calibration: dict, scores: np.ndarray) -> np.ndarray:
    """P(label = 1) for each score: linear between knots, the end values beyond them. NaN scores give NaN."""
    knot_scores = np.asarray(calibration["scores"], dtype="float64")
    knot_probabilities = np.asarray(calibration["probabilities"], dtype="float64")
    if knot_scores.size == 0 or knot_scores.shape != knot_probabilities.shape:
        raise ValueError(f"calibration needs as many probabilities as scores (at least one), got "
                         f"{knot_scores.size} and {knot_probabilities.size}")
    # np.interp already holds the end values outside the knot range; the clip only guards a hand-edited map.
    return np.clip(np.interp(np.asarray(scores, dtype="float64"), knot_scores, knot_probabilities), 0.0, 1.0)


# --- estimating -------------------------------------------------------------------------------------------------------


def estimate_binary(probabilities: np.ndarray, scores: np.ndarray, threshold: float, names: tuple[str, ...],
                    served: np.ndarray | None = None) -> dict[str, float | None]:
    """Expected metrics of a window whose labels are unknown, given each row's calibrated P(label = 1).

    The predicted class is the one the model served (`served`, 1.0 / 0.0) where there is one, else
    scores >= threshold (see metrics.predicted_positive), as for the realized metrics: the estimate is of the
    decisions the model made. With that prediction and p = probabilities, the expected confusion counts are
    E[TP] = sum of p over predicted positives, E[FP] = sum of 1 - p over them, E[FN] = sum of p over
    predicted negatives, E[TN] = sum of 1 - p over them. Accuracy and precision from them are the exact
    expectations (their denominators do not depend on the labels); recall and F1 are ratios of expectations,
    the standard approximation of the expected ratio, whose bias shrinks as 1 / n. ROC AUC is the expected
    Mann-Whitney statistic (see `_estimated_roc_auc`).

    None where a metric is undefined: no rows, a zero denominator, or any non-finite score or probability
    (an estimate that silently skipped rows would be biased; data-quality checks report such rows).
    """
    unknown = sorted(set(names) - set(ESTIMABLE))
    if unknown:
        raise ValueError(f"cannot estimate {unknown}; estimable metrics: {list(ESTIMABLE)}")
    probabilities, scores = np.asarray(probabilities, dtype="float64"), np.asarray(scores, dtype="float64")
    if probabilities.ndim != 1 or probabilities.shape != scores.shape:
        raise ValueError(f"probabilities and scores must be 1-D of the same length, got shapes "
                         f"{probabilities.shape} and {scores.shape}")
    if probabilities.size == 0 or not (np.all(np.isfinite(probabilities)) and np.all(np.isfinite(scores))):
        return dict.fromkeys(names)
    if np.any((probabilities < 0) | (probabilities > 1)):
        raise ValueError(f"probabilities must lie in [0, 1], got range [{probabilities.min()}, {probabilities.max()}]")
    if served is not None and np.shape(served) != scores.shape:
        raise ValueError(f"served classes and scores must be of the same length, got shapes {np.shape(served)} "
                         f"and {scores.shape}")
    expected = _expected_confusion(probabilities, predicted_positive(scores, threshold, served))
    values: dict[str, float | None] = {}
    for name in names:
        value = _estimated_roc_auc(probabilities, scores) if name == "roc_auc" else CONFUSION_METRICS[name](expected)
        values[name] = None if value is None else float(value)
    return values


def _expected_confusion(probabilities: np.ndarray, predicted: np.ndarray) -> Confusion:
    # Confusion is declared with int counts, but the metric functions of metrics.py only add and divide them,
    # so the same definitions apply to expected (float) counts.
    return Confusion(tp=float(probabilities[predicted].sum()), fp=float((1 - probabilities[predicted]).sum()),
                     tn=float((1 - probabilities[~predicted]).sum()), fn=float(probabilities[~predicted].sum()))


def _estimated_roc_auc(probabilities: np.ndarray, scores: np.ndarray) -> float | None:
    """Expected Mann-Whitney statistic, with row i positive with probability p_i independently of the others:

        sum over ordered pairs i != j of p_i (1 - p_j) ([s_i > s_j] + [s_i = s_j] / 2)
        / sum over i != j of p_i (1 - p_j)

    In O(n log n): sort the scores and group ties. A group's expected positives P_g pair with the expected
    negatives of all lower groups (a cumulative sum), and with the other rows of their own group at half
    weight: P_g N_g minus each row's pairing with itself, sum over the group of p_i (1 - p_i).
    With p in {0, 1} this is exactly metrics.roc_auc of those labels.
    """
    order = np.argsort(scores, kind="stable")
    sorted_scores, sorted_probabilities = scores[order], probabilities[order]
    group_starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    positives = np.add.reduceat(sorted_probabilities, group_starts)
    negatives = np.add.reduceat(1 - sorted_probabilities, group_starts)
    self_pairs = np.add.reduceat(sorted_probabilities * (1 - sorted_probabilities), group_starts)
    negatives_below = np.cumsum(negatives) - negatives
    numerator = positives @ negatives_below + (positives @ negatives - self_pairs.sum()) / 2
    denominator = positives.sum() * negatives.sum() - self_pairs.sum()
    if denominator <= 0:  # one row, or every p the same certain 0 or 1: no (positive, negative) pair is possible
        return None
    # Rounding can put the ratio a hair outside [0, 1] when it is exactly 0 or 1.
    return float(np.clip(numerator / denominator, 0.0, 1.0))
