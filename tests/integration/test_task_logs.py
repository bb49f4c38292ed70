"""What a person reads of a run without SQL: each task's log lines (dag.test() of the demo monitor, caught by
caplog), the size of what travels between tasks as XCom, and the window's one-line findings summary, which a
second run of the same window (a clear and re-run) repeats."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from tests.integration.helpers import DAG_ID, run_dag, set_connections
from tests.integration.test_dag_run import ZEROED_HOUR_END

pytestmark = pytest.mark.integration

XCOM_LIMIT = 1_000  # bytes of JSON per returned value (about 200 now); the drift rows alone are over 20 KB


@pytest.fixture(scope="module")
def zeroed_hour_run(dagbag, demo_warehouse_path, tmp_path_factory):
    """One dag.test() of the zeroed-income hour in a store of its own, its log records and the run."""
    monkeypatch = pytest.MonkeyPatch()
    store_path = tmp_path_factory.mktemp("logs") / "monitoring.db"
    set_connections(monkeypatch, {"conn_type": "sqlite", "host": str(demo_warehouse_path)},
                    {"conn_type": "sqlite", "host": str(store_path)}, None)
    handler = _Collect()
    logging.getLogger("include.monitoring").addHandler(handler)
    logging.getLogger("include.monitoring").setLevel(logging.INFO)
    try:
        run = run_dag(dagbag, ZEROED_HOUR_END)
    finally:
        logging.getLogger("include.monitoring").removeHandler(handler)
    yield {"run": run, "lines": handler.lines, "store": sa.create_engine(f"sqlite:///{store_path}"),
           "monkeypatch": monkeypatch}
    monkeypatch.undo()


class _Collect(logging.Handler):
    """The monitoring package's records, whatever Airflow's logging set-up did to the root logger's handlers."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _line(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert found, f"no log line starting {start!r} in {lines}"
    return found[0]


def test_observe_window_logs_rows_read_and_sampled_and_the_failed_checks(zeroed_hour_run):
    lines = zeroed_hour_run["lines"]
    rows = _line(lines, "credit_default [2026-11-22 19:00")
    assert " rows read, " in rows and " sampled" in rows and ": ok, " in rows
    checks = _line(lines, "data checks: ")
    assert "constant_column(income)" in checks and "constant_column(credit_limit)" in checks
    assert "constant_column(age)" not in checks


def test_observe_window_logs_the_drifted_features_with_their_scores(zeroed_hour_run):
    drift = _line(zeroed_hour_run["lines"], "drift: ")
    assert "income " in drift and "credit_limit " in drift and "CRITICAL" in drift
    income = drift.split("income ", 1)[1].split(",", 1)[0]  # e.g. "ks=0.97 CRITICAL"
    assert "=" in income and float(income.split("=")[1].split()[0]) >= 0.2


def test_compute_performance_logs_metrics_with_label_coverage(zeroed_hour_run):
    lines = zeroed_hour_run["lines"]
    assert _line(lines, "performance: ").split()[1].isdigit()
    metrics = [line for line in lines if line.startswith("performance ") and not line.startswith("performance: ")]
    assert any(line.startswith("performance roc_auc: ") for line in metrics), metrics
    assert all(" window(s), " in line for line in metrics), metrics
    valued = [line for line in metrics if " latest " in line]
    assert valued and all("label coverage " in line and "%" in line for line in valued), metrics
    assert len(metrics) <= 10  # a few lines, not one per re-scored window


def test_write_and_deliver_log_alerts_opened_and_notifications_per_channel(zeroed_hour_run):
    lines = zeroed_hour_run["lines"]
    wrote = _line(lines, "wrote ")
    opened = int(wrote.split("alerts opened ")[1].split(",")[0])
    assert opened >= 3  # income and credit_limit drift, the constant columns
    sent = _line(lines, "notifications: ")
    assert f"log: {opened}" in sent.replace(" sent", "") or "log: " in sent
    assert "pagerduty: " in sent and " skipped" in sent  # no PagerDuty connection in this test
    summary = _line(lines, "window [2026-11-22 19:00")
    assert "findings: CRITICAL " in summary and "drift" in summary and "income" in summary
    assert "run note not set" in " ".join(lines)  # no airflow_api connection here: said, not failed


def test_returned_values_stay_small_and_the_log_shows_no_returned_value(zeroed_hour_run, dagbag):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    run = zeroed_hour_run["run"]
    with create_session() as session:
        values = {x.task_id: x.value for x in session.query(XComModel).filter(
            XComModel.dag_id == DAG_ID, XComModel.run_id == run.run_id, XComModel.key == "return_value")}
    assert {"observe_window", "compute_performance", "write_metrics"} <= set(values)
    sizes = {task: len(value if isinstance(value, str) else json.dumps(value)) for task, value in values.items()}
    assert max(sizes.values()) < XCOM_LIMIT, sizes
    dag = dagbag.dags[DAG_ID]  # Airflow's "Returned value was" line is off where the value is a store key
    assert [task for task in ("observe_window", "compute_performance")
            if dag.get_task(task).show_return_value_in_logs] == []


def test_the_window_summary_names_the_findings_and_a_rerun_keeps_them(zeroed_hour_run, dagbag):
    from include.monitoring import findings
    from include.monitoring.types import Window

    window = Window.parse("2026-11-22T19:00:00+00:00", "2026-11-22T20:00:00+00:00")
    first = findings.window_summary(zeroed_hour_run["store"], "credit_default", window)
    assert first.startswith("CRITICAL ")
    print(first)
    assert "drift ks income 0.99" in first and "drift ks credit_limit 0.99" in first
    assert "quality constant_column income" in first
    run_dag(dagbag, ZEROED_HOUR_END)  # the same window again: its alerts are open already, nothing new is sent
    assert findings.window_summary(zeroed_hour_run["store"], "credit_default", window) == first
