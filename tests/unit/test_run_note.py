"""Setting a run's note over real HTTP against a local stand-in of the API server's two endpoints: the token is
fetched with the connection's login, a 500 (SQLite's "database is locked" under load) is tried again, a 403 is
not, and a failure never raises out of `try_set_run_note`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from include.monitoring import run_note


class ApiStandIn:
    def __init__(self, patch_statuses: list[int]) -> None:
        self.patch_statuses = patch_statuses  # answers of the next PATCHes, then 200
        self.notes: list[tuple[str, str, str]] = []  # (path, query, body note) of every PATCH
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ok = self.path == "/auth/token" and body == {"username": "admin", "password": "pw"}
                self._answer(201 if ok else 401, {"access_token": "T"} if ok else {})

            def do_PATCH(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                path, _, query = self.path.partition("?")
                stand_in.notes.append((path, query, body["note"]))
                status = stand_in.patch_statuses.pop(0) if stand_in.patch_statuses else 200
                self._answer(status if self.headers["Authorization"] == "Bearer T" else 401, {})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def api(monkeypatch, request):
    stand_in = ApiStandIn(list(getattr(request, "param", [])))
    monkeypatch.setenv("AIRFLOW_CONN_AIRFLOW_API", json.dumps(
        {"conn_type": "http", "host": stand_in.url, "login": "admin", "password": "pw"}))
    monkeypatch.setattr(run_note, "RETRY_DELAYS", (0.01, 0.01))
    yield stand_in
    stand_in.httpd.shutdown()


def test_the_note_is_patched_with_an_update_mask_as_the_connections_user(api):
    assert run_note.try_set_run_note("monitor_m", "backfill__2026-12-04T09:00:00+00:00", "CRITICAL 1: x")
    assert api.notes == [("/api/v2/dags/monitor_m/dagRuns/backfill__2026-12-04T09%3A00%3A00%2B00%3A00",
                          "update_mask=note", "CRITICAL 1: x")]


@pytest.mark.parametrize("api", [[500, 500]], indirect=True)
def test_a_server_error_is_tried_again(api):
    assert run_note.try_set_run_note("monitor_m", "r1", "")
    assert len(api.notes) == 3


@pytest.mark.parametrize("api", [[500, 500, 500]], indirect=True)
def test_a_server_that_keeps_failing_is_logged_not_raised(api, caplog):
    assert not run_note.try_set_run_note("monitor_m", "r1", "note")
    assert len(api.notes) == 3 and "run note not set: the API server answered 500" in caplog.text


@pytest.mark.parametrize("api", [[403]], indirect=True)
def test_a_refusal_is_not_tried_again(api):
    assert not run_note.try_set_run_note("monitor_m", "r1", "note")
    assert len(api.notes) == 1


def test_without_the_connection_the_note_is_skipped_saying_why(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_AIRFLOW_API", raising=False)
    assert not run_note.try_set_run_note("monitor_m", "r1", "note")
    assert "run note not set: Airflow connection 'airflow_api' is not defined" in caplog.text
