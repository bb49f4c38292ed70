"""Two-sample chi-squared test of homogeneity on the 2 x K table of reference and window counts.

Kind: p-value (lower = more drift). Default tiers after Benjamini-Hochberg across features:
p < 0.01 WARNING, p < 0.001 CRITICAL.

This is the contingency test (scipy.stats.chi2_contingency, no continuity correction), not the
goodness-of-fit test that treats the reference shares as exact: that one over-alerts by a factor of
about (1 + n_window / n_reference) on identical data. Categories unseen in the reference enter as
their own column. Columns whose expected window count is below MIN_EXPECTED are pooled into one, and a
pool that is still below it joins the smallest other column, so the chi-squared approximation holds: a
single never-seen value in a 500-row window (expected count 0.02) must not decide the test. Never-seen
categories have their own rule, the new-category share. A table whose columns are all sparse (a tiny
window) has nothing to test: p = 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from include.monitoring.drift.base import DriftMethod, DriftScore, FeatureKind
from include.monitoring.types import ScoreKind

MIN_EXPECTED = 5.0


def pooled_table(reference_counts: Sequence[int], window_counts: Sequence[int]) -> np.ndarray:
    """The 2 x K table with every column's expected window count at least MIN_EXPECTED where possible: the
    sparse columns are summed into one, and if that sum is still sparse it joins the smallest other column."""
    table = np.array([reference_counts, window_counts], dtype="float64")
    table = table[:, table.sum(axis=0) > 0]

    def expected_window(columns: np.ndarray) -> np.ndarray:
        expected: np.ndarray = columns.sum(axis=0) * table[1].sum() / table.sum()
        return expected

    sparse = expected_window(table) < MIN_EXPECTED
    if not sparse.any() or sparse.all():
        return table if not sparse.all() else table.sum(axis=1, keepdims=True)
    pooled, rest = table[:, sparse].sum(axis=1), table[:, ~sparse].copy()
    if expected_window(pooled[:, None])[0] >= MIN_EXPECTED:
        return np.column_stack([rest, pooled])
    rest[:, int(np.argmin(expected_window(rest)))] += pooled
    return rest


def chi2(reference_counts: Sequence[int], window_counts: Sequence[int], noise_quantile: float | None = None) -> DriftScore:
    n = int(sum(window_counts))
    table = pooled_table(reference_counts, window_counts)
    if table.shape[1] < 2:
        return DriftScore(value=0.0, n=n, p_value=1.0, details={"columns": int(table.shape[1])})
    # Pearson's statistic of the 2 x K table, as scipy.stats.chi2_contingency(table, correction=False) computes it,
    # without its per-call overhead (a window scores dozens of these, its slices included).
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    dof = table.shape[1] - 1
    p_value = float(special.chdtrc(dof, statistic))
    return DriftScore(value=float(statistic), n=n, p_value=float(p_value),
                      details={"columns": int(table.shape[1]), "dof": int(dof)})


CHI2 = DriftMethod(name="chi2", score_kind=ScoreKind.P_VALUE,
                   supports=frozenset({FeatureKind.CATEGORICAL}), score=chi2)
