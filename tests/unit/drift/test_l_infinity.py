"""L-infinity distance: hand-worked oracles, agreement with numpy, identity, bounds and monotonicity
properties, the noise band's false-alarm rate and detection power, and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.monitoring.config import DriftConfig
from include.monitoring.drift.l_infinity import L_INFINITY, l_infinity_value
from tests.unit.drift.calibration import alerting_share, window_scores

PROPERTY = settings(max_examples=60, deadline=None, database=None)
TIERS = DriftConfig().l_infinity

counts_lists = st.lists(st.integers(min_value=0, max_value=5000), min_size=2, max_size=12).filter(lambda c: sum(c) > 0)


def same_length_counts(data, reference):
    return data.draw(st.lists(st.integers(0, 5000), min_size=len(reference), max_size=len(reference))
                     .filter(lambda c: sum(c) > 0))


def oracle_l_infinity(reference_counts, window_counts):
    reference = np.asarray(reference_counts, dtype="float64")
    window = np.asarray(window_counts, dtype="float64")
    return float(np.linalg.norm(window / window.sum() - reference / reference.sum(), ord=np.inf))


# --- oracle -----------------------------------------------------------------------------------------------------------


def test_l_infinity_value_two_bins_hand_worked_matches():
    """Reference [50, 50], window [30, 10]: r = [0.5, 0.5], w = [0.75, 0.25];
    |w - r| = [0.25, 0.25], so L_inf = 0.25."""
    assert l_infinity_value([50, 50], [30, 10]) == pytest.approx(0.25, abs=1e-15)


def test_l_infinity_value_four_bins_with_empty_bin_hand_worked_matches():
    """Reference [50, 30, 20, 0], window [5, 30, 10, 5]: r = [0.5, 0.3, 0.2, 0], w = [0.1, 0.6, 0.2, 0.1];
    |w - r| = [0.4, 0.3, 0, 0.1], so L_inf = 0.4 (bin 1 lost 40 points of share; the empty bin needs no floor)."""
    assert l_infinity_value([50, 30, 20, 0], [5, 30, 10, 5]) == pytest.approx(0.4, abs=1e-15)


@PROPERTY
@given(data=st.data(), reference=counts_lists)
def test_l_infinity_value_random_counts_matches_numpy_norm(data, reference):
    window = same_length_counts(data, reference)
    assert l_infinity_value(reference, window) == pytest.approx(oracle_l_infinity(reference, window), abs=1e-9)


# --- properties -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reference, window, expected", [([10, 0], [0, 10], 1.0), ([10, 0, 0], [0, 3, 7], 1.0),
                                                         ([5, 5, 0, 0], [0, 0, 1, 9], 0.9),
                                                         ([300, 0, 200, 0], [0, 40, 0, 60], 0.6)],
                         ids=["two_point_masses", "point_mass_vs_spread", "halves", "interleaved"])
def test_l_infinity_value_disjoint_supports_is_largest_share(reference, window, expected):
    """With disjoint supports every |w_i - r_i| is a share of one side, so L_inf is the largest share on
    either side: the maximum, 1, when one side is a single bin."""
    assert l_infinity_value(reference, window) == pytest.approx(expected, abs=1e-15)


@PROPERTY
@given(
    data=st.data(),
    reference=st.lists(st.integers(1, 5000), min_size=2, max_size=10),
    t_small=st.floats(0, 1),
    t_large=st.floats(0, 1),
)
def test_l_infinity_value_larger_shift_toward_target_is_larger_in_proportion(data, reference, t_small, t_large):
    """The window moves along a straight line from the reference's shares (t=0) to another distribution's
    (t=1). Every |w_i(t) - r_i| is t |target_i - r_i|, so L_inf grows linearly: t * L_inf(1)."""
    target = same_length_counts(data, reference)
    t_small, t_large = sorted((t_small, t_large))
    ref = np.asarray(reference, dtype="float64")
    tgt = np.asarray(target, dtype="float64") * ref.sum() / sum(target)

    def window(t):
        return list((1 - t) * ref + t * tgt)

    small, large = l_infinity_value(reference, window(t_small)), l_infinity_value(reference, window(t_large))
    assert small <= large + 1e-12
    assert large == pytest.approx(t_large * l_infinity_value(reference, target), abs=1e-12)


# --- noise band -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [50, 200, 1000], ids=["n50", "n200", "n1000"])
def test_l_infinity_window_from_reference_false_alarm_rate_at_most_one_percent(n):
    """500 windows of n rows drawn from the reference's own distribution (standard normal), against a
    10-decile-bin reference of 20000 rows. A false alarm is a window the alert policy raises: above the
    0.999 noise band *and* at or above the 0.07 WARNING tier. At most 1 % (5 of 500) may alarm.
    Measured with 2000 windows per size: 0.05 % at 50 rows, 0.2 % at 200, 0.0 % at 1000."""
    scores = window_scores(L_INFINITY, np.random.default_rng(20260301 + n), n, trials=500)
    assert alerting_share(L_INFINITY, scores, TIERS) <= 0.01


def test_l_infinity_one_sd_mean_shift_at_200_rows_exceeds_band_and_critical():
    """200 windows of 200 rows from N(1, 1) against the N(0, 1) decile reference (population L_inf 0.29, the
    top decile's share rising from 0.10 to 0.39): every one scores above the 0.999 noise band (0.085) and
    above the 0.10 CRITICAL tier (lowest of 2000 such windows: 0.165)."""
    scores = window_scores(L_INFINITY, np.random.default_rng(9), 200, trials=200, shift=1.0)
    assert min(s.value - s.noise for s in scores) > 0
    assert min(s.value for s in scores) >= TIERS.critical
    assert alerting_share(L_INFINITY, scores, TIERS) == 1.0


# --- edge cases -------------------------------------------------------------------------------------------------------


def test_l_infinity_value_unseen_category_column_is_its_share():
    """A category never seen in the reference enters as a column with reference count 0; 20 % of the window
    in it is a change of 0.2, larger than the 0.1 lost by each known category."""
    value = l_infinity_value([500, 500, 0], [40, 40, 20])
    assert math.isfinite(value)
    assert value == pytest.approx(0.2, abs=1e-15)
