"""Binary classification metrics on labels and scores (all: higher is better).

Plain numpy with the textbook definitions; tests check each against scikit-learn.
Undefined cases (no positives for recall, one class only for ROC AUC) return None, not 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True, slots=True)
class Confusion:
    tp: int
    fp: int
    tn: int
    fn: int

    @classmethod
    def of(cls, labels: np.ndarray, predicted: np.ndarray) -> Confusion:
        labels, predicted = labels.astype(bool), predicted.astype(bool)
        return cls(tp=int(np.sum(labels & predicted)), fp=int(np.sum(~labels & predicted)),
                   tn=int(np.sum(~labels & ~predicted)), fn=int(np.sum(labels & ~predicted)))


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def accuracy(c: Confusion) -> float | None:
    return _ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn)


def precision(c: Confusion) -> float | None:
    return _ratio(c.tp, c.tp + c.fp)


def recall(c: Confusion) -> float | None:
    return _ratio(c.tp, c.tp + c.fn)


def f1(c: Confusion) -> float | None:
    return _ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Mann-Whitney form: the probability that a random positive outscores a random negative (ties count half)."""
    labels = labels.astype(bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0 or not np.all(np.isfinite(scores)):
        return None
    ranks = stats.rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


CONFUSION_METRICS: dict[str, Callable[[Confusion], float | None]] = {
    "accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1,
}


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float, names: tuple[str, ...]) -> dict[str, float | None]:
    confusion = Confusion.of(labels, scores >= threshold)
    values: dict[str, float | None] = {}
    for name in names:
        values[name] = roc_auc(labels, scores) if name == "roc_auc" else CONFUSION_METRICS[name](confusion)
    return values


def bootstrap_standard_errors(labels: np.ndarray, scores: np.ndarray, threshold: float, names: tuple[str, ...],
                              rng: np.random.Generator, reps: int = 200) -> dict[str, float | None]:
    """Standard error of each metric on this window, by resampling its labelled rows (`reps` times).

    Used to tell a real drop from the noise of a small window: 175 labels give an accuracy that moves
    by about 3 points between identical windows.
    """
    n = len(labels)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(reps):
        index = rng.integers(0, n, n)
        for name, value in binary_metrics(labels[index], scores[index], threshold, names).items():
            if value is not None:
                samples[name].append(value)
    return {name: float(np.std(values, ddof=1)) if len(values) > 1 else None for name, values in samples.items()}
