"""Column profiles: parsing, frozen quantile bins, counts, numeric and categorical profiles."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.monitoring.drift.psi import psi_value
from include.monitoring.profile_types import NumericCounts, NumericReference
from include.monitoring.profiles import (
    GRID_BINS,
    MAX_POOLED,
    OTHER,
    bin_counts,
    bin_edges,
    bins_key,
    categorical_profile,
    counts_from_grid,
    fit_categorical,
    fit_numeric,
    grid_locations,
    merge_column,
    numeric_profile,
    to_numbers,
)

PROPERTY = settings(max_examples=60, deadline=None, database=None)

finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


# --- to_numbers -------------------------------------------------------------------------------------------------------


def test_to_numbers_mixed_text_parses_and_flags_unparseable():
    values = pd.Series(["1", "2.5", "n/a", None, "12 months", np.nan, " 3 "], dtype=object)
    numbers, unparseable = to_numbers(values)
    np.testing.assert_array_equal(numbers, [1.0, 2.5, np.nan, np.nan, np.nan, np.nan, 3.0])
    np.testing.assert_array_equal(unparseable, [False, False, True, False, True, False, False])
    assert numbers.dtype == np.float64


def test_to_numbers_infinity_text_is_infinite_not_unparseable():
    numbers, unparseable = to_numbers(pd.Series(["inf", "-inf"], dtype=object))
    np.testing.assert_array_equal(numbers, [np.inf, -np.inf])
    assert not unparseable.any()


def test_to_numbers_nullable_integers_missing_is_nan_not_unparseable():
    numbers, unparseable = to_numbers(pd.Series([1, None, 3], dtype="Int64"))
    np.testing.assert_array_equal(numbers, [1.0, np.nan, 3.0])
    assert not unparseable.any()


def test_to_numbers_empty_series_gives_empty_arrays():
    numbers, unparseable = to_numbers(pd.Series([], dtype=object))
    assert numbers.size == 0 and unparseable.size == 0


# --- bin_edges / bin_counts -------------------------------------------------------------------------------------------


def test_bin_edges_one_to_ten_four_bins_hand_worked():
    """Values 1..10, 4 bins: inner quantiles 0.25, 0.5, 0.75 by linear interpolation on positions 0..9:
    0.25 * 9 = 2.25 -> 3 + 0.25 * (4 - 3) = 3.25;  4.5 -> 5.5;  6.75 -> 7 + 0.75 = 7.75."""
    assert bin_edges(np.arange(1, 11, dtype="float64"), 4) == [3.25, 5.5, 7.75]


def test_bin_edges_constant_values_duplicates_removed():
    assert bin_edges(np.full(50, 7.0), 10) == [7.0]


def test_bin_edges_nan_and_infinities_ignored():
    values = np.array([1.0, 2.0, 3.0, 4.0, np.nan, np.inf, -np.inf])
    assert bin_edges(values, 2) == [2.5]


@pytest.mark.parametrize("values", [np.array([]), np.array([np.nan, np.nan]), np.array([np.inf, -np.inf])],
                         ids=["empty", "all_nan", "all_infinite"])
def test_bin_edges_no_finite_values_is_empty(values):
    assert bin_edges(values, 10) == []


def test_bin_counts_value_on_edge_goes_to_upper_bin():
    """Bin i holds edges[i-1] <= x < edges[i]: with edges [2, 4], 2 is in bin 2 and 4 in bin 3."""
    assert bin_counts(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), [2.0, 4.0]) == (1, 2, 2)


def test_bin_counts_nan_and_infinities_not_counted():
    assert bin_counts(np.array([1.0, 3.0, np.nan, np.inf, -np.inf]), [2.0]) == (1, 1)


def test_bin_counts_empty_values_all_zero():
    assert bin_counts(np.array([]), [1.0, 2.0]) == (0, 0, 0)


def test_bin_counts_no_edges_one_bin_with_every_finite_value():
    assert bin_counts(np.array([1.0, 5.0, np.nan]), []) == (2,)


@PROPERTY
@given(values=st.lists(finite_floats, min_size=1, max_size=300), bins=st.integers(2, 20))
def test_fit_numeric_any_values_edges_increase_and_counts_cover_finite(values, bins):
    fitted = fit_numeric(pd.Series(values), bins)
    edges = fitted.edges
    assert all(a < b for a, b in zip(edges, edges[1:], strict=False))
    assert len(edges) <= bins - 1
    assert len(fitted.counts) == len(edges) + 1
    assert sum(fitted.counts) == len(values)


@PROPERTY
@given(values=st.lists(finite_floats, min_size=20, max_size=300, unique=True), bins=st.integers(2, 10))
def test_fit_numeric_distinct_values_bins_are_balanced(values, bins):
    """Quantile bins of distinct values hold n/bins rows each, give or take one."""
    counts = fit_numeric(pd.Series(values), bins).counts
    assert len(counts) == bins
    assert max(counts) - min(counts) <= 2
    assert all(abs(c - len(values) / bins) <= 1.5 for c in counts)


@PROPERTY
@given(values=st.lists(st.one_of(finite_floats, st.just(math.nan)), min_size=1, max_size=200), bins=st.integers(2, 10))
def test_numeric_profile_reference_itself_reproduces_reference_counts(values, bins):
    """Identity: the reference counted in its own frozen bins gives its own counts, hence PSI 0."""
    series = pd.Series(values, dtype="float64")
    fitted = fit_numeric(series, bins)
    window = numeric_profile(series, fitted.edges, fitted.grid_edges)
    assert window.counts == fitted.counts
    assert window.grid_counts == fitted.grid_counts
    assert window.grid_sums == pytest.approx(fitted.grid_sums)
    assert psi_value(fitted.counts, window.counts) == pytest.approx(0.0, abs=1e-12)


def test_numeric_profile_shifted_window_moves_mass_to_upper_bins():
    rng = np.random.default_rng(3)
    fitted = fit_numeric(pd.Series(rng.normal(size=5000)), 10)
    window = numeric_profile(pd.Series(rng.normal(loc=2.0, size=500)), fitted.edges, fitted.grid_edges)
    assert sum(window.counts[5:]) > 0.9 * 500


# --- numeric summaries ------------------------------------------------------------------------------------------------


def test_numeric_profile_text_nulls_infinities_zeros_counted_separately():
    values = pd.Series(["0", "2", "4", "n/a", None, "inf", np.nan], dtype=object)
    profile = numeric_profile(values, (1.0,), (1.0, 3.0))
    assert profile.kind == "numeric"
    assert profile.counts == (1, 2)
    assert profile.grid_counts == (1, 1, 1) and profile.grid_sums == (0.0, 2.0, 4.0)
    assert (profile.n, profile.nulls, profile.unparseable, profile.infinite, profile.zeros) == (7, 2, 1, 1, 1)
    assert profile.mean == pytest.approx(2.0)
    assert profile.std == pytest.approx(2.0)  # sample std of 0, 2, 4
    assert (profile.min, profile.max) == (0.0, 4.0)


@pytest.mark.parametrize(
    "values",
    [pd.Series([], dtype="float64"), pd.Series([np.nan, None], dtype="float64"), pd.Series([np.inf, -np.inf])],
    ids=["empty", "all_nan", "all_infinite"],
)
def test_fit_numeric_no_finite_values_statistics_are_none(values):
    fitted = fit_numeric(values, 10)
    assert fitted.edges == ()
    assert fitted.counts == (0,)
    assert fitted.mean is None and fitted.std is None and fitted.min is None and fitted.max is None


def test_fit_numeric_grid_is_percentiles_with_counts_and_sums():
    values = pd.Series(np.arange(1000, dtype="float64"))
    fitted = fit_numeric(values, 10)
    assert len(fitted.grid_edges) == GRID_BINS - 1 and len(fitted.grid_counts) == GRID_BINS
    assert fitted.grid_edges[0] == pytest.approx(9.99)  # the first percentile, linear interpolation
    assert fitted.grid_counts == (10,) * GRID_BINS
    assert fitted.grid_sums[0] == sum(range(10)) and sum(fitted.grid_sums) == sum(range(1000))
    assert grid_locations(fitted)[:2] == [4.5, 14.5]


def test_grid_locations_empty_window_bin_takes_fallback_and_empty_reference_bin_an_edge():
    window = NumericCounts.from_json({"counts": [2], "n": 2, "nulls": 0, "grid_counts": [0, 2], "grid_sums": [0.0, 7.0]})
    assert grid_locations(window, fallback=[-1.0, 3.0]) == [-1.0, 3.5]
    reference = NumericReference.from_json({"edges": [], "counts": [3], "n": 3, "nulls": 0, "grid_counts": [0, 3, 0],
                                            "grid_sums": [0.0, 3.0, 0.0], "grid_edges": [0.0, 2.0]})
    assert grid_locations(reference) == [0.0, 1.0, 2.0]


def test_fit_numeric_single_value_std_is_none():
    fitted = fit_numeric(pd.Series([5.0]), 10)
    assert fitted.mean == 5.0
    assert fitted.std is None


def test_fit_numeric_all_nan_nulls_counted():
    fitted = fit_numeric(pd.Series([np.nan] * 4), 10)
    assert fitted.nulls == 4 and fitted.n == 4


# --- categorical ------------------------------------------------------------------------------------------------------


def test_fit_categorical_top_k_kept_rest_pooled_as_other():
    """c x3, a x2, b x1, d x1 (and one null), top 2: categories [a, c] (sorted) + OTHER with 2 pooled rows."""
    values = pd.Series(["a", "a", "b", "c", "c", "c", "d", None])
    fitted = fit_categorical(values, 2)
    assert fitted.categories == ("a", "c", OTHER)
    assert fitted.counts == (2, 3, 2)
    assert fitted.pooled == ("b", "d")
    assert (fitted.n, fitted.nulls) == (8, 1)


def test_fit_categorical_fewer_than_top_k_no_other():
    fitted = fit_categorical(pd.Series(["x", "y", "y"]), 5)
    assert fitted.categories == ("x", "y")
    assert fitted.counts == (1, 2)
    assert fitted.pooled == ()


def test_fit_categorical_all_nan_no_categories():
    fitted = fit_categorical(pd.Series([None, np.nan, None]), 5)
    assert fitted.categories == () and fitted.counts == () and fitted.nulls == 3


def test_fit_categorical_tied_top_k_row_order_does_not_change_profile():
    """a and b both appear twice and only one fits in top_k=1: the choice must depend on the data, not on the
    order the warehouse returned the rows in (the reference profile's id is a hash of its content)."""
    b_first = fit_categorical(pd.Series(["b", "a", "b", "a", "c"]), 1)
    a_first = fit_categorical(pd.Series(["a", "b", "a", "b", "c"]), 1)
    assert b_first == a_first


def test_fit_categorical_over_max_pooled_keeps_frequent_pooled_names():
    """More than MAX_POOLED pooled names: the rare ones may be forgotten, not the frequent ones. 'zz' is the
    second most frequent category (50 rows) and must stay in `pooled`, so a window of 'zz' counts as OTHER."""
    values = ["a"] * 100 + ["zz"] * 50 + [f"b{i:05d}" for i in range(MAX_POOLED)]
    fitted = fit_categorical(pd.Series(values), 1)
    assert "zz" in fitted.pooled
    window = categorical_profile(pd.Series(["zz"] * 5), fitted.categories, fitted.pooled)
    assert window.counts == (0, 5)
    assert window.unseen == 0


def test_categorical_profile_pooled_counted_as_other_unseen_counted():
    values = pd.Series(["a", "b", "z", "z", "y", None])
    profile = categorical_profile(values, ("a", "c", OTHER), ("b",))
    assert profile.kind == "categorical"
    assert profile.counts == (1, 0, 1)
    assert profile.unseen == 3
    assert profile.unseen_examples == {"z": 2, "y": 1}
    assert (profile.n, profile.nulls) == (6, 1)


def test_categorical_profile_many_unseen_examples_capped_at_five():
    values = pd.Series([f"new{i}" for i in range(8)])
    profile = categorical_profile(values, ("a",), ())
    assert profile.unseen == 8
    assert len(profile.unseen_examples) == 5


@pytest.mark.parametrize("values", [pd.Series([], dtype=object), pd.Series([None, np.nan], dtype=object)],
                         ids=["empty", "all_nan"])
def test_categorical_profile_no_values_all_counts_zero(values):
    profile = categorical_profile(values, ("a", OTHER), ("b",))
    assert profile.counts == (0, 0)
    assert profile.unseen == 0
    assert profile.unseen_examples == {}
    assert profile.nulls == len(values)


@PROPERTY
@given(
    reference=st.lists(st.sampled_from(list("abcdefgh") + [None]), min_size=1, max_size=200),
    window=st.lists(st.sampled_from(list("abcdefghxyz") + [None]), max_size=200),
    top_k=st.integers(1, 8),
)
def test_categorical_profile_any_window_every_row_counted_once(reference, window, top_k):
    fitted = fit_categorical(pd.Series(reference, dtype=object), top_k)
    profile = categorical_profile(pd.Series(window, dtype=object), fitted.categories, fitted.pooled)
    assert sum(profile.counts) + profile.unseen + profile.nulls == profile.n == len(window)


@PROPERTY
@given(reference=st.lists(st.sampled_from(list("abcdefgh") + [None]), min_size=1, max_size=200), top_k=st.integers(1, 8))
def test_categorical_profile_reference_itself_reproduces_reference_counts(reference, top_k):
    series = pd.Series(reference, dtype=object)
    fitted = fit_categorical(series, top_k)
    profile = categorical_profile(series, fitted.categories, fitted.pooled)
    assert profile.counts == fitted.counts
    assert profile.unseen == 0


def test_categorical_profile_integer_codes_with_nulls_match_reference():
    """Integer-coded categories: a window with a null arrives as float64 (1.0, 2.0, NaN) while the reference
    was int64 (1, 2, 3). The same codes are the same categories, not unseen ones."""
    fitted = fit_categorical(pd.Series([1, 2, 2, 3]), 5)
    profile = categorical_profile(pd.Series([1, 2, None]), fitted.categories, fitted.pooled)
    assert profile.counts == (1, 1, 0)
    assert profile.unseen == 0


@PROPERTY
@given(reference=st.lists(finite_floats, min_size=1, max_size=300), window=st.lists(finite_floats, max_size=300),
       bins=st.integers(2, 15))
def test_numeric_profile_coarse_counts_summed_from_grid_equal_direct_counts(reference, window, bins):
    """Every coarse edge is a grid edge, so the coarse counts come from the grid's; they must equal counting
    the values in the coarse bins directly."""
    fitted = fit_numeric(pd.Series(reference, dtype="float64"), bins)
    assert set(fitted.edges) <= set(fitted.grid_edges)
    values = np.asarray(window, dtype="float64")
    profile = numeric_profile(pd.Series(values), fitted.edges, fitted.grid_edges)
    assert profile.counts == bin_counts(values, fitted.edges)
    assert sum(profile.grid_counts) == len(values)


def test_counts_from_grid_coarse_edge_missing_from_grid_is_none():
    assert counts_from_grid((1, 2, 3), (0.0, 1.0), (0.5,)) is None
    assert counts_from_grid((1, 2, 3), (0.0, 1.0), (1.0,)) == (3, 3)


@PROPERTY
@given(reference=st.lists(finite_floats, min_size=2, max_size=200),
       window=st.lists(st.one_of(finite_floats, st.just(math.nan)), min_size=1, max_size=200),
       cuts=st.lists(st.integers(0, 200), max_size=4))
def test_merge_column_of_split_windows_equals_profile_of_all_rows(reference, window, cuts):
    """A rolling reference adds window profiles up: merging the profiles of any split of the rows gives the
    profile of all of them (counts, grid counts and sums, nulls, min, max; mean and std to rounding)."""
    fitted = fit_numeric(pd.Series(reference, dtype="float64"), 10)
    fitted = dataclasses.replace(fitted, bins_key=bins_key(fitted))
    values = pd.Series(window, dtype="float64")
    bounds = [0, *sorted(min(c, len(window)) for c in cuts), len(window)]
    parts = [numeric_profile(values.iloc[a:b], fitted.edges, fitted.grid_edges)
             for a, b in itertools.pairwise(bounds)]
    merged = merge_column(fitted, parts)
    whole = numeric_profile(values, fitted.edges, fitted.grid_edges)
    for key in ("counts", "grid_counts", "n", "nulls", "min", "max"):
        assert getattr(merged, key) == getattr(whole, key), key
    assert merged.grid_sums == pytest.approx(whole.grid_sums, rel=1e-9, abs=1e-6)
    for key in ("mean", "std"):
        assert (getattr(merged, key) is None) == (getattr(whole, key) is None)
        if getattr(whole, key) is not None:
            assert getattr(merged, key) == pytest.approx(getattr(whole, key), rel=1e-6, abs=1e-6)
    assert merged.edges == fitted.edges and merged.bins_key == fitted.bins_key


def test_merge_column_categorical_adds_counts_and_keeps_categories():
    fitted = fit_categorical(pd.Series(["a", "b", "b", "c"]), 5)
    parts = [categorical_profile(pd.Series(["a", "z", None]), fitted.categories, fitted.pooled),
             categorical_profile(pd.Series(["b", "b"]), fitted.categories, fitted.pooled)]
    merged = merge_column(fitted, parts)
    assert merged.categories == ("a", "b", "c") and merged.counts == (1, 2, 0)
    assert (merged.n, merged.nulls, merged.unseen) == (5, 1, 1)


def test_bins_key_changes_with_the_bins_only():
    fitted = fit_numeric(pd.Series(np.arange(100.0)), 10)
    assert bins_key(fitted) == bins_key(dataclasses.replace(fitted, counts=(0,) * len(fitted.counts)))
    assert bins_key(fitted) != bins_key(dataclasses.replace(fitted, edges=fitted.edges[1:]))
