"""The alert lifecycle: open, escalate, remind, resolve after K clean windows, persistence, silences, backfills."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting.lifecycle import apply_alerts
from include.monitoring.config import AlertsConfig, FeaturesConfig, MonitorConfig, Silence
from include.monitoring.types import MetricKind, MetricRow, Severity, Window

START = datetime(2026, 11, 20, tzinfo=UTC)
KEY = "m:drift:psi:income:"


def _config(**alerts) -> MonitorConfig:
    return MonitorConfig(model="m", features=FeaturesConfig(numeric=("income",)),
                         alerts=dataclasses.replace(AlertsConfig(critical=("log", "slack"), warning=("log",)), **alerts))


@pytest.fixture
def engine():
    engine = sa.create_engine("sqlite://")
    store.create_tables(engine)
    return engine


def _row(hour: int, severity: Severity) -> MetricRow:
    window = Window(START + timedelta(hours=hour), START + timedelta(hours=hour + 1))
    value = {Severity.OK: 0.01, Severity.WARNING: 0.15, Severity.CRITICAL: 0.3}[severity]
    return MetricRow(MetricKind.DRIFT, "psi", value, window, column="income", n=500, threshold_warning=0.1,
                     threshold_critical=0.2, severity=severity, details={"noise": 0.02})


def _run(engine, config, hour: int, severity: Severity, now_hours: float | None = None, **kwargs):
    """One hourly run; `now` defaults to just after the window's end, as a live run."""
    row = _row(hour, severity)
    now = START + timedelta(hours=now_hours if now_hours is not None else hour + 1.1)
    with engine.begin() as conn:
        return [(t.action, t.severity.name, t.suppressed) for t in
                apply_alerts(conn, config, [row], now, run_window=row.window, **kwargs)]


def _notifications(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [(r.action, r.channel, r.status) for r in conn.execute(
            sa.select(store.notifications).order_by(store.notifications.c.id))]


def _alert(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(store.alerts).where(store.alerts.c.alert_key == KEY)).one()


def test_an_incident_opens_escalates_reminds_and_resolves_after_two_clean_windows(engine):
    config = _config(remind_hours=3)
    W, C, OK = Severity.WARNING, Severity.CRITICAL, Severity.OK
    actions = [_run(engine, config, hour, severity) for hour, severity in enumerate([W, W, C, C, C, C, OK, C, OK, OK])]
    assert actions == [
        [("trigger", "WARNING", "")], [],  # a repeat breach: no new notification
        [("escalate", "CRITICAL", "")], [], [],
        [("remind", "CRITICAL", "")],  # 3 hours after the escalation was notified
        [],  # one clean window does not resolve (hysteresis)
        [],  # breached again: the clean streak starts over
        [], [("resolve", "CRITICAL", "")],  # the second consecutive clean window resolves
    ]
    assert _notifications(engine) == [("trigger", "log", "pending"), ("escalate", "log", "pending"),
                                      ("escalate", "slack", "pending"), ("remind", "log", "pending"),
                                      ("remind", "slack", "pending"), ("resolve", "log", "pending"),
                                      ("resolve", "slack", "pending")]
    alert = _alert(engine)
    assert (alert.status, alert.severity, alert.clean_windows) == ("resolved", "CRITICAL", 2)


def test_persistence_needs_n_breaches_in_the_last_m_windows(engine):
    config = _config(warning_persistence=(2, 3))
    W, OK = Severity.WARNING, Severity.OK
    assert _run(engine, config, 0, W) == []  # one breach: watching
    assert _alert(engine).status == "watching"
    assert _run(engine, config, 1, OK) == []
    assert _run(engine, config, 2, W) == [("trigger", "WARNING", "")]  # 2 of the last 3
    assert _alert(engine).status == "open"


def test_persistence_window_slides(engine):
    config = _config(warning_persistence=(2, 3))
    W, OK = Severity.WARNING, Severity.OK
    for hour, severity in enumerate([W, OK, OK]):
        _run(engine, config, hour, severity)
    assert _run(engine, config, 3, W) == []  # the first breach is 4 windows back now


def test_a_silence_records_the_alert_and_suppresses_its_notifications(engine):
    silence = Silence(match="drift:*:income:*", until="2026-11-21T00:00:00+00:00", reason="feature backfill")
    config = _config(silences=(silence,))
    [(action, _, reason)] = _run(engine, config, 0, Severity.CRITICAL)
    assert action == "trigger" and reason.startswith("silenced (drift:*:income:*") and "feature backfill" in reason
    assert _alert(engine).status == "open"  # recorded, not dropped
    assert {status for _, _, status in _notifications(engine)} == {"suppressed"}
    # Once the silence has expired, the resolve is notified as usual.
    _run(engine, config, 30, Severity.OK)
    assert _run(engine, config, 31, Severity.OK) == [("resolve", "CRITICAL", "")]


def test_a_silence_from_the_airflow_variable_applies_too(engine):
    config = _config()
    [(_, _, reason)] = _run(engine, config, 0, Severity.WARNING, silences=[Silence(match="*")])
    assert reason.startswith("silenced (*")


def test_a_backfilled_window_writes_its_alert_but_does_not_page(engine):
    config = _config()
    [(action, _, reason)] = _run(engine, config, 0, Severity.CRITICAL, now_hours=100, backfill=True)
    assert action == "trigger" and reason.startswith("backfill: the window ended 99 h before the run")
    assert {status for _, _, status in _notifications(engine)} == {"suppressed"}


@pytest.mark.parametrize(("config", "backfill", "now_hours"), [
    (_config(page_backfills=True), True, 100),  # configured to page for the past
    (_config(), True, 10),  # a backfill of the last day pages (alerts.page_within_hours)
    (_config(), False, 100),  # a manual run of an old window is not a backfill
])
def test_recent_backfills_manual_runs_and_configured_backfills_page(engine, config, backfill, now_hours):
    assert _run(engine, config, 0, Severity.CRITICAL, now_hours=now_hours, backfill=backfill) == [
        ("trigger", "CRITICAL", "")]


def test_an_older_window_processed_late_changes_nothing(engine):
    config = _config()
    _run(engine, config, 5, Severity.CRITICAL)
    assert _run(engine, config, 2, Severity.OK, now_hours=6.5) == []
    assert _run(engine, config, 3, Severity.OK, now_hours=6.6) == []
    assert _alert(engine).status == "open"


def _again(engine, config, hour: int, severity: Severity, now_hours: float):
    """The window of `hour` evaluated again by a later run (re-scored as labels arrived, or re-run)."""
    return _run(engine, config, hour, severity, now_hours=now_hours)


def test_a_window_evaluated_again_neither_resolves_nor_reopens_its_alert(engine):
    config = _config()
    W, OK = Severity.WARNING, Severity.OK
    assert _run(engine, config, 0, W) == [("trigger", "WARNING", "")]
    # The same window re-scored clean, three times over: one window, so one clean window, not three.
    assert [_again(engine, config, 0, OK, now_hours=h) for h in (2, 3, 4)] == [[], [], []]
    alert = _alert(engine)
    assert (alert.status, alert.clean_windows, alert.value) == ("open", 1, 0.01)  # the verdict and value are updated
    assert _run(engine, config, 1, OK) == [("resolve", "WARNING", "")]  # the second clean window resolves
    # Re-scored again after that, breaching: the window that resolved the alert does not reopen it.
    assert _again(engine, config, 1, W, now_hours=6) == []
    assert _alert(engine).status == "resolved"
    assert [action for action, _, _ in _notifications(engine)] == ["trigger", "resolve"]


def test_a_new_window_after_a_reevaluation_counts_the_windows_latest_verdicts(engine):
    config = _config()
    W, OK = Severity.WARNING, Severity.OK
    _run(engine, config, 0, W)
    _run(engine, config, 1, OK)
    assert _again(engine, config, 1, W, now_hours=3) == []  # window 1 now breaches: the clean streak is gone
    assert _alert(engine).clean_windows == 0
    assert _run(engine, config, 2, OK) == []  # one clean window since
    assert _run(engine, config, 3, OK) == [("resolve", "WARNING", "")]


def _feature_drift_row(hour: int, severity: Severity, metric: str = "ks") -> MetricRow:
    window = Window(START + timedelta(hours=hour), START + timedelta(hours=hour + 1))
    return MetricRow(MetricKind.DRIFT, metric, 0.2, window, column="income", n=500, p_value=0.003,
                     threshold_warning=0.005, threshold_critical=0.0001, severity=severity,
                     details={"alert_rule": "feature_drift"})


def test_a_features_drift_warning_needs_two_of_three_windows_by_default_and_its_critical_fires_at_once(engine):
    config = _config()

    def run(hour, severity):
        row = _feature_drift_row(hour, severity)
        with engine.begin() as conn:
            return [(t.action, t.severity.name) for t in
                    apply_alerts(conn, config, [row], START + timedelta(hours=hour + 1.1), run_window=row.window)]

    assert run(0, Severity.WARNING) == []  # one noisy hour
    assert run(1, Severity.OK) == []
    assert run(2, Severity.WARNING) == [("trigger", "WARNING")]  # 2 of the last 3 windows
    assert run(3, Severity.CRITICAL) == [("escalate", "CRITICAL")]  # CRITICAL needs no second window
    assert _run(engine, config, 10, Severity.WARNING) == [("trigger", "WARNING", "")]  # psi's own rule: [1, 1]


def test_persistence_per_rule_merges_over_the_defaults_and_the_longest_pattern_wins():
    from include.monitoring.config import Persistence

    config = _config(warning_persistence=(1, 2), persistence={
        "quality:*": Persistence(warning=(3, 4)), "quality:null_rate": Persistence(critical=(2, 2)),
        "operational:volume": Persistence(warning=(1, 1))})
    assert config.persistence("drift:feature_drift", Severity.WARNING) == (2, 3)  # a default kept
    assert config.persistence("drift:feature_drift", Severity.CRITICAL) == (1, 1)  # the global tier
    assert config.persistence("operational:volume", Severity.WARNING) == (1, 1)  # a default overridden
    assert config.persistence("quality:null_rate", Severity.CRITICAL) == (2, 2)
    # the longest pattern sets no WARNING, so the next one that matches does
    assert config.persistence("quality:null_rate", Severity.WARNING) == (3, 4)
    assert config.persistence("drift:psi", Severity.WARNING) == (1, 2)  # no pattern: the global value


def _stored(engine, key: str):
    with engine.connect() as conn:
        return conn.execute(sa.select(store.alerts).where(store.alerts.c.alert_key == key)).one()


def test_the_stored_rule_is_the_rule_of_the_key_not_the_method_that_scored_the_window(engine):
    config = _config()
    for hour, metric in enumerate(["ks", "wasserstein", "ks"]):  # auto switching method with the window size
        row = _feature_drift_row(hour, Severity.CRITICAL, metric)
        with engine.begin() as conn:
            apply_alerts(conn, config, [row], START + timedelta(hours=hour + 1.1), run_window=row.window)
    alert = _stored(engine, "m:drift:feature_drift:income:")
    assert alert.rule == "drift:feature_drift" and alert.alert_key.startswith(f"m:{alert.rule}:")


def test_a_resolved_alert_keeps_its_peak_severity_and_records_the_latest_verdict(engine):
    config = _config()
    W, C, OK = Severity.WARNING, Severity.CRITICAL, Severity.OK
    for hour, severity in enumerate([W, C, W, OK, OK, OK, OK]):  # escalates, resolves, then stays clean
        _run(engine, config, hour, severity)
    alert = _alert(engine)
    assert (alert.status, alert.severity, alert.last_severity) == ("resolved", "CRITICAL", "OK")
    _run(engine, config, 7, W)  # breaching again opens a new episode, at its own tier
    assert (_alert(engine).status, _alert(engine).severity) == ("open", "WARNING")


def test_a_watching_key_keeps_its_highest_breach_through_clean_windows(engine):
    config = _config(warning_persistence=(2, 3))
    _run(engine, config, 0, Severity.WARNING)
    _run(engine, config, 1, Severity.OK)
    alert = _alert(engine)
    assert (alert.status, alert.severity, alert.last_severity) == ("watching", "WARNING", "OK")


def test_a_drift_level_row_raises_no_alert_even_at_a_critical_level(engine):
    config = _config()
    level = dataclasses.replace(_row(0, Severity.CRITICAL), metric="drift_level", value=3.0, threshold_warning=1.0,
                                threshold_critical=2.0)
    with engine.begin() as conn:
        assert apply_alerts(conn, config, [level], START + timedelta(hours=1.1), run_window=level.window) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(store.alerts)).all() == []
    assert _notifications(engine) == []


def _old_alerts_table(engine) -> None:
    """The alerts table as stores created before `last_severity` have it, with two alerts written by that version."""
    old = sa.MetaData()
    table = sa.Table("alerts", old, *[c._copy() for c in store.alerts.columns if c.name != "last_severity"])
    old.create_all(engine)
    store.notifications.create(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{
            "alert_key": "m:drift:feature_drift:income:", "model": "m", "rule": "drift:ks", "column_name": "income",
            "slice": "", "severity": "CRITICAL", "status": "open", "opened_at": START, "last_seen_at": START,
            "message": "old", "clean_windows": 0, "history": json.dumps({START.isoformat(): "CRITICAL"}),
        }, {  # resolved, then lowered to OK by a later clean window, as that version did
            "alert_key": KEY, "model": "m", "rule": "drift:psi", "column_name": "income", "slice": "", "severity": "OK",
            "status": "resolved", "opened_at": START, "last_seen_at": START + timedelta(hours=3), "message": "old",
            "clean_windows": 3, "history": "{}",
        }])
        conn.execute(sa.insert(store.notifications), [{
            "alert_key": KEY, "model": "m", "window_start": START + timedelta(hours=hour), "channel": "log",
            "action": action, "severity": severity, "message": "old", "status": "sent", "created_at": START,
        } for hour, action, severity in [(0, "trigger", "WARNING"), (1, "escalate", "CRITICAL"), (3, "resolve", "CRITICAL")]])


def test_a_store_created_before_last_severity_is_upgraded_in_place():
    engine = sa.create_engine("sqlite://")
    _old_alerts_table(engine)
    store.create_tables(engine)  # what every write does first
    assert "last_severity" in {c["name"] for c in sa.inspect(engine).get_columns("alerts")}
    alert = _stored(engine, "m:drift:feature_drift:income:")
    assert (alert.rule, alert.last_severity, alert.severity) == ("drift:feature_drift", "CRITICAL", "CRITICAL")
    assert _stored(engine, KEY).severity == "CRITICAL"  # the peak its notifications record
    row = _feature_drift_row(1, Severity.OK, "wasserstein")  # the next window writes through the new columns
    with engine.begin() as conn:
        apply_alerts(conn, _config(), [row], START + timedelta(hours=2.1), run_window=row.window)
    assert _stored(engine, "m:drift:feature_drift:income:").last_severity == "OK"
