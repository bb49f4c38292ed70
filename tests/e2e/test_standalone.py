"""End to end: `airflow standalone` in a throw-away home runs the demo monitor for one hour through REST v2.

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

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "monitor_credit_default"
# A fixed demo period, so the checked window is the same whenever the test runs. The window is an
# afternoon hour: enough rows for drift (the night hours of a small warehouse are below min_rows).
DEMO_END = datetime(2026, 11, 23, 4, tzinfo=UTC)
WINDOW_START = datetime(2026, 11, 22, 16, tzinfo=UTC)
RUN_TIMEOUT = 120


@pytest.fixture
def stores(tmp_path) -> dict[str, Path]:
    import sqlalchemy as sa

    from include.monitoring.demo.generator import write_demo_warehouse

    warehouse = tmp_path / "warehouse.db"
    write_demo_warehouse(sa.create_engine(f"sqlite:///{warehouse}"), end=DEMO_END, days=3, peak_rows=300, seed=11)
    return {"warehouse": warehouse, "monitoring_store": tmp_path / "monitoring.db"}


@pytest.fixture
def airflow_api(tmp_path, stores):
    """A running standalone with the demo connections and pool; yields its REST client."""
    port = standalone.free_port()
    home = tmp_path / "airflow_home"
    env = standalone.standalone_env(home, port, ROOT, parallelism=4)
    # Unpausing would also create the latest scheduled run (of today, outside the demo period) and run
    # it alongside ours; without cron scheduling only the triggered run executes.
    env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    for conn_id, path in stores.items():  # connections need no database: environment variables
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({"conn_type": "sqlite", "host": str(path)})
    log_path = tmp_path / "standalone.log"
    proc = standalone.start(env, log_path)
    try:
        base_url = f"http://localhost:{port}"
        standalone.wait_healthy(base_url, timeout=120, proc=proc)
        client = standalone.RestClient(base_url, "admin", standalone.admin_password(home))
        # Pools have no environment-variable form.
        client.post("/api/v2/pools", {"name": "warehouse_pool", "slots": 4, "description": "e2e"})
        yield client
    finally:
        standalone.stop(proc)
        print(log_path.read_text(errors="replace")[-5000:])  # pytest shows captured output only when the test fails
    assert not standalone.port_listening(port), f"something still listens on port {port}"


def test_manual_run_writes_metrics(airflow_api, stores):
    import sqlalchemy as sa

    client = airflow_api
    standalone.wait_for_dag(client, DAG_ID, timeout=60)
    standalone.unpause(client, DAG_ID)
    # A manual run with logical date X covers [X - 1 h, X).
    window_end = WINDOW_START + timedelta(hours=1)
    run_id = f"e2e__{int(time.time())}"
    standalone.trigger(client, DAG_ID, run_id, window_end.isoformat())

    state = standalone.wait_for_run(client, DAG_ID, run_id, timeout=RUN_TIMEOUT)

    assert state == "success", standalone.unsuccessful_tasks(client, DAG_ID, run_id)
    engine = sa.create_engine(f"sqlite:///{stores['monitoring_store']}")
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT window_start, window_end, status, dag_run_id FROM monitor_runs")).all()
        drift = conn.execute(sa.text("SELECT window_start, column_name FROM metric_values WHERE kind = 'drift'")).all()
    assert [(_utc(r.window_start), _utc(r.window_end), r.status, r.dag_run_id) for r in runs] == [
        (WINDOW_START, window_end, "ok", run_id)]
    drifted_columns = {row.column_name for row in drift if _utc(row.window_start) == WINDOW_START}
    # One numeric (PSI) and one categorical (chi-squared) feature: both drift methods ran.
    assert {"utilization", "channel"} <= drifted_columns, drifted_columns


def _utc(value) -> datetime:
    """SQLite hands timestamps back as naive datetimes or strings; the store writes them in UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
