"""Set a DAG run's note from inside one of its tasks, through Airflow's public REST API.

Airflow 3.3.2's grid marks the bar of every run that has a note (a strip across its corner; the grid endpoint's
`has_note`), the run's page shows the note ("Dag Run Note") and `GET /api/v2/dags/{dag_id}/dagRuns` returns it;
an empty note removes it. A task
has no database access and the Task SDK's execution API has no call that changes a note (apache/airflow#64890
asks for one); the supported way is `PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}`, which needs a user allowed to
edit the DAG's runs. That user is the Airflow connection `airflow_api` (type http): host = the API server's URL,
login and password of the user (exchanged for a token at `/auth/token`), or a token alone in the password.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from include.monitoring.airflow_adapters import get_connection
from include.monitoring.errors import ConnectionConfigError

log = logging.getLogger(__name__)

API_CONN_ID = "airflow_api"
TIMEOUT_SECONDS = 10.0
RETRY_DELAYS = (1.0, 3.0)  # seconds before the 2nd and 3rd attempt


@dataclass(frozen=True, slots=True)
class ApiAccess:
    base_url: str
    login: str
    password: str


def api_access(conn_id: str = API_CONN_ID) -> ApiAccess:
    conn = get_connection(conn_id)
    host = (conn.host or "").rstrip("/")
    if not host:
        raise ConnectionConfigError(f"Airflow connection {conn_id!r} has no host (the API server's URL)")
    base_url = host if "://" in host else f"{conn.schema or 'http'}://{host}"
    if conn.port and f":{conn.port}" not in base_url.split("://", 1)[1]:
        base_url = f"{base_url}:{conn.port}"
    return ApiAccess(base_url, conn.login or "", conn.password or "")


def _token(client: httpx.Client, access: ApiAccess) -> str:
    if not access.login:
        return access.password
    response = client.post(f"{access.base_url}/auth/token",
                           json={"username": access.login, "password": access.password})
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def set_run_note(access: ApiAccess, dag_id: str, run_id: str, note: str) -> None:
    """Replace the note of run `run_id` ("" removes it); httpx.HTTPError when the API server refuses or is down.

    A 5xx or a lost connection is tried again (RETRY_DELAYS): on a SQLite metadata database a write that meets
    the scheduler's answers 500 ("database is locked"), measured under `make run`'s backfill."""
    url = f"{access.base_url}/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        for delay in (*RETRY_DELAYS, None):
            try:
                headers = {"Authorization": f"Bearer {_token(client, access)}"}
                response = client.patch(url, params={"update_mask": "note"}, json={"note": note}, headers=headers)
                response.raise_for_status()
                return
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                server_side = isinstance(exc, httpx.TransportError) or exc.response.status_code >= 500
                if delay is None or not server_side:
                    raise
                time.sleep(delay)


def try_set_run_note(dag_id: str, run_id: str, note: str) -> bool:
    """Set the note when the `airflow_api` connection allows it; otherwise say why in the log (the summary is
    logged by the caller either way). A note is a convenience: it never fails the run."""
    try:
        set_run_note(api_access(), dag_id, run_id, note)
    except ConnectionConfigError as exc:
        log.warning("run note not set: %s", exc)
        return False
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        log.warning("run note not set: the API server answered %s", _reason(exc))
        return False
    log.info("run note set on %s %s", dag_id, run_id)
    return True


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"{exc.response.status_code} to {exc.request.method} {exc.request.url.path}"
    return f"{type(exc).__name__}: {exc}"
