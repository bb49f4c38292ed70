"""A local HTTP server that answers like Slack's Web API (`chat.postMessage`) and records each message."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class SlackServer:
    """`with SlackServer() as slack:` then point a Slack connection's base_url at `slack.base_url`."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.fail_with: str | None = None  # an error code to answer {"ok": false, "error": ...}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    payload = json.loads(body or "{}")
                else:
                    payload = {k: v[0] for k, v in parse_qs(body).items()}
                payload["_path"] = self.path
                payload["_auth"] = self.headers.get("Authorization", "")
                if server.fail_with:
                    reply = {"ok": False, "error": server.fail_with}
                else:
                    server.messages.append(payload)
                    reply = {"ok": True, "channel": payload.get("channel"), "ts": f"{len(server.messages)}.000"}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/api/"

    def __enter__(self) -> SlackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
