"""The volume band (a prediction interval over earlier weeks) and the serving metrics."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.monitoring.config import ApplicationConfig, MonitorConfig, Tiers
from include.monitoring.operational import VOLUME_MIN_RELATIVE_STD, serving_rows, volume_band
from include.monitoring.types import Severity, Window

WINDOW = Window(datetime(2026, 11, 23, 15, tzinfo=UTC), datetime(2026, 11, 23, 16, tzinfo=UTC))


def test_volume_band_by_hand():
    # mean 115, sample std sqrt(500/3) = 12.91 (above sqrt(115) = 10.72 and 5 % of 115),
    # half-width 3 x 12.91 x sqrt(1 + 1/4) = 43.30
    mean, std, low, high = volume_band([100, 120, 110, 130], k=3)
    assert mean == 115
    assert std == pytest.approx(math.sqrt(500 / 3))
    assert (low, high) == pytest.approx((115 - 43.30127, 115 + 43.30127), abs=1e-4)


def test_one_week_of_history_uses_the_poisson_floor_and_the_uncertainty_of_its_mean():
    mean, std, low, high = volume_band([400], k=3)
    assert std == pytest.approx(20.0)  # sqrt(400) = 20 = 5 % of 400
    assert high - mean == pytest.approx(3 * 20 * math.sqrt(2))


def test_constant_history_still_has_a_band():
    _, std, low, high = volume_band([1000, 1000, 1000], k=3)
    assert std == pytest.approx(VOLUME_MIN_RELATIVE_STD * 1000) and low < 1000 < high


def test_no_history_no_band():
    assert volume_band([], k=3) is None


@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=8), st.floats(0.5, 5))
@settings(max_examples=200, deadline=None)
def test_the_band_holds_the_mean_never_goes_below_zero_and_widens_with_k(history, k):
    mean, _, low, high = volume_band(history, k)
    assert 0 <= low <= mean <= high
    _, _, wider_low, wider_high = volume_band(history, k * 1.5)
    assert wider_low <= low and wider_high >= high


def test_poisson_traffic_rarely_leaves_its_band():
    """Undrifted traffic (Poisson, same mean every week) falls outside mean +- 3 std less than 1 % of the time."""
    rng = np.random.default_rng(5)
    outside = 0
    trials = 4000
    for _ in range(trials):
        rate = rng.choice([30, 300, 3000])
        counts = rng.poisson(rate, 5)
        _, _, low, high = volume_band(counts[:4].tolist(), k=3)
        outside += not low <= counts[4] <= high
    assert outside / trials < 0.01


def _config(**application):
    return MonitorConfig(model="m", application=ApplicationConfig(**application))


def test_latency_percentiles_match_numpy_and_tiers_apply():
    latency = np.arange(1, 101, dtype=float)  # 1..100 ms
    frame = pd.DataFrame({"latency_ms": latency})
    rows = {r.metric: r for r in serving_rows(_config(latency_column="latency_ms", latency_p95=Tiers(90, 99)), frame, WINDOW)}
    assert rows["latency_p50"].value == np.percentile(latency, 50)
    assert rows["latency_p95"].value == pytest.approx(95.05)
    assert rows["latency_p95"].severity is Severity.WARNING  # 95.05 >= 90, below 99
    assert rows["latency_p99"].severity is Severity.OK  # no tiers: recorded only
    assert rows["latency_p99"].column == "latency_ms"


def test_error_rate_counts_statuses_that_are_not_ok_and_nulls():
    status = ["ok"] * 90 + ["error"] * 6 + ["timeout"] * 2 + [None] * 2
    frame = pd.DataFrame({"status": status})
    [row] = serving_rows(_config(status_column="status", ok_statuses=("ok",)), frame, WINDOW)
    assert row.value == pytest.approx(0.10) and row.n == 100
    assert row.severity is Severity.CRITICAL  # default tiers 0.01 / 0.05
    assert row.details["statuses"] == {"error": 6, "<null>": 2, "timeout": 2}


def test_two_errors_in_a_quiet_hour_do_not_alert():
    frame = pd.DataFrame({"status": ["ok"] * 18 + ["error"] * 2})  # 10 %, but only 2 rows
    [row] = serving_rows(_config(status_column="status"), frame, WINDOW)
    assert row.value == pytest.approx(0.1) and row.severity is Severity.OK


def test_numeric_status_codes_compare_as_text():
    frame = pd.DataFrame({"status": [200] * 97 + [500] * 3})
    [row] = serving_rows(_config(status_column="status", ok_statuses=("200",)), frame, WINDOW)
    assert row.value == pytest.approx(0.03) and row.severity is Severity.WARNING


def test_without_the_columns_nothing_is_recorded():
    assert serving_rows(_config(), pd.DataFrame({"x": [1]}), WINDOW) == []
    assert serving_rows(_config(latency_column="absent"), pd.DataFrame({"x": [1]}), WINDOW) == []


def test_all_null_latency_is_recorded_as_missing_not_an_error():
    frame = pd.DataFrame({"latency_ms": [None, None]})
    rows = serving_rows(_config(latency_column="latency_ms"), frame, WINDOW)
    assert [r.value for r in rows] == [None, None, None] and all(r.n == 0 for r in rows)
