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
        assert any("`income`" in m["text"].replace("\u200b", "") and "[CRITICAL]" in m["text"] for m in slack.messages)


def test_store_tables_are_real_postgres_tables_with_timezone_aware_windows(postgres_engine):
    from include.monitoring import store

    store.create_tables(postgres_engine)  # as every run does first (also when this test runs alone)
    columns = {c["name"]: c for c in sa.inspect(postgres_engine).get_columns("metric_values")}
    assert "TIMESTAMP" in str(columns["window_start"]["type"]).upper()
    assert columns["window_start"]["type"].timezone is True


def test_postgres_sessions_compare_in_utc_and_compile_no_jit(postgres_engine):
    with postgres_engine.connect() as conn:
        assert conn.execute(sa.text("SHOW timezone")).scalar() == "UTC"
        assert conn.execute(sa.text("SHOW jit")).scalar() == "off"


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


def _config_for(table: str, **warehouse):
    import dataclasses

    from include.monitoring.config import load_monitor_config
    from tests.conftest import ROOT

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    return dataclasses.replace(config, warehouse=dataclasses.replace(config.warehouse, predictions_table=table,
                                                                     **warehouse))


def test_text_timestamps_that_do_not_parse_are_counted_not_fatal_on_postgres(postgres_engine):
    """A text timestamp column with "soon", "21/11/2026 00:10" and dates that do not exist among ISO rows: a failed
    cast would fail every window's query; instead the window holds its ISO rows and the others are counted."""
    from datetime import UTC, datetime

    from include.monitoring import warehouse
    from include.monitoring.types import Window

    values = ["2026-11-21T00:05:00Z", "2026-11-21 00:10:00.000000", "2026-11-21T05:40:00+05:30", "soon",
              "21/11/2026 00:10", None, "2026-11-21T01:00:00", "2026-02-30 00:20:00", "2026-11-21 24:00:00"]
    with postgres_engine.begin() as conn:
        conn.execute(sa.text("create table predictions_garbled (prediction_id text, ts text, score float)"))
        conn.execute(sa.text("insert into predictions_garbled values (:id, :ts, 0.5)"),
                     [{"id": f"p{i}", "ts": value} for i, value in enumerate(values)])
    config = _config_for("predictions_garbled")
    window = Window(datetime(2026, 11, 21, 0, tzinfo=UTC), datetime(2026, 11, 21, 1, tzinfo=UTC))
    found = warehouse.fetch_window(postgres_engine, config, window)
    assert sorted(found.frame["prediction_id"]) == ["p0", "p1", "p2"]
    assert found.unplaced == 5  # February 30th and hour 24 match no real time: counted, not cast
    assert set(found.unplaced_examples) == {"soon", "21/11/2026 00:10", "null", "2026-02-30 00:20:00",
                                            "2026-11-21 24:00:00"}
    assert warehouse.latest_timestamp(postgres_engine, config, window.end) == datetime(2026, 11, 21, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_epoch_timestamps_on_postgres_compare_as_numbers(postgres_engine, unit):
    """A bigint column of epoch seconds or milliseconds with warehouse.timestamp_unit: the window, the earlier
    week's count and the latest timestamp agree with the instants written."""
    from datetime import UTC, datetime

    from include.monitoring import warehouse
    from include.monitoring.types import Window

    instants = [datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC), datetime(2026, 11, 21, 0, tzinfo=UTC),
                datetime(2026, 11, 21, 0, 30, tzinfo=UTC), datetime(2026, 11, 21, 1, tzinfo=UTC),
                datetime(2026, 11, 14, 0, 10, tzinfo=UTC)]
    scale = {"s": 1, "ms": 1000}[unit]
    table = f"predictions_epoch_{unit}"
    with postgres_engine.begin() as conn:
        conn.execute(sa.text(f"create table {table} (prediction_id text, ts bigint, score float)"))
        conn.execute(sa.text(f"insert into {table} values (:id, :ts, 0.5)"),
                     [{"id": f"p{i}", "ts": int(moment.timestamp()) * scale} for i, moment in enumerate(instants)])
    config = _config_for(table, timestamp_unit=unit)
    window = Window(datetime(2026, 11, 21, 0, tzinfo=UTC), datetime(2026, 11, 21, 1, tzinfo=UTC))
    found = warehouse.fetch_window(postgres_engine, config, window)
    assert sorted(found.frame["prediction_id"]) == ["p1", "p2"] and found.unplaced == 0
    assert warehouse.count_windows(postgres_engine, config, [window, window.shifted(-timedelta(weeks=1))]) == [2, 1]
    assert warehouse.latest_timestamp(postgres_engine, config, window.start) == instants[0]


def test_labels_sent_twice_or_corrected_join_once_with_the_latest_on_postgres(postgres_engine):
    """On PostgreSQL: p0 labelled twice alike, p1 corrected 0 -> 1, p2 labelled "maybe" then sent a NULL, p3
    corrected after the cut-off. One row per prediction with the latest label known by then (a NULL replaces
    nothing); counts not doubled; the window's repeated ids and label values as arrived."""
    import dataclasses
    from datetime import UTC, datetime

    from include.monitoring import warehouse
    from include.monitoring.types import Window

    window = Window(datetime(2026, 11, 21, 0, tzinfo=UTC), datetime(2026, 11, 21, 1, tzinfo=UTC))
    arrived = Window(datetime(2026, 11, 23, 0, tzinfo=UTC), datetime(2026, 11, 23, 1, tzinfo=UTC))
    at = [arrived.start + timedelta(minutes=m) for m in range(10)]
    labels = [("p0", "1", at[0]), ("p0", "1", at[1]), ("p1", "0", at[2]), ("p1", "1", at[3]), ("p2", "maybe", at[4]),
              ("p3", "0", at[5]), ("p3", "1", arrived.end + timedelta(minutes=5)), ("p2", None, at[6])]
    with postgres_engine.begin() as conn:
        conn.execute(sa.text("create table predictions_relabelled (prediction_id text, ts timestamptz, score float)"))
        conn.execute(sa.text("insert into predictions_relabelled values (:id, :ts, 0.7)"),
                     [{"id": f"p{i}", "ts": window.start + timedelta(minutes=i)} for i in range(5)])
        conn.execute(sa.text("create table labels_relabelled (prediction_id text, label text, labeled_at timestamptz)"))
        conn.execute(sa.text("insert into labels_relabelled values (:id, :label, :at)"),
                     [{"id": i, "label": label, "at": moment} for i, label, moment in labels])
    config = _config_for("predictions_relabelled")
    config = dataclasses.replace(config, labels=dataclasses.replace(config.labels, table="labels_relabelled"))
    frame = warehouse.fetch_labelled(postgres_engine, config, window, known_by=arrived.end)
    assert dict(zip(frame["id"], frame["label"].fillna("unlabelled"), strict=True)) == {
        "p0": "1", "p1": "1", "p2": "maybe", "p3": "0", "p4": "unlabelled"}
    assert warehouse.label_counts(postgres_engine, config, window, window.width, arrived.end) == {window.start: (5, 4)}
    from include.monitoring.performance.labels import duplicate_labels_row

    row = duplicate_labels_row(config, warehouse.repeated_labels(postgres_engine, config, arrived), arrived)
    assert (row.n, row.details["duplicated_ids"], row.details["conflicting_ids"]) == (7, 3, 1)
    assert row.details["examples"] == ["p1", "p0", "p2"] and row.severity.name == "WARNING"
    values = warehouse.arrived_label_values(postgres_engine, config, arrived)
    assert sorted(values, key=str) == sorted([("0", 2), ("1", 3), ("maybe", 1), (None, 1)], key=str)


def test_a_window_above_max_rows_is_sampled_by_id_the_same_on_every_database_and_insert_order(postgres_engine,
                                                                                               tmp_path):
    """600 predictions of one hour, inserted in id order and shuffled, on PostgreSQL and on SQLite: with
    max_rows_per_window = 100 every one of the four reads samples the same 100 ids."""
    from datetime import UTC, datetime

    import numpy as np

    from include.monitoring import warehouse
    from include.monitoring.types import Window

    window = Window(datetime(2026, 11, 21, 0, tzinfo=UTC), datetime(2026, 11, 21, 1, tzinfo=UTC))
    ordered = [{"id": f"p{i:04d}", "ts": datetime(2026, 11, 21, 0, 0, i % 60), "score": i / 600} for i in range(600)]
    shuffled = [ordered[i] for i in np.random.default_rng(1).permutation(600)]
    sqlite = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    samples = []
    for engine in (postgres_engine, sqlite):
        for name, rows_in_order in (("sampled_ordered", ordered), ("sampled_shuffled", shuffled)):
            with engine.begin() as conn:
                conn.execute(sa.text(f"create table {name} (prediction_id text, ts timestamp, score float)"))
                conn.execute(sa.text(f"insert into {name} values (:id, :ts, :score)"), rows_in_order)
            found = warehouse.fetch_window(engine, _config_for(name, max_rows_per_window=100), window)
            assert found.row_count == 600 and len(found.frame) == 100
            samples.append(list(found.frame["prediction_id"]))
    assert all(sample == samples[0] for sample in samples)
    assert samples[0] == sorted(samples[0])  # in id order, spread over the window's ids
    assert samples[0][0] < "p0100" and samples[0][-1] > "p0500"
