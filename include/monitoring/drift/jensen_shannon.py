"""Jensen-Shannon distance, base 2, on frozen reference-quantile bins or categories.

    m_i = (r_i + w_i) / 2
    JS  = sqrt( 1/2 * sum_i r_i * log2(r_i / m_i) + 1/2 * sum_i w_i * log2(w_i / m_i) )

where r_i and w_i are the reference and window shares of bin i. This is the *distance* (the square root
of the divergence), a metric; scipy.spatial.distance.jensenshannon(r, w, base=2) computes the same.
Kind: distance (higher = more drift). Base 2 puts it in [0, 1]: 0 for equal shares, 1 for disjoint
supports. (The natural-log distance is this value times sqrt(ln 2) = 0.833.)

Default tiers: 0.13 WARNING, 0.19 CRITICAL. They are PSI's 0.1 and 0.2 translated, so that switching a
feature from psi to jensen_shannon keeps its severities. For small drifts the divergence is about
chi^2 / 8 in nats, and PSI is about chi^2, so JS = sqrt(PSI / (8 ln 2)): 0.134 and 0.190. On 10
reference-decile bins, a normal mean shift of 0.32 (0.46) standard deviations gives PSI 0.1 (0.2) and
JS 0.134 (0.188); a scale change to 1.33 (1.51) standard deviations gives 0.134 (0.189). The common
convention of 0.1 / 0.2 would make WARNING about twice as sensitive as PSI's (PSI 0.055).
Against the noise band: on 10 equal bins of a 20000-row reference the band at quantile 0.999 is 0.36 at
50 rows, 0.16 at 200 and 0.07 at 1000 (for large n about sqrt(chi2_9(0.999) / (8 ln 2 n)) = 2.24 / sqrt(n)).
Below about 300 rows the band is above WARNING and decides; above it the tier does (for PSI: 280 rows).

Zero bins: no floor. A bin empty on one side contributes 0 * log 0 = 0 to that side's sum, and
m_i >= r_i / 2 > 0 wherever r_i > 0, so the value is finite for any counts; a category unseen in the
reference needs no special case. Both sides must have rows (an empty window or reference has no
shares: ValueError; the pipeline skips such columns before scoring).

Noise band: `noise` is the `noise_quantile` of JS between the reference and windows of the same row
count drawn from the reference shares (multinomial resampling, 4000 draws, seeded by the row count;
see drift/noise.py), so a 50-row night hour is judged against the JS that 50 rows produce by chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from include.monitoring.drift.base import DriftMethod, DriftScore, FeatureKind
from include.monitoring.drift.noise import checked_counts, distance_score, shares
from include.monitoring.types import ScoreKind


def jensen_shannon_values(reference_counts: np.ndarray, window_counts: np.ndarray) -> np.ndarray:
    """JS distance (base 2) of each window (shape (..., k)) against the reference (shape (k,))."""
    reference, window = shares(reference_counts), shares(window_counts)
    mixture = (reference + window) / 2
    # rel_entr(x, y) = x ln(x / y), and 0 where x = 0: the 0 * log 0 = 0 convention, without a floor.
    divergence = np.sum(special.rel_entr(reference, mixture) + special.rel_entr(window, mixture), axis=-1) / (2 * np.log(2))
    # rounding can leave -1e-17 near 0, or 1 + 4e-16 at disjointness
    values: np.ndarray = np.sqrt(np.clip(divergence, 0.0, 1.0))
    return values


def jensen_shannon_value(reference_counts: Sequence[int], window_counts: Sequence[int]) -> float:
    """JS distance (base 2, in [0, 1]) between the shares of two aligned count vectors. ValueError if either side has no rows."""
    reference, window = checked_counts("jensen_shannon", reference_counts, window_counts)
    return float(jensen_shannon_values(reference, window))


def jensen_shannon(reference_counts: Sequence[int], window_counts: Sequence[int],
                   noise_quantile: float | None = None) -> DriftScore:
    return distance_score("jensen_shannon", jensen_shannon_values, reference_counts, window_counts, noise_quantile)


JENSEN_SHANNON = DriftMethod(name="jensen_shannon", score_kind=ScoreKind.DISTANCE,
                             supports=frozenset({FeatureKind.NUMERIC, FeatureKind.CATEGORICAL}), score=jensen_shannon,
                  statistic=jensen_shannon_values)
