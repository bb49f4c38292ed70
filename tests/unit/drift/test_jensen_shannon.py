"""Jensen-Shannon distance (base 2): hand-worked oracles, agreement with scipy, identity, bounds and
monotonicity properties, the noise band's false-alarm rate and detection power, and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from include.monitoring.config import DriftConfig
from include.monitoring.drift.jensen_shannon import (
    JENSEN_SHANNON,
    jensen_shannon_value,
)
from tests.unit.drift.calibration import alerting_share, window_scores

PROPERTY = settings(max_examples=60, deadline=None, database=None)
TIERS = DriftConfig().jensen_shannon

# Disjoint counts whose divergence sums to 1 + 4.4e-16 in floating point (found by search).
ROUNDS_ABOVE_ONE = ([0, 9641, 3146, 0, 8449, 0, 0, 0, 2018, 0, 7971, 8817, 0, 0, 0, 1208, 8550, 0, 0, 0, 0, 0, 2479],
                    [963, 0, 0, 8154, 0, 6163, 3540, 949, 0, 3390, 0, 0, 2014, 9188, 3279, 0, 0, 146, 2029, 6319, 707, 3021, 0])

counts_lists = st.lists(st.integers(min_value=0, max_value=5000), min_size=2, max_size=12).filter(lambda c: sum(c) > 0)


def same_length_counts(data, reference):
    return data.draw(st.lists(st.integers(0, 5000), min_size=len(reference), max_size=len(reference))
                     .filter(lambda c: sum(c) > 0))


# --- oracle -----------------------------------------------------------------------------------------------------------


def test_jensen_shannon_value_two_bins_with_empty_bin_hand_worked_matches():
    """Reference [50, 50], window [40, 0]: r = [0.5, 0.5], w = [1, 0], m = (r + w) / 2 = [0.75, 0.25].

        reference side: 0.5 * log2(0.5 / 0.75) + 0.5 * log2(0.5 / 0.25) = 0.5 * (-0.5849625) + 0.5 * 1 = 0.2075187
        window side:    1 * log2(1 / 0.75) + 0 (0 * log 0 = 0, no floor)        = 0.4150375
        divergence = (0.2075187 + 0.4150375) / 2 = 0.3112781
        JS = sqrt(0.3112781) = 0.5579230
    """
    expected = math.sqrt((0.5 * math.log2(0.5 / 0.75) + 0.5 + math.log2(1 / 0.75)) / 2)
    assert jensen_shannon_value([50, 50], [40, 0]) == pytest.approx(expected, abs=1e-12)
    assert jensen_shannon_value([50, 50], [40, 0]) == pytest.approx(0.5579230, abs=1e-7)


def test_jensen_shannon_value_three_bins_half_overlap_hand_worked_is_sqrt_half():
    """Reference [30, 30, 0], window [0, 30, 30]: r = [0.5, 0.5, 0], w = [0, 0.5, 0.5], m = [0.25, 0.5, 0.25].

        reference side: 0.5 * log2(0.5 / 0.25) + 0.5 * log2(0.5 / 0.5) + 0 = 0.5
        window side:    0 + 0.5 * log2(0.5 / 0.5) + 0.5 * log2(0.5 / 0.25) = 0.5
        divergence = (0.5 + 0.5) / 2 = 0.5,  JS = sqrt(0.5) = 0.7071068
    """
    assert jensen_shannon_value([30, 30, 0], [0, 30, 30]) == pytest.approx(math.sqrt(0.5), abs=1e-12)


@PROPERTY
@given(data=st.data(), reference=counts_lists)
def test_jensen_shannon_value_random_counts_matches_scipy_base_2(data, reference):
    window = same_length_counts(data, reference)
    assert jensen_shannon_value(reference, window) == pytest.approx(jensenshannon(reference, window, base=2), abs=1e-9)


@pytest.mark.parametrize("reference, window", [([50, 50], [40, 0]), ([400, 300, 200, 100], [10, 20, 30, 40]),
                                               ([1, 0, 0, 5000], [0, 7, 1, 3])],
                         ids=["two_bins", "four_bins", "sparse"])
def test_jensen_shannon_value_is_natural_log_distance_over_sqrt_ln_2(reference, window):
    """Base 2, as documented: the natural-log distance is this value times sqrt(ln 2)."""
    natural = jensenshannon(reference, window)
    assert jensen_shannon_value(reference, window) == pytest.approx(natural / math.sqrt(math.log(2)), abs=1e-12)


# --- properties -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reference, window", [([10, 0], [0, 10]), ([5, 5, 0, 0], [0, 0, 1, 9]),
                                               ([300, 0, 200, 0, 1], [0, 40, 0, 2, 0]), ROUNDS_ABOVE_ONE],
                         ids=["two_bins", "halves", "interleaved", "rounds_above_one"])
def test_jensen_shannon_value_disjoint_supports_is_one(reference, window):
    """The maximum. In the last case the sum under the square root comes out above 1 in floating point
    (the square root would be 1 + 2e-16); the value is clipped, so the bound holds exactly."""
    value = jensen_shannon_value(reference, window)
    assert value == pytest.approx(1.0, abs=1e-12)
    assert value <= 1.0


# --- noise band -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [50, 200, 1000], ids=["n50", "n200", "n1000"])
def test_jensen_shannon_window_from_reference_false_alarm_rate_at_most_one_percent(n):
    """500 windows of n rows drawn from the reference's own distribution (standard normal), against a
    10-decile-bin reference of 20000 rows. A false alarm is a window the alert policy raises: above the
    0.999 noise band *and* at or above the 0.13 WARNING tier. At most 1 % (5 of 500) may alarm.
    Measured with 2000 windows per size: 0.0 % at 50 rows, 0.2 % at 200, 0.0 % at 1000."""
    scores = window_scores(JENSEN_SHANNON, np.random.default_rng(20260101 + n), n, trials=500)
    assert alerting_share(JENSEN_SHANNON, scores, TIERS) <= 0.01


def test_jensen_shannon_one_sd_mean_shift_at_200_rows_exceeds_band_and_critical():
    """200 windows of 200 rows from N(1, 1) against the N(0, 1) decile reference (population JS 0.39):
    every one scores above the 0.999 noise band (0.16) and above the 0.19 CRITICAL tier (lowest of 2000 such windows: 0.30)."""
    scores = window_scores(JENSEN_SHANNON, np.random.default_rng(7), 200, trials=200, shift=1.0)
    assert min(s.value - s.noise for s in scores) > 0
    assert min(s.value for s in scores) >= TIERS.critical
    assert alerting_share(JENSEN_SHANNON, scores, TIERS) == 1.0


# --- edge cases -------------------------------------------------------------------------------------------------------


def test_jensen_shannon_value_unseen_category_column_is_finite_and_larger():
    """A category never seen in the reference enters as a column with reference count 0: no floor needed."""
    value = jensen_shannon_value([500, 500, 0], [40, 40, 20])
    assert math.isfinite(value)
    assert value > jensen_shannon_value([500, 500, 0], [50, 50, 0])
