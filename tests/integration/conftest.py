"""Fixtures shared by the integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

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
