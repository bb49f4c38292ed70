"""Noise bands fitted once with the reference profile, so that every window size has its threshold.

A distance between a window and the reference is not 0 on undrifted data: by chance alone it is about
c / sqrt(n) for a window of n rows (c / n for PSI), so a fixed tier would page on every quiet night hour.
For each feature and distance method, `calibrate` resamples the no-drift situation at CALIBRATION_SIZES
window sizes (noise.resampled_quantile): 4000 windows of n rows drawn from the reference shares (multinomial, generator seeded
by n), each scored against the reference, and the `quantile` of the scores kept.

The table is stored in the profile. `noise_at` reads it at the window's *effective* size
n m / (n + m) (m reference rows): both sides are samples, and the statistics' no-drift spread grows with
1/n + 1/m, so this one table also covers windows as large as the reference, and references merged from
stored window profiles (rolling, seasonal) of any row count. Between calibrated sizes it interpolates
log-log (the band is a power of n, so this is exact up to the resampling error); beyond them it
extends the nearest segment. A slice of the window has its own reference counts, so a table of its own, kept in
the metric store and filled on first use at the sizes `noise_at` reads (`bracket`; drift/slice_calibration.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from include.monitoring.drift.base import DriftMethod
from include.monitoring.drift.noise import resampled_quantile

# Half-decades: the band is a power of n, so log-log interpolation between them is as good as more points.
CALIBRATION_SIZES = (10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)


def noise_quantiles(method: DriftMethod, reference_counts: Sequence[float], sizes: Sequence[int], quantile: float,
                    **inputs: Any) -> list[float]:
    """The `quantile` of `method`'s statistic between the reference and n-row windows drawn from its shares, for
    each n in `sizes`. `inputs` are the method's extra inputs (wasserstein: reference_locations and scale;
    windows drawn from the reference sit at the reference's locations)."""
    if method.statistic is None:
        raise ValueError(f"{method.name} is a p-value method: it needs no noise band")
    if method.uses_locations:
        inputs = {**inputs, "window_locations": inputs["reference_locations"]}
    return [resampled_quantile(method.statistic, reference_counts, n, quantile, **inputs) for n in sizes]


def calibrate(method: DriftMethod, reference_counts: Sequence[float], quantile: float, **inputs: Any) -> dict[str, Any]:
    """The stored form: the sizes, the quantile and the band at each size."""
    return {"quantile": quantile, "sizes": list(CALIBRATION_SIZES),
            "noise": noise_quantiles(method, reference_counts, CALIBRATION_SIZES, quantile, **inputs)}


def effective_size(window_rows: int, reference_rows: int) -> float:
    return window_rows * reference_rows / (window_rows + reference_rows)


def _segment(sizes: Sequence[float], n: float) -> int:
    """i such that [sizes[i - 1], sizes[i]] holds n, or is the nearest segment (n beyond the calibrated sizes)."""
    return int(np.clip(np.searchsorted(sizes, n), 1, len(sizes) - 1))


def bracket(n: float) -> tuple[int, int]:
    """The two CALIBRATION_SIZES a full table's band at (effective) size n is read from (`noise_at` reads no other):
    a table holding the band at these two sizes only gives the full table's band at n."""
    i = _segment(CALIBRATION_SIZES, n)
    return CALIBRATION_SIZES[i - 1], CALIBRATION_SIZES[i]


def noise_at(calibration: dict[str, Any], n: float) -> float | None:
    """The band at (effective) size n, from a stored calibration; None for an empty window."""
    if n <= 0:
        return None
    sizes, noise = calibration["sizes"], calibration["noise"]
    i = _segment(sizes, n)
    (n0, n1), (v0, v1) = sizes[i - 1:i + 1], noise[i - 1:i + 1]
    if min(v0, v1) <= 0:  # a degenerate reference (one category) has no noise to scale
        return float(max(v0, v1) if n < n1 else min(v0, v1))
    slope = math.log(v1 / v0) / math.log(n1 / n0)
    return float(v0 * math.exp(slope * math.log(n / n0)))
