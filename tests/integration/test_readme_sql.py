"""Every SQL query the README shows runs as written against a metric store filled by a replay of the demo's
incident hours, on SQLite (the default store) and on PostgreSQL, and finds rows there: a query that names a
column the store lacks, or a value it never holds, fails here."""

from __future__ import annotations

import re
import shlex
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END, ROOT

# Replayed: the hour before the empty one (14 h before the end), the empty hour, and the zeroed-feature hours.
REPLAYED_HOURS = (15, 14, 10, 9, 8)


def readme_queries() -> list[tuple[str, str]]:
    """(where, statement) for each statement of each ```sql block and each `sqlite3 FILE "query"` command."""
    text = ROOT.joinpath("README.md").read_text()
    queries = []
    for number, block in enumerate(re.findall(r"^```sql\n(.*?)^```", text, flags=re.M | re.S), start=1):
        statements = [s.strip() for s in block.split(";") if s.strip()]
        queries += [(f"sql block {number}, statement {i}", s) for i, s in enumerate(statements, start=1)]
    for line in re.findall(r"^sqlite3 .*$", text, flags=re.M):
        queries.append((line[:60], shlex.split(line)[2]))
    return queries


QUERIES = readme_queries()


def test_the_readme_shows_queries():
    assert len(QUERIES) >= 5, QUERIES  # the extraction itself keeps working


@pytest.fixture(scope="module")
def sqlite_store(demo_warehouse_path, tmp_path_factory) -> sa.Engine:
    """The replay: the monitor's pipeline over the demo's incident hours, as `cli replay` runs it."""
    from include.monitoring import pipeline
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.config import load_monitor_config
    from include.monitoring.reference import ensure_reference
    from include.monitoring.types import Window

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    warehouse = engine_from_url(f"sqlite:///{demo_warehouse_path}")
    store = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('readme_sql') / 'monitoring.db'}")
    ensure_reference(config, warehouse, store, now=DEMO_END)
    for hours_before_end in REPLAYED_HOURS:
        end = DEMO_END - timedelta(hours=hours_before_end - 1)
        window = Window(end - timedelta(hours=1), end)
        pipeline.run_window(config, warehouse, store, window, now=end + timedelta(minutes=5), run_id="readme-replay")
    return store


@pytest.fixture(scope="module")
def postgres_store(sqlite_store, postgres_schema) -> sa.Engine:
    """The same store copied row for row into a PostgreSQL schema."""
    from include.monitoring import store

    engine = postgres_schema()
    store.create_tables(engine)
    with sqlite_store.connect() as source, engine.begin() as target:
        for table in store.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in source.execute(sa.select(table))]
            if rows:
                target.execute(sa.insert(table), rows)
    return engine


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def replayed_store(request) -> sa.Engine:
    return request.getfixturevalue(f"{request.param}_store")


@pytest.mark.parametrize(("where", "statement"), QUERIES, ids=[where for where, _ in QUERIES])
def test_readme_query_runs_and_finds_rows_in_a_replayed_store(replayed_store, where, statement):
    with replayed_store.connect() as conn:
        found = conn.execute(sa.text(statement)).all()
    assert found, f"{where} ran but found nothing in the replayed store:\n{statement}"
