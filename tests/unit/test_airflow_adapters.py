"""Airflow connections -> SQLAlchemy URLs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from include.monitoring.airflow_adapters import sqlalchemy_url
from include.monitoring.errors import ConnectionConfigError


def connection(**fields):
    base = {"conn_id": "warehouse", "conn_type": "postgres", "host": "db.internal", "port": 6432, "login": "monitor",
            "password": "s3cret", "schema": "predictions", "extra_dejson": {}}
    return SimpleNamespace(**(base | fields))


def test_postgres_connection_becomes_a_psycopg_url_with_tls_options_and_no_airflow_extras():
    url = sqlalchemy_url(connection(extra_dejson={"sslmode": "require", "connect_timeout": 5, "cursor": "named"}))
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.username, url.password, url.database) == ("db.internal", 6432, "monitor", "s3cret",
                                                                             "predictions")
    assert dict(url.query) == {"sslmode": "require", "connect_timeout": "5"}


def test_sqlite_connection_uses_its_host_as_the_file():
    assert str(sqlalchemy_url(connection(conn_type="sqlite", host="/data/w.db"))) == "sqlite:////data/w.db"


def test_unsupported_connection_type_names_the_supported_ones():
    with pytest.raises(ConnectionConfigError, match=r"type 'mysql'.*\['sqlite', 'postgres'\]"):
        sqlalchemy_url(connection(conn_type="mysql"))


def test_sqlite_file_is_the_absolute_path_of_a_sqlite_url_and_none_for_memory_and_postgres(tmp_path, monkeypatch):
    import sqlalchemy as sa

    from include.monitoring.airflow_adapters import sqlite_file

    monkeypatch.chdir(tmp_path)
    assert sqlite_file(sa.make_url("sqlite:///data/w.db")) == tmp_path / "data" / "w.db"
    assert sqlite_file(sa.make_url("sqlite://")) is None and sqlite_file(sa.make_url("sqlite:///:memory:")) is None
    assert sqlite_file(sqlalchemy_url(connection())) is None


def test_notifiers_for_reports_a_route_it_cannot_parse_as_missing_and_keeps_the_log():
    from include.monitoring.airflow_adapters import notifiers_for
    from include.monitoring.config import AlertsConfig, MonitorConfig

    # The config accepts "slack:#" as a digest route; with no channel name it cannot be posted to.
    alerts = AlertsConfig(critical=("log",), warning=("log",), info=("log",), info_digest="slack:#")
    notifiers, missing = notifiers_for(MonitorConfig(model="m", alerts=alerts))
    assert list(notifiers) == ["log"]
    assert list(missing) == ["slack:#"] and "invalid route 'slack:#'" in missing["slack:#"]


def test_tables_are_reflected_once_within_a_step_and_afresh_after_it(tmp_path):
    """One pipeline step reflects each table once (warehouse.reflected_once); the next step sees the table as it is."""
    from include.monitoring import warehouse
    from include.monitoring.airflow_adapters import engine_from_url

    engine = engine_from_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE predictions (id TEXT)"))
    with warehouse.reflected_once():
        first = warehouse._reflect(engine, "predictions")
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE predictions ADD COLUMN score REAL"))
        assert warehouse._reflect(engine, "predictions") is first
        assert "score" not in first.c
    assert "score" in warehouse._reflect(engine, "predictions").c
    assert warehouse._reflect(engine, "predictions") is not warehouse._reflect(engine, "predictions")
    engine.dispose()
