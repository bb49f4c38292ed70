"""A local HTTP server that answers like Slack's Web API (`chat.postMessage`) and incoming webhooks, and records
each message. It can be told to fail: `{"ok": false, "error": ...}` replies, or HTTP 429/5xx for the next requests."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from tests.scripted_server import ScriptedServer


class SlackServer(ScriptedServer):
    """`with SlackServer() as slack:` then point a Slack connection's base_url at `slack.base_url` (Web API), or a
    webhook connection at `slack.webhook_url`."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict] = []  # accepted messages only
        self.fail_with: str | None = None  # an error code to answer {"ok": false, "error": ...}

    def handle(self, path: str, headers, body: bytes, failure) -> tuple[int, str, dict[str, str]]:
        if failure is not None:
            # Slack's rate-limit replies carry JSON; its 5xx pages are not JSON, which clients must survive.
            text = json.dumps({"ok": False, "error": "ratelimited"}) if failure[0] == 429 else "server error"
            return failure[0], text, self.retry_after_header(failure)
        text = body.decode()
        if headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(text or "{}")
        else:
            payload = {k: v[0] for k, v in parse_qs(text).items()}
        payload["_path"] = path
        payload["_auth"] = headers.get("Authorization", "")
        if self.fail_with:
            return 200, json.dumps({"ok": False, "error": self.fail_with}), {}
        with self._lock:
            self.messages.append(payload)
            ts = f"{len(self.messages)}.000"
        return 200, json.dumps({"ok": True, "channel": payload.get("channel"), "ts": ts}), {}

    def recover(self) -> None:
        super().recover()
        self.fail_with = None

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.origin}/services/T000/B000/XXXX"
