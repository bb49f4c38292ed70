"""Performance metrics of binary classifiers, multiclass classifiers and regressors, and the sufficient statistics
from which a longer period (a day, a week) is aggregated exactly out of per-window records.

Plain numpy with the textbook definitions; tests check each against scikit-learn (a test-only dependency).

Undefined is None, never 0 or NaN (a NaN compares False against every alert tier and silently disables it):
- empty input: every metric is None;
- binary: precision / recall / f1 with a zero denominator; roc_auc with one class only; pr_auc with no positives
  (scikit-learn returns 0.0 with a warning; all positives give 1.0, as there); log_loss, brier and ece when any
  score is not a probability in [0, 1] (scikit-learn raises);
- non-finite scores are the caller's job to drop (the pipeline drops them). Left in, the confusion metrics count
  a NaN score as below the threshold (NaN >= t is False), the ranking metrics (roc_auc, pr_auc) and the
  probability metrics are None;
- binary: the confusion metrics (accuracy, precision, recall, f1) are of the class the model served when the caller
  passes `served` (1.0 / 0.0 per row, from the predictions table's prediction column); a row whose served class is
  NaN (missing or unreadable), or every row when there is none, is classified as `score >= threshold`. The ranking
  and probability metrics always use the score;
- multiclass: recall[c] of a class with no true rows; macro_f1 leaves out a class whose F1 is undefined (no true
  and no predicted rows, only possible when `classes` names it), as scikit-learn's zero_division=np.nan does:
  a class absent from a window must not pull the average down and raise an alert;
- regression: every metric when a target or prediction is non-finite; r2 when the targets are constant (one row
  included), where scikit-learn gives 1.0 / 0.0 (force_finite) or nan / -inf, and for targets whose mean is
  inexact, such as [0.1, 0.1, 0.1], a huge negative number.

The metric names of each task and their directions (LOWER_IS_BETTER, SIGNED_METRICS, higher_is_better) are in
include/monitoring/catalogue.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from include.monitoring.catalogue import PERFORMANCE_METRICS, TaskType

BINARY_METRICS = PERFORMANCE_METRICS[TaskType.BINARY_CLASSIFICATION]
MULTICLASS_METRICS = PERFORMANCE_METRICS[TaskType.MULTICLASS_CLASSIFICATION]
REGRESSION_METRICS = PERFORMANCE_METRICS[TaskType.REGRESSION]

ECE_BINS = 10
# np.histogram's bins: [e_i, e_i+1), the last one closed so that a score of exactly 1 is counted. The edges are these
# floats, so the double 0.6 (just below 6/10) falls below 0.6000000000000001 and into [0.5, 0.6), as in np.histogram.
ECE_EDGES = np.linspace(0.0, 1.0, ECE_BINS + 1)
# scikit-learn's log_loss clips probabilities to [eps, 1 - eps] with the machine epsilon of their dtype (float64 here).
PROBABILITY_EPS = float(np.finfo(np.float64).eps)
# scikit-learn's mean_absolute_percentage_error divides by max(|target|, eps): a zero target gives a huge, finite error.
MAPE_EPS = float(np.finfo(np.float64).eps)
RESIDUAL_PERCENTILES = {"residual_p05": 5.0, "residual_p50": 50.0, "residual_p95": 95.0}


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


# --- binary: confusion metrics ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Confusion:
    # Counts, or expected counts (fractional) when estimated without labels (estimation.py): the metrics below
    # only add and divide them.
    tp: float
    fp: float
    tn: float
    fn: float

    @classmethod
    def of(cls, labels: np.ndarray, predicted: np.ndarray) -> Confusion:
        labels, predicted = labels.astype(bool), predicted.astype(bool)
        return cls(tp=int(np.sum(labels & predicted)), fp=int(np.sum(~labels & predicted)),
                   tn=int(np.sum(~labels & ~predicted)), fn=int(np.sum(labels & ~predicted)))


def accuracy(c: Confusion) -> float | None:
    return _ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn)


def precision(c: Confusion) -> float | None:
    return _ratio(c.tp, c.tp + c.fp)


def recall(c: Confusion) -> float | None:
    return _ratio(c.tp, c.tp + c.fn)


def f1(c: Confusion) -> float | None:
    return _ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn)


CONFUSION_METRICS: dict[str, Callable[[Confusion], float | None]] = {
    "accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1,
}


# --- binary: ranking metrics ------------------------------------------------------------------------------------------


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Mann-Whitney form: the probability that a random positive outscores a random negative (ties count half)."""
    labels = labels.astype(bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0 or not np.all(np.isfinite(scores)):
        return None
    ranks = stats.rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def pr_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Average precision: over the distinct scores from the highest, the precision of "score >= it" times the recall
    that threshold adds. Tied scores enter together, with no interpolation between thresholds (as scikit-learn)."""
    labels = labels.astype(bool)
    positives = int(labels.sum())
    scores = np.asarray(scores, dtype="float64")
    if positives == 0 or not np.all(np.isfinite(scores)):
        return None
    order = np.argsort(-scores, kind="stable")
    descending, hits = scores[order], np.cumsum(labels[order])
    last_of_each_score = np.append(np.flatnonzero(np.diff(descending)), len(descending) - 1)
    true_positives = hits[last_of_each_score]
    precisions = true_positives / (last_of_each_score + 1)
    added_recall = np.diff(true_positives, prepend=0) / positives
    return float(np.sum(added_recall * precisions))


# --- binary: probability metrics --------------------------------------------------------------------------------------


def _are_probabilities(scores: np.ndarray) -> bool:
    return bool(np.all((scores >= 0.0) & (scores <= 1.0)))  # False for NaN too: both comparisons fail


def _log_losses(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per row -log p(true class). Clipped as scikit-learn does: 1 - p is taken before clipping, so p = 1e-20 on a
    negative costs -log(1 - eps), not 0."""
    probability_of_truth = np.where(labels.astype(bool), scores, 1.0 - scores)
    losses: np.ndarray = -np.log(np.clip(probability_of_truth, PROBABILITY_EPS, 1.0 - PROBABILITY_EPS))
    return losses


def _squared_errors(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    errors: np.ndarray = (scores - labels.astype(bool)) ** 2
    return errors


def _ece_bin_of(scores: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(ECE_EDGES, scores, side="right") - 1, ECE_BINS - 1)


def _ece_bins(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin: row count, sum of scores, sum of labels."""
    bins = _ece_bin_of(scores)
    return (np.bincount(bins, minlength=ECE_BINS), np.bincount(bins, weights=scores, minlength=ECE_BINS),
            np.bincount(bins, weights=labels.astype(bool), minlength=ECE_BINS))


def _ece_of_bins(score_sums: np.ndarray, label_sums: np.ndarray, n: int) -> float:
    # (count / n) * |score_sum / count - label_sum / count| = |score_sum - label_sum| / n, and an empty bin adds 0:
    # the form that sums of several windows aggregate into.
    return float(np.sum(np.abs(np.asarray(score_sums) - np.asarray(label_sums))) / n)


def _as_probabilities(scores: np.ndarray) -> np.ndarray | None:
    """The scores as float64 when the probability metrics are defined on them: rows present, each in [0, 1]."""
    scores = np.asarray(scores, dtype="float64")
    return scores if scores.size and _are_probabilities(scores) else None


def log_loss(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Mean -log p(true class), the probabilities clipped as scikit-learn clips them."""
    probabilities = _as_probabilities(scores)
    return None if probabilities is None else float(np.mean(_log_losses(labels, probabilities)))


def brier(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Mean squared difference between score and label."""
    probabilities = _as_probabilities(scores)
    return None if probabilities is None else float(np.mean(_squared_errors(labels, probabilities)))


def ece(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Expected calibration error over ECE_BINS equal-width bins of [0, 1]: the sum over non-empty bins of
    (bin count / n) * |mean score - mean label|."""
    probabilities = _as_probabilities(scores)
    if probabilities is None:
        return None
    _, score_sums, label_sums = _ece_bins(labels, probabilities)
    return _ece_of_bins(score_sums, label_sums, probabilities.size)


SCORE_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float | None]] = {
    "roc_auc": roc_auc, "pr_auc": pr_auc, "log_loss": log_loss, "brier": brier, "ece": ece,
}


def predicted_positive(scores: np.ndarray, threshold: float, served: np.ndarray | None = None) -> np.ndarray:
    """Which rows the model predicted positive: the served class (1.0 / 0.0) where `served` has one, else
    `score >= threshold` (a NaN in `served`, or no `served` at all)."""
    by_threshold = np.asarray(scores, dtype="float64") >= threshold
    if served is None:
        return by_threshold
    served = np.asarray(served, dtype="float64")
    return np.where(np.isnan(served), by_threshold, served == 1.0)


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float, names: tuple[str, ...],
                   served: np.ndarray | None = None) -> dict[str, float | None]:
    """`names` (from BINARY_METRICS) of 0/1 `labels` (non-zero is positive) and scores. The confusion metrics
    predict positive as `predicted_positive` says: the `served` class where there is one, else `score >= threshold`."""
    confusion = Confusion.of(labels, predicted_positive(scores, threshold, served))
    values: dict[str, float | None] = {}
    for name in names:
        values[name] = CONFUSION_METRICS[name](confusion) if name in CONFUSION_METRICS else SCORE_METRICS[name](labels, scores)
    return values


def bootstrap_standard_errors(labels: np.ndarray, scores: np.ndarray, threshold: float, names: tuple[str, ...],
                              rng: np.random.Generator, reps: int = 200,
                              served: np.ndarray | None = None) -> dict[str, float | None]:
    """Standard error of each metric on this window, by resampling its labelled rows (`reps` times).

    Used to tell a real drop from the noise of a small window: 175 labels give an accuracy that moves
    by about 3 points between identical windows.
    """
    n = len(labels)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(reps):
        index = rng.integers(0, n, n)
        resampled = None if served is None else np.asarray(served)[index]
        for name, value in binary_metrics(labels[index], scores[index], threshold, names, resampled).items():
            if value is not None:
                samples[name].append(value)
    return {name: float(np.std(values, ddof=1)) if len(values) > 1 else None for name, values in samples.items()}


# --- binary: sufficient statistics ------------------------------------------------------------------------------------


def _probability_sums(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """The sums behind log_loss, brier and ece; None where those metrics are (a score that is not a probability),
    so that the aggregate of a period holding such a window is None too, as on its concatenated rows."""
    if not _are_probabilities(scores):
        return dict.fromkeys(("log_loss_sum", "brier_sum", "bin_count", "bin_score_sum", "bin_label_sum"))
    count, score_sums, label_sums = _ece_bins(labels, scores)
    return {"log_loss_sum": float(np.sum(_log_losses(labels, scores))),
            "brier_sum": float(np.sum(_squared_errors(labels, scores))),
            "bin_count": [int(v) for v in count], "bin_score_sum": [float(v) for v in score_sums],
            "bin_label_sum": [int(v) for v in label_sums]}


def binary_statistics(labels: np.ndarray, scores: np.ndarray, threshold: float,
                      served: np.ndarray | None = None) -> dict[str, Any]:
    """JSON-safe record from which `aggregate_binary` recomputes the window's metrics, alone or with others:
    n, positives, tp, fp, tn, fn (of the classes `predicted_positive` gives), log_loss_sum, brier_sum and, per ECE
    bin, bin_count, bin_score_sum, bin_label_sum."""
    scores = np.asarray(scores, dtype="float64")
    c = Confusion.of(labels, predicted_positive(scores, threshold, served))
    return {"n": int(len(labels)), "positives": c.tp + c.fn, "tp": c.tp, "fp": c.fp, "tn": c.tn, "fn": c.fn,
            **_probability_sums(labels, scores)}


def _total(records: Sequence[dict[str, Any]], key: str) -> float | None:
    """Sum of `key` over records; None if any record has none (its window's metric was undefined)."""
    values = [record[key] for record in records]
    return None if any(value is None for value in values) else sum(values)


def _bin_totals(records: Sequence[dict[str, Any]], key: str) -> np.ndarray | None:
    values = [record[key] for record in records]
    return None if any(value is None for value in values) else np.sum(np.array(values, dtype="float64"), axis=0)


def _aggregated_probability_metric(name: str, records: Sequence[dict[str, Any]], n: int) -> float | None:
    if not n:
        return None
    if name == "ece":
        score_sums, label_sums = _bin_totals(records, "bin_score_sum"), _bin_totals(records, "bin_label_sum")
        return None if score_sums is None or label_sums is None else _ece_of_bins(score_sums, label_sums, n)
    total = _total(records, f"{name}_sum")
    return None if total is None else total / n


def aggregate_binary(records: Sequence[dict[str, Any]], names: tuple[str, ...]) -> dict[str, float | None]:
    """`names` of the rows of all `records` (from `binary_statistics`) together, exactly (to rounding) as
    `binary_metrics` on the concatenated rows. roc_auc and pr_auc are None: they need the rows' ranking,
    which counts and sums do not keep."""
    confusion = Confusion(*(sum(record[key] for record in records) for key in ("tp", "fp", "tn", "fn")))
    n = sum(record["n"] for record in records)
    values: dict[str, float | None] = {}
    for name in names:
        if name in CONFUSION_METRICS:
            values[name] = CONFUSION_METRICS[name](confusion)
        elif name in ("log_loss", "brier", "ece"):
            values[name] = _aggregated_probability_metric(name, records, n)
        elif name in SCORE_METRICS:
            values[name] = None
        else:
            raise KeyError(name)
    return values


# --- multiclass -------------------------------------------------------------------------------------------------------


def _as_class_names(values: Iterable[Any]) -> np.ndarray:
    """Classes are compared by their text, so 1 and "1" are one class (labels and predictions often come from
    columns of different types). Missing labels are the caller's to drop: NaN would become a class "nan"."""
    return np.asarray(values).astype(str)


def _resolve_classes(observed: Iterable[str], classes: Iterable[Any] | None) -> list[str]:
    """The given classes in their order, then any observed class they miss (sorted): an unexpected class in the
    predictions is reported, never silently dropped. Without `classes`, the observed ones sorted."""
    observed = sorted({str(name) for name in observed})
    if classes is None:
        return observed
    given = list(dict.fromkeys(str(name) for name in classes))
    return given + sorted(set(observed) - set(given))


def _classes_and_confusion(labels: np.ndarray, predicted: np.ndarray,
                           classes: Iterable[Any] | None) -> tuple[list[str], np.ndarray]:
    """The classes (see `_resolve_classes`) and the counts of (true class, predicted class) in their order."""
    observed, codes = np.unique(np.concatenate([labels, predicted]), return_inverse=True)
    resolved = _resolve_classes(observed.tolist(), classes)
    position = {name: i for i, name in enumerate(resolved)}
    codes = np.array([position[name] for name in observed.tolist()], dtype=np.int64)[codes.astype(np.int64)]
    k = len(resolved)
    cells = codes[:len(labels)] * k + codes[len(labels):]
    return resolved, np.bincount(cells, minlength=k * k).reshape(k, k)


def _class_f1(matrix: np.ndarray) -> np.ndarray:
    """Per class 2 tp / (true + predicted); NaN where the class has neither (undefined)."""
    denominators = matrix.sum(axis=1) + matrix.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominators > 0, 2 * np.diag(matrix) / denominators, np.nan)


def _multiclass_accuracy(matrix: np.ndarray) -> float | None:
    return _ratio(float(np.trace(matrix)), float(matrix.sum()))


def _macro_f1(matrix: np.ndarray) -> float | None:
    scores = _class_f1(matrix)
    defined = scores[~np.isnan(scores)]
    return float(np.mean(defined)) if defined.size else None


def _weighted_f1(matrix: np.ndarray) -> float | None:
    support = matrix.sum(axis=1)
    # A class with true rows always has a defined F1, and one without weighs 0: only NaN * 0 has to be avoided.
    return _ratio(float(np.sum(np.nan_to_num(_class_f1(matrix)) * support)), float(support.sum()))


def _recall_per_class(matrix: np.ndarray, classes: list[str]) -> dict[str, float | None]:
    support = matrix.sum(axis=1)
    return {f"recall[{name}]": _ratio(float(matrix[i, i]), float(support[i])) for i, name in enumerate(classes)}


MULTICLASS_FROM_CONFUSION: dict[str, Callable[[np.ndarray], float | None]] = {
    "accuracy": _multiclass_accuracy, "macro_f1": _macro_f1, "weighted_f1": _weighted_f1,
}


def _multiclass_of_confusion(matrix: np.ndarray, classes: list[str], names: tuple[str, ...]) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for name in names:
        if name == "recall_per_class":
            values.update(_recall_per_class(matrix, classes))
        else:
            values[name] = MULTICLASS_FROM_CONFUSION[name](matrix)
    return values


def multiclass_metrics(labels: Iterable[Any], predicted: Iterable[Any], names: tuple[str, ...],
                       classes: Iterable[Any] | None = None) -> dict[str, float | None]:
    """`names` (from MULTICLASS_METRICS) of true and predicted classes (strings or ints, compared as text).
    "recall_per_class" expands into one key `recall[<class>]` per class: the sorted union of the observed classes,
    or `classes` (then any observed class it misses, sorted). F1 as scikit-learn's with zero_division=np.nan."""
    resolved, matrix = _classes_and_confusion(_as_class_names(labels), _as_class_names(predicted), classes)
    return _multiclass_of_confusion(matrix, resolved, names)


def multiclass_statistics(labels: Iterable[Any], predicted: Iterable[Any]) -> dict[str, Any]:
    """JSON-safe record {"classes": [...], "confusion": [[...]]}: rows are true classes, columns predicted ones."""
    classes, matrix = _classes_and_confusion(_as_class_names(labels), _as_class_names(predicted), None)
    return {"classes": classes, "confusion": matrix.tolist()}


def _merged_confusion(records: Sequence[dict[str, Any]], classes: list[str]) -> np.ndarray:
    """Sum of the records' matrices, each placed by class name (windows see different classes)."""
    position = {name: i for i, name in enumerate(classes)}
    merged = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for record in records:
        if record["classes"]:
            index = [position[name] for name in record["classes"]]
            merged[np.ix_(index, index)] += np.asarray(record["confusion"], dtype=np.int64)
    return merged


def aggregate_multiclass(records: Sequence[dict[str, Any]], names: tuple[str, ...],
                         classes: Iterable[Any] | None = None) -> dict[str, float | None]:
    """`names` of the rows of all `records` (from `multiclass_statistics`) together: exactly `multiclass_metrics`
    on the concatenated rows, every metric included."""
    resolved = _resolve_classes((name for record in records for name in record["classes"]), classes)
    return _multiclass_of_confusion(_merged_confusion(records, resolved), resolved, names)


# --- regression -------------------------------------------------------------------------------------------------------


def _absolute_percentage_errors(targets: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    errors: np.ndarray = np.abs(residuals) / np.maximum(np.abs(targets), MAPE_EPS)
    return errors


def _r2(targets: np.ndarray, residuals: np.ndarray) -> float | None:
    # Constant targets leave nothing to explain (0 / 0): None, where scikit-learn forces 1.0 or 0.0.
    if np.ptp(targets) == 0:
        return None
    return float(1.0 - np.sum(residuals ** 2) / np.sum((targets - np.mean(targets)) ** 2))


def _residual_percentile(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda targets, residuals: float(np.percentile(residuals, RESIDUAL_PERCENTILES[name]))


REGRESSION_OF_ROWS: dict[str, Callable[[np.ndarray, np.ndarray], float | None]] = {
    "mae": lambda targets, residuals: float(np.mean(np.abs(residuals))),
    "rmse": lambda targets, residuals: float(np.sqrt(np.mean(residuals ** 2))),
    "mape": lambda targets, residuals: float(np.mean(_absolute_percentage_errors(targets, residuals))),
    "r2": _r2,
    "mean_error": lambda targets, residuals: float(np.mean(residuals)),
    **{name: _residual_percentile(name) for name in RESIDUAL_PERCENTILES},
}


def _regression_arrays(targets: Iterable[float], predictions: Iterable[float]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Targets, residuals (prediction - target) and whether every metric is defined on them."""
    targets, predictions = np.asarray(targets, dtype="float64"), np.asarray(predictions, dtype="float64")
    usable = bool(targets.size) and bool(np.all(np.isfinite(targets)) and np.all(np.isfinite(predictions)))
    return targets, predictions - targets, usable


def regression_metrics(targets: Iterable[float], predictions: Iterable[float], names: tuple[str, ...]) -> dict[str, float | None]:
    """`names` (from REGRESSION_METRICS) of predictions against targets; residual = prediction - target, so a
    positive mean_error is over-prediction. All None when a value is non-finite (the caller drops such rows)."""
    targets, residuals, usable = _regression_arrays(targets, predictions)
    return {name: REGRESSION_OF_ROWS[name](targets, residuals) if usable else None for name in names}


REGRESSION_SUMS = ("sum_residual", "sum_abs_residual", "sum_sq_residual", "sum_abs_pct_error", "sum_target",
                   "sum_sq_target", "sum_sq_target_deviation", "min_target", "max_target")


def regression_statistics(targets: Iterable[float], predictions: Iterable[float]) -> dict[str, Any]:
    """JSON-safe record from which `aggregate_regression` recomputes mae, rmse, mape, r2 and mean_error.

    Beyond n and the sums of residuals, |residuals|, squared residuals, absolute percentage errors, targets and
    squared targets, it keeps sum_sq_target_deviation (around the window's own mean) and the targets' min and max:
    r2's denominator from sum_sq_target - sum_target**2 / n cancels catastrophically when the targets' mean is large
    against their spread, and only min == max tells constant targets apart from rounding. Every sum is None when a
    value is non-finite."""
    targets, residuals, usable = _regression_arrays(targets, predictions)
    record: dict[str, Any] = {"n": int(targets.size), **dict.fromkeys(REGRESSION_SUMS)}
    if not usable and targets.size:
        return record
    record.update(sum_residual=float(np.sum(residuals)), sum_abs_residual=float(np.sum(np.abs(residuals))),
                  sum_sq_residual=float(np.sum(residuals ** 2)),
                  sum_abs_pct_error=float(np.sum(_absolute_percentage_errors(targets, residuals))),
                  sum_target=float(np.sum(targets)), sum_sq_target=float(np.sum(targets ** 2)),
                  sum_sq_target_deviation=float(np.sum((targets - np.mean(targets)) ** 2)) if targets.size else 0.0)
    if targets.size:
        record.update(min_target=float(np.min(targets)), max_target=float(np.max(targets)))
    return record


def _pooled_target_deviation(records: Sequence[dict[str, Any]]) -> float:
    """Sum of squared deviations of all targets around their overall mean, merged window by window (Chan, Golub and
    LeVeque's pairwise update): adds each window's own deviation plus its mean's distance to the mean so far."""
    count, mean, deviation = 0, 0.0, 0.0
    for record in records:
        if record["n"]:
            total, window_mean = count + record["n"], record["sum_target"] / record["n"]
            delta = window_mean - mean
            deviation += record["sum_sq_target_deviation"] + delta * delta * count * record["n"] / total
            mean += delta * record["n"] / total
            count = total
    return deviation


def _aggregated_r2(records: Sequence[dict[str, Any]]) -> float | None:
    filled = [record for record in records if record["n"]]
    if min(record["min_target"] for record in filled) == max(record["max_target"] for record in filled):
        return None
    r2: float = 1.0 - sum(record["sum_sq_residual"] for record in filled) / _pooled_target_deviation(filled)
    return r2


AGGREGATED_REGRESSION: dict[str, Callable[[Sequence[dict[str, Any]], int], float | None]] = {
    "mae": lambda records, n: sum(record["sum_abs_residual"] for record in records) / n,
    "rmse": lambda records, n: float(np.sqrt(sum(record["sum_sq_residual"] for record in records) / n)),
    "mape": lambda records, n: sum(record["sum_abs_pct_error"] for record in records) / n,
    "r2": lambda records, n: _aggregated_r2(records),
    "mean_error": lambda records, n: sum(record["sum_residual"] for record in records) / n,
    # Quantiles need the residuals themselves.
    **{name: lambda records, n: None for name in RESIDUAL_PERCENTILES},
}


def aggregate_regression(records: Sequence[dict[str, Any]], names: tuple[str, ...]) -> dict[str, float | None]:
    """`names` of the rows of all `records` (from `regression_statistics`) together, exactly (to rounding) as
    `regression_metrics` on the concatenated rows for mae, rmse, mape, r2 and mean_error. The residual
    quantiles are None: sums do not keep them."""
    n = sum(record["n"] for record in records)
    usable = n > 0 and all(record["sum_residual"] is not None for record in records if record["n"])
    return {name: AGGREGATED_REGRESSION[name](records, n) if usable else None for name in names}
