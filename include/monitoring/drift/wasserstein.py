"""Wasserstein-1 (earth mover's) distance on the reference's fine grid, in reference standard deviations.

    W = integral | R(x) - W(x) | dx  /  sd_reference

where R and W are the cumulative distributions of the reference and the window. Each side is summarised on
the reference's percentile grid (profiles.GRID_BINS bins) by the count and the mean of its values in each
grid bin, so W is the exact distance between those two weighted point sets:
scipy.stats.wasserstein_distance(reference_means, window_means, reference_counts, window_counts) / sd.
Keeping the window's own means matters in the tails: a window that moves beyond the reference's range lands
in the outermost bin, and its mean there still says how far it went.

Kind: distance (higher = more drift); it reads as "how many standard deviations the distribution moved"
(a mean shift of d standard deviations gives W = d). Default tiers: 0.1 WARNING, 0.2 CRITICAL: a tenth and
a fifth of a standard deviation. A reference with no spread (constant) has no scale: the pipeline skips
the column with that reason.

Noise band: the calibrated no-drift quantile at the window's size (drift/calibration.py); for large windows
about 3 / sqrt(n) at quantile 0.999.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from include.monitoring.drift.base import DriftMethod, DriftScore, FeatureKind, Resolution
from include.monitoring.drift.calibration import noise_quantiles
from include.monitoring.drift.noise import checked_counts, shares
from include.monitoring.types import ScoreKind


def wasserstein_values(reference_counts: np.ndarray, window_counts: np.ndarray, *, reference_locations: np.ndarray,
                       window_locations: np.ndarray, scale: float) -> np.ndarray:
    """W / scale of each window (shape (..., k)) against the reference (shape (..., k)); each bin's mass sits
    at its location (the side's mean in that grid bin)."""
    reference, window = np.broadcast_arrays(shares(reference_counts), shares(window_counts))
    if window_locations is reference_locations:  # windows drawn from the reference (calibration): one support
        gaps = np.diff(np.asarray(reference_locations, dtype="float64"))
        same_support: np.ndarray = np.sum(np.abs(np.cumsum(reference - window, axis=-1)[..., :-1]) * gaps, axis=-1) / scale
        return same_support
    points = np.concatenate([np.asarray(reference_locations, dtype="float64"),
                             np.asarray(window_locations, dtype="float64")])
    order = np.argsort(points, kind="stable")
    mass = np.concatenate([reference, -window], axis=-1)[..., order]  # +reference, -window, in x order
    gaps = np.diff(points[order])
    values: np.ndarray = np.sum(np.abs(np.cumsum(mass, axis=-1)[..., :-1]) * gaps, axis=-1) / scale
    return values


def wasserstein(reference_counts: Sequence[int], window_counts: Sequence[int], noise_quantile: float | None = None, *,
                reference_locations: Sequence[float], window_locations: Sequence[float], scale: float) -> DriftScore:
    """Raises ValueError when a side has no rows, the locations do not match the counts, or `scale` is not positive."""
    reference, window = checked_counts("wasserstein", reference_counts, window_counts)
    locations = (np.asarray(reference_locations, dtype="float64"), np.asarray(window_locations, dtype="float64"))
    if any(side.shape != reference.shape or not np.all(np.isfinite(side)) for side in locations):
        raise ValueError(f"wasserstein: expected {reference.size} finite locations per side, got "
                         f"{len(reference_locations)} reference and {len(window_locations)} window locations")
    if not scale > 0:
        raise ValueError(f"wasserstein: the reference scale (standard deviation) must be positive, got {scale}")
    value = float(wasserstein_values(reference, window, reference_locations=locations[0],
                                     window_locations=locations[1], scale=scale))
    noise = None
    if noise_quantile is not None:
        noise = noise_quantiles(WASSERSTEIN, reference_counts, [int(window.sum())], noise_quantile,
                                reference_locations=locations[0], scale=scale)[0]
    return DriftScore(value=value, n=int(window.sum()), noise=noise,
                      details={"grid_bins": int(reference.size), "scale": scale})


WASSERSTEIN = DriftMethod(name="wasserstein", score_kind=ScoreKind.DISTANCE, supports=frozenset({FeatureKind.NUMERIC}),
                          score=wasserstein, resolution=Resolution.GRID, uses_locations=True,
                          statistic=wasserstein_values)
