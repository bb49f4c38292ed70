"""The noise band of the count-based distances (psi, jensen_shannon, hellinger, l_infinity), written once.

A distance between a window and the reference is not 0 on undrifted data: n rows drawn from the
reference itself score, by chance alone, about c / sqrt(n) (c / n for PSI), so a fixed tier alone would
page on every quiet night hour. `noise_band` is the `quantile` of a statistic over NOISE_DRAWS windows of
n rows drawn from the reference shares (multinomial resampling). The generator is seeded with n, so a
window size always gets the same band, and bands are cached per (statistic, reference, n, quantile).

`distance_score` is the score function of the distances that are undefined on an empty window (all
but PSI, whose pseudo-count defines it): it checks the counts, then returns the value and the band.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from include.monitoring.drift.base import BatchStatistic, DriftScore

NOISE_DRAWS = 4000

# noise_band takes module-level statistics only (the function is part of the cache key).


@lru_cache(maxsize=4096)
def noise_band(statistic: BatchStatistic, reference_counts: tuple[int, ...], n: int, quantile: float) -> float:
    """`resampled_quantile`, cached per (statistic, reference, n, quantile) for direct calls of a method."""
    return resampled_quantile(statistic, reference_counts, n, quantile)


def resampled_quantile(statistic: BatchStatistic, reference_counts: Sequence[float], n: int, quantile: float,
                       **inputs: Any) -> float:
    """The `quantile` of `statistic` between the reference and n-row windows drawn from its own shares
    (NOISE_DRAWS multinomial draws, generator seeded with n). `inputs` are the statistic's extra inputs.

    Raises:
        ValueError: the reference has no rows (there are no shares to draw from), or n is negative.
    """
    reference = np.asarray(reference_counts, dtype="float64")
    total = reference.sum()
    if not total > 0:
        raise ValueError(f"the reference bin counts {list(reference_counts)} sum to {total}: no shares to draw windows from")
    if n < 0:
        raise ValueError(f"window size must be at least 0, got {n}")
    rng = np.random.default_rng(n)  # fixed per size: the same window size always gets the same band
    draws = rng.multinomial(n, reference / total, size=NOISE_DRAWS).astype("float64")
    return float(np.quantile(statistic(reference, draws, **inputs), quantile))


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts (shape (..., k)) as shares of their row total, along the last axis."""
    result: np.ndarray = counts / counts.sum(axis=-1, keepdims=True)
    return result


def checked_counts(method: str, reference_counts: Sequence[int], window_counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Both count vectors as float arrays, after checking that shares can be taken of each.

    Raises:
        ValueError: naming `method` and the problem: lengths differ, a count is negative or not finite,
            or either side has no rows (the pipeline skips such columns before scoring).
    """
    reference = np.asarray(reference_counts, dtype="float64")
    window = np.asarray(window_counts, dtype="float64")
    if reference.ndim != 1 or reference.shape != window.shape or reference.size == 0:
        raise ValueError(f"{method}: expected two equally long, non-empty lists of bin counts, got "
                         f"{len(reference_counts)} reference and {len(window_counts)} window bins")
    for side, counts in (("reference", reference), ("window", window)):
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError(f"{method}: {side} bin counts must be finite and non-negative, got {list(counts)}")
        if counts.sum() == 0:
            raise ValueError(f"{method}: the {side} has no rows (all {counts.size} bin counts are 0), so it has no "
                             "shares to compare; skip the column instead of scoring it")
    return reference, window


def distance_score(method: str, statistic: BatchStatistic, reference_counts: Sequence[int],
                   window_counts: Sequence[int], noise_quantile: float | None) -> DriftScore:
    """`statistic` of the window against the reference, with its noise band at the window's size
    (none when `noise_quantile` is None: the pipeline takes it from the profile's calibration)."""
    reference, window = checked_counts(method, reference_counts, window_counts)
    n = int(window.sum())
    return DriftScore(
        value=float(statistic(reference, window)),
        n=n,
        noise=None if noise_quantile is None else noise_band(statistic, tuple(int(c) for c in reference_counts), n,
                                                             noise_quantile),
        details={"bins": len(reference_counts)},
    )
