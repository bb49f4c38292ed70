"""Data that one task hands to a later task of the same run, kept in the metric store instead of XCom.

A window's re-scored performance rows and its observation (profiles, validation results) are tens of KB;
XCom is for small things (Airflow keeps every value in its metadata database and shows it in the UI and the
task log). So such a task writes its records to `store.task_payloads` under (model, DAG run, name) and returns
a small reference with a summary; the reader takes them back, and `write_metrics` deletes the run's rows once
the window is written. Rows that a failed run left behind are deleted after STALE_AFTER by the next write of
the model.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from include.monitoring.errors import MonitoringError
from include.monitoring.store import create_tables, task_payloads

STALE_AFTER = timedelta(days=2)


def put(engine: sa.Engine, model: str, dag_run_id: str, name: str, data: Any, summary: dict[str, Any],
        now: datetime) -> dict[str, Any]:
    """Keep `data` for the run; the returned reference (with `summary`) is what the task returns as XCom. A retry
    of the task replaces what its earlier try wrote."""
    create_tables(engine)
    table = task_payloads
    record = {"model": model, "dag_run_id": dag_run_id, "name": name,
              "payload": json.dumps(data, separators=(",", ":"), allow_nan=False), "created_at": now}
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.model == model, table.c.dag_run_id == dag_run_id,
                                            table.c.name == name))
        conn.execute(sa.insert(table), [record])
    return {"staged": {"model": model, "dag_run_id": dag_run_id, "name": name}, "summary": summary}


def get(engine: sa.Engine, reference: dict[str, Any]) -> Any:
    """The data of a reference returned by `put`."""
    key = reference["staged"]
    table = task_payloads
    create_tables(engine)
    with engine.connect() as conn:
        payload = conn.execute(sa.select(table.c.payload).where(
            table.c.model == key["model"], table.c.dag_run_id == key["dag_run_id"],
            table.c.name == key["name"])).scalar_one_or_none()
    if payload is None:
        raise MonitoringError(f"the {key['name']} data of run {key['dag_run_id']} is no longer in the store; "
                              "clear the whole run to compute it again")
    return json.loads(payload)


def discard_run(engine: sa.Engine, model: str, dag_run_id: str, now: datetime) -> None:
    """Delete the run's staged data, and any a failed run of the model left behind STALE_AFTER ago."""
    table = task_payloads
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.model == model, sa.or_(
            table.c.dag_run_id == dag_run_id, table.c.created_at < now - STALE_AFTER)))
