"""Dynamic thresholds: a metric against mean +- k x std of its own last N windows."""

from __future__ import annotations

import dataclasses
import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from include.monitoring import pipeline, store
from include.monitoring.alerting.messages import describe
from include.monitoring.config import AlertsConfig, DynamicThreshold, FeaturesConfig, MonitorConfig
from include.monitoring.observation import Observation
from include.monitoring.types import MetricKind, MetricRow, RunStatus, Severity, Window

START = datetime(2026, 11, 1, tzinfo=UTC)
CONFIG = MonitorConfig(model="m", features=FeaturesConfig(numeric=("x",)), alerts=dataclasses.replace(
    AlertsConfig(critical=("log",), warning=("log",)),
    dynamic={"operational:latency_p95": DynamicThreshold(windows=48, min_windows=24, k_warning=3, k_critical=5)}))


def _write(engine, hour: int, value: float):
    window = Window(START + timedelta(hours=hour), START + timedelta(hours=hour + 1))
    row = MetricRow(MetricKind.OPERATIONAL, "latency_p95", value, window, column="latency_ms", n=500)
    observation = Observation(window, RunStatus.OK, "", 500, 500, "ref", metrics=[row])
    transitions = pipeline.write_window(CONFIG, engine, observation, [], "test", window.end, window.end)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(store.metric_values).where(
            store.metric_values.c.metric == "latency_p95", store.metric_values.c.window_start == window.start)).one()
    return stored, transitions


@pytest.fixture
def engine(tmp_path):
    return sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")


def test_a_value_far_from_its_recent_history_alerts_by_how_far(engine):
    history = np.random.default_rng(2).normal(100, 5, 48)
    for hour, value in enumerate(history):
        stored, transitions = _write(engine, hour, float(value))
        assert transitions == [] or hour < 24  # judged only from min_windows on, and quiet traffic never alerts
    mean, std = statistics.fmean(history), statistics.stdev(history)
    stored, transitions = _write(engine, 48, mean + 4 * std)  # beyond 3 std: WARNING
    assert stored.severity == "WARNING"
    [trigger] = transitions
    assert "latency_p95 of `latency_ms`" in trigger.message and "standard deviations from its recent mean" in trigger.message
    stored, transitions = _write(engine, 49, mean - 6 * std)  # 6 std below a history that now includes 4 std: CRITICAL
    assert stored.severity == "CRITICAL" and [t.action for t in transitions] == ["escalate"]


def test_too_little_history_is_recorded_and_not_judged(engine):
    for hour in range(10):
        _write(engine, hour, 100.0 + hour % 2)
    stored, transitions = _write(engine, 10, 1000.0)
    assert stored.severity == "OK" and transitions == []
    assert "fewer than min_windows=24" in stored.details


def test_describe_names_the_recent_mean_and_spread():
    window = Window(START, START + timedelta(hours=1))
    row = MetricRow(MetricKind.OPERATIONAL, "latency_p95", 140.0, window, column="latency_ms", severity=Severity.WARNING,
                    details={"dynamic": {"z": 4.0, "mean": 100.0, "std": 10.0, "windows": 48, "k_warning": 3.0}})
    assert "= 140, 4 standard deviations from its recent mean 100 (std 10, last 48 windows" in describe("m", row)


def test_the_first_run_of_a_day_queues_one_digest_of_the_day_befores_info_findings(engine):
    config = dataclasses.replace(CONFIG, alerts=dataclasses.replace(CONFIG.alerts, info_digest="slack:#ml-digest"))

    def write(hour: int, rows_severity: Severity) -> None:
        window = Window(START + timedelta(hours=hour), START + timedelta(hours=hour + 1))
        row = MetricRow(MetricKind.QUALITY, "category_set", 0.02, window, column="region", severity=rows_severity)
        observation = Observation(window, RunStatus.OK, "", 500, 500, "ref", metrics=[row])
        pipeline.write_window(config, engine, observation, [], "test", window.end, window.end)

    for hour in range(24):
        write(hour, Severity.INFO if hour % 6 == 0 else Severity.OK)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.notifications)).scalar() == 0
    write(24, Severity.OK)  # the first window of the next day
    write(24, Severity.OK)  # a re-run of it
    write(25, Severity.OK)
    with engine.connect() as conn:
        [digest] = conn.execute(sa.select(store.notifications)).all()
    assert (digest.channel, digest.action, digest.severity, digest.status) == ("slack:#ml-digest", "digest", "INFO", "pending")
    assert digest.message.startswith("[INFO] m: daily digest of INFO findings for 2026-11-01 UTC")
    assert "- quality category_set of `region`: 4 window(s)" in digest.message
