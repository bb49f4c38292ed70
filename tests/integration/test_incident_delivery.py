"""One incident, one page, as it arrives: the zeroed-income hour's alerts, folded and grouped by the lifecycle, are
delivered to local Slack and PagerDuty servers (real clients, 127.0.0.1 servers the tests start)."""

from __future__ import annotations

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting.delivery import deliver_pending
from include.monitoring.alerting.notifiers import LogNotifier, PagerDutyNotifier, RetryPolicy, SlackNotifier
from tests.pagerduty_server import PagerDutyServer
from tests.slack_server import SlackServer
from tests.unit.alerting.test_folding import MODEL, OK, C, W, _config, _run, _window, clean_window, quality, zeroed_window

FOLDED = ("drift:feature_drift of `income` = 0.99", "drift:feature_drift of `income` for employment_type=salaried",
          "drift:feature_drift of `credit_limit` for employment_type=salaried", "drift:feature_drift of `score`",
          "drift:positive_share of `score`", "quality:out_of_range of `credit_limit`")


def _deliver(engine, slack, pagerduty, hour):
    retry = RetryPolicy(sleep=lambda _seconds: None)
    notifiers = {"log": LogNotifier(),
                 "slack": SlackNotifier(token="xoxb-test", base_url=slack.base_url, channel="#ml-alerts", retry=retry),
                 "pagerduty": PagerDutyNotifier(routing_key="R0UTING", events_url=pagerduty.events_url, retry=retry)}
    report = deliver_pending(engine, MODEL, notifiers, now=_window(hour).end)
    assert report.failures == []
    return report


def test_the_zeroed_hour_pages_once_and_resolves_once(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_tables(engine)
    config = _config(remind_hours=0)
    with SlackServer() as slack, PagerDutyServer() as pagerduty:
        _run(engine, config, zeroed_window(0), 0)
        _deliver(engine, slack, pagerduty, 0)
        _run(engine, config, zeroed_window(1), 1)  # the pipeline stays broken an hour more: nothing new to say
        _deliver(engine, slack, pagerduty, 1)

        [message] = slack.messages
        [trigger] = pagerduty.events
        shown = message["text"].replace("\u200b", "")  # Slack's text keeps our backticks literal with zero-width spaces
        assert shown.startswith(f"[CRITICAL] {MODEL}: 2 findings, 8 more folded under them")
        details = trigger["payload"]["custom_details"]["message"]
        for folded in FOLDED:
            assert folded in shown and folded in details, folded
        incident = f"{MODEL}:quality:constant_column:credit_limit:"
        assert trigger["dedup_key"] == incident and trigger["event_action"] == "trigger"

        for hour in (2, 3):
            _run(engine, config, clean_window(hour), hour)
            _deliver(engine, slack, pagerduty, hour)

        assert len(slack.messages) == 2 and slack.messages[1].get("thread_ts") == "1.000"  # the resolve, in its thread
        assert pagerduty.incidents == {incident: "triggered"}  # resolved on PagerDuty once quiet for 24 h
        _run(engine, config, clean_window(28), 28)
        _deliver(engine, slack, pagerduty, 28)
        assert [(e["event_action"], e["dedup_key"]) for e in pagerduty.events] == [("trigger", incident),
                                                                                  ("resolve", incident)]
        assert pagerduty.incidents == {incident: "resolved"} and len(slack.messages) == 2


def test_an_escalation_and_a_partial_resolve_reply_in_the_incidents_thread(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_tables(engine)
    config = _config(warning=("log", "slack", "pagerduty"))
    with SlackServer() as slack, PagerDutyServer() as pagerduty:
        _run(engine, config, [quality("constant_column", "income", W, 0), quality("mostly_null", "age", W, 0)], 0)
        _deliver(engine, slack, pagerduty, 0)
        _run(engine, config, [quality("constant_column", "income", C, 1), quality("mostly_null", "age", W, 1)], 1)
        _deliver(engine, slack, pagerduty, 1)
        for hour in (2, 3):
            _run(engine, config, [quality("constant_column", "income", OK, hour), quality("mostly_null", "age", W, hour)],
                 hour)
        _deliver(engine, slack, pagerduty, 3)

        incident = f"{MODEL}:quality:constant_column:income:"
        assert {e["dedup_key"] for e in pagerduty.events} == {incident}  # one PagerDuty alert: paged once
        assert [e["event_action"] for e in pagerduty.events] == ["trigger", "trigger"]  # the escalation adds to it
        assert pagerduty.incidents == {incident: "triggered"}  # age is still broken: the incident stays open
        assert [m.get("thread_ts") for m in slack.messages] == [None, "1.000", "1.000"]  # the rest in its thread
        assert "2 findings" in slack.messages[0]["text"] and "still open" in slack.messages[2]["text"]
