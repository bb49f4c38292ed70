"""The shared noise band and input checks of the count-based distances (include/monitoring/drift/noise.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from include.monitoring.drift.hellinger import hellinger_values
from include.monitoring.drift.jensen_shannon import jensen_shannon_values
from include.monitoring.drift.l_infinity import l_infinity_values
from include.monitoring.drift.noise import NOISE_DRAWS, checked_counts, distance_score, noise_band
from include.monitoring.drift.psi import psi_noise, psi_values

DISTANCES = [psi_values, jensen_shannon_values, hellinger_values, l_infinity_values]
DISTANCE_IDS = ["psi", "jensen_shannon", "hellinger", "l_infinity"]


def first_bin_count(reference_counts, window_counts):
    """A statistic with a known no-drift distribution: the window's count in bin 1, Binomial(n, r_1)."""
    return window_counts[..., 0]


# --- the band ---------------------------------------------------------------------------------------------------------


def test_noise_band_is_quantile_over_draws_seeded_by_window_size():
    """Written out: NOISE_DRAWS multinomial windows of n rows from the reference shares, generator seeded with n."""
    reference, n = (1000, 3000, 500, 500), 120
    draws = np.random.default_rng(n).multinomial(n, np.asarray(reference) / 5000, size=NOISE_DRAWS).astype("float64")
    expected = float(np.quantile(hellinger_values(np.asarray(reference, dtype="float64"), draws), 0.99))
    assert noise_band.__wrapped__(hellinger_values, reference, n, 0.99) == expected


@pytest.mark.parametrize("n, quantile", [(100, 0.5), (100, 0.999), (1000, 0.99)], ids=["n100_median", "n100_q999", "n1000_q99"])
def test_noise_band_known_statistic_matches_binomial_quantile(n, quantile):
    """Bin 1 holds 20 % of the reference, so its window count is Binomial(n, 0.2): the band is that quantile
    (within one row, the resampling error of 4000 draws)."""
    band = noise_band(first_bin_count, (2000, 3000, 5000), n, quantile)
    assert abs(band - stats.binom.ppf(quantile, n, 0.2)) <= 1


@pytest.mark.parametrize("statistic", DISTANCES, ids=DISTANCE_IDS)
def test_noise_band_larger_windows_have_narrower_band(statistic):
    reference = (500, 1500, 2500, 3000, 2500)
    bands = [noise_band(statistic, reference, n, 0.999) for n in (50, 200, 1000, 5000)]
    assert bands == sorted(bands, reverse=True)
    assert len(set(bands)) == 4


@pytest.mark.parametrize("statistic", DISTANCES, ids=DISTANCE_IDS)
def test_noise_band_higher_quantile_is_not_lower(statistic):
    reference = (1000, 3000, 500, 500)
    bands = [noise_band(statistic, reference, 100, q) for q in (0.5, 0.9, 0.999)]
    assert bands == sorted(bands)
    assert bands[0] < bands[2]


def test_noise_band_same_arguments_is_deterministic_without_the_cache():
    reference = (1000, 3000, 500, 500)
    first = noise_band.__wrapped__(hellinger_values, reference, 123, 0.99)
    assert noise_band.__wrapped__(hellinger_values, reference, 123, 0.99) == first


def test_noise_band_repeated_call_is_served_from_the_cache():
    reference = (17, 4, 9)
    noise_band(jensen_shannon_values, reference, 31, 0.95)
    hits = noise_band.cache_info().hits
    noise_band(jensen_shannon_values, reference, 31, 0.95)
    assert noise_band.cache_info().hits == hits + 1


def test_noise_band_psi_noise_is_the_shared_band_of_psi():
    reference = (1000, 3000, 500, 500)
    assert psi_noise(reference, 80, 0.999) == noise_band(psi_values, reference, 80, 0.999)


def test_noise_band_zero_rows_is_statistic_of_empty_windows():
    """n = 0 is allowed (PSI defines a value for an empty window); every draw is the all-zero window."""
    reference = (800, 100, 100)
    empty = psi_values(np.asarray(reference, dtype="float64"), np.zeros(3))
    assert noise_band(psi_values, reference, 0, 0.999) == pytest.approx(float(empty), abs=1e-15)


def test_noise_band_empty_reference_raises_value_error_naming_it():
    with pytest.raises(ValueError, match=r"reference bin counts \[0, 0, 0\] sum to 0"):
        noise_band.__wrapped__(l_infinity_values, (0, 0, 0), 50, 0.999)


def test_noise_band_negative_window_size_raises_value_error():
    with pytest.raises(ValueError, match="window size must be at least 0, got -1"):
        noise_band.__wrapped__(l_infinity_values, (10, 10), -1, 0.999)


# --- input checks -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reference, window, message", [
    ([10, 20, 30], [0, 0, 0], "demo: the window has no rows (all 3 bin counts are 0)"),
    ([0, 0], [1, 2], "demo: the reference has no rows (all 2 bin counts are 0)"),
    ([10, 20, 30], [1, 2], "demo: expected two equally long, non-empty lists of bin counts, got 3 reference and 2 window"),
    ([], [], "demo: expected two equally long, non-empty lists of bin counts, got 0 reference and 0 window"),
    ([10, -1], [1, 2], "demo: reference bin counts must be finite and non-negative"),
    ([10, 20], [1, math.nan], "demo: window bin counts must be finite and non-negative"),
], ids=["empty_window", "empty_reference", "lengths_differ", "no_bins", "negative_count", "nan_count"])
def test_checked_counts_bad_counts_raise_value_error_naming_method_and_problem(reference, window, message):
    with pytest.raises(ValueError) as caught:
        checked_counts("demo", reference, window)
    assert str(caught.value).startswith(message)


def test_checked_counts_valid_counts_returned_as_float_arrays():
    reference, window = checked_counts("demo", [3, 0, 1], [0, 0, 2])
    assert reference.dtype == window.dtype == np.float64
    np.testing.assert_array_equal(reference, [3, 0, 1])
    np.testing.assert_array_equal(window, [0, 0, 2])


def test_distance_score_fields_are_value_size_band_and_bins():
    score = distance_score("demo", l_infinity_values, [60, 40], [10, 30], 0.99)
    assert score.value == pytest.approx(0.35, abs=1e-15)  # |0.25 - 0.6|
    assert score.n == 40
    assert score.noise == noise_band(l_infinity_values, (60, 40), 40, 0.99)
    assert score.p_value is None
    assert score.details == {"bins": 2}
