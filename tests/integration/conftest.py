"""Fixtures shared by the integration tests."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa


@pytest.fixture(scope="module")
def postgres_schema(postgres_database) -> Iterator[Callable[[], sa.Engine]]:
    """A factory of engines, each on its own new schema of the session's database; all dropped at the end."""
    db = postgres_database
    url = f"postgresql+psycopg://{db['login']}@{db['host']}:{db['port']}/{db['schema']}"
    admin = sa.create_engine(url)
    schemas, engines = [], []

    def make() -> sa.Engine:
        schema = f"schema_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(sa.text(f'create schema "{schema}"'))
        schemas.append(schema)
        engines.append(sa.create_engine(url, connect_args={"options": f"-c timezone=UTC -c search_path={schema}"}))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    admin.dispose()


@pytest.fixture(scope="session")
def demo_reference_store(demo_warehouse_path, tmp_path_factory):
    """A store file holding the demo's table reference, fitted once for the tests that run demo windows."""
    from include.monitoring import reference
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.config import load_monitor_config
    from tests.conftest import ROOT

    path = tmp_path_factory.mktemp("reference") / "store.db"
    reference.ensure_reference(load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml"),
                               engine_from_url(f"sqlite:///{demo_warehouse_path}"),
                               sa.create_engine(f"sqlite:///{path}"), now=datetime(2026, 11, 23, 5, tzinfo=UTC))
    return path


@pytest.fixture
def demo_store(demo_reference_store, tmp_path) -> sa.Engine:
    """A copy of `demo_reference_store` of this test's own (`ensure_reference` finds the profile in it; fitting
    reads no setting the tests that use it change)."""
    shutil.copyfile(demo_reference_store, tmp_path / "store.db")
    return sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
