"""Kolmogorov-Smirnov on the grid: hand-worked oracle, agreement with scipy.stats.ks_2samp where the
definitions match (values on the grid points), identity, growth with the shift, and edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from include.monitoring.drift.ks import KS, ks, ks_p_value, ks_statistic
from include.monitoring.profiles import bin_counts
from include.monitoring.types import ScoreKind

PROPERTY = settings(max_examples=60, deadline=None, database=None)


def on_grid(values, points):
    """Counts of integer-valued rows in the bins that hold one grid point each (edges halfway between)."""
    edges = [p + 0.5 for p in points[:-1]]
    return bin_counts(np.asarray(values, dtype="float64"), edges)


def test_ks_three_bins_hand_worked_matches():
    """Reference [50, 30, 20], window [20, 30, 50]:

        R = [0.5, 0.8, 1.0],  W = [0.2, 0.5, 1.0],  |R - W| = [0.3, 0.3, 0]  ->  D = 0.3
        effective size = 100 * 100 / 200 = 50,  p = kstwo.sf(0.3, 50) = 1.7e-4
    """
    score = ks([50, 30, 20], [20, 30, 50])
    assert score.value == pytest.approx(0.3, abs=1e-12)
    assert score.p_value == pytest.approx(stats.kstwo.sf(0.3, 50), rel=1e-12)
    assert score.p_value == pytest.approx(1.7353e-4, rel=1e-4)
    assert KS.score_kind is ScoreKind.P_VALUE


@PROPERTY
@given(reference=st.lists(st.integers(0, 9), min_size=20, max_size=300),
       window=st.lists(st.integers(0, 9), min_size=20, max_size=300))
def test_ks_values_on_grid_points_match_scipy_ks_2samp_asymp(reference, window):
    """With every value on a grid point the binned CDFs are the exact ECDFs: D and the p-value equal
    scipy's two-sample test with the asymptotic p-value."""
    points = list(range(10))
    score = ks(on_grid(reference, points), on_grid(window, points))
    expected = stats.ks_2samp(reference, window, method="asymp")
    assert score.value == pytest.approx(expected.statistic, abs=1e-9)
    assert score.p_value == pytest.approx(expected.pvalue, abs=1e-9)


def test_ks_identical_shares_statistic_zero_p_one():
    score = ks([400, 300, 200, 100], [4, 3, 2, 1])
    assert score.value == pytest.approx(0.0, abs=1e-12)
    assert score.p_value == 1.0


def test_ks_larger_shift_gives_larger_statistic_and_smaller_p_value():
    rng = np.random.default_rng(5)
    edges = list(np.quantile(rng.normal(size=20_000), np.linspace(0, 1, 101)[1:-1]))
    reference = bin_counts(rng.normal(size=20_000), edges)
    scores = [ks(reference, bin_counts(rng.normal(loc=shift, size=500), edges)) for shift in (0.0, 0.2, 0.5, 1.0)]
    assert [s.value for s in scores] == sorted(s.value for s in scores)
    assert [s.p_value for s in scores] == sorted((s.p_value for s in scores), reverse=True)
    assert scores[-1].p_value < 1e-20


def test_ks_statistic_batches_windows_along_first_axis():
    windows = np.array([[1.0, 1.0, 2.0], [4.0, 0.0, 0.0]])
    assert list(ks_statistic(np.array([1.0, 1.0, 2.0]), windows)) == pytest.approx([0.0, 0.75])


def test_ks_p_value_tiny_sizes_use_at_least_one_effective_row():
    assert 0.0 <= ks_p_value(1.0, 1, 1) <= 1.0


@pytest.mark.parametrize("reference, window, side", [([5, 5], [0, 0], "window"), ([0, 0], [5, 5], "reference")])
def test_ks_empty_side_raises_value_error_naming_it(reference, window, side):
    with pytest.raises(ValueError, match=rf"ks: the {side} has no rows"):
        ks(reference, window)
