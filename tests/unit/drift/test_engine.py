"""The drift step over a whole feature set (20 numeric, 5 categorical, the score and the positive share):
false alarms on undrifted windows of 50, 200, 1000 and 10000 rows, detection of the shifts the issue names,
and edge cases that must be recorded, not crash."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from include.monitoring.config import FeaturesConfig
from include.monitoring.drift.engine import compute_drift
from include.monitoring.reference import fit_reference
from include.monitoring.types import Severity
from tests.unit.drift import synthetic

REFERENCE_ROWS = 20_000
# Undrifted windows per size, of which at most 1 % (2) may alert. Fewer windows would make the bound meaningless,
# more only sharpen a rate that bench/false_alarm_sweep.py measures. With k alerting windows ~ Binomial(200, p),
# P(k <= 2) is 0.99 at the measured p = 0.2 % (3 of 1400 windows over the four sizes), 0.68 at p = 1 %, 0.24 at
# 2 %, 0.06 at 3 % and 0.002 at 5 %: a band or correction that lets 3 % or more of the windows alert fails here.
# (400 windows allowing 4 let 3 % pass with probability 0.007, for twice the time.)
TRIALS = 200


@pytest.fixture(scope="module")
def fitted():
    config = synthetic.config()
    return config, fit_reference(config, synthetic.frame(np.random.default_rng(2026), REFERENCE_ROWS))


def alerting(rows) -> list:
    return [row for row in rows if row.severity >= Severity.WARNING]


@pytest.mark.slow
@pytest.mark.parametrize("n", [50, 200, 1000, 10_000], ids=lambda n: f"{n}_rows")
def test_no_drift_windows_alert_at_most_one_percent_over_the_whole_feature_set(fitted, n):
    config, reference = fitted
    rng = np.random.default_rng(n)
    alerted = []
    for trial in range(TRIALS):
        rows = compute_drift(config, reference, synthetic.observation(config, reference, synthetic.frame(rng, n)))
        assert len([r for r in rows if r.value is not None]) >= 26  # every feature, the score and the outputs scored
        if alerting(rows):
            alerted.append((trial, [(r.metric, r.column, r.value, r.p_value) for r in alerting(rows)]))
    assert len(alerted) <= TRIALS // 100, alerted


@pytest.mark.parametrize("n, shift, method", [(10_000, 0.2, "wasserstein"), (200, 1.0, "ks")],
                         ids=["0.2_sd_at_10000_rows", "1_sd_at_200_rows"])
def test_mean_shift_is_detected_on_the_shifted_feature_only(fitted, n, shift, method):
    config, reference = fitted
    rng = np.random.default_rng(7)
    for _ in range(20):
        rows = synthetic.frame(rng, n, shift={"num_0": shift, "num_5": shift})
        result = compute_drift(config, reference, synthetic.observation(config, reference, rows))
        flagged = {r.column for r in alerting(result)}
        assert flagged == {"num_0", "num_5"}, [(r.metric, r.column, r.value, r.p_value) for r in alerting(result)]
        assert {r.metric for r in result if r.column == "num_0"} == {method, "drift_level"}
        [share] = [r for r in result if r.metric == "drift_share"]
        assert share.value == pytest.approx(2 / 25)


@pytest.mark.parametrize("n", [200, 1000, 10_000], ids=lambda n: f"{n}_rows")
def test_five_percent_new_category_is_critical(fitted, n):
    config, reference = fitted
    rows = synthetic.frame(np.random.default_rng(3), n)
    rows.loc[rows.index[: n // 20], "cat_2"] = "brand_new_level"
    result = compute_drift(config, reference, synthetic.observation(config, reference, rows))
    [new] = [r for r in result if r.metric == "new_category_share" and r.column == "cat_2"]
    assert new.value == pytest.approx(0.05) and new.severity is Severity.CRITICAL
    assert "brand_new_level" in new.details["examples"]
    assert {r.column for r in alerting(result)} == {"cat_2"}


# --- edge cases -------------------------------------------------------------------------------------------------------


def _scored(config, reference, rows):
    """The drift rows of one window, keyed by (metric, column)."""
    return {(r.metric, r.column): r for r in compute_drift(config, reference,
                                                          synthetic.observation(config, reference, rows))}


def _drift_rows(fitted, mutate, n=500):
    config, reference = fitted
    rows = synthetic.frame(np.random.default_rng(4), n)
    mutate(rows)
    return _scored(config, reference, rows)


def _num_0(config, reference, n, seed):
    """num_0's own drift row in an undrifted window of n rows."""
    return _feature_row(_scored(config, reference, synthetic.frame(np.random.default_rng(seed), n)), "num_0")


def _feature_row(result, column):
    [row] = [r for (metric, col), r in result.items() if col == column and r.details.get("alert_rule") == "feature_drift"]
    return row


@pytest.mark.parametrize("values, reason", [
    (np.nan, "no finite values in the window (all null or infinite)"),
    (np.inf, "no finite values in the window (all null or infinite)"),
], ids=["all_nan", "all_infinite"])
def test_all_nan_or_infinite_column_is_skipped_with_the_reason(fitted, values, reason):
    def mutate(rows):
        rows["num_0"] = values

    row = _feature_row(_drift_rows(fitted, mutate), "num_0")
    assert row.value is None and row.details["skipped"] == reason
    assert row.severity is Severity.OK


def test_constant_window_column_is_scored_and_alerts(fitted):
    def mutate(rows):
        rows["num_0"] = 0.0  # the zeroed-feature incident: far below a reference of mean 50

    row = _feature_row(_drift_rows(fitted, mutate), "num_0")
    assert row.metric == "ks" and row.value >= 0.99  # all of the window below the reference's first percentile
    assert row.severity is Severity.CRITICAL


def test_some_infinities_are_left_out_and_the_rest_scored(fitted):
    def mutate(rows):
        rows.loc[rows.index[:10], "num_1"] = np.inf

    row = _feature_row(_drift_rows(fitted, mutate), "num_1")
    assert row.value is not None and row.n == 490


def test_numeric_column_as_text_skips_drift_for_that_column_only(fitted):
    def mutate(rows):
        rows["num_2"] = rows["num_2"].astype(str)
        rows.loc[rows.index[:3], "num_2"] = "n/a"

    result = _drift_rows(fitted, mutate)
    row = _feature_row(result, "num_2")
    assert row.value is None and "3 values could not be parsed as numbers" in row.details["skipped"]
    assert _feature_row(result, "num_3").value is not None


def test_all_null_categorical_column_is_skipped_with_the_reason(fitted):
    def mutate(rows):
        rows["cat_0"] = None

    row = _feature_row(_drift_rows(fitted, mutate), "cat_0")
    assert row.value is None and row.details["skipped"] == "no non-null values in the window"


def test_constant_reference_column_is_skipped_for_wasserstein_with_the_reason():
    # num_0 alone: fitting the 25 other features' noise tables took nearly all of this test's time, and whether a
    # column is skipped depends on its own reference only.
    config = dataclasses.replace(synthetic.config(), features=FeaturesConfig(numeric=("num_0",)))
    frame = synthetic.frame(np.random.default_rng(5), 5000)
    frame["num_0"] = 7.0
    reference = fit_reference(config, frame)
    row = _num_0(config, reference, 3000, seed=6)
    assert row.value is None and "constant" in row.details["skipped"]


def test_unseen_category_counts_in_its_own_column_of_the_test(fitted):
    def mutate(rows):
        rows.loc[rows.index[:1], "cat_1"] = "one_odd_value"

    result = _drift_rows(fitted, mutate)
    assert result[("new_category_share", "cat_1")].details["unseen_rows"] == 1
    assert result[("new_category_share", "cat_1")].severity is Severity.OK  # one row is a curiosity, not drift
    assert _feature_row(result, "cat_1").severity is Severity.OK


def test_p_values_record_the_correction_and_the_family_size(fitted):
    result = _drift_rows(fitted, lambda rows: None)
    row = _feature_row(result, "num_0")
    assert row.details["correction"] == "benjamini_hochberg"
    assert row.details["tests_in_window"] == 27  # 20 numeric + score (ks) + 5 categorical (chi2) + positive share
    assert row.p_value >= row.details["raw_p_value"]


def test_bonferroni_correction_multiplies_by_the_family_size(fitted):
    row = _num_0(synthetic.config(correction="bonferroni"), fitted[1], 500, seed=4)
    assert row.details["correction"] == "bonferroni"
    assert row.p_value == pytest.approx(min(1.0, row.details["raw_p_value"] * 27))


def test_distance_noise_comes_from_the_stored_calibration(fitted):
    row = _num_0(*fitted, 5000, seed=9)
    assert row.metric == "wasserstein" and row.details["calibration"] == "stored with the reference"
    assert row.details["effective_n"] == pytest.approx(5000 * 20000 / 25000, abs=0.1)
    assert 0 < row.details["noise"] < 0.1


def test_method_not_calibrated_in_the_profile_is_resampled_at_run_time(fitted):
    row = _num_0(synthetic.config(numeric_method="psi"), fitted[1], 300, seed=9)
    assert row.metric == "psi" and row.details["calibration"].startswith("resampled at run time")
    assert row.details["noise"] > 0


def test_reference_stores_calibration_per_possible_method(fitted):
    _, reference = fitted
    assert set(reference.columns["num_0"].calibration) == {"wasserstein"}  # ks is a p-value: nothing to calibrate
    assert set(reference.columns["cat_0"].calibration) == {"jensen_shannon"}
    table = reference.columns["num_0"].calibration["wasserstein"]
    assert table["noise"] == sorted(table["noise"], reverse=True)
    assert pd.Series(table["noise"]).notna().all()


def test_large_window_profiled_in_threads_equals_one_thread(fitted, monkeypatch):
    from include.monitoring import window_profiles

    config, reference = fitted
    rows = synthetic.frame(np.random.default_rng(12), window_profiles.PARALLEL_PROFILE_ROWS)
    rows.loc[rows.index[:50], "num_4"] = np.nan
    threaded = window_profiles.window_profiles(config, reference, rows)
    monkeypatch.setattr(window_profiles, "PARALLEL_PROFILE_ROWS", 10**12)
    assert window_profiles.window_profiles(config, reference, rows) == threaded
    assert list(threaded) == [*synthetic.NUMERIC, "score", *synthetic.CATEGORICAL]


# --- drift_level: the series a chart follows ---------------------------------------------------------------------------


def _level_and_method_rows(result, column):
    [level] = [r for (metric, col), r in result.items() if col == column and metric == "drift_level"]
    return level, _feature_row(result, column)


@pytest.mark.parametrize("shift", [0.0, 1.0], ids=["undrifted", "1_sd_shift"])
def test_drift_level_keeps_its_scale_when_auto_switches_from_ks_to_wasserstein(fitted, shift):
    """Either side of auto_switch_rows the raw value changes unit (a KS statistic, then standard deviations); the
    level reads the same tiers: below 1 without drift, at least 2 (CRITICAL) for a 1-sd shift, either side."""
    config, reference = fitted
    rng = np.random.default_rng(11)
    for n, method in [(config.drift.auto_switch_rows - 1, "ks"), (config.drift.auto_switch_rows, "wasserstein")]:
        result = _scored(config, reference, synthetic.frame(rng, n, shift={"num_0": shift}))
        level, method_row = _level_and_method_rows(result, "num_0")
        assert method_row.metric == method and level.details["method"] == method
        assert level.value >= 2 if shift else level.value < 1, (n, level.value, method_row.value, method_row.p_value)
        assert (level.threshold_warning, level.threshold_critical) == (1.0, 2.0)


def test_every_feature_drift_row_has_a_level_that_agrees_with_its_verdict_and_raises_nothing(fitted):
    config, reference = fitted
    rows = synthetic.frame(np.random.default_rng(5), 500, shift={"num_0": 0.6, "num_5": 0.25})
    rows["num_1"] = np.nan  # skipped: its level is a gap in the series, with the reason
    result = compute_drift(config, reference, synthetic.observation(config, reference, rows))
    methods = {(r.column, r.slice_key, r.slice_value): r for r in result if r.details.get("alert_rule") == "feature_drift"}
    levels = {(r.column, r.slice_key, r.slice_value): r for r in result if r.metric == "drift_level"}
    assert set(levels) == set(methods)
    for key, level in levels.items():
        verdict = methods[key].severity
        assert level.severity is Severity.OK and level.details["severity"] == verdict.name
        if level.value is not None:
            assert (level.value >= 1) == (verdict >= Severity.WARNING) and (level.value >= 2) == (verdict is Severity.CRITICAL)
    assert levels[("num_1", "", "")].value is None and levels[("num_1", "", "")].details["skipped"]
    assert levels[("num_0", "", "")].value >= 2 > levels[("num_2", "", "")].value
