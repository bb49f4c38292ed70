"""A local HTTP server that answers like PagerDuty's Events API v2 (`POST /v2/enqueue`) and keeps incidents by
dedup_key, so tests can count how many incidents a series of events would have opened. It can be told to answer
429 (with Retry-After) or 5xx for the next requests."""

from __future__ import annotations

import json
import uuid

from tests.scripted_server import ScriptedServer

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


def validation_errors(event: object) -> list[str]:
    """What the Events API would reject in `event` (an empty list when it is valid)."""
    if not isinstance(event, dict):
        return ["Event object is invalid"]
    errors = []
    if not event.get("routing_key"):
        errors.append("'routing_key' is missing or blank")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append(f"'event_action' must be one of {', '.join(ACTIONS)}")
    if action in ("acknowledge", "resolve") and not event.get("dedup_key"):
        errors.append(f"'dedup_key' is required for {action} events")
    if len(str(event.get("dedup_key", ""))) > 255:
        errors.append("'dedup_key' is longer than 255 characters")
    if action == "trigger":
        errors += _payload_errors(event.get("payload"))
    return errors


def _payload_errors(payload: object) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = [f"'payload.{name}' is missing or blank" for name in ("summary", "source", "severity") if not payload.get(name)]
    if payload.get("severity") and payload["severity"] not in SEVERITIES:
        errors.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
    if len(str(payload.get("summary", ""))) > 1024:
        errors.append("'payload.summary' is longer than 1024 characters")
    return errors


class PagerDutyServer(ScriptedServer):
    """`with PagerDutyServer() as pd:` then point the events URL at `pd.events_url`.

    `events` holds the accepted events in order; `incidents` maps each dedup_key to "triggered" or "resolved";
    `opened` counts incidents opened. A trigger whose dedup_key has an open incident is added to it (no new
    incident); after a resolve, the same key opens a new one, as PagerDuty does."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []
        self.rejected: list[dict] = []  # invalid events (answered 400)
        self.incidents: dict[str, str] = {}
        self.opened = 0

    def handle(self, path: str, headers, body: bytes, failure) -> tuple[int, str, dict[str, str]]:
        if path != "/v2/enqueue":
            return 404, json.dumps({"status": "not found"}), {}
        if failure is not None:
            return failure[0], json.dumps({"status": "throttled" if failure[0] == 429 else "error"}), \
                self.retry_after_header(failure)
        status, reply = self._accept(body)
        return status, json.dumps(reply), {}

    def _accept(self, body: bytes) -> tuple[int, dict]:
        try:
            event = json.loads(body or b"null")
        except ValueError:
            return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["not JSON"]}
        errors = validation_errors(event)
        with self._lock:
            if errors:
                self.rejected.append(event if isinstance(event, dict) else {"body": event})
                return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
            dedup_key = event.get("dedup_key") or uuid.uuid4().hex  # PagerDuty makes one up for a keyless trigger
            self.events.append({**event, "dedup_key": dedup_key})
            self._update_incident(event["event_action"], dedup_key)
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}

    def _update_incident(self, action: str, dedup_key: str) -> None:
        if action == "trigger" and self.incidents.get(dedup_key) != "triggered":
            self.incidents[dedup_key] = "triggered"
            self.opened += 1
        elif action == "resolve" and dedup_key in self.incidents:
            self.incidents[dedup_key] = "resolved"

    @property
    def events_url(self) -> str:
        return f"{self.origin}/v2/enqueue"
