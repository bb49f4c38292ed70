"""A warehouse that does not answer: Airflow retries the task, then the window is recorded as failed and a
CRITICAL alert goes out, and no metric of the window is half-written."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END, ROOT
from tests.integration.helpers import DAG_ID, rows

pytestmark = pytest.mark.integration


@pytest.fixture
def unreachable_warehouse_dagbag(tmp_path, monkeypatch, airflow_db):
    """The demo monitor with one quick retry, reading a warehouse on a port where nothing listens."""
    from airflow.models import DagBag

    monitors = tmp_path / "monitors"
    monitors.mkdir()
    text = (ROOT / "include" / "monitors" / "credit_default.yaml").read_text()
    text = text.replace("schedule: hourly\n", "schedule: hourly\nretries: 1\nretry_delay_minutes: 0\n")
    (monitors / "credit_default.yaml").write_text(text)
    monkeypatch.setenv("MONITORING_MONITORS_DIR", str(monitors))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(
        {"conn_type": "postgres", "host": "127.0.0.1", "port": 1, "login": "postgres", "schema": "none",
         "extra": {"connect_timeout": 2}}))
    monkeypatch.setenv("AIRFLOW_CONN_MONITORING_STORE", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "s.db")}))
    monkeypatch.delenv("AIRFLOW_CONN_SLACK_ALERTS", raising=False)
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.dags[DAG_ID].default_args["retries"] == 1
    yield bag, sa.create_engine(f"sqlite:///{tmp_path / 's.db'}")
    monkeypatch.delenv("MONITORING_MONITORS_DIR")


def test_an_unreachable_warehouse_is_retried_then_recorded_as_failed_with_a_critical_alert(unreachable_warehouse_dagbag):
    from airflow.utils.state import DagRunState, TaskInstanceState

    bag, store = unreachable_warehouse_dagbag
    run = bag.dags[DAG_ID].test(logical_date=DEMO_END)
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    assert run.state == DagRunState.FAILED
    assert tis["load_reference"].state == TaskInstanceState.FAILED
    assert tis["load_reference"].try_number == 2  # the first try, and the one retry
    assert tis["write_metrics"].state == TaskInstanceState.UPSTREAM_FAILED
    # It runs whatever happened upstream, delivers the failure's alert, then fails so the run is not green.
    assert tis["send_notifications"].state == TaskInstanceState.FAILED
    assert tis["send_notifications"].try_number == 1  # failed on purpose, not retried

    [record] = rows(store, "select * from monitor_runs")
    assert record["status"] == "failed" and record["window_start"].startswith("2026-11-23 03:00")
    assert "load_reference failed: WarehouseError" in record["status_reason"]
    assert "did not answer" in record["status_reason"]
    kinds = {r["metric"] for r in rows(store, "select metric from metric_values")}
    assert kinds == {"run_failed"}  # nothing else of the window was written
    [alert] = rows(store, "select * from alerts")
    assert (alert["severity"], alert["status"]) == ("CRITICAL", "open")
    assert "the monitoring run failed" in alert["message"] and "did not answer" in alert["message"]
    sent = rows(store, "select channel, status from notifications")
    assert ("log", "sent") in {(r["channel"], r["status"]) for r in sent}
