"""PSI: hand-worked oracle, the formula written out, identity/monotonicity/symmetry properties,
the noise band's false-alarm rate and detection power, and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from include.monitoring.drift.noise import noise_band
from include.monitoring.drift.psi import PSEUDO_COUNT, PSI, psi, psi_noise, psi_value, psi_values
from include.monitoring.profiles import bin_counts, bin_edges
from include.monitoring.types import ScoreKind

PROPERTY = settings(max_examples=60, deadline=None, database=None)

counts_lists = st.lists(st.integers(min_value=0, max_value=5000), min_size=2, max_size=12)


def oracle_psi(reference_counts, window_counts, pseudo=0.5):
    """PSI written out term by term in plain Python: sum_i (w_i - r_i) ln(w_i / r_i), shares after
    adding `pseudo` to every bin on both sides."""
    ref_total = sum(reference_counts) + pseudo * len(reference_counts)
    win_total = sum(window_counts) + pseudo * len(window_counts)
    total = 0.0
    for r_count, w_count in zip(reference_counts, window_counts, strict=True):
        r = (r_count + pseudo) / ref_total
        w = (w_count + pseudo) / win_total
        total += (w - r) * math.log(w / r)
    return total


# --- oracle -----------------------------------------------------------------------------------------------------------


def test_psi_value_two_bins_hand_worked_matches():
    """Reference [50, 50], window [20, 80], PSEUDO_COUNT 0.5 on every bin:

        r = [50.5, 50.5] / 101 = [0.5, 0.5]
        w = [20.5, 80.5] / 101 = [0.2029703, 0.7970297]
        bin 1: (0.2029703 - 0.5) * ln(0.2029703 / 0.5) = (-0.2970297) * (-0.9015485) = 0.2677867
        bin 2: (0.7970297 - 0.5) * ln(0.7970297 / 0.5) = ( 0.2970297) * ( 0.4662838) = 0.1385002
        PSI = 0.4062868
    """
    assert PSEUDO_COUNT == 0.5
    assert psi_value([50, 50], [20, 80]) == pytest.approx(0.2677867 + 0.1385002, abs=1e-6)
    assert psi_value([50, 50], [20, 80]) == pytest.approx(0.40628682127133323, abs=1e-12)


def test_psi_value_three_bins_with_empty_bins_hand_worked_is_finite():
    """Reference [30, 30, 0], window [0, 30, 30]: each side has one empty bin, which the pseudo-count keeps finite.

        smoothed totals: 60 + 3 * 0.5 = 61.5 on both sides
        r = [30.5, 30.5, 0.5] / 61.5,  w = [0.5, 30.5, 30.5] / 61.5
        bin 1: (0.5 - 30.5)/61.5 * ln(0.5/30.5) = (-30/61.5) * (-ln 61)
        bin 2: 0
        bin 3: (30.5 - 0.5)/61.5 * ln(30.5/0.5) = ( 30/61.5) * ( ln 61)
        PSI = (60 / 61.5) * ln 61 = 0.9756098 * 4.1108739 = 4.0106086
    """
    assert psi_value([30, 30, 0], [0, 30, 30]) == pytest.approx(60 / 61.5 * math.log(61), abs=1e-12)
    assert psi_value([30, 30, 0], [0, 30, 30]) == pytest.approx(4.0106086, abs=1e-6)


@PROPERTY
@given(data=st.data(), reference=counts_lists)
def test_psi_value_random_counts_matches_written_out_formula(data, reference):
    window = data.draw(st.lists(st.integers(0, 5000), min_size=len(reference), max_size=len(reference)))
    assert psi_value(reference, window) == pytest.approx(oracle_psi(reference, window), rel=1e-9, abs=1e-12)


# --- properties -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("counts", [[50, 50], [1, 2, 3, 4], [0, 10, 0, 7], [2000] * 10],
                         ids=["even", "uneven", "zeros", "deciles"])
def test_psi_value_identical_counts_is_zero(counts):
    assert psi_value(counts, counts) == pytest.approx(0.0, abs=1e-15)


@PROPERTY
@given(reference=counts_lists)
def test_psi_value_identical_counts_property_is_zero(reference):
    assert psi_value(reference, reference) == pytest.approx(0.0, abs=1e-12)


@PROPERTY
@given(data=st.data(), reference=counts_lists)
def test_psi_value_any_counts_is_non_negative_and_symmetric(data, reference):
    window = data.draw(st.lists(st.integers(0, 5000), min_size=len(reference), max_size=len(reference)))
    forward = psi_value(reference, window)
    assert forward >= -1e-12
    if sum(reference) == sum(window):  # equal totals -> equal pseudo-count weight on both sides
        assert psi_value(window, reference) == pytest.approx(forward, rel=1e-9, abs=1e-12)



@pytest.mark.parametrize("moved", [1, 5, 20, 40], ids=["1_row", "5_rows", "20_rows", "40_rows"])
def test_psi_value_more_rows_moved_is_larger(moved):
    """Rows moved from bin 1 to bin 2 of a [50, 50] window against a [50, 50] reference."""
    assert psi_value([50, 50], [50 - moved, 50 + moved]) > psi_value([50, 50], [50 - moved + 1, 50 + moved - 1])


# --- noise band -------------------------------------------------------------------------------------------------------


def _reference(rng):
    reference_rows = rng.normal(size=20_000)
    edges = bin_edges(reference_rows, 10)
    return edges, bin_counts(reference_rows, edges)


@pytest.mark.parametrize("n", [50, 200, 1000], ids=["n50", "n200", "n1000"])
def test_psi_noise_window_from_reference_false_alarm_rate_at_most_one_percent(n):
    """500 trials per window size: windows of n rows drawn from the reference's own distribution (standard
    normal) against a 10-bin reference of 20000 rows. A false alarm is PSI above the 0.999 noise band
    *and* at least the 0.1 warning tier; at most 1% of the 500 windows (5) may alarm."""
    rng = np.random.default_rng(20260101 + n)
    edges, reference = _reference(rng)
    noise = psi_noise(tuple(reference), n, 0.999)
    trials = 500
    alarms = 0
    for _ in range(trials):
        value = psi_value(reference, bin_counts(rng.normal(size=n), edges))
        alarms += value > noise and value >= 0.1
    assert alarms / trials <= 0.01


def test_psi_noise_one_sd_mean_shift_at_200_rows_exceeds_band_and_critical():
    """100 windows of 200 rows whose mean is shifted by one standard deviation: every one scores above
    the 0.999 noise band and above the 0.2 critical tier."""
    rng = np.random.default_rng(7)
    edges, reference = _reference(rng)
    noise = psi_noise(tuple(reference), 200, 0.999)
    values = [psi_value(reference, bin_counts(rng.normal(loc=1.0, size=200), edges)) for _ in range(100)]
    assert min(values) > noise
    assert min(values) > 0.2


def test_psi_noise_smaller_windows_have_wider_band():
    reference = tuple([2000] * 10)
    assert psi_noise(reference, 50, 0.999) > psi_noise(reference, 200, 0.999) > psi_noise(reference, 1000, 0.999)


@pytest.mark.parametrize("quantile", [0.5, 0.999], ids=["median", "q999"])
def test_psi_noise_large_window_matches_chi_squared_asymptote(quantile):
    """For large n, n * PSI of a same-distribution window is approximately chi-squared with k - 1 = 9
    degrees of freedom (PSI is the symmetrised KL divergence, ~ chi^2 / n), so the band is close to
    chi2.ppf(quantile, 9) / n."""
    n = 5000
    expected = stats.chi2.ppf(quantile, 9) / n
    assert psi_noise(tuple([2000] * 10), n, quantile) == pytest.approx(expected, rel=0.1)


def test_psi_noise_same_arguments_is_deterministic():
    reference = (1000, 3000, 500, 500)
    first = noise_band.__wrapped__(psi_values, reference, 123, 0.99)  # the shared band, bypassing its cache
    assert noise_band.__wrapped__(psi_values, reference, 123, 0.99) == first
    assert psi_noise(reference, 123, 0.99) == first


def test_psi_noise_higher_quantile_is_not_lower():
    reference = (1000, 3000, 500, 500)
    assert psi_noise(reference, 100, 0.5) <= psi_noise(reference, 100, 0.9) <= psi_noise(reference, 100, 0.999)


# --- the method -------------------------------------------------------------------------------------------------------


def test_psi_score_fields_match_parts():
    reference, window = [400, 300, 200, 100], [10, 20, 30, 40]
    score = psi(reference, window, 0.999)
    assert score.value == pytest.approx(psi_value(reference, window), abs=1e-15)
    assert score.n == 100
    assert score.noise == psi_noise(tuple(reference), 100, 0.999)
    assert score.p_value is None
    assert score.details == {"bins": 4}


def test_psi_method_declaration_is_distance_named_psi():
    assert PSI.name == "psi"
    assert PSI.score_kind is ScoreKind.DISTANCE


# --- edge cases -------------------------------------------------------------------------------------------------------


def test_psi_empty_window_does_not_exceed_its_noise_band():
    """An empty window has uniform smoothed shares; its band at n=0 is that same value, so it never alerts."""
    score = psi([800, 100, 100], [0, 0, 0], 0.999)
    assert score.n == 0
    assert math.isfinite(score.value)
    assert score.value <= score.noise


def test_psi_empty_window_uniform_reference_is_zero():
    assert psi([100, 100], [0, 0], 0.999).value == pytest.approx(0.0, abs=1e-15)


def test_psi_value_single_empty_bin_in_50_rows_adds_about_point_two():
    """The module's claim: one empty bin in a 50-row window (10 equal reference bins) adds about 0.2, not 700."""
    reference = [2000] * 10
    window = [0] + [6] * 5 + [5] * 4  # 50 rows, bin 1 empty
    assert 0.15 < psi_value(reference, window) < 0.35


def test_psi_value_unseen_category_column_is_finite_and_positive():
    """A category never seen in the reference enters as a column with reference count 0."""
    value = psi_value([500, 500, 0], [40, 40, 20])
    assert math.isfinite(value)
    assert value > psi_value([500, 500, 0], [50, 50, 0])
