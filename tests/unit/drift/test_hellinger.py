"""Hellinger distance: hand-worked oracles, agreement with the formula written out in exact arithmetic,
identity, bounds and monotonicity properties, the noise band's false-alarm rate and detection power, and
edge cases."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.monitoring.config import DriftConfig
from include.monitoring.drift.hellinger import HELLINGER, hellinger_value
from tests.unit.drift.calibration import alerting_share, window_scores

PROPERTY = settings(max_examples=60, deadline=None, database=None)
TIERS = DriftConfig().hellinger

# Disjoint counts whose squared distance sums to 1 + 4.4e-16 in floating point (found by search).
ROUNDS_ABOVE_ONE = ([14, 18, 15, 0, 5, 0, 17], [0, 0, 0, 9, 0, 9, 0])

counts_lists = st.lists(st.integers(min_value=0, max_value=5000), min_size=2, max_size=12).filter(lambda c: sum(c) > 0)


def same_length_counts(data, reference):
    return data.draw(st.lists(st.integers(0, 5000), min_size=len(reference), max_size=len(reference))
                     .filter(lambda c: sum(c) > 0))


def oracle_hellinger(reference_counts, window_counts):
    """sqrt(1 - sum_i sqrt(r_i w_i)) written out in 50-digit decimal arithmetic. In floats this form loses
    the 1e-16 rounding of the sum to the square root (an error of 1e-8 near 0), which would hide the
    agreement being tested."""
    with localcontext() as ctx:
        ctx.prec = 50
        ref_total, win_total = sum(reference_counts), sum(window_counts)
        overlap = sum((Decimal(r) / ref_total * Decimal(w) / win_total).sqrt()
                      for r, w in zip(reference_counts, window_counts, strict=True))
        return float((1 - overlap).sqrt())


# --- oracle -----------------------------------------------------------------------------------------------------------


def test_hellinger_value_two_bins_hand_worked_matches():
    """Reference [50, 50], window [90, 10]: r = [0.5, 0.5], w = [0.9, 0.1].

        overlap = sqrt(0.45) + sqrt(0.05) = 3/sqrt(20) + 1/sqrt(20) = 4/sqrt(20) = 2/sqrt(5) = 0.8944272
        H = sqrt(1 - 0.8944272) = sqrt(0.1055728) = 0.3249197
    """
    assert hellinger_value([50, 50], [90, 10]) == pytest.approx(math.sqrt(1 - 2 / math.sqrt(5)), abs=1e-12)
    assert hellinger_value([50, 50], [90, 10]) == pytest.approx(0.3249197, abs=1e-7)


def test_hellinger_value_three_bins_with_empty_bin_hand_worked_matches():
    """Reference [36, 64, 0], window [16, 4, 5]: r = [0.36, 0.64, 0], w = [0.64, 0.16, 0.2].

        overlap = sqrt(0.36 * 0.64) + sqrt(0.64 * 0.16) + sqrt(0 * 0.2) = 0.6 * 0.8 + 0.8 * 0.4 + 0 = 0.8
        H = sqrt(1 - 0.8) = sqrt(0.2) = 0.4472136   (the empty reference bin needs no floor)
    """
    assert hellinger_value([36, 64, 0], [16, 4, 5]) == pytest.approx(math.sqrt(0.2), abs=1e-12)


@PROPERTY
@given(data=st.data(), reference=counts_lists)
def test_hellinger_value_random_counts_matches_written_out_formula(data, reference):
    window = same_length_counts(data, reference)
    assert hellinger_value(reference, window) == pytest.approx(oracle_hellinger(reference, window), abs=1e-9)


@PROPERTY
@given(reference=counts_lists, offsets=st.lists(st.integers(0, 1), min_size=12, max_size=12))
def test_hellinger_value_nearly_identical_counts_matches_written_out_formula(reference, offsets):
    """Windows one row away from the reference per bin: H is about 1e-4, where rounding matters most."""
    window = [count + offset for count, offset in zip(reference, offsets, strict=False)]
    assert hellinger_value(reference, window) == pytest.approx(oracle_hellinger(reference, window), abs=1e-9)


# --- properties -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reference, window", [([10, 0], [0, 10]), ([5, 5, 0, 0], [0, 0, 1, 9]),
                                               ([300, 0, 200, 0, 1], [0, 40, 0, 2, 0]), ROUNDS_ABOVE_ONE],
                         ids=["two_bins", "halves", "interleaved", "rounds_above_one"])
def test_hellinger_value_disjoint_supports_is_one(reference, window):
    """The maximum. In the last case the sum under the square root comes out above 1 in floating point
    (the square root would be 1 + 2e-16); the value is clipped, so the bound holds exactly."""
    value = hellinger_value(reference, window)
    assert value == pytest.approx(1.0, abs=1e-12)
    assert value <= 1.0


# --- noise band -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [50, 200, 1000], ids=["n50", "n200", "n1000"])
def test_hellinger_window_from_reference_false_alarm_rate_at_most_one_percent(n):
    """500 windows of n rows drawn from the reference's own distribution (standard normal), against a
    10-decile-bin reference of 20000 rows. A false alarm is a window the alert policy raises: above the
    0.999 noise band *and* at or above the 0.11 WARNING tier. At most 1 % (5 of 500) may alarm.
    Measured with 2000 windows per size: 0.0 % at 50 rows, 0.15 % at 200, 0.0 % at 1000."""
    scores = window_scores(HELLINGER, np.random.default_rng(20260201 + n), n, trials=500)
    assert alerting_share(HELLINGER, scores, TIERS) <= 0.01


def test_hellinger_one_sd_mean_shift_at_200_rows_exceeds_band_and_critical():
    """200 windows of 200 rows from N(1, 1) against the N(0, 1) decile reference (population H 0.33):
    every one scores above the 0.999 noise band (0.13) and above the 0.16 CRITICAL tier (lowest of 2000
    such windows: 0.26)."""
    scores = window_scores(HELLINGER, np.random.default_rng(8), 200, trials=200, shift=1.0)
    assert min(s.value - s.noise for s in scores) > 0
    assert min(s.value for s in scores) >= TIERS.critical
    assert alerting_share(HELLINGER, scores, TIERS) == 1.0


# --- edge cases -------------------------------------------------------------------------------------------------------


def test_hellinger_value_unseen_category_column_is_finite_and_larger():
    """A category never seen in the reference enters as a column with reference count 0: no floor needed."""
    value = hellinger_value([500, 500, 0], [40, 40, 20])
    assert math.isfinite(value)
    assert value > hellinger_value([500, 500, 0], [50, 50, 0])
