"""The only module of the package that imports Airflow: connection ids -> engines and notifiers.

Connections resolve the Airflow way (secrets backends, `AIRFLOW_CONN_<ID>` environment variables, the
metadata database), inside tasks and in the CLI alike.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from include.monitoring.alerting.notifiers import LogNotifier, Notifier, SlackNotifier
from include.monitoring.config import MonitorConfig
from include.monitoring.errors import ConnectionConfigError

SQL_CONN_TYPES = ("sqlite", "postgres")
SLACK_CONN_TYPES = ("slack", "slackwebhook")
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
        # Compare timestamps in UTC whatever the server's default time zone is.
        return sa.create_engine(url, connect_args={"options": "-c timezone=UTC"}, pool_pre_ping=True)
    return sa.create_engine(url, connect_args={"timeout": 60})  # SQLite: wait for a concurrent writer


def engine_for(conn_id: str) -> sa.Engine:
    return engine_from_url(sqlalchemy_url(get_connection(conn_id)))


def notifiers_for(config: MonitorConfig) -> tuple[dict[str, Notifier], dict[str, str]]:
    """The usable channels of a monitor, and for each unusable one, why."""
    notifiers: dict[str, Notifier] = {"log": LogNotifier()}
    missing: dict[str, str] = {}
    conn_id = config.alerts.slack_conn_id
    try:
        conn = get_connection(conn_id)
    except ConnectionConfigError as exc:
        missing["slack"] = str(exc)
        return notifiers, missing
    extra = conn.extra_dejson
    if conn.conn_type == "slackwebhook":
        url = conn.password if "://" in (conn.password or "") else (
            f"{conn.schema or 'https'}://{conn.host or 'hooks.slack.com/services'}/{conn.password}")
        notifiers["slack"] = SlackNotifier(webhook_url=url, timeout=int(extra.get("timeout", 10)))
    elif conn.conn_type == "slack":
        notifiers["slack"] = SlackNotifier(token=conn.password, base_url=extra.get("base_url", ""),
                                           channel=config.alerts.slack_channel, timeout=int(extra.get("timeout", 10)))
    else:
        missing["slack"] = f"connection {conn_id!r} has type {conn.conn_type!r}; expected one of {list(SLACK_CONN_TYPES)}"
    return notifiers, missing
