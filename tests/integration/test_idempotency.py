"""Running the same window twice leaves exactly the same rows, on SQLite and on PostgreSQL; a write
that fails half-way leaves the window as it was."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_DAYS, DEMO_END, DEMO_PEAK_ROWS, DEMO_SEED
from tests.integration.helpers import reference_store_factory

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)
TABLES = ("monitor_runs", "window_profiles", "metric_values", "validation_results", "alerts", "notifications",
          "reference_profiles")


def snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(sa.text(f"select * from {t}")).fetchall()), key=repr) for t in TABLES}


def _config():
    from include.monitoring.config import load_monitor_config
    from tests.conftest import ROOT

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request, demo_warehouse_path, tmp_path_factory):
    """The demo warehouse on SQLite or PostgreSQL, and a factory of empty stores on the same backend that hold
    only the demo's reference profile, fitted once per backend: fitting it again in every test took half of each
    test's time, and a test that runs a window needs the stored profile, not the fitting."""
    from include.monitoring.airflow_adapters import engine_from_url

    if request.param == "sqlite":
        warehouse = engine_from_url(f"sqlite:///{demo_warehouse_path}")
        directory = tmp_path_factory.mktemp("stores")
        numbers = itertools.count()

        def new_store() -> sa.Engine:
            return engine_from_url(f"sqlite:///{directory / f'store_{next(numbers)}.db'}")
    else:
        from include.monitoring.demo.generator import write_demo_warehouse

        new_store = request.getfixturevalue("postgres_schema")  # a new schema of the session's database each call
        warehouse = new_store()
        write_demo_warehouse(warehouse, end=DEMO_END, days=DEMO_DAYS, peak_rows=DEMO_PEAK_ROWS, seed=DEMO_SEED)
    yield warehouse, reference_store_factory(_config(), warehouse, new_store, NOW)
    warehouse.dispose()


@pytest.fixture
def engines(backend):
    """The demo warehouse and an empty store holding its reference profile (as `ensure_reference` leaves it)."""
    warehouse, fresh_store = backend
    store = fresh_store()
    yield warehouse, store
    store.dispose()


@pytest.mark.parametrize("hours_before_end", [8, 13, 30], ids=["zeroed_hour", "empty_hour", "busy_hour"])
def test_same_window_twice_leaves_the_same_rows(engines, hours_before_end):
    from include.monitoring import pipeline, reference
    from include.monitoring.types import Window

    warehouse, store = engines
    config = _config()
    reference.ensure_reference(config, warehouse, store, now=NOW)
    end = DEMO_END - timedelta(hours=hours_before_end)
    window = Window(end - timedelta(hours=1), end)
    pipeline.run_window(config, warehouse, store, window, now=NOW, run_id="first")
    first = snapshot(store)
    pipeline.run_window(config, warehouse, store, window, now=NOW, run_id="first")
    assert snapshot(store) == first
    assert first["monitor_runs"] and first["metric_values"]


def test_failed_write_leaves_the_window_unchanged(engines):
    from include.monitoring import pipeline, reference
    from include.monitoring.types import MetricKind, MetricRow, Window

    warehouse, store = engines
    config = _config()
    reference.ensure_reference(config, warehouse, store, now=NOW)
    window = Window(DEMO_END - timedelta(hours=9), DEMO_END - timedelta(hours=8))
    pipeline.run_window(config, warehouse, store, window, now=NOW)
    before = snapshot(store)
    _, profile = reference.load_reference(config, store)
    observation = pipeline.observe_window(config, before["reference_profiles"][0][0], profile, warehouse, window)
    duplicate = MetricRow(MetricKind.DRIFT, "psi", 1.0, window, column="age")
    with pytest.raises(sa.exc.IntegrityError):  # the same key twice: the insert fails after the deletes ran
        pipeline.write_window(config, store, observation, [duplicate, duplicate], "broken", NOW, NOW)
    assert snapshot(store) == before
