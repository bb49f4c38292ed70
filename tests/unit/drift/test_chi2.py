"""Two-sample chi-squared: hand-worked oracle, scipy oracles (and that it is *not* the goodness-of-fit
test), identity/monotonicity properties, sparse-column pooling and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from include.monitoring.drift.chi2 import CHI2, MIN_EXPECTED, chi2, pooled_table
from include.monitoring.types import ScoreKind

PROPERTY = settings(max_examples=60, deadline=None, database=None)


def oracle_homogeneity(table):
    """Pearson's statistic of a 2 x K table written out: E = row total * column total / N, X^2 = sum (O-E)^2/E,
    p from the chi-squared survival function with K - 1 degrees of freedom."""
    observed = np.asarray(table, dtype="float64")
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    dof = observed.shape[1] - 1
    return statistic, float(stats.chi2.sf(statistic, dof)), dof


# --- oracle -----------------------------------------------------------------------------------------------------------


def test_chi2_two_bins_hand_worked_matches():
    """Reference [30, 70], window [50, 50]: row totals 100 and 100, column totals 80 and 120, N = 200.

        expected, both rows: [100 * 80 / 200, 100 * 120 / 200] = [40, 60]
        X^2 = (30-40)^2/40 + (70-60)^2/60 + (50-40)^2/40 + (50-60)^2/60
            = 2.5 + 1.6667 + 2.5 + 1.6667 = 8.3333 (= 25/3), dof = 1
        p = P(chi2_1 > 25/3) = erfc(sqrt(25/6)) = 0.0038924
    """
    score = chi2([30, 70], [50, 50], 0.999)
    assert score.value == pytest.approx(25 / 3, abs=1e-12)
    assert score.p_value == pytest.approx(math.erfc(math.sqrt(25 / 6)), rel=1e-9)
    assert score.p_value == pytest.approx(0.0038924, abs=1e-7)
    assert score.n == 100
    assert score.details == {"columns": 2, "dof": 1}


def test_chi2_two_bins_is_not_goodness_of_fit():
    """The goodness-of-fit test treats the reference shares [0.3, 0.7] as exact: expected window [30, 70],
    X^2 = 20^2/30 + 20^2/70 = 13.333 + 5.714 = 19.048, p = 1.27e-5. The two-sample test gives 8.333, p = 0.0039."""
    gof = stats.chisquare([50, 50], f_exp=[30, 70])
    assert gof.statistic == pytest.approx(400 / 30 + 400 / 70, abs=1e-12)
    score = chi2([30, 70], [50, 50], 0.999)
    assert score.value < gof.statistic
    assert score.p_value > 100 * gof.pvalue


@PROPERTY
@given(
    data=st.data(),
    reference=st.lists(st.integers(20, 3000), min_size=2, max_size=8),
)
def test_chi2_non_sparse_tables_matches_scipy_and_written_out(data, reference):
    window = data.draw(st.lists(st.integers(20, 3000), min_size=len(reference), max_size=len(reference)))
    table = np.array([reference, window], dtype="float64")
    expected_window = table.sum(axis=0) * table[1].sum() / table.sum()
    assume(not (expected_window < MIN_EXPECTED).any())  # pooling would apply; the oracle is for unpooled tables
    score = chi2(reference, window, 0.999)
    scipy_statistic, scipy_p, scipy_dof, _ = stats.chi2_contingency(table, correction=False)
    statistic, p_value, dof = oracle_homogeneity(table)
    assert score.value == pytest.approx(scipy_statistic, rel=1e-9, abs=1e-12)
    assert score.p_value == pytest.approx(scipy_p, rel=1e-9, abs=1e-300)
    assert score.value == pytest.approx(statistic, rel=1e-9, abs=1e-12)
    assert score.p_value == pytest.approx(p_value, rel=1e-9, abs=1e-300)
    assert score.details["dof"] == dof == scipy_dof


@PROPERTY
@given(
    data=st.data(),
    reference=st.lists(st.integers(20, 3000), min_size=2, max_size=8),
)
def test_chi2_differs_from_goodness_of_fit_statistic_is_smaller(data, reference):
    """Two-sample X^2 = sum_j (A/B) (w_j - B p_j)^2 / c_j  <  goodness of fit sum_j (A/B) (w_j - B p_j)^2 / r_j,
    because the column total c_j = r_j + w_j exceeds r_j: the one-sample test over-alerts."""
    window = data.draw(st.lists(st.integers(20, 3000), min_size=len(reference), max_size=len(reference)))
    table = np.array([reference, window], dtype="float64")
    assume(not (table.sum(axis=0) * table[1].sum() / table.sum() < MIN_EXPECTED).any())
    ref, win = np.asarray(reference, dtype="float64"), np.asarray(window, dtype="float64")
    gof = stats.chisquare(win, f_exp=ref / ref.sum() * win.sum())
    score = chi2(reference, window, 0.999)
    assert score.value <= gof.statistic * (1 + 1e-12)
    if gof.statistic > 1e-9:
        assert score.value < gof.statistic
        assert score.p_value >= gof.pvalue  # both may underflow to 0.0


def test_chi2_equal_sizes_chance_difference_about_half_of_goodness_of_fit():
    """Reference 200 rows, window 200 rows with a small chance difference: the goodness-of-fit p-value is
    much smaller (it ignores the reference's own sampling error, factor ~ 1 + n_window / n_reference = 2)."""
    reference, window = [90, 110], [110, 90]
    gof = stats.chisquare(window, f_exp=[90, 110])
    score = chi2(reference, window, 0.999)
    assert score.value == pytest.approx(gof.statistic / 2, rel=0.05)
    assert score.p_value > gof.pvalue


# --- properties -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("counts", [[50, 50], [10, 200, 30], [1000, 1, 1, 1000]], ids=["even", "uneven", "sparse"])
def test_chi2_identical_counts_p_value_is_one(counts):
    score = chi2(counts, counts, 0.999)
    assert score.value == pytest.approx(0.0, abs=1e-12)
    assert score.p_value == pytest.approx(1.0, abs=1e-9)


@PROPERTY
@given(reference=st.lists(st.integers(0, 3000), min_size=2, max_size=10), factor=st.integers(1, 4))
def test_chi2_proportional_counts_p_value_is_one(reference, factor):
    window = [factor * c for c in reference]
    score = chi2(reference, window, 0.999)
    assert score.value == pytest.approx(0.0, abs=1e-9)
    assert score.p_value == pytest.approx(1.0, abs=1e-9)


@PROPERTY
@given(
    data=st.data(),
    reference=st.lists(st.integers(200, 3000), min_size=2, max_size=8),
    t_small=st.floats(0, 1),
    t_large=st.floats(0, 1),
)
def test_chi2_larger_shift_toward_target_is_not_less_significant(data, reference, t_small, t_large):
    """Window (500 rows) moves along a line from the reference's shares (t=0) to a target's (t=1). With fixed
    row totals every term (r_j B - w_j A)^2 / (A B c_j) is convex in t and 0 at t=0, so X^2 never decreases and,
    with the degrees of freedom fixed (examples that would pool a column are discarded), the p-value never increases."""
    target = data.draw(st.lists(st.integers(0, 3000), min_size=len(reference), max_size=len(reference))
                       .filter(lambda c: sum(c) > 0))
    t_small, t_large = sorted((t_small, t_large))
    ref = np.asarray(reference, dtype="float64")
    n = 500.0

    def window(t):
        return list((1 - t) * ref / ref.sum() * n + t * np.asarray(target, dtype="float64") / sum(target) * n)

    for t in (t_small, t_large):
        table = np.array([reference, window(t)])
        assume(not (table.sum(axis=0) * n / table.sum() < MIN_EXPECTED).any())
    small, large = chi2(reference, window(t_small), 0.999), chi2(reference, window(t_large), 0.999)
    assert small.value <= large.value + 1e-9
    assert large.p_value <= small.p_value + 1e-12


# --- pooling ----------------------------------------------------------------------------------------------------------


def test_pooled_table_several_sparse_columns_are_pooled_into_one():
    """Columns 3-5 have 10 rows each: expected window count 10 * 180 / 540 = 3.3 < 5 each; summed, 30 rows
    expect 10 >= 5, so the pool stays a column of its own."""
    table = pooled_table([100, 100, 5, 5, 5], [50, 50, 5, 5, 5])
    np.testing.assert_array_equal(table, [[100, 100, 15], [50, 50, 15]])


def test_pooled_table_pool_still_sparse_joins_the_smallest_column():
    """Columns 3-5 have 2 rows each; summed, 6 rows expect 6 * 103 / 306 = 2.0 < 5: they join column 2
    (the smallest of the rest; ties go to the first)."""
    table = pooled_table([100, 100, 1, 1, 1], [50, 50, 1, 1, 1])
    np.testing.assert_array_equal(table, [[103, 100], [53, 50]])


def test_pooled_table_lone_never_seen_value_joins_the_smallest_column():
    """One window row in a category the reference never had (expected 1 * 501 / 20501 = 0.02) must not
    decide the test: it joins the smallest column instead of contributing (1 - 0.02)^2 / 0.02 = 40."""
    table = pooled_table([10_000, 6_000, 4_000, 0], [250, 150, 100, 1])
    np.testing.assert_array_equal(table, [[10_000, 6_000, 4_000], [250, 150, 101]])
    assert chi2([10_000, 6_000, 4_000, 0], [250, 150, 100, 1]).p_value > 0.5


def test_pooled_table_all_columns_sparse_is_one_column_with_p_one():
    np.testing.assert_array_equal(pooled_table([100, 100, 100], [1, 2, 1]), [[300], [4]])
    assert chi2([100, 100, 100], [1, 2, 1]).p_value == 1.0


def test_pooled_table_empty_columns_are_dropped():
    table = pooled_table([100, 0, 100], [50, 0, 50])
    np.testing.assert_array_equal(table, [[100, 100], [50, 50]])


def test_chi2_sparse_columns_matches_scipy_on_pooled_table():
    reference, window = [100, 100, 6, 6, 6], [50, 50, 4, 3, 0]
    pooled = np.array([[100, 100, 18], [50, 50, 7]], dtype="float64")
    statistic, p_value, dof, _ = stats.chi2_contingency(pooled, correction=False)
    score = chi2(reference, window, 0.999)
    assert score.value == pytest.approx(statistic, rel=1e-9)
    assert score.p_value == pytest.approx(p_value, rel=1e-9)
    assert score.details == {"columns": 3, "dof": 2}


# --- edge cases -------------------------------------------------------------------------------------------------------


def test_chi2_unseen_category_column_lowers_p_value():
    """A category unseen in the reference enters as its own column with reference count 0 (kept: its expected
    window count 30 * 130 / 330 = 11.8 is not sparse)."""
    reference, window = [100, 100, 0], [50, 50, 30]
    statistic, p_value, _, _ = stats.chi2_contingency(np.array([reference, window]), correction=False)
    score = chi2(reference, window, 0.999)
    assert score.value == pytest.approx(statistic, rel=1e-9)
    assert score.p_value == pytest.approx(p_value, rel=1e-9)
    assert score.p_value < 0.001


def test_chi2_empty_window_p_value_is_one():
    score = chi2([10, 20, 30], [0, 0, 0], 0.999)
    assert score.n == 0
    assert score.value == 0.0
    assert score.p_value == 1.0


def test_chi2_single_category_p_value_is_one():
    score = chi2([100], [40], 0.999)
    assert score.p_value == 1.0
    assert score.details == {"columns": 1}


def test_chi2_disjoint_categories_p_value_is_tiny():
    assert chi2([100, 100, 0, 0], [0, 0, 100, 100], 0.999).p_value < 1e-20


def test_chi2_method_declaration_is_p_value_named_chi2():
    assert CHI2.name == "chi2"
    assert CHI2.score_kind is ScoreKind.P_VALUE
    assert chi2([30, 70], [50, 50], 0.999).noise is None
