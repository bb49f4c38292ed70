"""Delivery of the notification outbox to local Slack and PagerDuty servers (SQLite store): the PagerDuty event
and its dedup_key, retries of 429 and 5xx answers, a channel outage, a kill between sending and marking sent, and
refusals. Every HTTP request goes to a 127.0.0.1 server the test starts; retries sleep through a recorder."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting.delivery import DeliveryContext, deliver_pending, deliver_rows, pending_rows
from include.monitoring.alerting.notifiers import LogNotifier, Notification, PagerDutyNotifier, RetryPolicy, SlackNotifier
from tests.pagerduty_server import PagerDutyServer
from tests.slack_server import SlackServer

pytestmark = pytest.mark.integration

MODEL = "credit_default"
NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)
RUN_URL = "http://localhost:8080/dags/monitor_credit_default/runs/manual__1"
RUNBOOK_URL = "https://wiki.example.com/runbooks/credit-default"
ROUTING_KEY = "R0UTINGKEY"
INCOME_DRIFT = f"{MODEL}:drift:feature_drift:income:"
LIMIT_DRIFT = f"{MODEL}:drift:feature_drift:credit_limit:"


class TaskKilled(BaseException):
    """Stands for the task being killed (SIGKILL, timeout): not an Exception, so delivery cannot catch it."""


class KilledAfterSending:
    """A real notifier whose task dies right after the channel accepted the notification, before it is marked."""

    def __init__(self, notifier) -> None:
        self._notifier = notifier

    def send(self, notification: Notification) -> None:
        self._notifier.send(notification)
        raise TaskKilled


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """An empty store's file, created once: creating every table costs ~0.2 s, copying the file nothing."""
    path = tmp_path_factory.mktemp("store") / "empty.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    store.create_tables(engine)
    engine.dispose()
    return path


@pytest.fixture
def engine(tmp_path, empty_store):
    path = tmp_path / "store.db"
    shutil.copyfile(empty_store, path)
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def slack():
    with SlackServer() as server:
        yield server


@pytest.fixture
def pagerduty():
    with PagerDutyServer() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def retry(sleeps) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append)  # the default bounds, without the waiting


@pytest.fixture
def notifiers(slack, pagerduty, retry) -> dict:
    return {"log": LogNotifier(),
            "slack": SlackNotifier(token="xoxb-test-token", base_url=slack.base_url, channel="#ml-alerts", retry=retry),
            "pagerduty": PagerDutyNotifier(routing_key=ROUTING_KEY, events_url=pagerduty.events_url, retry=retry)}


def add_pending(engine, channel: str, alert_key: str = INCOME_DRIFT, action: str = "trigger", severity: str = "CRITICAL",
                hours_ago: int = 1, message: str = "", status: str = "pending") -> int:
    window_start = NOW - timedelta(hours=hours_ago)
    message = message or f"[{severity}] {MODEL}: {action} of {alert_key} for the window at {window_start:%H:%M}"
    with engine.begin() as conn:
        return conn.execute(sa.insert(store.notifications).values(
            alert_key=alert_key, model=MODEL, window_start=window_start, channel=channel, action=action,
            severity=severity, message=message, status=status, attempts=0, last_error="", created_at=NOW,
        )).inserted_primary_key[0]


def outbox(engine) -> dict[int, dict]:
    with engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(sa.select(store.notifications))}


def deliver(engine, notifiers, missing_reasons=None):
    return deliver_pending(engine, MODEL, notifiers, now=NOW, missing_reasons=missing_reasons, run_url=RUN_URL,
                           runbook_url=RUNBOOK_URL)


def test_pagerduty_trigger_and_resolve_share_the_alert_key_as_dedup_key_and_map_severities(engine, notifiers, pagerduty):
    critical = add_pending(engine, "pagerduty", INCOME_DRIFT, severity="CRITICAL")
    add_pending(engine, "pagerduty", LIMIT_DRIFT, severity="WARNING")
    add_pending(engine, "pagerduty", f"{MODEL}:quality:null_rate:age:", severity="INFO")
    assert deliver(engine, notifiers).sent == 3

    trigger = pagerduty.events[0]
    assert trigger["routing_key"] == ROUTING_KEY and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == INCOME_DRIFT
    message = outbox(engine)[critical]["message"]
    assert trigger["payload"] == {
        "summary": message, "source": MODEL, "severity": "critical", "component": MODEL, "group": "model-monitoring",
        "class": "drift:feature_drift",
        "custom_details": {"message": message, "alert_key": INCOME_DRIFT, "action": "trigger", "run_url": RUN_URL,
                           "runbook_url": RUNBOOK_URL}}
    assert trigger["links"] == [{"href": RUN_URL, "text": "Airflow run"}, {"href": RUNBOOK_URL, "text": "Runbook"}]
    assert [e["payload"]["severity"] for e in pagerduty.events] == ["critical", "warning", "info"]

    add_pending(engine, "pagerduty", LIMIT_DRIFT, action="escalate", severity="CRITICAL", hours_ago=0)
    add_pending(engine, "pagerduty", INCOME_DRIFT, action="resolve", hours_ago=0)
    assert deliver(engine, notifiers).sent == 2
    escalate, resolve = pagerduty.events[-2:]
    assert (escalate["event_action"], escalate["dedup_key"], escalate["payload"]["severity"]) == (
        "trigger", LIMIT_DRIFT, "critical")  # joins the open incident of LIMIT_DRIFT's trigger
    assert escalate["payload"]["custom_details"]["action"] == "escalate"
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": INCOME_DRIFT}
    assert pagerduty.incidents[INCOME_DRIFT] == "resolved" and pagerduty.opened == 3
    assert pagerduty.rejected == []
    assert {r["status"] for r in outbox(engine).values()} == {"sent"}


def test_the_pagerduty_class_is_the_stored_rule_of_the_alert_not_a_reading_of_its_key(engine, notifiers, pagerduty):
    # A rule the key does not spell out: only the alerts table's column can have given it.
    with engine.begin() as conn:
        conn.execute(sa.insert(store.alerts).values(
            alert_key=INCOME_DRIFT, model=MODEL, rule="drift:stored_rule", column_name="income", slice="",
            severity="CRITICAL", status="open", opened_at=NOW, last_seen_at=NOW, message="m"))
    add_pending(engine, "pagerduty", INCOME_DRIFT)
    assert deliver(engine, notifiers).sent == 1
    assert pagerduty.events[0]["payload"]["class"] == "drift:stored_rule"


def test_an_alert_key_longer_than_pagerduty_allows_gets_a_stable_dedup_key_within_255_characters(engine, notifiers,
                                                                                                pagerduty):
    long_key = f"{MODEL}:drift:feature_drift:employer:employer={'x' * 400}"
    add_pending(engine, "pagerduty", long_key)
    add_pending(engine, "pagerduty", long_key, action="resolve", hours_ago=0)
    assert deliver(engine, notifiers).sent == 2
    trigger, resolve = pagerduty.events
    assert len(trigger["dedup_key"]) == 255 and trigger["dedup_key"] == resolve["dedup_key"]
    assert trigger["payload"]["custom_details"]["alert_key"] == long_key


def channel_under_test(kind: str, slack, pagerduty, retry):
    """(outbox channel, notifier, server) for a parametrized channel."""
    if kind == "pagerduty":
        return "pagerduty", PagerDutyNotifier(routing_key=ROUTING_KEY, events_url=pagerduty.events_url, retry=retry), pagerduty
    if kind == "slack_webhook":
        return "slack", SlackNotifier(webhook_url=slack.webhook_url, retry=retry), slack
    return "slack", SlackNotifier(token="xoxb-test-token", base_url=slack.base_url, channel="#ml-alerts", retry=retry), slack


def accepted(server) -> int:
    return len(server.events) if isinstance(server, PagerDutyServer) else len(server.messages)


@pytest.mark.parametrize("kind", ["pagerduty", "slack_api", "slack_webhook"])
def test_a_rate_limit_is_waited_out_for_its_retry_after_then_the_notification_is_delivered_once(
        kind, engine, slack, pagerduty, retry, sleeps):
    channel, notifier, server = channel_under_test(kind, slack, pagerduty, retry)
    row = add_pending(engine, channel)
    server.fail_next(1, 429, retry_after=3)
    report = deliver(engine, {channel: notifier})
    assert (report.sent, report.failures) == (1, [])
    assert (server.requests, accepted(server)) == (2, 1)
    assert sleeps == [3.0]  # the Retry-After, not the shorter backoff
    assert outbox(engine)[row]["status"] == "sent"


@pytest.mark.parametrize("kind", ["pagerduty", "slack_api", "slack_webhook"])
def test_two_server_errors_are_retried_with_backoff_then_the_notification_is_delivered_once(
        kind, engine, slack, pagerduty, retry, sleeps):
    channel, notifier, server = channel_under_test(kind, slack, pagerduty, retry)
    row = add_pending(engine, channel)
    server.fail_next(2, 500)
    report = deliver(engine, {channel: notifier})
    assert (report.sent, report.failures) == (1, [])
    assert (server.requests, accepted(server)) == (3, 1)
    assert sleeps == [1.0, 2.0]
    assert outbox(engine)[row]["status"] == "sent"


@pytest.mark.parametrize("kind", ["pagerduty", "slack_api"])
def test_a_retry_after_beyond_the_cap_is_not_waited_for_and_the_row_stays_pending(kind, engine, slack, pagerduty, retry,
                                                                                sleeps):
    channel, notifier, server = channel_under_test(kind, slack, pagerduty, retry)
    row = add_pending(engine, channel)
    server.fail_next(1, 429, retry_after=3600)
    report = deliver(engine, {channel: notifier})
    assert report.sent == 0 and len(report.failures) == 1
    assert (server.requests, sleeps) == (1, [])
    stored = outbox(engine)[row]
    assert stored["status"] == "pending" and stored["attempts"] == 1
    assert "ChannelUnavailableError" in stored["last_error"] and "429" in stored["last_error"]


def test_an_unreachable_pagerduty_is_retried_within_the_budget_and_the_row_stays_pending(engine, retry, sleeps):
    with socket.socket() as probe:  # a port that nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = PagerDutyNotifier(routing_key=ROUTING_KEY, events_url=f"http://127.0.0.1:{port}/v2/enqueue", timeout=2,
                                 retry=retry)
    row = add_pending(engine, "pagerduty")
    report = deliver(engine, {"pagerduty": notifier})
    assert report.sent == 0 and "unreachable after 3 attempt(s)" in report.failures[0]
    assert sleeps == [1.0, 2.0]
    assert outbox(engine)[row]["status"] == "pending"


def test_a_slack_outage_leaves_slack_rows_pending_while_pagerduty_is_paged_and_recovery_sends_each_once(
        engine, notifiers, slack, pagerduty, sleeps):
    rows = {(key, channel): add_pending(engine, channel, key)
            for key in (INCOME_DRIFT, LIMIT_DRIFT) for channel in ("log", "slack", "pagerduty")}
    slack.fail_next(100, 500)  # longer than any retry budget

    report = deliver(engine, notifiers)
    assert report.sent == 4 and len(report.failures) == 2  # log and PagerDuty; both Slack rows failed
    assert slack.requests == 3 and sleeps == [1.0, 2.0]  # one row spent the budget; the next was not attempted
    assert [e["dedup_key"] for e in pagerduty.events] == [INCOME_DRIFT, LIMIT_DRIFT]
    stored = outbox(engine)
    first, second = stored[rows[(INCOME_DRIFT, "slack")]], stored[rows[(LIMIT_DRIFT, "slack")]]
    assert (first["status"], first["attempts"]) == ("pending", 1) and "HTTP 500" in first["last_error"]
    assert (second["status"], second["attempts"]) == ("pending", 0)
    assert second["last_error"].startswith("not attempted: slack was unavailable")
    assert {stored[rows[(key, "pagerduty")]]["status"] for key in (INCOME_DRIFT, LIMIT_DRIFT)} == {"sent"}

    slack.recover()
    report = deliver(engine, notifiers)
    assert (report.sent, report.failures) == (2, [])
    assert deliver(engine, notifiers).sent == 0  # and nothing is left for a later run
    expected = {stored[rows[(key, "slack")]]["message"] for key in (INCOME_DRIFT, LIMIT_DRIFT)}
    assert Counter(m["text"] for m in slack.messages) == dict.fromkeys(expected, 1)
    assert len(pagerduty.events) == 2  # not paged again
    assert {r["status"] for r in outbox(engine).values()} == {"sent"}


def test_a_kill_between_sending_and_marking_repeats_the_pagerduty_event_which_dedups_into_one_incident(
        engine, notifiers, pagerduty):
    row = add_pending(engine, "pagerduty")
    with pytest.raises(TaskKilled):
        deliver(engine, {"pagerduty": KilledAfterSending(notifiers["pagerduty"])})
    assert outbox(engine)[row]["status"] == "pending"  # accepted by PagerDuty, but never marked sent

    assert deliver(engine, notifiers).sent == 1  # the retried task sends it again
    assert [e["dedup_key"] for e in pagerduty.events] == [INCOME_DRIFT, INCOME_DRIFT]
    assert pagerduty.opened == 1  # the repeat joined the incident the first event opened
    assert outbox(engine)[row]["status"] == "sent"


def test_a_kill_between_sending_and_marking_posts_the_slack_message_twice_as_documented(engine, notifiers, slack):
    row = add_pending(engine, "slack")
    with pytest.raises(TaskKilled):
        deliver(engine, {"slack": KilledAfterSending(notifiers["slack"])})
    assert deliver(engine, notifiers).sent == 1
    message = outbox(engine)[row]["message"]
    assert [m["text"] for m in slack.messages] == [message, message]  # at least once: Slack has no dedup key


def test_a_retried_delivery_never_resends_a_row_marked_sent_even_from_an_outdated_list(engine, notifiers, slack,
                                                                                       pagerduty):
    for channel in ("slack", "pagerduty"):
        add_pending(engine, channel)
    read_before = pending_rows(engine, MODEL)  # as a delivery that read the outbox, then stalled, would hold it
    assert deliver(engine, notifiers).sent == 2
    assert deliver(engine, notifiers).sent == 0
    late = deliver_rows(engine, read_before, DeliveryContext(notifiers, {}, NOW))
    assert (late.sent, late.failures) == (0, [])
    assert (len(slack.messages), len(pagerduty.events)) == (1, 1)
    assert {r["attempts"] for r in outbox(engine).values()} == {1}


def test_slack_channel_not_found_fails_at_once_without_retries_and_stays_pending(engine, notifiers, slack, pagerduty,
                                                                                 sleeps):
    slack_rows = [add_pending(engine, "slack", key) for key in (INCOME_DRIFT, LIMIT_DRIFT)]
    paged = add_pending(engine, "pagerduty")
    slack.fail_with = "channel_not_found"
    report = deliver(engine, notifiers)
    assert report.sent == 1 and len(report.failures) == 2
    assert all("channel_not_found" in failure for failure in report.failures)
    assert slack.requests == 2 and sleeps == []  # one request per row: a refusal is not retried
    stored = outbox(engine)
    for row in slack_rows:
        assert (stored[row]["status"], stored[row]["attempts"]) == ("pending", 1)
        assert "NotificationError" in stored[row]["last_error"] and "channel_not_found" in stored[row]["last_error"]
    assert stored[paged]["status"] == "sent"


def test_a_trigger_already_resolved_on_its_channel_is_skipped_as_outdated(engine, notifiers, pagerduty):
    stale = add_pending(engine, "pagerduty", hours_ago=3)
    resolve = add_pending(engine, "pagerduty", action="resolve", hours_ago=1, status="sent")
    report = deliver(engine, notifiers)
    assert (report.sent, report.skipped) == (0, 1)
    assert pagerduty.requests == 0  # it would have opened an incident nobody resolves
    stored = outbox(engine)[stale]
    assert stored["status"] == "skipped"
    assert stored["last_error"] == f"outdated: notification {resolve} already resolved the alert"


# --- channels built from Airflow connections ----------------------------------------------------------------------


@pytest.fixture
def slack_connection(monkeypatch, slack):
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_ALERTS", json.dumps(
        {"conn_type": "slack", "password": "xoxb-test-token", "extra": {"base_url": slack.base_url}}))


def test_a_missing_pagerduty_connection_marks_its_rows_skipped_with_the_reason(engine, monkeypatch, slack_connection, slack,
                                                                               retry):
    from include.monitoring.airflow_adapters import notifiers_for
    from include.monitoring.config import MonitorConfig

    monkeypatch.delenv("AIRFLOW_CONN_PAGERDUTY_ALERTS", raising=False)
    notifiers, missing = notifiers_for(MonitorConfig(model=MODEL), retry)
    assert set(notifiers) == {"log", "slack"} and set(missing) == {"pagerduty"}
    assert "'pagerduty_alerts' is not defined" in missing["pagerduty"]

    paged, posted = add_pending(engine, "pagerduty"), add_pending(engine, "slack")
    report = deliver(engine, notifiers, missing)
    assert (report.sent, report.skipped, report.failures) == (1, 1, [])
    stored = outbox(engine)
    assert (stored[paged]["status"], stored[paged]["last_error"]) == ("skipped", missing["pagerduty"])
    assert stored[posted]["status"] == "sent" and len(slack.messages) == 1


@pytest.mark.parametrize("connection", [
    {"password": ROUTING_KEY},
    {"extra": {"routing_key": ROUTING_KEY}},
    {"extra": {"integration_key": ROUTING_KEY}},
], ids=["password", "extra_routing_key", "extra_integration_key"])
def test_the_pagerduty_connection_gives_the_routing_key_and_the_events_url(engine, monkeypatch, pagerduty, retry,
                                                                          connection):
    from include.monitoring.airflow_adapters import notifiers_for
    from include.monitoring.config import MonitorConfig

    extra = {**connection.get("extra", {}), "events_url": pagerduty.events_url}
    monkeypatch.setenv("AIRFLOW_CONN_PAGERDUTY_ALERTS", json.dumps({**connection, "conn_type": "pagerduty_events",
                                                                    "extra": extra}))
    notifiers, _ = notifiers_for(MonitorConfig(model=MODEL), retry)
    add_pending(engine, "pagerduty")
    assert deliver(engine, notifiers).sent == 1
    assert pagerduty.events[0]["routing_key"] == ROUTING_KEY


def test_a_pagerduty_connection_of_another_type_or_without_a_key_is_a_missing_channel_with_the_reason(monkeypatch):
    from include.monitoring.airflow_adapters import notifiers_for
    from include.monitoring.config import MonitorConfig

    config = MonitorConfig(model=MODEL)
    monkeypatch.setenv("AIRFLOW_CONN_PAGERDUTY_ALERTS", json.dumps({"conn_type": "pagerduty", "password": "api-token"}))
    assert "expected one of ['pagerduty_events']" in notifiers_for(config)[1]["pagerduty"]
    monkeypatch.setenv("AIRFLOW_CONN_PAGERDUTY_ALERTS", json.dumps({"conn_type": "pagerduty_events"}))
    assert "has no routing key" in notifiers_for(config)[1]["pagerduty"]


def test_the_resolve_replies_in_the_slack_thread_of_the_alert(engine, notifiers, slack):
    """The trigger's ts is kept on its outbox row; the escalation and the resolve post into that thread."""
    add_pending(engine, "slack", action="trigger", severity="WARNING")
    deliver(engine, notifiers)
    add_pending(engine, "slack", action="escalate", severity="CRITICAL")
    add_pending(engine, "slack", action="resolve")
    deliver(engine, notifiers)
    trigger, escalate, resolve = slack.messages
    assert "thread_ts" not in trigger
    assert escalate["thread_ts"] == resolve["thread_ts"] == "1.000"  # the trigger's ts, as Slack answered it
    assert [row["reference"] for row in outbox(engine).values()] == ["1.000", "2.000", "3.000"]


# --- one incident, end to end: alert state -> outbox -> channels ---------------------------------------------------


def test_one_incidents_lifecycle_yields_exactly_its_notifications_on_each_channel(engine, notifiers, slack, pagerduty):
    """Real apply_alerts runs for one key (WARNING routed to log and Slack, CRITICAL also to PagerDuty, reminders
    after 3 h, PSI's rule without persistence), each followed by a delivery: every channel receives exactly the
    incident's notifications, once each, in order; Slack's later ones in the trigger's thread, PagerDuty's under
    one dedup_key, so they make one incident that the resolve closes.

    Expected, hour by hour (window [S+h, S+h+1), the run at S+h+1:06):
        h0 W   trigger  WARNING   log, slack             notified at S+1:06
        h1 W   -                                          a repeat breach
        h2 C   escalate CRITICAL  log, slack, pagerduty  notified at S+3:06
        h3 C   -                                          1 h since notified
        h4 C   -                                          2 h
        h5 C   remind   CRITICAL  log, slack, pagerduty  3 h since notified: remind_hours
        h6 OK  -                                          one clean window (resolve_after = 2)
        h7 OK  resolve  CRITICAL  log, slack, pagerduty  the second clean window; the alert's tier routes it
    Slack: trigger, escalate, remind, resolve; PagerDuty: trigger (the escalation: a WARNING is not routed there),
    trigger (the reminder: the Events API has no remind action, the same dedup_key adds it to the open incident),
    resolve."""
    from include.monitoring.alerting.lifecycle import apply_alerts
    from include.monitoring.alerting.notifiers import escape_mrkdwn
    from include.monitoring.config import AlertsConfig, MonitorConfig
    from include.monitoring.types import MetricKind, MetricRow, Severity, Window

    # reopen_within_hours=0: PagerDuty's resolve goes with the others (the quiet period that defers it is tested in
    # test_incident_delivery.py).
    config = MonitorConfig(model=MODEL, alerts=AlertsConfig(critical=("log", "slack", "pagerduty"),
                                                            warning=("log", "slack"), remind_hours=3,
                                                            reopen_within_hours=0))
    key = f"{MODEL}:drift:psi:income:"
    start = datetime(2026, 11, 22, 20, tzinfo=UTC)
    W, C, OK = Severity.WARNING, Severity.CRITICAL, Severity.OK
    value = {OK: 0.01, W: 0.15, C: 0.3}

    transitions, sent = [], []
    for hour, severity in enumerate([W, W, C, C, C, C, OK, OK]):
        window = Window(start + timedelta(hours=hour), start + timedelta(hours=hour + 1))
        row = MetricRow(MetricKind.DRIFT, "psi", value[severity], window, column="income", n=500,
                        threshold_warning=0.1, threshold_critical=0.2, severity=severity, details={"noise": 0.02})
        now = window.end + timedelta(minutes=6)
        with engine.begin() as conn:
            transitions.append([(t.alert_key, t.action, t.severity.name, t.suppressed)
                                for t in apply_alerts(conn, config, [row], now, run_window=window)])
        report = deliver_pending(engine, MODEL, notifiers, now=now, run_url=RUN_URL, runbook_url=RUNBOOK_URL)
        assert report.failures == []
        sent.append(report.sent)

    assert transitions == [[(key, "trigger", "WARNING", "")], [], [(key, "escalate", "CRITICAL", "")], [], [],
                           [(key, "remind", "CRITICAL", "")], [], [(key, "resolve", "CRITICAL", "")]]
    assert sent == [2, 0, 3, 0, 0, 3, 0, 3]
    assert deliver(engine, notifiers).sent == 0  # nothing is left for a later run

    stored = sorted(outbox(engine).values(), key=lambda r: r["id"])
    assert [(r["action"], r["channel"]) for r in stored] == [
        ("trigger", "log"), ("trigger", "slack"),
        ("escalate", "log"), ("escalate", "slack"), ("escalate", "pagerduty"),
        ("remind", "log"), ("remind", "slack"), ("remind", "pagerduty"),
        ("resolve", "log"), ("resolve", "slack"), ("resolve", "pagerduty")]
    assert {(r["status"], r["attempts"], r["last_error"]) for r in stored} == {("sent", 1, "")}
    message = {r["action"]: r["message"] for r in stored if r["channel"] == "slack"}
    assert message["trigger"].startswith("[WARNING] credit_default: drift of `income` (PSI): 0.15 >= 0.1")
    assert message["escalate"].startswith("[CRITICAL] credit_default: drift of `income` (PSI): 0.3 >= 0.2")
    assert message["remind"].startswith("[CRITICAL]") and "2026-11-23 01:00" in message["remind"]  # hour 5's window
    assert message["resolve"].startswith("[RESOLVED] credit_default: drift psi of `income` is back to normal")

    # Slack: four messages, once each; the trigger opens the thread the three others reply in.
    trigger, escalate, remind, resolve = slack.messages
    assert [m["text"] for m in slack.messages] == [escape_mrkdwn(message[a])
                                                   for a in ("trigger", "escalate", "remind", "resolve")]
    assert [m["blocks"][0]["text"]["text"] for m in slack.messages] == [
        ":large_orange_circle: *Warning alert: credit_default*", ":red_circle: *Critical alert: credit_default*",
        ":red_circle: *Critical alert: credit_default*", ":red_circle: *Resolved: credit_default*"]
    assert "thread_ts" not in trigger
    assert [(m["thread_ts"], m["reply_broadcast"]) for m in (escalate, remind, resolve)] == [("1.000", True)] * 3
    slack_rows = [r for r in stored if r["channel"] == "slack"]
    assert [r["reference"] for r in slack_rows] == ["1.000", "2.000", "3.000", "4.000"]
    assert slack.requests == 4  # nothing retried or repeated

    # PagerDuty: the escalation and the reminder as triggers, then the resolve: one incident, opened and resolved.
    assert [(e["event_action"], e["dedup_key"]) for e in pagerduty.events] == [
        ("trigger", key), ("trigger", key), ("resolve", key)]
    paged, reminded, resolved = pagerduty.events
    assert [(e["payload"]["severity"], e["payload"]["custom_details"]["action"], e["payload"]["summary"])
            for e in (paged, reminded)] == [("critical", "escalate", message["escalate"]),
                                           ("critical", "remind", message["remind"])]
    assert resolved == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": key}
    assert (pagerduty.opened, pagerduty.incidents, pagerduty.rejected, pagerduty.requests) == (
        1, {key: "resolved"}, [], 3)

    with engine.connect() as conn:
        alert = conn.execute(sa.select(store.alerts).where(store.alerts.c.alert_key == key)).one()
    assert (alert.status, alert.severity, alert.clean_windows) == ("resolved", "CRITICAL", 2)


# --- Slack's Block Kit limits, data shown literally, and no connection secret in any output ------------------------

MARKUP = "*bold* _it_ ~s~ `code` <!channel> & co"  # a category value that mrkdwn would format, mention and escape
SECTION_LIMIT, CONTEXT_LIMIT, FALLBACK_LIMIT, PAGERDUTY_SUMMARY_LIMIT = 3000, 2000, 3000, 1024
ZWSP = "\u200b"


def shown_by_slack(mrkdwn: str) -> str:
    """The characters Slack displays for mrkdwn without formatting: entities decoded, zero-width spaces invisible."""
    return mrkdwn.replace(ZWSP, "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def assert_nothing_formats(mrkdwn: str) -> None:
    """No mention or link can start (no raw `<`), and every formatting character sits either between two letters
    (where it cannot open or close a span) or between zero-width spaces."""
    assert "<" not in mrkdwn
    for i, char in enumerate(mrkdwn):
        if char in "*_~`":
            before, after = mrkdwn[i - 1:i], mrkdwn[i + 1:i + 2]
            inside_word = before.isalnum() and after.isalnum() and char != "`"
            assert inside_word or before == after == ZWSP, f"{char!r} at {i} may format: {mrkdwn[i - 5:i + 5]!r}"


def assert_within_block_kit_limits(message: dict) -> None:
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert len(message["text"]) <= FALLBACK_LIMIT
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT and len(block.get("fields", [])) <= 10
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(element["text"]) <= CONTEXT_LIMIT for element in block["elements"])


def assert_cut_with_marker(shown: str, original: str) -> None:
    """`shown` is the start of `original`, then a marker that counts exactly the characters left out."""
    kept, marker, left_out = shown.rpartition("… (")
    assert original.startswith(kept) and left_out == f"{len(original) - len(kept)} more characters; see the metric store)"
    assert marker


@pytest.mark.parametrize("kind", ["slack_api", "slack_webhook"])
def test_a_10000_character_alert_arrives_in_slack_within_every_block_kit_limit_with_its_data_shown_literally(
        kind, engine, slack, pagerduty, retry):
    channel, notifier, _ = channel_under_test(kind, slack, pagerduty, retry)
    message = (f"[CRITICAL] {MODEL}: data quality check out_of_range of `channel` failed: observed 5 of 5 rows "
               f"unexpected; examples: {MARKUP}, {'v' * 10_000}; window [2026-11-23 03:00, 2026-11-23 04:00) UTC")
    add_pending(engine, channel, message=message)
    assert deliver(engine, {channel: notifier}).sent == 1

    [posted] = slack.messages
    assert_within_block_kit_limits(posted)
    header, section, _links = (block["text"]["text"] if "text" in block else block["elements"][0]["text"]
                               for block in posted["blocks"])
    assert header == ":red_circle: *Critical alert: credit_default*"  # our own formatting is kept
    for text in (section, posted["text"]):
        assert_nothing_formats(text)
        assert_cut_with_marker(shown_by_slack(text), message)
        assert MARKUP in shown_by_slack(text)


def test_a_10000_character_alert_is_cut_with_a_marker_in_the_pagerduty_summary_and_bounded_in_its_details(
        engine, notifiers, pagerduty):
    message = f"[CRITICAL] {MODEL}: data quality check failed; examples: {MARKUP}, {'v' * 20_000}"
    add_pending(engine, "pagerduty", message=message)
    assert deliver(engine, notifiers).sent == 1
    payload = pagerduty.events[0]["payload"]
    assert len(payload["summary"]) <= PAGERDUTY_SUMMARY_LIMIT and len(payload["custom_details"]["message"]) <= 16_000
    assert_cut_with_marker(payload["summary"], message)
    assert_cut_with_marker(payload["custom_details"]["message"], message)
    assert len(json.dumps(pagerduty.events[0]).encode()) < 512 * 1024


@contextlib.contextmanager
def recorded_logs():
    """Every record of every logger, at DEBUG, as (logger name, formatted text with any traceback). Airflow is
    configured first: its logging set-up replaces the root logger's handlers (pytest's caplog among them)."""
    from include.monitoring.airflow_adapters import get_connection

    get_connection("monitoring_store")
    records: list[tuple[str, str]] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append((record.name, handler.format(record)))  # type: ignore[method-assign]
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


SECRET_PATH = "/services/T0SECRETTEAM/B0SECRETHOOK/s3cr3tWebhookToken"
SECRET_ROUTING_KEY = "R0UTINGKEYs3cr3t0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:  # nothing listens on it once the probe is closed
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("outage", ["http_500", "nothing_listens"])
def test_a_failing_delivery_leaves_the_webhook_url_and_routing_key_in_no_log_output_error_or_outbox_row(
        outage, engine, slack, pagerduty, monkeypatch, capsys):
    """tasks.deliver with both channels down and every logger at DEBUG: slack_sdk logs the request URL on each
    request and retry, which for a webhook is the secret."""
    from include.monitoring import tasks
    from include.monitoring.config import MonitorConfig
    from include.monitoring.errors import MonitoringError

    origin = slack.origin if outage == "http_500" else f"http://127.0.0.1:{free_port()}"
    events_url = pagerduty.events_url if outage == "http_500" else f"http://127.0.0.1:{free_port()}/v2/enqueue"
    slack.fail_next(100, 500)
    pagerduty.fail_next(100, 500)
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_ALERTS", json.dumps({"conn_type": "slackwebhook",
                                                                "password": f"{origin}{SECRET_PATH}"}))
    monkeypatch.setenv("AIRFLOW_CONN_PAGERDUTY_ALERTS", json.dumps(
        {"conn_type": "pagerduty_events", "password": SECRET_ROUTING_KEY, "extra": {"events_url": events_url}}))
    monkeypatch.setenv("AIRFLOW_CONN_MONITORING_STORE", json.dumps({"conn_type": "sqlite",
                                                                    "host": engine.url.database}))
    for channel in ("slack", "pagerduty"):
        add_pending(engine, channel)

    with recorded_logs() as records, pytest.raises(MonitoringError) as raised:
        tasks.deliver(MonitorConfig(model=MODEL))

    assert "2 notification(s) failed" in str(raised.value)
    assert any(name.startswith("slack_sdk") for name, _ in records)  # slack_sdk did log its requests
    captured = capsys.readouterr()
    outputs = {"log": "\n".join(text for _, text in records), "stdout": captured.out, "stderr": captured.err,
               "error": str(raised.value), "outbox": json.dumps(outbox(engine), default=str)}
    for secret in (SECRET_PATH, SECRET_PATH.rsplit("/", 1)[1], SECRET_ROUTING_KEY):
        assert {name: secret in text for name, text in outputs.items()} == dict.fromkeys(outputs, False)


def test_the_delivery_task_resolves_the_channels_connections_only_when_a_notification_is_pending(
        engine, monkeypatch, slack_connection, slack):
    """In a task every connection lookup is a call to the API server; a run with nothing pending makes none."""
    from include.monitoring import tasks
    from include.monitoring.airflow_adapters import notifiers_for
    from include.monitoring.config import MonitorConfig

    monkeypatch.setenv("AIRFLOW_CONN_MONITORING_STORE", json.dumps({"conn_type": "sqlite", "host": engine.url.database}))
    looked_up: list[str] = []
    monkeypatch.setattr(tasks, "notifiers_for", lambda config: (looked_up.append(config.model), notifiers_for(config))[1])
    config = MonitorConfig(model=MODEL)
    assert tasks.deliver(config) == {"sent": 0, "skipped": 0} and looked_up == []
    posted = add_pending(engine, "slack")
    assert tasks.deliver(config) == {"sent": 1, "skipped": 0} and looked_up == [MODEL]
    assert outbox(engine)[posted]["status"] == "sent" and len(slack.messages) == 1
