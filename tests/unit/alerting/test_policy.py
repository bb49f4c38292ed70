"""Scores -> severities: distance tiers with the noise band, p-value tiers, Benjamini-Hochberg, relative drops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from include.monitoring.alerting import policy
from include.monitoring.alerting.policy import (
    benjamini_hochberg,
    drift_level,
    drop_severity,
    relative_drop,
    score_severity,
)
from include.monitoring.config import Tiers
from include.monitoring.types import ScoreKind, Severity

PROPERTY = settings(max_examples=100, deadline=None, database=None)
PSI_TIERS = Tiers(warning=0.1, critical=0.2)
CHI2_TIERS = Tiers(warning=0.01, critical=0.001)

p_values = st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=40)


# --- score_severity: distances ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, noise, expected",
    [
        (0.05, None, Severity.OK),
        (0.1, None, Severity.WARNING),
        (0.15, None, Severity.WARNING),
        (0.2, None, Severity.CRITICAL),
        (5.0, None, Severity.CRITICAL),
        (math.inf, None, Severity.CRITICAL),
        (0.3, 0.35, Severity.OK),
        (0.3, 0.3, Severity.OK),
        (0.3, 0.25, Severity.CRITICAL),
        (0.15, 0.01, Severity.WARNING),
    ],
    ids=["below_warning", "at_warning", "between", "at_critical", "far_above", "infinite", "inside_noise",
         "equal_to_noise", "above_noise", "above_small_noise"],
)
def test_score_severity_distance_tiers_and_noise_gives_expected(value, noise, expected):
    assert score_severity(ScoreKind.DISTANCE, value, PSI_TIERS, noise) is expected


@pytest.mark.parametrize("kind", [ScoreKind.DISTANCE, ScoreKind.P_VALUE], ids=["distance", "p_value"])
def test_score_severity_missing_value_is_ok(kind):
    assert score_severity(kind, None, Tiers(0.0, 0.0)) is Severity.OK


def test_score_severity_distance_only_critical_tier_skips_warning():
    assert score_severity(ScoreKind.DISTANCE, 0.15, Tiers(warning=None, critical=0.2)) is Severity.OK
    assert score_severity(ScoreKind.DISTANCE, 0.25, Tiers(warning=None, critical=0.2)) is Severity.CRITICAL


def test_score_severity_no_tiers_never_alerts():
    assert score_severity(ScoreKind.DISTANCE, 100.0, Tiers()) is Severity.OK
    assert score_severity(ScoreKind.P_VALUE, 0.0, Tiers()) is Severity.OK


@PROPERTY
@given(low=st.floats(0, 10), high=st.floats(0, 10))
def test_score_severity_distance_larger_value_is_not_less_severe(low, high):
    low, high = sorted((low, high))
    assert score_severity(ScoreKind.DISTANCE, low, PSI_TIERS) <= score_severity(ScoreKind.DISTANCE, high, PSI_TIERS)


# --- score_severity: p-values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(0.5, Severity.OK), (0.0100001, Severity.OK), (0.01, Severity.WARNING), (0.005, Severity.WARNING),
     (0.001, Severity.CRITICAL), (0.0, Severity.CRITICAL)],
    ids=["large", "just_above_warning", "at_warning", "between", "at_critical", "zero"],
)
def test_score_severity_p_value_tiers_gives_expected(value, expected):
    assert score_severity(ScoreKind.P_VALUE, value, CHI2_TIERS) is expected


def test_score_severity_p_value_noise_is_ignored():
    assert score_severity(ScoreKind.P_VALUE, 0.0001, CHI2_TIERS, noise=1.0) is Severity.CRITICAL


@PROPERTY
@given(low=st.floats(0, 1), high=st.floats(0, 1))
def test_score_severity_p_value_smaller_p_is_not_less_severe(low, high):
    low, high = sorted((low, high))
    assert score_severity(ScoreKind.P_VALUE, low, CHI2_TIERS) >= score_severity(ScoreKind.P_VALUE, high, CHI2_TIERS)


# --- benjamini_hochberg -----------------------------------------------------------------------------------------------


def test_benjamini_hochberg_three_p_values_hand_worked():
    """p = [0.01, 0.04, 0.03], m = 3. Sorted: 0.01, 0.03, 0.04 at ranks 1, 2, 3.
    Scaled p * m / rank: 0.03, 0.045, 0.04. Running minimum from the largest rank down: 0.03, 0.04, 0.04.
    Back in input order: [0.03, 0.04, 0.04]."""
    assert benjamini_hochberg([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.04, 0.04], abs=1e-15)


def test_benjamini_hochberg_large_p_values_hand_worked_at_most_one():
    """[0.6, 0.9, 1.0], m = 3: scaled 0.6 * 3 = 1.8, 0.9 * 3/2 = 1.35, 1.0 * 3/3 = 1.0; running minimum from
    the top: 1.0, 1.0, 1.0."""
    assert benjamini_hochberg([0.6, 0.9, 1.0]) == [1.0, 1.0, 1.0]
    assert benjamini_hochberg([0.6, 0.9]) == pytest.approx([0.9, 0.9], abs=1e-15)  # 1.2, 0.9 -> 0.9, 0.9


@PROPERTY
@given(p=p_values)
def test_benjamini_hochberg_random_p_values_matches_scipy(p):
    expected = stats.false_discovery_control(np.asarray(p), method="bh")
    np.testing.assert_allclose(benjamini_hochberg(p), expected, rtol=1e-9, atol=1e-12)


@PROPERTY
@given(p=p_values)
def test_benjamini_hochberg_random_p_values_monotone_bounded(p):
    adjusted = benjamini_hochberg(p)
    assert len(adjusted) == len(p)
    assert all(raw <= adj + 1e-15 and adj <= 1.0 for raw, adj in zip(p, adjusted, strict=True))
    for i in range(len(p)):
        for j in range(len(p)):
            if p[i] < p[j]:
                assert adjusted[i] <= adjusted[j]


def test_benjamini_hochberg_single_p_value_unchanged():
    assert benjamini_hochberg([0.02]) == [0.02]


def test_benjamini_hochberg_all_ones_stay_one():
    assert benjamini_hochberg([1.0, 1.0, 1.0]) == [1.0, 1.0, 1.0]


def test_benjamini_hochberg_empty_is_empty():
    assert benjamini_hochberg([]) == []


def test_benjamini_hochberg_nan_p_value_does_not_hide_the_others():
    """A NaN p-value must not make every other feature's adjusted p-value NaN (which silences every alert):
    either it is rejected, or the other values stay finite."""
    try:
        adjusted = benjamini_hochberg([math.nan, 0.0001])
    except ValueError:
        return
    assert math.isfinite(adjusted[1])
    assert adjusted[1] <= 0.0002


# --- relative_drop / drop_severity ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "baseline, value, expected",
    [(0.8, 0.76, 0.05), (0.8, 0.8, 0.0), (0.8, 0.88, -0.1), (-0.5, -0.6, 0.2)],
    ids=["drop_5pct", "unchanged", "improved", "negative_baseline"],
)
def test_relative_drop_values_hand_worked(baseline, value, expected):
    """(baseline - value) / |baseline|: (0.8 - 0.76) / 0.8 = 0.05; (-0.5 - -0.6) / 0.5 = 0.2."""
    assert relative_drop(baseline, value) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("baseline, value", [(None, 0.5), (0.5, None), (0.0, 0.5), (None, None)],
                         ids=["no_baseline", "no_value", "zero_baseline", "neither"])
def test_relative_drop_undefined_is_none(baseline, value):
    assert relative_drop(baseline, value) is None


@pytest.mark.parametrize(
    "drop, expected",
    [(None, Severity.OK), (-0.3, Severity.OK), (0.0, Severity.OK), (0.01, Severity.OK), (0.03, Severity.WARNING),
     (0.06, Severity.CRITICAL), (1.0, Severity.CRITICAL)],
    ids=["undefined", "improved", "no_drop", "below_warning", "between", "above_critical", "total_loss"],
)
def test_drop_severity_tiers_gives_expected(drop, expected):
    assert drop_severity(drop, 0.02, 0.05) is expected


@pytest.mark.parametrize("drop, expected", [(0.02, Severity.OK), (0.05, Severity.WARNING)],
                         ids=["at_warning", "at_critical"])
def test_drop_severity_drop_equal_to_tier_does_not_reach_it(drop, expected):
    """The rule is "a relative drop > 5 % is CRITICAL" (strict), so a drop of exactly a tier stays below it."""
    assert drop_severity(drop, 0.02, 0.05) is expected


@PROPERTY
@given(low=st.floats(-1, 1), high=st.floats(-1, 1))
def test_drop_severity_larger_drop_is_not_less_severe(low, high):
    low, high = sorted((low, high))
    assert drop_severity(low, 0.02, 0.05) <= drop_severity(high, 0.02, 0.05)


# --- drift_level: one unitless series whichever method scored the window ----------------------------------------------

DISTANCE_TIERS, P_VALUE_TIERS = Tiers(warning=0.1, critical=0.2), Tiers(warning=0.005, critical=0.0001)


@pytest.mark.parametrize(("kind", "value", "tiers", "noise", "level"), [
    (ScoreKind.DISTANCE, 0.01, DISTANCE_TIERS, 0.02, 0.0),  # inside the noise band
    (ScoreKind.DISTANCE, 0.06, DISTANCE_TIERS, 0.02, 0.5),  # halfway from the band to WARNING
    (ScoreKind.DISTANCE, 0.1, DISTANCE_TIERS, 0.02, 1.0),
    (ScoreKind.DISTANCE, 0.15, DISTANCE_TIERS, 0.02, 1.5),
    (ScoreKind.DISTANCE, 0.2, DISTANCE_TIERS, 0.02, 2.0),
    (ScoreKind.DISTANCE, 0.3, DISTANCE_TIERS, 0.02, 3.0),  # one tier gap beyond CRITICAL
    (ScoreKind.DISTANCE, 0.5, DISTANCE_TIERS, 0.02, 4.0),  # three gaps beyond
    (ScoreKind.DISTANCE, 0.12, DISTANCE_TIERS, 0.15, 0.0),  # above WARNING but inside a wider band: no drift
    (ScoreKind.P_VALUE, 1.0, P_VALUE_TIERS, None, 0.0),
    (ScoreKind.P_VALUE, 0.005, P_VALUE_TIERS, None, 1.0),
    (ScoreKind.P_VALUE, 10 ** ((math.log10(0.005) + math.log10(0.0001)) / 2), P_VALUE_TIERS, None, 1.5),  # log scale
    (ScoreKind.P_VALUE, 0.0001, P_VALUE_TIERS, None, 2.0),
    (ScoreKind.P_VALUE, 0.0001 * (0.0001 / 0.005), P_VALUE_TIERS, None, 3.0),  # as many decades again
], ids=["in_band", "half_way", "warning", "between", "critical", "one_gap", "three_gaps", "wide_band", "p_1",
        "p_warning", "p_between", "p_critical", "p_one_gap"])
def test_drift_level_is_0_in_the_band_1_at_warning_2_at_critical(kind, value, tiers, noise, level):
    assert drift_level(kind, value, tiers, noise) == pytest.approx(level)


def test_drift_level_of_a_missing_score_or_without_tiers_is_none():
    assert drift_level(ScoreKind.DISTANCE, None, DISTANCE_TIERS) is None
    assert drift_level(ScoreKind.P_VALUE, math.nan, P_VALUE_TIERS) is None
    assert drift_level(ScoreKind.DISTANCE, 0.5, Tiers()) is None


def test_drift_level_of_p_zero_and_infinite_distance_is_finite_and_beyond_critical():
    assert 2 < drift_level(ScoreKind.P_VALUE, 0.0, P_VALUE_TIERS) < 20
    assert 2 < drift_level(ScoreKind.DISTANCE, math.inf, DISTANCE_TIERS) < 2000


_tier = st.one_of(st.none(), st.floats(1e-6, 5))
_p_tier = st.one_of(st.none(), st.floats(1e-12, 0.5))


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(list(ScoreKind)), a=st.floats(0, 10), b=st.floats(0, 10), warning=_tier,
       critical=_tier, p_warning=_p_tier, p_critical=_p_tier, noise=st.one_of(st.none(), st.floats(0, 3)))
def test_drift_level_crosses_1_and_2_exactly_where_the_policy_gives_warning_and_critical(
        kind, a, b, warning, critical, p_warning, p_critical, noise):
    """Whatever the tiers (missing, reversed) and the band, the level agrees with score_severity and is monotone."""
    tiers = Tiers(warning, critical) if kind is ScoreKind.DISTANCE else Tiers(p_warning, p_critical)
    if tiers.warning is None and tiers.critical is None:
        return
    if kind is ScoreKind.P_VALUE:
        a, b, noise = 10 ** -a, 10 ** -b, None  # p-values from 1 down to 1e-10
    levels = []
    for value in (a, b):
        level, severity = drift_level(kind, value, tiers, noise), score_severity(kind, value, tiers, noise)
        assert (level >= 1) == (severity >= Severity.WARNING), (value, level, severity)
        assert (level >= 2) == (severity is Severity.CRITICAL), (value, level, severity)
        levels.append(level)
    worse_first = a >= b if kind is ScoreKind.DISTANCE else a <= b
    assert (levels[0] >= levels[1]) if worse_first else (levels[0] <= levels[1])


# --- single measurements: the rules that used to sit in the pipeline, the operational rows and dynamic thresholds ---

def test_a_failed_check_alerts_at_its_declared_severity_and_an_unknown_one_is_critical():
    assert policy.check_severity("null_rate", "warning", True, 12.0, 100) is Severity.WARNING
    assert policy.check_severity("category_set", "info", True, 50.0, 100) is Severity.INFO
    assert policy.check_severity("custom", "fatal", True, None, 100) is Severity.CRITICAL
    assert policy.check_severity("null_rate", "critical", False, 0.0, 100) is Severity.OK


def test_a_range_check_alerts_only_from_three_offending_rows():
    # 2 of 100 rows out of range (2 %): recorded, no alert; 3 of 100: the declared severity.
    assert policy.check_severity("out_of_range", "warning", True, 2.0, 100) is Severity.OK
    assert policy.check_severity("out_of_range", "warning", True, 3.0, 100) is Severity.WARNING
    # other checks alert on one row
    assert policy.check_severity("null_rate", "warning", True, 1.0, 100) is Severity.WARNING


def test_volume_outside_its_band_warns_and_an_empty_window_is_left_to_the_data_delay_alert():
    assert policy.volume_severity(50, 80.0, 120.0) is Severity.WARNING
    assert policy.volume_severity(121, 80.0, 120.0) is Severity.WARNING
    assert policy.volume_severity(80, 80.0, 120.0) is Severity.OK
    assert policy.volume_severity(0, 80.0, 120.0) is Severity.OK
    assert policy.empty_window_severity(0) is Severity.CRITICAL
    assert policy.empty_window_severity(1) is Severity.OK


def test_a_share_warns_strictly_above_its_limit():
    assert policy.share_severity(0.05, 0.05) is Severity.OK
    assert policy.share_severity(0.0501, 0.05) is Severity.WARNING


def test_dynamic_severity_by_standard_deviations_from_history():
    assert policy.dynamic_severity(2.9, 3.0, 5.0) is Severity.OK
    assert policy.dynamic_severity(3.0, 3.0, 5.0) is Severity.WARNING
    assert policy.dynamic_severity(5.0, 3.0, 5.0) is Severity.CRITICAL
