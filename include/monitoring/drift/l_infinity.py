"""L-infinity distance: the largest change of one bin's (or category's) share.

    L_inf = max_i | w_i - r_i |

where r_i and w_i are the reference and window shares of bin i. Kind: distance (higher = more drift),
in [0, 1], in units of share: 0.07 means some bin or category gained or lost 7 percentage points.
It is 0 for equal shares and 1 only when all of one side's rows sit in a bin the other side never
uses; for other disjoint supports it is the largest share on either side.

Default tiers: 0.07 WARNING, 0.10 CRITICAL. L-infinity has no fixed relation to PSI (it depends on
how a change spreads over the bins), so the tiers are PSI's 0.1 and 0.2 matched on the project's default
binning, 10 reference-decile bins: a normal mean shift of 0.32 (0.46) standard deviations gives PSI 0.1
(0.2) and L_inf 0.069 (0.105); a scale change to 1.33 (1.51) standard deviations gives 0.067 (0.098).
For categorical features the match is looser: with two 50 % categories L_inf 0.07 is PSI 0.02 (more
sensitive than PSI), with many small categories a change spread over all of them scores lower.
Against the noise band: on 10 equal bins of a 20000-row reference the band at quantile 0.999 is 0.18 at
50 rows, 0.085 at 200 and 0.037 at 1000 (about 3.9 binomial standard deviations, 3.9 * sqrt(0.1 * 0.9 / n)).
Below about 260 rows the band is above WARNING and decides; above it the tier does (for PSI: 280 rows).

Zero bins: no floor. A share of 0 is an ordinary value in |w_i - r_i|, so the distance is finite for
any counts; a category unseen in the reference needs no special case. Both sides must have rows (an
empty window or reference has no shares: ValueError; the pipeline skips such columns before scoring).

Noise band: `noise` is the `noise_quantile` of L_inf between the reference and windows of the same row
count drawn from the reference shares (multinomial resampling, 4000 draws, seeded by the row count;
see drift/noise.py), so a 50-row night hour is judged against the L_inf that 50 rows produce by chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from include.monitoring.drift.base import DriftMethod, DriftScore, FeatureKind
from include.monitoring.drift.noise import checked_counts, distance_score, shares
from include.monitoring.types import ScoreKind


def l_infinity_values(reference_counts: np.ndarray, window_counts: np.ndarray) -> np.ndarray:
    """L-infinity distance of each window (shape (..., k)) against the reference (shape (k,))."""
    reference, window = shares(reference_counts), shares(window_counts)
    values: np.ndarray = np.max(np.abs(window - reference), axis=-1)
    return values


def l_infinity_value(reference_counts: Sequence[int], window_counts: Sequence[int]) -> float:
    """Largest change of one bin's share (in [0, 1]) between two aligned count vectors. ValueError if either side has no rows."""
    reference, window = checked_counts("l_infinity", reference_counts, window_counts)
    return float(l_infinity_values(reference, window))


def l_infinity(reference_counts: Sequence[int], window_counts: Sequence[int], noise_quantile: float | None = None) -> DriftScore:
    return distance_score("l_infinity", l_infinity_values, reference_counts, window_counts, noise_quantile)


L_INFINITY = DriftMethod(name="l_infinity", score_kind=ScoreKind.DISTANCE,
                         supports=frozenset({FeatureKind.NUMERIC, FeatureKind.CATEGORICAL}), score=l_infinity,
                  statistic=l_infinity_values)
