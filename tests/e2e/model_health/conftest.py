"""One real Airflow API server for every Model health test (access, browser, Prometheus): started once for this
package and stopped after its last test.

The `airflow standalone` (started by scripts/standalone.py, as the other e2e test does) reads a metric store filled
by replaying the demo's incident hours (tests/unit/ui/replay.py) through the `monitoring_store` connection, exactly
as a deployment would. Nothing needs to run in it: the scheduler does not schedule jobs.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from scripts import standalone
from tests.conftest import ROOT
from tests.e2e.conftest import running_standalone
from tests.unit.ui import replay

PREFIX = "/model-health"
RUN_ID = quote(replay.run_id(replay.MARKUP_HOUR), safe="")
PAGES = [f"{PREFIX}/fleet", f"{PREFIX}/models/{replay.DAG_ID}", f"{PREFIX}/models/{replay.DAG_ID}/runs/{RUN_ID}"]
ENDPOINTS = [f"{PREFIX}/api/fleet", f"{PREFIX}/api/models/{replay.DAG_ID}?range=30d",
             f"{PREFIX}/api/models/{replay.DAG_ID}/runs/{RUN_ID}"]


@dataclass(frozen=True)
class Server:
    base_url: str
    token: str  # the admin's bearer token
    password: str  # the admin's password, for a browser login
    env: dict[str, str]
    home: Path
    port: int
    scrape_token: str  # the password of the model_health_scrape connection: reads /model-health/metrics

    def client(self) -> standalone.RestClient:
        return standalone.RestClient(self.base_url, "admin", self.password)


@pytest.fixture(scope="package")
def server(tmp_path_factory, demo_frames) -> Server:
    import sqlalchemy as sa

    directory = tmp_path_factory.mktemp("model_health")
    port = standalone.free_port()
    home = directory / "airflow_home"
    env = standalone.standalone_env(home, port, ROOT, parallelism=2)
    env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"  # nothing needs to run: the store is already filled
    env["AIRFLOW__API_AUTH__JWT_SECRET"] = uuid.uuid4().hex  # known to tokens signed by the tests
    env["AIRFLOW_CONN_MONITORING_STORE"] = json.dumps({"conn_type": "sqlite", "host": str(directory / "store.db")})
    scrape_token = secrets.token_urlsafe(32)
    env["AIRFLOW_CONN_MODEL_HEALTH_SCRAPE"] = json.dumps({"conn_type": "generic", "password": scrape_token})
    with running_standalone(env, directory / "standalone.log", port) as proc:
        # Filled while Airflow starts (about half the set-up time each); the app opens the store per request.
        warehouse = replay.write_warehouse(demo_frames, directory / "warehouse.db")
        store = sa.create_engine(f"sqlite:///{directory / 'store.db'}")
        replay.replay(warehouse, store)
        store.dispose()
        warehouse.dispose()
        base_url = f"http://127.0.0.1:{port}"
        standalone.wait_healthy(base_url, timeout=120, proc=proc, components=("metadatabase",))
        password = standalone.admin_password(home)
        token = standalone.RestClient(base_url, "admin", password)._token
        yield Server(base_url, token, password, env, home, port, scrape_token)


def get(base_url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(status, body) of a GET, whatever the status."""
    request = urllib.request.Request(f"{base_url}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def roleless_token(env: dict[str, str]) -> str:
    """A valid token of a user who has no role, signed by the server's own auth manager and secret: the simple
    auth manager lets such a user read no DAG (the case of any user without access to a monitor's DAG)."""
    script = ("from airflow.api_fastapi.app import create_auth_manager\n"
              "from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser\n"
              "print(create_auth_manager().generate_jwt(SimpleAuthManagerUser(username='outsider', role=None)))")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    return done.stdout.strip().splitlines()[-1]
