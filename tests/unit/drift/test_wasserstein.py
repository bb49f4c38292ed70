"""Wasserstein-1 in reference standard deviations: hand-worked oracle, agreement with
scipy.stats.wasserstein_distance on the weighted grid points and on raw rows where the definitions match,
identity, growth with the shift, tails beyond the reference, and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from include.monitoring.drift.wasserstein import WASSERSTEIN, wasserstein, wasserstein_values
from include.monitoring.profiles import fit_numeric, grid_locations, numeric_profile
from include.monitoring.types import ScoreKind

PROPERTY = settings(max_examples=60, deadline=None, database=None)


def profiles_of(reference_rows, window_rows):
    reference = fit_numeric(pd.Series(reference_rows, dtype="float64"), 10)
    window = numeric_profile(pd.Series(window_rows, dtype="float64"), reference.edges, reference.grid_edges)
    return reference, window


def score_rows(reference_rows, window_rows, scale=None):
    reference, window = profiles_of(reference_rows, window_rows)
    locations = grid_locations(reference)
    return wasserstein(reference.grid_counts, window.grid_counts, reference_locations=locations,
                       window_locations=grid_locations(window, fallback=locations),
                       scale=scale if scale is not None else reference.std)


def test_wasserstein_three_points_hand_worked_matches():
    """Reference mass [0.5, 0.5, 0] at x = [0, 1, 2]; window mass [0, 0.5, 0.5] at the same points:

        CDF difference on [0, 1): 0.5 - 0 = 0.5;  on [1, 2): 1.0 - 0.5 = 0.5
        W = 0.5 * 1 + 0.5 * 1 = 1.0;  scale 2  ->  0.5
    """
    score = wasserstein([5, 5, 0], [0, 3, 3], reference_locations=[0, 1, 2], window_locations=[0, 1, 2], scale=2.0)
    assert score.value == pytest.approx(0.5, abs=1e-12)
    assert WASSERSTEIN.score_kind is ScoreKind.DISTANCE


def test_wasserstein_different_window_locations_hand_worked_matches():
    """All reference mass at 0 and 10 (half each); the window's at 1 and 10: moving 0.5 from 0 to 1 costs 0.5."""
    score = wasserstein([1, 1], [1, 1], reference_locations=[0, 10], window_locations=[1, 10], scale=1.0)
    assert score.value == pytest.approx(0.5, abs=1e-12)


@PROPERTY
@given(reference=st.lists(st.integers(0, 5000), min_size=2, max_size=8).filter(lambda c: sum(c) > 0),
       data=st.data(), scale=st.floats(0.1, 10))
def test_wasserstein_weighted_points_match_scipy(reference, data, scale):
    k = len(reference)
    window = data.draw(st.lists(st.integers(0, 5000), min_size=k, max_size=k).filter(lambda c: sum(c) > 0))
    ref_points = sorted(data.draw(st.lists(st.floats(-100, 100), min_size=k, max_size=k)))
    win_points = data.draw(st.lists(st.floats(-100, 100), min_size=k, max_size=k))
    ours = wasserstein(reference, window, reference_locations=ref_points, window_locations=win_points, scale=scale)
    expected = stats.wasserstein_distance(ref_points, win_points, reference, window) / scale
    assert ours.value == pytest.approx(expected, abs=1e-9)


@PROPERTY
@given(reference=st.lists(st.integers(-20, 20), min_size=30, max_size=100), data=st.data())
def test_wasserstein_profiles_of_rows_match_scipy_on_the_rows(reference, data):
    """Each grid bin's mass sits at its rows' mean, so on the grid the distance between the rows themselves
    is kept exactly when each bin holds one distinct value: here a reference of at most 100 rows, whose
    percentile edges then separate every pair of distinct values, and a window of those values."""
    reference_rows = np.asarray(reference, dtype="float64")
    if reference_rows.std(ddof=1) == 0:
        return
    window = data.draw(st.lists(st.sampled_from(sorted(set(reference))), min_size=1, max_size=200))
    expected = stats.wasserstein_distance(reference_rows, np.asarray(window, dtype="float64"))
    assert score_rows(reference_rows, window, scale=1.0).value == pytest.approx(expected, abs=1e-9)


def test_wasserstein_mean_shift_reads_in_standard_deviations():
    rng = np.random.default_rng(8)
    reference = rng.normal(loc=50, scale=10, size=50_000)
    values = [score_rows(reference, rng.normal(loc=50 + shift * 10, scale=10, size=20_000)).value
              for shift in (0.0, 0.2, 0.5, 1.0, 3.0)]
    assert values == sorted(values)
    assert values[1:] == pytest.approx([0.2, 0.5, 1.0, 3.0], abs=0.03)  # 3 sd: beyond the reference's top percentile
    assert values[0] < 0.03


def test_wasserstein_identical_rows_give_zero():
    rows = np.random.default_rng(2).normal(size=2000)
    assert score_rows(rows, rows).value == pytest.approx(0.0, abs=1e-12)


def test_wasserstein_values_batches_windows_on_shared_locations():
    locations = np.array([0.0, 1.0, 2.0])
    windows = np.array([[1.0, 1.0, 2.0], [0.0, 0.0, 4.0]])
    values = wasserstein_values(np.array([1.0, 1.0, 2.0]), windows, reference_locations=locations,
                                window_locations=locations, scale=1.0)
    assert list(values) == pytest.approx([0.0, 0.75])


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": 0.0}, "scale .* must be positive"),
    ({"reference_locations": [0.0]}, "expected 2 finite locations"),
    ({"window_locations": [0.0, float("nan")]}, "expected 2 finite locations"),
], ids=["zero_scale", "short_locations", "nan_location"])
def test_wasserstein_bad_inputs_raise_value_error(kwargs, message):
    arguments = {"reference_locations": [0.0, 1.0], "window_locations": [0.0, 1.0], "scale": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        wasserstein([1, 1], [1, 1], **arguments)
