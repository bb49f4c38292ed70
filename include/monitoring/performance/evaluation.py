"""Performance of labelled rows for each task type, and the reference's band: how much a metric varies between
undrifted windows of a given label count.

A window of 40 labels is not judged like one of 4000: the band gives, for each label count, the mean and the
standard deviation of the metric over random windows of that size drawn from the reference's labelled rows.

Binary models are scored on the class they served when the rows carry it (a `predicted` column, read from
`warehouse.prediction_column` when the table has that column): its values are read as labels are (1/0,
true/false, yes/no, labels.positive_label / negative_label; see performance/labels.py). A row whose served class is
null or unreadable is classified as `score >= performance.threshold`, and counted (see `classification`): the row
stays in every metric, so accuracy and ROC AUC are of the same rows, and a column that exists but is never
filled scores exactly as a table without it. Rows without the column are all classified by the threshold.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from include.monitoring.catalogue import TaskType
from include.monitoring.config import LabelsConfig
from include.monitoring.performance import metrics
from include.monitoring.performance.labels import class_label, parse_labels

BAND_SIZES = (30, 100, 300, 1000, 3000, 10000)  # label counts at which the band is measured
BAND_REPEATS = 100


def labelled_rows(task: TaskType, frame: pd.DataFrame, labels: LabelsConfig) -> pd.DataFrame:
    """The rows that can be scored: a label in the task's domain (parsed as performance/labels.py says) and a
    usable prediction (a finite score, or a predicted class). Binary rows with a `predicted` column gain `served`:
    that class parsed as a label, 1.0 / 0.0, NaN where it is null or unreadable."""
    frame = frame.assign(label=parse_labels(task, frame["label"], labels))
    present = frame["label"].notna()
    if task == TaskType.MULTICLASS_CLASSIFICATION:
        return frame[present & frame["predicted"].notna()]
    scores = pd.to_numeric(frame["score"], errors="coerce")
    if task == TaskType.BINARY_CLASSIFICATION and "predicted" in frame.columns:
        frame = frame.assign(served=served_classes(frame["predicted"], labels))
    return frame[present & np.isfinite(scores)]


def served_classes(raw: pd.Series, labels: LabelsConfig) -> pd.Series:
    """A binary model's served classes as 1.0 / 0.0, read as its labels are; NaN where null or unreadable."""
    if pd.api.types.is_numeric_dtype(raw):
        return parse_labels(TaskType.BINARY_CLASSIFICATION, raw, labels)
    # Text ("true" / "false", class names): a served class has few distinct values, so each is parsed once instead of
    # once per row (0.55 s -> 0.02 s for 200,000 rows). Values equal in Python (True, 1, 1.0) share a code and a class.
    codes, distinct = pd.factorize(raw)  # a null gets code -1: the NaN appended last
    parsed = parse_labels(TaskType.BINARY_CLASSIFICATION, pd.Series(distinct, dtype=object), labels).to_numpy(dtype="float64")
    return pd.Series(np.append(parsed, np.nan)[codes], index=raw.index, dtype="float64")


def classification(rows: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """How the confusion metrics of binary `rows` (see `labelled_rows`) classified them, for a row's details.

    "classified_by" is "served_class" when at least one row's served class was read, else "threshold". With a
    served-class column it also counts the rows whose class was read (served_classes), null (served_class_missing)
    or present but not a class (served_class_unreadable); the threshold classified the last two."""
    if "served" not in rows.columns:
        return {"classified_by": "threshold", "threshold": threshold}
    missing = int(rows["predicted"].isna().sum())
    unreadable = int(rows["served"].isna().sum()) - missing
    served = len(rows) - missing - unreadable
    return {"classified_by": "served_class" if served else "threshold", "served_classes": served,
            "served_class_missing": missing, "served_class_unreadable": unreadable,
            **({"threshold": threshold} if missing or unreadable else {})}


def _arrays(task: TaskType, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Truth, prediction (scores for binary) and, for binary rows that carry one, the served class."""
    if task == TaskType.MULTICLASS_CLASSIFICATION:
        return rows["label"].astype(str).to_numpy(), rows["predicted"].map(class_label).astype(str).to_numpy(), None
    scores = pd.to_numeric(rows["score"], errors="coerce").to_numpy(dtype="float64")
    if task == TaskType.REGRESSION:
        return pd.to_numeric(rows["label"], errors="coerce").to_numpy(dtype="float64"), scores, None
    served = rows["served"].to_numpy(dtype="float64") if "served" in rows.columns else None
    return rows["label"].to_numpy(dtype=int), scores, served


def evaluate(task: TaskType, rows: pd.DataFrame, threshold: float, names: tuple[str, ...]) -> dict[str, float | None]:
    """The metrics `names` of labelled `rows` (see `labelled_rows`)."""
    return _evaluate_arrays(task, *_arrays(task, rows), threshold, names)


def _evaluate_arrays(task: TaskType, truth: np.ndarray, predicted: np.ndarray, served: np.ndarray | None,
                     threshold: float, names: tuple[str, ...]) -> dict[str, float | None]:
    if task == TaskType.MULTICLASS_CLASSIFICATION:
        return metrics.multiclass_metrics(truth, predicted, names)
    if task == TaskType.REGRESSION:
        return metrics.regression_metrics(truth, predicted, names)
    return metrics.binary_metrics(truth, predicted, threshold, names, served)


def sufficient_statistics(task: TaskType, rows: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """What longer periods aggregate exactly: confusion counts and sums (see performance/metrics.py)."""
    truth, predicted, served = _arrays(task, rows)
    if task == TaskType.MULTICLASS_CLASSIFICATION:
        return metrics.multiclass_statistics(truth, predicted)
    if task == TaskType.REGRESSION:
        return metrics.regression_statistics(truth, predicted)
    return metrics.binary_statistics(truth, predicted, threshold, served)


def fit_bands(task: TaskType, rows: pd.DataFrame, threshold: float, names: tuple[str, ...],
              rng: np.random.Generator) -> dict[str, Any]:
    """Mean and standard deviation of each metric over BAND_REPEATS random windows of each BAND_SIZES label count
    (smaller than the reference), drawn without replacement from the reference's labelled rows."""
    truth, predicted, served = _arrays(task, rows)
    sizes = [size for size in BAND_SIZES if size <= len(truth) // 2]
    band: dict[str, Any] = {"sizes": sizes, "mean": {}, "std": {}}
    samples: dict[str, list[list[float]]] = {}
    for size in sizes:
        values: dict[str, list[float]] = {}
        for _ in range(BAND_REPEATS):
            index = rng.choice(len(truth), size, replace=False)
            drawn = None if served is None else served[index]
            for name, value in _evaluate_arrays(task, truth[index], predicted[index], drawn, threshold, names).items():
                if value is not None:
                    values.setdefault(name, []).append(value)
        for name, found in values.items():
            samples.setdefault(name, []).append(found)
    for name, per_size in samples.items():
        if len(per_size) == len(sizes) and all(len(v) > 1 for v in per_size):
            band["mean"][name] = [float(np.mean(v)) for v in per_size]
            band["std"][name] = [float(np.std(v, ddof=1)) for v in per_size]
    return band


def band_at(band: dict[str, Any] | None, name: str, n: int) -> tuple[float, float] | None:
    """(mean, std) of metric `name` in a window of `n` labels: interpolated in log n between measured sizes;
    beyond them the std scales as 1/sqrt(n) and the mean stays. None when the reference gave no band."""
    if not band or name not in band.get("std", {}) or n <= 0:
        return None
    sizes, means, stds = band["sizes"], band["mean"][name], band["std"][name]
    if n <= sizes[0]:
        return means[0], stds[0] * math.sqrt(sizes[0] / n)
    if n >= sizes[-1]:
        return means[-1], stds[-1] * math.sqrt(sizes[-1] / n)
    logs = np.log(sizes)
    return (float(np.interp(math.log(n), logs, means)),
            float(np.exp(np.interp(math.log(n), logs, np.log(np.maximum(stds, 1e-12))))))
