"""How surely a window's metric lies below the reference's: the one-sided p-value behind a performance alert.

Two ways, by metric:

- **Proportions** (accuracy, precision, recall; multiclass accuracy and per-class recall): the metric is successes
  out of trials (correct predictions out of labelled rows, true positives out of predicted positives, true
  positives out of positives). The window's counts and the reference's counts in the same slice (the whole
  reference's for a slice value it lacks) make a 2x2 table, and Fisher's exact test gives the p-value that the
  window's rate is lower. It is exact at any label count, so a slice of 50 labels can be judged at a tail of 1e-4
  without the normal approximation's error, and it counts the reference's own finite size.
- **Everything else** (ROC AUC, PR AUC, F1, log loss, ...): the reference's band, the mean and standard deviation of
  the metric over random reference windows of the same label count, read as a normal tail. These are judged only
  from `performance.min_band_labels` labels, and for binary models once each class has
  `performance.min_class_labels`: with a few dozen positives an AUC or F1 has tails far heavier than the normal,
  and a 1e-4 tail read from the normal would page on noise.
"""

from __future__ import annotations

from typing import Any

from scipy import stats

from include.monitoring.catalogue import TaskType

BINARY_PROPORTIONS = {  # metric -> (successes, failures) from the confusion counts of sufficient statistics
    "accuracy": (("tp", "tn"), ("fp", "fn")),
    "precision": (("tp",), ("fp",)),
    "recall": (("tp",), ("fn",)),
}


def proportion(task: TaskType, name: str, statistics: dict[str, Any] | None) -> tuple[int, int] | None:
    """(successes, failures) of metric `name` in sufficient statistics; None when it is no proportion or has no
    trials there (no predicted positives for precision, a class the statistics never saw for its recall)."""
    counts = _counts(task, name, statistics) if statistics else None
    return counts if counts and sum(counts) > 0 else None


def _counts(task: TaskType, name: str, statistics: dict[str, Any]) -> tuple[int, int] | None:
    if task == TaskType.BINARY_CLASSIFICATION and name in BINARY_PROPORTIONS:
        successes, failures = BINARY_PROPORTIONS[name]
        return sum(int(statistics[key]) for key in successes), sum(int(statistics[key]) for key in failures)
    if task != TaskType.MULTICLASS_CLASSIFICATION:
        return None
    classes, matrix = statistics["classes"], statistics["confusion"]
    if name == "accuracy":
        correct = sum(matrix[i][i] for i in range(len(matrix)))
        return int(correct), int(sum(map(sum, matrix)) - correct)
    label = name.removeprefix("recall[").removesuffix("]")  # recall[<class>]: the rows of that class predicted right
    if name.startswith("recall[") and label in classes:
        i = classes.index(label)
        return int(matrix[i][i]), int(sum(matrix[i]) - matrix[i][i])
    return None


def exact_p_value(window: tuple[int, int], reference: tuple[int, int]) -> float | None:
    """Fisher's exact test, one-sided: the p-value of a window rate this low or lower if the window and the
    reference shared one rate. None when either has no trials."""
    if sum(window) == 0 or sum(reference) == 0:
        return None
    return float(stats.fisher_exact([list(window), list(reference)], alternative="less").pvalue)


def band_p_value(band: tuple[float, float] | None, value: float | None, higher_is_better: bool) -> float | None:
    """The normal tail beyond `value` in the band (mean, std) at the window's label count, in the worse direction."""
    if band is None or value is None or band[1] <= 0:
        return None
    mean, std = band
    z = (mean - value) / std if higher_is_better else (value - mean) / std
    return float(stats.norm.sf(z))


def too_few_for_band(task: TaskType, n: int, statistics: dict[str, Any] | None, min_band_labels: int,
                     min_class_labels: int) -> str:
    """Why a metric without an exact test is not judged from the band in this window ("" when it is): fewer than
    `min_band_labels` labels, or, for a binary model's realized metrics, a class below `min_class_labels`."""
    if n < min_band_labels:
        return f"{n} labels; metrics without an exact test are judged from min_band_labels={min_band_labels}"
    if task != TaskType.BINARY_CLASSIFICATION or not statistics:
        return ""
    positives, negatives = int(statistics["positives"]), int(statistics["n"]) - int(statistics["positives"])
    if min(positives, negatives) >= min_class_labels:
        return ""
    return (f"{positives} positive and {negatives} negative labels; judged from min_class_labels={min_class_labels} "
            "of each class")
