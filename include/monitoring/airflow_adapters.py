"""The only module of the package that imports Airflow: connection ids -> engines and notifiers.

Connections resolve the Airflow way (secrets backends, `AIRFLOW_CONN_<ID>` environment variables, the
metadata database), inside tasks and in the CLI alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from include.monitoring.alerting.notifiers import NOTIFIERS, Notifier, RetryPolicy
from include.monitoring.catalogue import Route, RouteError
from include.monitoring.config import MonitorConfig, Silence
from include.monitoring.errors import ConnectionConfigError

SQL_CONN_TYPES = ("sqlite", "postgres")
# Connection extras passed on to libpq (TLS and timeouts); others are Airflow's own and ignored here.
LIBPQ_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name")


def get_connection(conn_id: str) -> Any:
    from airflow.exceptions import AirflowNotFoundException
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise ConnectionConfigError(
            f"Airflow connection {conn_id!r} is not defined; add it to airflow_settings.yaml, "
            f"the Airflow UI (Admin > Connections) or an AIRFLOW_CONN_{conn_id.upper()} environment variable"
        ) from None


def sqlalchemy_url(conn: Any) -> sa.URL:
    if conn.conn_type == "sqlite":
        return sa.URL.create("sqlite", database=conn.host or conn.schema)
    if conn.conn_type in ("postgres", "postgresql"):
        options = {key: str(value) for key, value in (conn.extra_dejson or {}).items() if key in LIBPQ_OPTIONS}
        return sa.URL.create("postgresql+psycopg", username=conn.login or None, password=conn.password or None,
                             host=conn.host or "localhost", port=conn.port or 5432, database=conn.schema or None,
                             query=options)
    raise ConnectionConfigError(
        f"connection {conn.conn_id!r} has type {conn.conn_type!r}; supported SQL types: {list(SQL_CONN_TYPES)}")


def engine_from_url(url: sa.URL | str) -> sa.Engine:
    url = sa.make_url(url)
    if url.get_backend_name() == "postgresql":
        # Compare timestamps in UTC whatever the server's default time zone is. No JIT: the queries are bounded by a
        # window or the label delay, and at that size compiling them costs more than it saves (the label counts of
        # bench/scale_bench.py's 30 days: 0.88 s with JIT, ~0.1 s of it compiling, 0.71 s without).
        return sa.create_engine(url, connect_args={"options": "-c timezone=UTC -c jit=off"}, pool_pre_ping=True)
    return sa.create_engine(url, connect_args={"timeout": 60})  # SQLite: wait for a concurrent writer


def engine_for(conn_id: str) -> sa.Engine:
    """An engine for a database this package writes (the metric store): a SQLite file is created when missing."""
    return engine_from_url(sqlalchemy_url(get_connection(conn_id)))


def warehouse_engine_for(conn_id: str) -> sa.Engine:
    """An engine for the prediction warehouse, which is read and never created: a SQLite file that does not exist
    is an error. Opening it would create an empty database, and every window would then be `no_data`."""
    url = sqlalchemy_url(get_connection(conn_id))
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise ConnectionConfigError(f"no such SQLite file: {path} (Airflow connection {conn_id!r}, the prediction "
                                    "warehouse, which is read and never created); check the connection's host")
    return engine_from_url(url)


def sqlite_file(url: sa.URL) -> Path | None:
    """The file of a SQLite URL, absolute; None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def check_connects(engine: sa.Engine, conn_id: str, role: str) -> None:
    """Open one connection now, so that a database that is down, dropped or unreachable is one error naming the
    connection and its URL (without the password), rather than a failure deep inside a step."""
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise ConnectionConfigError(f"cannot connect to the {role} (Airflow connection {conn_id!r}, {url}): "
                                    f"{driver_message(exc)}") from exc


def driver_message(exc: sa.exc.DBAPIError) -> str:
    """The database driver's own first line ("connection refused", "database ... does not exist"), without the
    SQL statement and parameters SQLAlchemy appends to its text."""
    lines = str(exc.orig).strip().splitlines() or [type(exc.orig).__name__]
    return lines[0].strip()


def notifiers_for(config: MonitorConfig, retry: RetryPolicy | None = None) -> tuple[dict[str, Notifier], dict[str, str]]:
    """The usable channels of a monitor by route (`slack:#team-risk`), and for each unusable one, why (delivery marks
    its rows skipped with it). The log is always there; other channels are built (through notifiers.NOTIFIERS)
    only for the routes the monitor's alert tiers use. `retry` bounds the HTTP retries (default policy)."""
    notifiers: dict[str, Notifier] = {}
    missing: dict[str, str] = {}
    alerts = config.alerts
    for text in dict.fromkeys(("log", *alerts.critical, *alerts.warning, *alerts.info, alerts.info_digest)):
        if not text:
            continue
        try:
            route = Route.parse(text)
            notifiers[text] = NOTIFIERS[route.kind](route, config, get_connection, retry)
        except (RouteError, ConnectionConfigError) as exc:
            missing[text] = str(exc)
    return notifiers, missing


SILENCES_VARIABLE = "monitoring_silences"


def variable_silences(config: MonitorConfig) -> list[Silence]:
    """The model's silences from the Airflow variable `monitoring_silences`: a JSON list of
    {"model": ..., "match": ..., "until": ..., "reason": ...}; "model" may be "*" for every model.
    A malformed variable is an error naming it, not a silent "no silences"."""
    import fnmatch
    import json

    from airflow.sdk import Variable

    raw = Variable.get(SILENCES_VARIABLE, default=None)
    if not raw:
        return []
    try:
        entries = json.loads(raw)
        return [Silence(match=str(e.get("match", "*")), until=str(e.get("until", "")), reason=str(e.get("reason", "")))
                for e in entries if fnmatch.fnmatchcase(config.model, str(e.get("model", "*")))]
    except (ValueError, AttributeError, TypeError) as exc:
        raise ConnectionConfigError(f"Airflow variable {SILENCES_VARIABLE!r} must be a JSON list of objects "
                                    f"with model, match, until and reason: {exc}") from exc
