"""What the local API servers of the tests share: a threaded HTTP server on 127.0.0.1 that can be told to fail
the next requests (429 with Retry-After, or 5xx), counts every request, and answers with a status, a body and
headers. Each server (Slack, PagerDuty) says what a request that does not fail gets."""

from __future__ import annotations

import abc
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class ScriptedServer(abc.ABC):
    """Subclasses implement `handle(path, headers, body, failure)` -> (status, body text, extra headers)."""

    def __init__(self) -> None:
        self.requests = 0  # every POST, failed ones included: how often a client tried
        self._lock = threading.Lock()
        self._failures: list[tuple[int, int | None]] = []  # (status, Retry-After) per upcoming request
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, text, headers = server.handle(self.path, self.headers, body, server._next_failure())
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if text.startswith("{") else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits up to one interval, and tests start a server each.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @abc.abstractmethod
    def handle(self, path: str, headers: object, body: bytes,
               failure: tuple[int, int | None] | None) -> tuple[int, str, dict[str, str]]:
        """The answer to a POST: (status, body text, extra headers); `failure` is the scripted one, if any."""

    def fail_next(self, count: int, status: int, retry_after: int | None = None) -> None:
        """Answer the next `count` requests with `status` (429 or 5xx), adding a Retry-After header when given."""
        with self._lock:
            self._failures = [(status, retry_after)] * count

    def recover(self) -> None:
        """Stop failing: every request from now on is answered normally."""
        with self._lock:
            self._failures = []

    def _next_failure(self) -> tuple[int, int | None] | None:
        with self._lock:
            self.requests += 1
            return self._failures.pop(0) if self._failures else None

    @staticmethod
    def retry_after_header(failure: tuple[int, int | None]) -> dict[str, str]:
        return {"Retry-After": str(failure[1])} if failure[1] is not None else {}

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
