"""A PostgreSQL store whose alerts table predates `last_severity` is upgraded in place by the first write; a second
engine (another process) finds it upgraded and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting.lifecycle import apply_alerts
from include.monitoring.config import FeaturesConfig, MonitorConfig
from include.monitoring.types import MetricKind, MetricRow, Severity, Window

START = datetime(2026, 11, 20, tzinfo=UTC)
KEY = "m:drift:feature_drift:income:"


def _old_alerts_table(engine: sa.Engine) -> None:
    """The alerts table as earlier versions created it, holding one alert they wrote (rule = the scoring method)."""
    old = sa.MetaData()
    table = sa.Table("alerts", old, *[c._copy() for c in store.alerts.columns if c.name != "last_severity"])
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{
            "alert_key": KEY, "model": "m", "rule": "drift:wasserstein", "column_name": "income", "slice": "",
            "severity": "WARNING", "status": "open", "opened_at": START, "last_seen_at": START, "message": "old",
            "clean_windows": 0, "history": json.dumps({START.isoformat(): "WARNING"})}])


def test_an_old_postgres_alerts_table_gets_last_severity_and_the_keys_rules(postgres_schema):
    engine = postgres_schema()
    _old_alerts_table(engine)
    store.create_tables(engine)
    with engine.connect() as conn:
        schema = conn.execute(sa.text("select current_schema()")).scalar_one()
    other_process = sa.create_engine(engine.url, connect_args={"options": f"-c timezone=UTC -c search_path={schema}"})
    store.create_tables(other_process)  # finds the column there: nothing to add, nothing fails
    other_process.dispose()
    with engine.connect() as conn:
        alert = conn.execute(sa.select(store.alerts).where(store.alerts.c.alert_key == KEY)).one()
    assert (alert.rule, alert.severity, alert.last_severity) == ("drift:feature_drift", "WARNING", "WARNING")
    window = Window(START + timedelta(hours=1), START + timedelta(hours=2))
    row = MetricRow(MetricKind.DRIFT, "ks", 0.5, window, column="income", p_value=1e-6, n=300,
                    threshold_warning=0.005, threshold_critical=0.0001, severity=Severity.CRITICAL,
                    details={"alert_rule": "feature_drift"})
    config = MonitorConfig(model="m", features=FeaturesConfig(numeric=("income",)))
    with engine.begin() as conn:
        [transition] = apply_alerts(conn, config, [row], window.end, run_window=window)
    assert (transition.action, transition.severity) == ("escalate", Severity.CRITICAL)
    with engine.connect() as conn:
        alert = conn.execute(sa.select(store.alerts).where(store.alerts.c.alert_key == KEY)).one()
    assert (alert.severity, alert.last_severity) == ("CRITICAL", "CRITICAL")
