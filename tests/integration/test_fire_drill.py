"""The fire drill DAG sends a test notification through every route and reports which worked."""

from __future__ import annotations

import json

import pytest

from tests.pagerduty_server import PagerDutyServer
from tests.slack_server import SlackServer

pytestmark = pytest.mark.integration


def _connections(monkeypatch, slack: SlackServer, pagerduty: PagerDutyServer) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_ALERTS", json.dumps(
        {"conn_type": "slack", "password": "xoxb-test-token", "extra": {"base_url": slack.base_url}}))
    monkeypatch.setenv("AIRFLOW_CONN_PAGERDUTY_ALERTS", json.dumps(
        {"conn_type": "pagerduty_events", "password": "R0UT1NGKEY", "extra": {"events_url": pagerduty.events_url}}))


def test_the_drill_reaches_every_route_and_closes_its_pagerduty_incident(dagbag, monkeypatch):
    from airflow.utils.state import DagRunState

    with SlackServer() as slack, PagerDutyServer() as pagerduty:
        _connections(monkeypatch, slack, pagerduty)
        run = dagbag.dags["monitoring_fire_drill"].test()
        assert run.state == DagRunState.SUCCESS
        [message] = slack.messages
        assert message["text"].startswith("[TEST] credit_default: fire drill of the slack route")
        assert [event["event_action"] for event in pagerduty.events] == ["trigger", "resolve"]
        assert pagerduty.events[0]["dedup_key"] == pagerduty.events[1]["dedup_key"] == "credit_default:fire-drill:pagerduty"
        assert pagerduty.incidents == {"credit_default:fire-drill:pagerduty": "resolved"}  # nobody stays paged


def test_a_failing_route_turns_the_drill_red_naming_it(dagbag, monkeypatch):
    from airflow.utils.state import DagRunState

    with SlackServer() as slack, PagerDutyServer() as pagerduty:
        _connections(monkeypatch, slack, pagerduty)
        slack.fail_with = "channel_not_found"
        run = dagbag.dags["monitoring_fire_drill"].test()
        assert run.state == DagRunState.FAILED
        assert [event["event_action"] for event in pagerduty.events] == ["trigger", "resolve"]  # the others still ran


def test_the_drill_reports_each_channel(monkeypatch):
    from include.monitoring.alerting.drill import drill
    from include.monitoring.alerting.notifiers import LogNotifier
    from include.monitoring.config import load_monitor_config
    from tests.conftest import DEMO_END, ROOT

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    results = drill(config, {"log": LogNotifier()}, {"slack": "no connection 'slack_alerts'"}, now=DEMO_END)
    assert results == {"log": "ok", "slack": "not configured: no connection 'slack_alerts'",
                       "pagerduty": "not configured: no notifier"}


def test_routes_send_each_severity_to_its_channels_and_teams(monkeypatch, tmp_path):
    """CRITICAL to PagerDuty, the default Slack channel and the team's on-call channel; WARNING to the team's
    channel only; one outbox row per route."""
    import dataclasses
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from include.monitoring import store
    from include.monitoring.airflow_adapters import notifiers_for
    from include.monitoring.alerting.delivery import deliver_pending
    from include.monitoring.alerting.lifecycle import apply_alerts
    from include.monitoring.config import AlertsConfig, FeaturesConfig, MonitorConfig
    from include.monitoring.types import MetricKind, MetricRow, Severity, Window

    config = MonitorConfig(model="m", features=FeaturesConfig(numeric=("income",)), alerts=dataclasses.replace(
        AlertsConfig(), critical=("pagerduty", "slack", "slack:#risk-oncall"), warning=("slack:#risk",), info=()))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_tables(engine)
    start = datetime(2026, 11, 24, tzinfo=UTC)
    rows = [MetricRow(MetricKind.DRIFT, "psi", value, Window(start, start + timedelta(hours=1)), column=column,
                      severity=severity, threshold_warning=0.1, threshold_critical=0.2)
            for column, value, severity in (("income", 0.3, Severity.CRITICAL), ("age", 0.15, Severity.WARNING))]
    with SlackServer() as slack, PagerDutyServer() as pagerduty:
        _connections(monkeypatch, slack, pagerduty)
        with engine.begin() as conn:
            apply_alerts(conn, config, rows, start + timedelta(hours=1))
        notifiers, missing = notifiers_for(config)
        report = deliver_pending(engine, "m", notifiers, now=start + timedelta(hours=1), missing_reasons=missing)
        assert report.failures == [] and report.sent == 4
        channels = sorted((m["channel"], "income" in m["text"]) for m in slack.messages)
        assert channels == [("#ml-alerts", True), ("#risk", False), ("#risk-oncall", True)]
        assert [e["dedup_key"] for e in pagerduty.events] == ["m:drift:psi:income:"]


def test_a_drill_without_connections_fails_saying_critical_alerts_reach_only_the_log(dagbag, monkeypatch):
    """No Slack or PagerDuty connection (a fresh `make run`): the log route works, so the old drill was green;
    now the run is red and its error says where CRITICAL alerts end up."""
    from airflow.utils.state import DagRunState

    from include.monitoring import tasks
    from include.monitoring.config import load_monitor_config
    from include.monitoring.errors import MonitoringError
    from tests.conftest import ROOT

    for variable in ("AIRFLOW_CONN_SLACK_ALERTS", "AIRFLOW_CONN_PAGERDUTY_ALERTS"):
        monkeypatch.delenv(variable, raising=False)
    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    with pytest.raises(MonitoringError) as raised:
        tasks.fire_drill(config)
    message = str(raised.value)
    assert message.startswith("credit_default: your CRITICAL/WARNING alerts reach only the log; fire drill failed on ")
    assert "slack not configured: " in message and "pagerduty not configured: " in message
    assert dagbag.dags["monitoring_fire_drill"].test().state == DagRunState.FAILED
