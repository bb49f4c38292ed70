"""Windows of one model written at the same time on a PostgreSQL store (max_active_runs and backfills do this):
every run re-scores the same older windows and updates the same alerts, and none of them may fail or leave
other rows than running the windows one after the other."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END, ROOT

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)
# [2026-11-22 15:00, 19:00): four busy afternoon hours, the last one inside the zeroed-income incident; each run
# re-scores every window of the demo whose labels changed, so the four share some sixty re-scored windows.
CONCURRENT_HOURS = (13, 12, 11, 10)
ROUNDS = 5
TABLES = ("monitor_runs", "window_profiles", "metric_values", "validation_results", "alerts", "notifications")
# Columns that hold when a row was written, not what it says.
VOLATILE = {"computed_at", "started_at", "finished_at", "created_at", "sent_at", "last_notified_at", "id"}


def _config():
    from include.monitoring.config import load_monitor_config

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


def _window(hours_before_end: int):
    from include.monitoring.types import Window

    end = DEMO_END - timedelta(hours=hours_before_end)
    return Window(end - timedelta(hours=1), end)


@pytest.fixture(scope="module")
def warehouse(demo_warehouse_path) -> sa.Engine:
    from include.monitoring.airflow_adapters import engine_from_url

    return engine_from_url(f"sqlite:///{demo_warehouse_path}")


@pytest.fixture(scope="module")
def reference_profile(tmp_path_factory, warehouse) -> dict:
    """The demo's reference profile, fitted once; every store of this module gets a copy."""
    from include.monitoring import reference

    fitted_in = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('reference') / 'store.db'}")
    reference.ensure_reference(_config(), warehouse, fitted_in, now=NOW)
    return reference.load_reference(_config(), fitted_in)[1]


@pytest.fixture
def fresh_store(postgres_database, reference_profile):
    """A factory of empty PostgreSQL stores holding only the reference, each in its own schema (dropped after)."""
    from include.monitoring import reference

    db = postgres_database
    url = f"postgresql+psycopg://{db['login']}@{db['host']}:{db['port']}/{db['schema']}"
    admin = sa.create_engine(url)
    schemas, engines = [], []

    def make() -> sa.Engine:
        schema = f"store_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(sa.text(f'create schema "{schema}"'))
        schemas.append(schema)
        engine = sa.create_engine(url, connect_args={"options": f"-c timezone=UTC -c search_path={schema}"})
        engines.append(engine)
        reference.store_profile(engine, _config(), reference_profile, reference.source_description(_config()), NOW)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    admin.dispose()


def _run(warehouse: sa.Engine, store: sa.Engine, hours_before_end: int) -> None:
    from include.monitoring import pipeline

    pipeline.run_window(_config(), warehouse, store, _window(hours_before_end), now=NOW)


def _run_at_once(warehouse: sa.Engine, store: sa.Engine, hours: tuple[int, ...]) -> list[BaseException]:
    """Run the windows in threads released together; the errors they raised."""
    start = threading.Barrier(len(hours))
    errors: list[BaseException] = []

    def run(hours_before_end: int) -> None:
        start.wait()
        try:
            _run(warehouse, store, hours_before_end)
        except BaseException as exc:  # noqa: B036 - collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(h,)) for h in hours]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _commit_order(store: sa.Engine) -> tuple[int, ...]:
    """The run windows (as hours before the demo's end) in the order their write transactions committed:
    PostgreSQL's id of the transaction that inserted a run record (xmin) grows with that order, since each write
    takes its id only once it holds the model's lock."""
    with store.connect() as conn:
        starts = [start for (start,) in conn.execute(sa.text(
            "select window_start from monitor_runs order by xmin::text::bigint"))]
    return tuple(int((DEMO_END - start) / timedelta(hours=1)) - 1 for start in starts)


def _contents(store: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table, sorted, without the volatile columns. Performance details keep everything but
    the label cut-off a row was scored at: when no label arrived in between, which run scored it is timing."""
    contents = {}
    with store.connect() as conn:
        for table in TABLES:
            rows = []
            for row in conn.execute(sa.text(f"select * from {table}")).mappings():
                record = {k: v for k, v in row.items() if k not in VOLATILE}
                if table == "metric_values":
                    details = json.loads(record["details"])
                    details.pop("labels_known_by", None)
                    record["details"] = json.dumps(details, sort_keys=True)
                rows.append(tuple(sorted(record.items())))
            contents[table] = sorted(rows, key=repr)
    return contents


def _differences(found: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> list[str]:
    return [f"{table}: {len(set(found[table]) - set(expected[table]))} rows not in the sequential run, "
            f"{len(set(expected[table]) - set(found[table]))} of its rows missing" for table in TABLES
            if found[table] != expected[table]]


def test_four_windows_sharing_rescored_windows_written_at_once_on_postgres_leave_the_sequential_rows(
        warehouse, fresh_store):
    """Five rounds of four windows at once, each on an empty store. Alert state depends on the order in which
    windows are written (a window older than one already written for a key changes nothing, by design), so each
    round is compared with the sequential run in the order its writes committed."""
    sequential: dict[tuple[int, ...], dict[str, list[tuple]]] = {}

    def sequential_run(order: tuple[int, ...]) -> dict[str, list[tuple]]:
        if order not in sequential:
            store = fresh_store()
            for hours in order:
                _run(warehouse, store, hours)
            sequential[order] = _contents(store)
        return sequential[order]

    in_time_order = sequential_run(CONCURRENT_HOURS)
    assert len(in_time_order["metric_values"]) > 1000 and len(in_time_order["monitor_runs"]) == len(CONCURRENT_HOURS)
    problems = []
    for round_number in range(ROUNDS):
        store = fresh_store()
        errors = _run_at_once(warehouse, store, CONCURRENT_HOURS)
        if errors:
            problems += [f"round {round_number}: {type(e).__name__}: {str(e)[:300]}" for e in errors]
            continue
        order = _commit_order(store)
        problems += [f"round {round_number}, written in the order {order}: {difference}"
                     for difference in _differences(_contents(store), sequential_run(order))]
    assert not problems, "\n".join(problems)
