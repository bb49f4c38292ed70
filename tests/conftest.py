"""Test session set-up. Airflow reads its configuration at import, so the environment is fixed here,
before any test module imports Airflow: a throw-away AIRFLOW_HOME with a SQLite metadata database."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

# CI draws the same property-test examples every run (its verdict must not depend on the draw); a developer's run
# draws new ones, so an edge case shows up there first and becomes a test of its own.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
_HOME = tempfile.mkdtemp(prefix="airflow_test_home_")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(ROOT))

# The demo period used by every test ends at this hour, which puts the incidents in fixed windows
# (see include/monitoring/demo/generator.py): text in months_employed [08:00, 10:00) on 2026-11-22,
# the empty hour [14:00, 15:00), zeros in income and credit_limit [18:00, 22:00).
DEMO_END = datetime(2026, 11, 23, 4, tzinfo=UTC)
DEMO_DAYS, DEMO_PEAK_ROWS, DEMO_SEED = 3, 400, 11


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_frames():
    """A small demo warehouse (3 days, peak 400 rows an hour), as DataFrames."""
    from include.monitoring.demo.generator import build_frames

    return build_frames(DEMO_END, days=DEMO_DAYS, peak_rows=DEMO_PEAK_ROWS, seed=DEMO_SEED)


@pytest.fixture(scope="session")
def demo_warehouse_path(tmp_path_factory) -> Path:
    """The small demo warehouse written to a SQLite file once per session."""
    import sqlalchemy as sa

    from include.monitoring.demo.generator import write_demo_warehouse

    path = tmp_path_factory.mktemp("warehouse") / "warehouse.db"
    write_demo_warehouse(sa.create_engine(f"sqlite:///{path}"), end=DEMO_END, days=DEMO_DAYS, peak_rows=DEMO_PEAK_ROWS,
                         seed=DEMO_SEED)
    return path


def postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def airflow_db():
    """A fresh Airflow metadata database for the session (SQLite in the temporary AIRFLOW_HOME)."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.models import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def required_program(name: str, variable: str) -> str:
    """The path of a real program a test drives (chromium, prometheus). Missing, the test is skipped with a reason
    that names the Debian package; with `variable`=1 (CI sets it) a missing program fails instead."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get(variable) == "1":
            pytest.fail(f"{variable}=1 but no {name} on PATH (apt-get install -y {name})")
        pytest.skip(f"no {name} on PATH: apt-get install -y {name} (set {variable}=1 to make this a failure)")
    return path


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this session, dropped at the end. Skips only when no server is
    reachable and REQUIRE_POSTGRES is unset; with REQUIRE_POSTGRES=1 an unreachable server fails."""
    import uuid

    import sqlalchemy as sa

    if not postgres_reachable():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but no PostgreSQL server answers at 127.0.0.1:5432")
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432 (set REQUIRE_POSTGRES=1 to make this a failure)")
    name = f"monitoring_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": name}
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
