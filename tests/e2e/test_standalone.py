"""End to end: `airflow standalone` in a throw-away home runs the demo monitor through REST v2: one ordinary hour,
and the zeroed-income hour whose findings the run's note shows, also after a clear and re-run.

Everything the run needs is created here (warehouse, metric store, connections, pool, Airflow home, ports),
so the test depends on nothing left on the machine, and every process it starts is stopped afterwards.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scripts import standalone
from tests.e2e.conftest import running_standalone

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "monitor_credit_default"
# A fixed demo period, so the checked window is the same whenever the test runs. The window is an
# afternoon hour: enough rows for drift (the night hours of a small warehouse are below min_rows).
DEMO_END = datetime(2026, 11, 23, 4, tzinfo=UTC)
WINDOW_START = datetime(2026, 11, 22, 16, tzinfo=UTC)
ZEROED_WINDOW_START = datetime(2026, 11, 22, 19, tzinfo=UTC)  # income and credit_limit are 0 in [18:00, 22:00)
RUN_TIMEOUT = 120


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    import sqlalchemy as sa

    from include.monitoring.demo.generator import write_demo_warehouse

    tmp_path = tmp_path_factory.mktemp("stores")
    warehouse = tmp_path / "warehouse.db"
    write_demo_warehouse(sa.create_engine(f"sqlite:///{warehouse}"), end=DEMO_END, days=3, peak_rows=300, seed=11)
    return {"warehouse": warehouse, "monitoring_store": tmp_path / "monitoring.db"}


@pytest.fixture(scope="module")
def airflow_api(tmp_path_factory, stores):
    """One running standalone for the module, with the demo connections and pool; yields its REST client."""
    tmp_path = tmp_path_factory.mktemp("standalone")
    port = standalone.free_port()
    home = tmp_path / "airflow_home"
    env = standalone.standalone_env(home, port, ROOT, parallelism=4)
    env.update(standalone.api_connection_env(f"http://localhost:{port}", standalone.ensure_admin_password(home)))
    # Unpausing would also create the latest scheduled run (of today, outside the demo period) and run
    # it alongside ours; without cron scheduling only the triggered run executes.
    env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    for conn_id, path in stores.items():  # connections need no database: environment variables
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({"conn_type": "sqlite", "host": str(path)})
    with running_standalone(env, tmp_path / "standalone.log", port) as proc:
        base_url = f"http://localhost:{port}"
        standalone.wait_healthy(base_url, timeout=120, proc=proc)
        client = standalone.RestClient(base_url, "admin", standalone.admin_password(home))
        # Pools have no environment-variable form.
        client.post("/api/v2/pools", {"name": "warehouse_pool", "slots": 4, "description": "e2e"})
        standalone.wait_for_dag(client, DAG_ID, timeout=60)
        standalone.unpause(client, DAG_ID)
        yield client


def test_manual_run_writes_metrics(airflow_api, stores):
    import sqlalchemy as sa

    client = airflow_api
    # A manual run with logical date X covers [X - 1 h, X).
    window_end = WINDOW_START + timedelta(hours=1)
    run_id = f"e2e__{int(time.time())}"
    standalone.trigger(client, DAG_ID, run_id, window_end.isoformat())

    state = standalone.wait_for_run(client, DAG_ID, run_id, timeout=RUN_TIMEOUT)

    assert state == "success", standalone.unsuccessful_tasks(client, DAG_ID, run_id)
    engine = sa.create_engine(f"sqlite:///{stores['monitoring_store']}")
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT window_start, window_end, status, dag_run_id FROM monitor_runs "
                                    "WHERE dag_run_id = :run_id"), {"run_id": run_id}).all()
        drift = conn.execute(sa.text("SELECT window_start, column_name FROM metric_values WHERE kind = 'drift'")).all()
    assert [(_utc(r.window_start), _utc(r.window_end), r.status, r.dag_run_id) for r in runs] == [
        (WINDOW_START, window_end, "ok", run_id)]
    drifted_columns = {row.column_name for row in drift if _utc(row.window_start) == WINDOW_START}
    # One numeric (PSI) and one categorical (chi-squared) feature: both drift methods ran.
    assert {"utilization", "channel"} <= drifted_columns, drifted_columns
    from include.monitoring.findings import NO_FINDINGS, window_summary
    from include.monitoring.types import Window

    # The run's note is the window's findings as the store holds them, and no note at all for a clean window
    # (the grid marks the runs that have one).
    summary = window_summary(engine, "credit_default", Window(WINDOW_START, window_end))
    expected_note = None if summary == NO_FINDINGS else summary
    assert client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")["note"] == expected_note


def test_the_run_note_names_the_windows_findings_and_a_clear_and_rerun_puts_them_back(airflow_api):
    """The zeroed-income hour: its run's note (what the runs list and the run's page show) names the CRITICAL
    drift of income. Blanked, then the run cleared and re-run (its alerts are open already, nothing new is
    sent), the note is back with the same findings."""
    client = airflow_api
    run_id = f"e2e_zeroed__{int(time.time())}"
    standalone.trigger(client, DAG_ID, run_id, (ZEROED_WINDOW_START + timedelta(hours=1)).isoformat())
    state = standalone.wait_for_run(client, DAG_ID, run_id, timeout=RUN_TIMEOUT)
    assert state == "success", standalone.unsuccessful_tasks(client, DAG_ID, run_id)
    note = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")["note"]
    assert note.startswith("CRITICAL ") and "drift ks income 0.9" in note, note
    assert "quality constant_column income" in note, note

    client.patch(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", {"note": ""}, update_mask="note")
    client.post(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/clear", {"dry_run": False})
    state = standalone.wait_for_run(client, DAG_ID, run_id, timeout=RUN_TIMEOUT)
    assert state == "success", standalone.unsuccessful_tasks(client, DAG_ID, run_id)
    assert client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")["note"] == note


def _utc(value) -> datetime:
    """SQLite hands timestamps back as naive datetimes or strings; the store writes them in UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
