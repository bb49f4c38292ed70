"""Hellinger distance on frozen reference-quantile bins or categories.

    H = sqrt( 1 - sum_i sqrt(r_i * w_i) )  =  sqrt( 1/2 * sum_i (sqrt(r_i) - sqrt(w_i))^2 )

where r_i and w_i are the reference and window shares of bin i (the two forms are equal because both
share vectors sum to 1). Kind: distance (higher = more drift), in [0, 1]: 0 for equal shares, 1 for
disjoint supports. It is computed in the second form, a sum of squares: the first subtracts two numbers
close to 1, and the square root turns that rounding (1e-16) into an error of 1e-8 near 0, so identical
shares would not give exactly 0.

Default tiers: 0.11 WARNING, 0.16 CRITICAL. They are PSI's 0.1 and 0.2 translated, so that switching a
feature from psi to hellinger keeps its severities. For small drifts H^2 is about chi^2 / 8 and PSI
about chi^2, so H = sqrt(PSI / 8): 0.112 and 0.158. On 10 reference-decile bins, a normal mean shift of
0.32 (0.46) standard deviations gives PSI 0.1 (0.2) and H 0.112 (0.157); a scale change to 1.33 (1.51)
standard deviations gives the same. (Evidently's 0.1 is close to the WARNING tier.)
Against the noise band: on 10 equal bins of a 20000-row reference the band at quantile 0.999 is 0.33 at
50 rows, 0.13 at 200 and 0.06 at 1000 (for large n about sqrt(chi2_9(0.999) / (8 n)) = 1.87 / sqrt(n)).
Below about 280 rows the band is above WARNING and decides; above it the tier does (for PSI: 280 rows).

Zero bins: no floor. An empty bin on either side contributes sqrt(0 * w_i) = 0 to the overlap, which is
the right value, so the distance is finite for any counts; a category unseen in the reference needs no
special case. Both sides must have rows (an empty window or reference has no shares: ValueError; the
pipeline skips such columns before scoring).

Noise band: `noise` is the `noise_quantile` of H between the reference and windows of the same row
count drawn from the reference shares (multinomial resampling, 4000 draws, seeded by the row count;
see drift/noise.py), so a 50-row night hour is judged against the H that 50 rows produce by chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from include.monitoring.drift.base import DriftMethod, DriftScore, FeatureKind
from include.monitoring.drift.noise import checked_counts, distance_score, shares
from include.monitoring.types import ScoreKind


def hellinger_values(reference_counts: np.ndarray, window_counts: np.ndarray) -> np.ndarray:
    """Hellinger distance of each window (shape (..., k)) against the reference (shape (k,))."""
    reference, window = shares(reference_counts), shares(window_counts)
    squared = np.sum((np.sqrt(reference) - np.sqrt(window)) ** 2, axis=-1) / 2
    values: np.ndarray = np.sqrt(np.minimum(squared, 1.0))  # rounding can give 1 + 4e-16 at disjointness
    return values


def hellinger_value(reference_counts: Sequence[int], window_counts: Sequence[int]) -> float:
    """Hellinger distance (in [0, 1]) between the shares of two aligned count vectors. ValueError if either side has no rows."""
    reference, window = checked_counts("hellinger", reference_counts, window_counts)
    return float(hellinger_values(reference, window))


def hellinger(reference_counts: Sequence[int], window_counts: Sequence[int], noise_quantile: float | None = None) -> DriftScore:
    return distance_score("hellinger", hellinger_values, reference_counts, window_counts, noise_quantile)


HELLINGER = DriftMethod(name="hellinger", score_kind=ScoreKind.DISTANCE,
                        supports=frozenset({FeatureKind.NUMERIC, FeatureKind.CATEGORICAL}), score=hellinger,
                  statistic=hellinger_values)
