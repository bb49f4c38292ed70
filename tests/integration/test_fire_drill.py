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
