"""Performance of labelled rows for each task type, and the reference's band: how much a metric varies between
undrifted windows of a given label count.

A window of 40 labels is not judged like one of 4000: the band gives, for each label count, the mean and the
standard deviation of the metric over random windows of that size drawn from the reference's labelled rows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from include.monitoring.config import LabelsConfig
from include.monitoring.performance import metrics
from include.monitoring.performance.labels import class_label, parse_labels

BAND_SIZES = (30, 100, 300, 1000, 3000, 10000)  # label counts at which the band is measured
BAND_REPEATS = 100


def labelled_rows(task: str, frame: pd.DataFrame, labels: LabelsConfig) -> pd.DataFrame:
    """The rows that can be scored: a label in the task's domain (parsed as performance/labels.py says) and a
    usable prediction (a finite score, or a predicted class)."""
    frame = frame.assign(label=parse_labels(task, frame["label"], labels))
    present = frame["label"].notna()
    if task == "multiclass_classification":
        return frame[present & frame["predicted"].notna()]
    scores = pd.to_numeric(frame["score"], errors="coerce")
    return frame[present & np.isfinite(scores)]


def _arrays(task: str, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if task == "multiclass_classification":
        return rows["label"].astype(str).to_numpy(), rows["predicted"].map(class_label).astype(str).to_numpy()
    scores = pd.to_numeric(rows["score"], errors="coerce").to_numpy(dtype="float64")
    if task == "regression":
        return pd.to_numeric(rows["label"], errors="coerce").to_numpy(dtype="float64"), scores
    return rows["label"].to_numpy(dtype=int), scores


def evaluate(task: str, rows: pd.DataFrame, threshold: float, names: tuple[str, ...]) -> dict[str, float | None]:
    """The metrics `names` of labelled `rows` (see `labelled_rows`)."""
    truth, predicted = _arrays(task, rows)
    return _evaluate_arrays(task, truth, predicted, threshold, names)


def _evaluate_arrays(task: str, truth: np.ndarray, predicted: np.ndarray, threshold: float,
                     names: tuple[str, ...]) -> dict[str, float | None]:
    if task == "multiclass_classification":
        return metrics.multiclass_metrics(truth, predicted, names)
    if task == "regression":
        return metrics.regression_metrics(truth, predicted, names)
    return metrics.binary_metrics(truth, predicted, threshold, names)


def sufficient_statistics(task: str, rows: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """What longer periods aggregate exactly: confusion counts and sums (see performance/metrics.py)."""
    truth, predicted = _arrays(task, rows)
    if task == "multiclass_classification":
        return metrics.multiclass_statistics(truth, predicted)
    if task == "regression":
        return metrics.regression_statistics(truth, predicted)
    return metrics.binary_statistics(truth, predicted, threshold)


def fit_bands(task: str, rows: pd.DataFrame, threshold: float, names: tuple[str, ...],
              rng: np.random.Generator) -> dict[str, Any]:
    """Mean and standard deviation of each metric over BAND_REPEATS random windows of each BAND_SIZES label count
    (smaller than the reference), drawn without replacement from the reference's labelled rows."""
    truth, predicted = _arrays(task, rows)
    sizes = [size for size in BAND_SIZES if size <= len(truth) // 2]
    band: dict[str, Any] = {"sizes": sizes, "mean": {}, "std": {}}
    samples: dict[str, list[list[float]]] = {}
    for size in sizes:
        values: dict[str, list[float]] = {}
        for _ in range(BAND_REPEATS):
            index = rng.choice(len(truth), size, replace=False)
            for name, value in _evaluate_arrays(task, truth[index], predicted[index], threshold, names).items():
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
