"""The end-to-end run with PostgreSQL as both the prediction warehouse and the metric store."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_DAYS, DEMO_END, DEMO_PEAK_ROWS, DEMO_SEED
from tests.integration.helpers import FEATURE_DRIFT, rows, run_dag, set_connections
from tests.slack_server import SlackServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def postgres_engine(postgres_database):
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.demo.generator import write_demo_warehouse

    db = postgres_database
    engine = engine_from_url(f"postgresql+psycopg://{db['login']}@{db['host']}:{db['port']}/{db['schema']}")
    write_demo_warehouse(engine, end=DEMO_END, days=DEMO_DAYS, peak_rows=DEMO_PEAK_ROWS, seed=DEMO_SEED)
    yield engine
    engine.dispose()


def test_zeroed_feature_hour_on_postgres_writes_metrics_and_pages_slack(dagbag, monkeypatch, postgres_database,
                                                                         postgres_engine):
    with SlackServer() as slack:
        set_connections(monkeypatch, postgres_database, postgres_database, slack.base_url)
        run_dag(dagbag, DEMO_END - timedelta(hours=8))
        window_start = DEMO_END - timedelta(hours=9)

        [run] = rows(postgres_engine, "select * from monitor_runs where window_start = :w", w=window_start)
        assert run["status"] == "ok" and run["row_count"] > 100
        drift = {r["column_name"]: r["severity"] for r in rows(
            postgres_engine, f"select * from metric_values where {FEATURE_DRIFT} and window_start = :w",
            w=window_start)}
        assert drift["income"] == drift["credit_limit"] == "CRITICAL"
        assert drift["age"] == "OK"
        assert rows(postgres_engine, "select count(*) as n from metric_values where kind = 'performance'")[0]["n"] > 0
        assert any("`income`" in m["text"] and "[CRITICAL]" in m["text"] for m in slack.messages)


def test_store_tables_are_real_postgres_tables_with_timezone_aware_windows(postgres_engine):
    columns = {c["name"]: c for c in sa.inspect(postgres_engine).get_columns("metric_values")}
    assert "TIMESTAMP" in str(columns["window_start"]["type"]).upper()
    assert columns["window_start"]["type"].timezone is True


@pytest.mark.parametrize("column_type", ["timestamptz", "text"])
def test_timestamps_written_in_another_time_zone_land_in_their_utc_window(postgres_engine, column_type):
    """Rows written with a +02:00 offset, into a timestamptz column or as text: each window holds exactly the
    rows whose instant lies in it, and the volume and freshness queries agree."""
    import dataclasses
    from datetime import UTC, datetime, timezone

    from include.monitoring import warehouse
    from include.monitoring.config import load_monitor_config
    from include.monitoring.types import Window
    from tests.conftest import ROOT

    plus_two = timezone(timedelta(hours=2))
    instants = [datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC), datetime(2026, 11, 21, 0, tzinfo=UTC),
                datetime(2026, 11, 21, 0, 30, tzinfo=UTC), datetime(2026, 11, 21, 1, tzinfo=UTC),
                datetime(2026, 11, 14, 0, 10, tzinfo=UTC)]  # the last one a week earlier, same hour
    table = f"predictions_{column_type}"
    with postgres_engine.begin() as conn:
        conn.execute(sa.text(f"create table {table} (prediction_id text, ts {column_type}, score float)"))
        for i, moment in enumerate(instants):
            value = moment.astimezone(plus_two)
            conn.execute(sa.text(f"insert into {table} values (:id, :ts, 0.5)"),
                         {"id": f"p{i}", "ts": value if column_type == "timestamptz" else value.isoformat()})
    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    config = dataclasses.replace(config, warehouse=dataclasses.replace(config.warehouse, predictions_table=table))
    window = Window(datetime(2026, 11, 21, 0, tzinfo=UTC), datetime(2026, 11, 21, 1, tzinfo=UTC))
    rows_in_window = warehouse.fetch_window(postgres_engine, config, window)
    assert sorted(rows_in_window.frame["prediction_id"]) == ["p1", "p2"]
    assert warehouse.count_windows(postgres_engine, config, [window, window.shifted(-timedelta(weeks=1))]) == [2, 1]
    assert warehouse.latest_timestamp(postgres_engine, config, window.start) == instants[0]
