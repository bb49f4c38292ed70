"""Two-sample Kolmogorov-Smirnov test on the reference's fine quantile grid.

    D = max_i | R_i - W_i |

where R_i and W_i are the reference and window cumulative shares up to grid bin i. The p-value is
Smirnov's asymptotic distribution of D for the effective size n m / (n + m) (n window rows, m
reference rows), computed as scipy.stats.ks_2samp(..., method="asymp") does: kstwo.sf(D, round(nm / (n + m))).
Kind: p-value (lower = more drift). Value: D. Default tiers after the multiple-testing correction across
features: p < 0.01 WARNING, p < 0.001 CRITICAL.

The grid is the reference's percentiles (profiles.GRID_BINS bins), frozen with the profile, so a window
is never re-read against raw reference rows. D on the grid is the exact D when the values sit on the
grid points (discrete features) and otherwise at most the largest grid bin's share (1 %) below it: the
test is slightly conservative, never more alarming than the raw-row test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from include.monitoring.drift.base import DriftMethod, DriftScore, FeatureKind, Resolution
from include.monitoring.drift.noise import checked_counts, shares
from include.monitoring.types import ScoreKind


def ks_statistic(reference_counts: np.ndarray, window_counts: np.ndarray) -> np.ndarray:
    """D of each window (shape (..., k)) against the reference (shape (..., k)), on aligned grid bins."""
    difference = np.cumsum(shares(reference_counts), axis=-1) - np.cumsum(shares(window_counts), axis=-1)
    values: np.ndarray = np.max(np.abs(difference), axis=-1)
    return values


def ks_p_value(statistic: float, window_rows: int, reference_rows: int) -> float:
    effective = window_rows * reference_rows / (window_rows + reference_rows)
    return float(stats.kstwo.sf(statistic, max(1, round(effective))))


def ks(reference_counts: Sequence[int], window_counts: Sequence[int], noise_quantile: float | None = None) -> DriftScore:
    reference, window = checked_counts("ks", reference_counts, window_counts)
    statistic = float(ks_statistic(reference, window))
    n, m = int(window.sum()), int(reference.sum())
    return DriftScore(value=statistic, n=n, p_value=ks_p_value(statistic, n, m),
                      details={"grid_bins": len(reference_counts), "reference_rows": m})


KS = DriftMethod(name="ks", score_kind=ScoreKind.P_VALUE, supports=frozenset({FeatureKind.NUMERIC}), score=ks,
                 resolution=Resolution.GRID)
