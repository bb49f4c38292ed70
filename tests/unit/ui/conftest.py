"""A store filled once for the UI package's tests by replaying the demo's incident hours (replay.py); tests only read it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
def filled_store(tmp_path_factory, demo_frames):
    import sqlalchemy as sa

    from tests.unit.ui import replay

    directory = tmp_path_factory.mktemp("ui_store")
    warehouse = replay.write_warehouse(demo_frames, directory / "warehouse.db")
    store = sa.create_engine(f"sqlite:///{directory / 'store.db'}")
    replay.replay(warehouse, store)
    yield store
    store.dispose()
    warehouse.dispose()
