"""Windows of one model written at the same time on a PostgreSQL store (max_active_runs and backfills do this):
every run re-scores the same older windows and updates the same alerts, and none of them may fail or leave
other rows than running the windows one after the other."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_DAYS, DEMO_END, DEMO_PEAK_ROWS, DEMO_SEED, ROOT
from tests.integration.helpers import reference_store_factory

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)
# [2026-11-22 15:00, 19:00): four busy afternoon hours, the last one inside the zeroed-income incident; each run
# re-scores every window of the demo whose labels changed, so the four share some sixty re-scored windows.
CONCURRENT_HOURS = (13, 12, 11, 10)
ROUNDS = 5
TABLES = ("monitor_runs", "window_profiles", "metric_values", "validation_results", "alerts", "notifications")
# Columns that hold when a row was written, not what it says.
# evaluated_through is the latest run that re-scored a key: which run re-scores an older window depends on which
# labels it saw, timing, as the label cut-off below.
VOLATILE = {"computed_at", "started_at", "finished_at", "created_at", "sent_at", "last_notified_at", "id",
            "evaluated_through"}


@cache
def _config():
    """The demo monitor with three of its fourteen features: validating all of them in 44 runs took most of the time,
    and the rows the runs share (re-scored windows, alerts) do not depend on the feature count."""
    from include.monitoring.config import FeaturesConfig, load_monitor_config

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    return dataclasses.replace(config, features=FeaturesConfig(numeric=("income", "age"), categorical=("employment_type",)))


def _window(hours_before_end: int):
    from include.monitoring.types import Window

    end = DEMO_END - timedelta(hours=hours_before_end)
    return Window(end - timedelta(hours=1), end)


@pytest.fixture(scope="module")
def warehouse(postgres_schema) -> sa.Engine:
    """The demo warehouse on PostgreSQL (its label counts take a tenth of the time they take on SQLite)."""
    from include.monitoring.demo.generator import write_demo_warehouse

    engine = postgres_schema()
    write_demo_warehouse(engine, end=DEMO_END, days=DEMO_DAYS, peak_rows=DEMO_PEAK_ROWS, seed=DEMO_SEED)
    return engine


@pytest.fixture(scope="module")
def fresh_store(postgres_schema, warehouse) -> Callable[[], sa.Engine]:
    """A factory of empty stores holding only the demo's reference profile, fitted once."""
    return reference_store_factory(_config(), warehouse, postgres_schema, NOW)


def _run(warehouse: sa.Engine, store: sa.Engine, hours_before_end: int) -> None:
    from include.monitoring import pipeline

    pipeline.run_window(_config(), warehouse, store, _window(hours_before_end), now=NOW)


def _run_at_once(warehouse: sa.Engine, store: sa.Engine, hours: tuple[int, ...]) -> list[str]:
    """Run the windows in processes released together, as the executor runs a DAG's task instances; the errors
    they raised. Forked from this process, they start with everything imported and the validation engine warm."""
    context = multiprocessing.get_context("fork")
    start, errors = context.Barrier(len(hours)), context.Queue()
    processes = [context.Process(target=_run_in_child, args=(warehouse, store, h, start, errors)) for h in hours]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    return found + [f"window {h}: the process exited with {p.exitcode}" for h, p in zip(hours, processes, strict=True)
                    if p.exitcode != 0 and not found]


def _run_in_child(warehouse: sa.Engine, store: sa.Engine, hours_before_end: int, start, errors) -> None:
    for engine in (warehouse, store):
        engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    start.wait()
    try:
        _run(warehouse, store, hours_before_end)
    except Exception as exc:  # reported to the test, which names the window
        errors.put(f"window {hours_before_end}: {type(exc).__name__}: {str(exc)[:300]}")
        raise


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
            problems += [f"round {round_number}: {error}" for error in errors]
            continue
        order = _commit_order(store)
        problems += [f"round {round_number}, written in the order {order}: {difference}"
                     for difference in _differences(_contents(store), sequential_run(order))]
    assert not problems, "\n".join(problems)
