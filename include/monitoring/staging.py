"""Data that one task hands to a later task of the same run, kept in the metric store instead of XCom.

A window's re-scored performance rows and its observation (profiles, validation results) are tens of KB even
compressed; XCom is for small things (Airflow keeps every value in its metadata database and shows it in the UI).
So such a task writes its records here under (model, DAG run, name) and returns a small reference with a summary;
the reader takes them back, and `write_metrics` deletes the run's rows once the window is written. Rows that a
failed run left behind are deleted after STALE_AFTER by the next write of the model.

SQLAlchemy is imported inside the functions, as everywhere outside the store's leaf modules (DAG parsing stays
cheap).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from include.monitoring.payload import pack, unpack

STALE_AFTER = timedelta(days=2)


@functools.cache
def _table() -> Any:
    import sqlalchemy as sa

    from include.monitoring.store import BoundedString

    return sa.Table(
        "task_payloads", sa.MetaData(),
        sa.Column("model", BoundedString(128), primary_key=True),
        sa.Column("dag_run_id", BoundedString(256), primary_key=True),
        sa.Column("name", BoundedString(64), primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),  # zlib-compressed JSON, base64 (payload.pack)
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def _create(engine: Any) -> None:
    import sqlalchemy as sa

    try:
        _table().create(engine, checkfirst=True)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError):
        # Another task created it between the check and the creation.
        if not sa.inspect(engine).has_table("task_payloads"):
            raise


def put(engine: Any, model: str, dag_run_id: str, name: str, data: Any, summary: dict[str, Any],
        now: datetime) -> dict[str, Any]:
    """Keep `data` for the run; the returned reference (with `summary`) is what the task returns as XCom. A retry
    of the task replaces what its earlier try wrote."""
    import sqlalchemy as sa

    _create(engine)
    table = _table()
    record = {"model": model, "dag_run_id": dag_run_id, "name": name, "payload": pack(data, {})["packed"],
              "created_at": now}
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.model == model, table.c.dag_run_id == dag_run_id,
                                            table.c.name == name))
        conn.execute(sa.insert(table), [record])
    return {"staged": {"model": model, "dag_run_id": dag_run_id, "name": name}, "summary": summary}


def get(engine: Any, reference: dict[str, Any]) -> Any:
    """The data of a reference returned by `put`."""
    import sqlalchemy as sa

    from include.monitoring.errors import MonitoringError

    key = reference["staged"]
    table = _table()
    _create(engine)
    with engine.connect() as conn:
        packed = conn.execute(sa.select(table.c.payload).where(
            table.c.model == key["model"], table.c.dag_run_id == key["dag_run_id"],
            table.c.name == key["name"])).scalar_one_or_none()
    if packed is None:
        raise MonitoringError(f"the {key['name']} data of run {key['dag_run_id']} is no longer in the store; "
                              "clear the whole run to compute it again")
    return unpack({"packed": packed})


def discard_run(engine: Any, model: str, dag_run_id: str, now: datetime) -> None:
    """Delete the run's staged data, and any a failed run of the model left behind STALE_AFTER ago."""
    import sqlalchemy as sa

    _create(engine)
    table = _table()
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.model == model, sa.or_(
            table.c.dag_run_id == dag_run_id, table.c.created_at < now - STALE_AFTER)))
