"""dag.test() of the demo monitor over incident hours of the demo warehouse (SQLite): the metric rows
written, the alert severities, and the Slack messages a local Slack API server received."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END
from tests.integration.helpers import FEATURE_DRIFT, rows, run_dag, set_connections
from tests.slack_server import SlackServer

pytestmark = pytest.mark.integration

ZEROED_HOUR_END = DEMO_END - timedelta(hours=8)  # window [19:00, 20:00) on 2026-11-22: income, credit_limit = 0
EMPTY_HOUR_END = DEMO_END - timedelta(hours=13)  # window [14:00, 15:00): no rows at all


@pytest.fixture(scope="module")
def slack():
    with SlackServer() as server:
        yield server


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "monitoring.db"


@pytest.fixture
def sqlite_connections(monkeypatch, demo_warehouse_path, store_path, slack):
    set_connections(monkeypatch, {"conn_type": "sqlite", "host": str(demo_warehouse_path)},
                    {"conn_type": "sqlite", "host": str(store_path)}, slack.base_url)
    return sa.create_engine(f"sqlite:///{store_path}")


def test_zeroed_feature_hour_writes_metrics_and_pages_critical_drift_to_slack(dagbag, sqlite_connections, slack):
    store = sqlite_connections
    before = len(slack.messages)
    run_dag(dagbag, ZEROED_HOUR_END)
    window_start = "2026-11-22 19:00:00.000000"

    [run] = rows(store, "select * from monitor_runs where window_start = :w", w=window_start)
    assert run["status"] == "ok" and run["row_count"] > 100
    kinds = {r["kind"]: r["n"] for r in rows(store, "select kind, count(*) as n from metric_values group by kind")}
    assert kinds.keys() >= {"drift", "quality", "operational", "performance"}

    drift = {r["column_name"]: r for r in rows(
        store, f"select * from metric_values where {FEATURE_DRIFT} and window_start = :w", w=window_start)}
    for column in ("income", "credit_limit"):
        assert drift[column]["severity"] == "CRITICAL"
        assert drift[column]["value"] >= 0.2
    assert drift["age"]["severity"] == "OK"

    quality = {(r["metric"], r["column_name"]): r for r in rows(
        store, "select * from metric_values where kind = 'quality' and window_start = :w", w=window_start)}
    assert quality[("out_of_range", "income")]["severity"] == "WARNING"
    assert quality[("out_of_range", "age")]["severity"] == "OK"
    assert quality[("constant_column", "income")]["severity"] == quality[("constant_column", "credit_limit")]["severity"] \
        == "CRITICAL"

    alerts = {r["alert_key"]: r for r in rows(store, "select * from alerts where status = 'open'")}
    assert alerts["credit_default:drift:feature_drift:income:"]["severity"] == "CRITICAL"

    drift_alert = alerts["credit_default:drift:feature_drift:income:"]
    assert drift_alert["parent_key"] == "credit_default:quality:constant_column:income:"  # folded under its cause
    # One incident, one message: the constant columns are its roots, the drifts folded under them. Slack's text has a
    # zero-width space on each side of a backtick (mrkdwn shows the message literally).
    pages = [m for m in slack.messages[before:] if "constant_column of `income`" in m["text"].replace("\u200b", "")]
    assert len(pages) == 1
    assert pages[0]["channel"] == "#ml-alerts"
    assert pages[0]["_auth"] == "Bearer xoxb-test-token"
    text = pages[0]["text"].replace("\u200b", "")
    assert text.startswith("[CRITICAL] credit_default") and "2026-11-22 19:00" in text
    assert "expect_column_stdev_to_be_between" in text and "examples: 0.0" in text
    assert "CRITICAL drift:feature_drift of `income` = " in text and "constant_column of `credit_limit`" in text
    sent = rows(store, "select channel, status from notifications where alert_key = :k", k=drift_alert["incident"])
    # No PagerDuty connection in this test: its row is kept, marked skipped with the reason.
    assert {(r["channel"], r["status"]) for r in sent} == {("log", "sent"), ("slack", "sent"), ("pagerduty", "skipped")}


def test_empty_hour_records_no_data_and_pages_a_critical_data_delay(dagbag, sqlite_connections, slack):
    store = sqlite_connections
    before = len(slack.messages)
    run_dag(dagbag, EMPTY_HOUR_END)

    [run] = rows(store, "select * from monitor_runs where window_start = '2026-11-22 14:00:00.000000'")
    assert (run["status"], run["row_count"]) == ("no_data", 0)
    [volume] = rows(store, "select * from metric_values where kind = 'operational' and metric = 'row_count' "
                           "and window_start = '2026-11-22 14:00:00.000000'")
    assert (volume["value"], volume["severity"]) == (0.0, "CRITICAL")
    delay = [m for m in slack.messages[before:] if "no predictions arrived" in m["text"]]
    assert len(delay) == 1 and "[CRITICAL] credit_default" in delay[0]["text"]


def test_a_silence_in_the_airflow_variable_suppresses_the_page_of_a_real_run(dagbag, monkeypatch, demo_warehouse_path,
                                                                             tmp_path, slack):
    """The zeroed hour again, in a store of its own (the module's store has the window's alerts open already), with
    the Airflow variable `monitoring_silences` silencing the model's income alerts: the run succeeds, the income
    alerts are recorded open and their notifications suppressed with the silence's reason, never sent; the
    credit_limit alerts of the same window, not silenced, still reach Slack (and so does everything else: the
    variable's silence for another model does not apply to this one)."""
    store_path = tmp_path / "monitoring.db"
    set_connections(monkeypatch, {"conn_type": "sqlite", "host": str(demo_warehouse_path)},
                    {"conn_type": "sqlite", "host": str(store_path)}, slack.base_url)
    monkeypatch.setenv("AIRFLOW_VAR_MONITORING_SILENCES", json.dumps([
        {"model": "credit_default", "match": "*:*:income:*", "until": "2099-01-01T00:00:00+00:00",
         "reason": "pipeline fix in progress"},
        {"model": "another_model", "match": "*", "reason": "not this model's"}]))
    store = sa.create_engine(f"sqlite:///{store_path}")
    before = len(slack.messages)
    run_dag(dagbag, ZEROED_HOUR_END)

    alerts = {r["alert_key"]: r for r in rows(store, "select * from alerts where column_name = 'income'")}
    income_drift = "credit_default:drift:feature_drift:income:"
    assert alerts[income_drift]["status"] == "open" and alerts[income_drift]["severity"] == "CRITICAL"  # recorded
    assert {r["status"] for r in alerts.values()} == {"open"}
    # The income root (its constant column) is recorded under its own key, the income drift folded under it.
    stuck = "credit_default:quality:constant_column:income:"
    assert alerts[income_drift]["parent_key"] == stuck
    silenced = rows(store, "select * from notifications where alert_key = :k", k=stuck)
    assert {r["channel"] for r in silenced} == {"log", "slack", "pagerduty"}
    suppressed_keys = {r["alert_key"] for r in rows(store, "select * from notifications where status = 'suppressed'")}
    assert suppressed_keys == {stuck}  # nothing else silenced
    for notification in silenced:
        assert notification["status"] == "suppressed", notification
        assert notification["last_error"] == ("silenced (*:*:income:* until 2099-01-01T00:00:00+00:00: "
                                              "pipeline fix in progress)")
        assert notification["attempts"] == 0 and notification["sent_at"] is None

    new_messages = slack.messages[before:]
    assert [m["text"] for m in new_messages if "income" in m["text"]] == []
    # The silence is selective: the other zeroed feature of the same window still pages.
    limit = [m for m in new_messages if "constant_column of `credit_limit`" in m["text"].replace("\u200b", "")]
    assert len(limit) == 1 and limit[0]["text"].startswith("[CRITICAL] credit_default")
    assert "drift:feature_drift of `credit_limit` = " in limit[0]["text"].replace("\u200b", "")  # folded, named
    [limit_root] = rows(store, "select incident from alerts "
                               "where alert_key = 'credit_default:quality:constant_column:credit_limit:'")
    sent = rows(store, "select channel, status from notifications where alert_key = :k", k=limit_root["incident"])
    assert {(r["channel"], r["status"]) for r in sent} == {("log", "sent"), ("slack", "sent"), ("pagerduty", "skipped")}
