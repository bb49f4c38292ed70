"""PSI: population stability index on frozen reference-quantile bins.

    PSI = sum_i (w_i - r_i) * ln(w_i / r_i)

where r_i and w_i are the reference and window shares of bin i. Kind: distance (higher = more drift).
Default tiers: 0.1 WARNING, 0.2 CRITICAL.

Zero bins: a share of 0 makes PSI infinite, and every tool picks a different floor (1e-4, 2e-308...),
which then decides the value. Ours is one named constant: PSEUDO_COUNT, half an observation added to
every bin on both sides before shares are taken (the Jeffreys prior), so PSI stays finite and a single
empty bin in a 50-row window adds about 0.2, not 700.

Noise band: the PSI of a window drawn from the reference itself depends strongly on the window size
(about 9/n for 10 bins). `noise` is the `quantile` of PSI over windows of the same size drawn from the
reference shares (multinomial resampling, fixed seed; see drift/noise.py), so a 50-row night hour is
judged against the PSI that 50 rows produce by chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from include.monitoring.drift.base import DriftMethod, DriftScore, FeatureKind
from include.monitoring.drift.noise import noise_band
from include.monitoring.types import ScoreKind

PSEUDO_COUNT = 0.5


def _shares(counts: np.ndarray) -> np.ndarray:
    smoothed = counts + PSEUDO_COUNT
    smoothed_shares: np.ndarray = smoothed / smoothed.sum(axis=-1, keepdims=True)
    return smoothed_shares


def psi_values(reference_counts: np.ndarray, window_counts: np.ndarray) -> np.ndarray:
    """PSI of each window (shape (..., k)) against the reference (shape (k,))."""
    reference = _shares(reference_counts)
    window = _shares(window_counts)
    values: np.ndarray = np.sum((window - reference) * np.log(window / reference), axis=-1)
    return values


def psi_value(reference_counts: Sequence[int], window_counts: Sequence[int]) -> float:
    return float(psi_values(np.asarray(reference_counts, dtype="float64"), np.asarray(window_counts, dtype="float64")))


def psi_noise(reference_counts: tuple[int, ...], n: int, quantile: float) -> float:
    """The `quantile` of PSI between the reference and n-row windows drawn from its own shares."""
    return noise_band(psi_values, reference_counts, n, quantile)


def psi(reference_counts: Sequence[int], window_counts: Sequence[int], noise_quantile: float | None = None) -> DriftScore:
    n = int(sum(window_counts))
    return DriftScore(
        value=psi_value(reference_counts, window_counts),
        n=n,
        noise=None if noise_quantile is None else psi_noise(tuple(int(c) for c in reference_counts), n, noise_quantile),
        details={"bins": len(reference_counts)},
    )


PSI = DriftMethod(name="psi", score_kind=ScoreKind.DISTANCE,
                  supports=frozenset({FeatureKind.NUMERIC, FeatureKind.CATEGORICAL}), score=psi,
                  statistic=psi_values)
