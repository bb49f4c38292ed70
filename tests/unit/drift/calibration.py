"""Shared by the distance tests: a 20000-row standard-normal reference binned at its 10 deciles (the
project's default binning), and windows drawn from it (no drift) or from a shifted normal, scored by a
method and judged by the alert policy, which alerts on a distance above its noise band and at or above
its WARNING tier."""

from __future__ import annotations

import numpy as np

from include.monitoring.alerting import policy
from include.monitoring.config import Tiers
from include.monitoring.drift.base import DriftMethod, DriftScore
from include.monitoring.profiles import bin_counts, bin_edges
from include.monitoring.types import Severity

REFERENCE_ROWS = 20_000
BINS = 10
NOISE_QUANTILE = 0.999


def decile_reference(rng: np.random.Generator) -> tuple[list[float], list[int]]:
    """Bin edges at the deciles of 20000 standard-normal rows, and the rows' counts in those bins."""
    rows = rng.normal(size=REFERENCE_ROWS)
    edges = bin_edges(rows, BINS)
    return edges, bin_counts(rows, edges)


def window_scores(method: DriftMethod, rng: np.random.Generator, n: int, trials: int,
                  shift: float = 0.0) -> list[DriftScore]:
    """`trials` windows of n rows from N(shift, 1), scored against a fresh decile reference."""
    edges, reference = decile_reference(rng)
    return [method.score(reference, bin_counts(rng.normal(loc=shift, size=n), edges), NOISE_QUANTILE)
            for _ in range(trials)]


def alerting_share(method: DriftMethod, scores: list[DriftScore], tiers: Tiers) -> float:
    """The share of `scores` the alert policy raises to WARNING or above."""
    severities = [policy.score_severity(method.score_kind, s.value, tiers, s.noise) for s in scores]
    return sum(severity >= Severity.WARNING for severity in severities) / len(scores)
