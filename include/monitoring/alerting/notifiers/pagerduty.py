"""PagerDuty through the Events API v2: one event per notification, the alert key as its dedup_key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from include.monitoring.alerting.messages import cut_to_limit
from include.monitoring.alerting.notifiers.base import Notification, NotificationError
from include.monitoring.alerting.notifiers.http import post_json_with_retries
from include.monitoring.alerting.notifiers.retry import RetryPolicy, is_retryable_status, unavailable
from include.monitoring.alerting.notifiers.secrets import Secrets
from include.monitoring.errors import ConnectionConfigError

if TYPE_CHECKING:
    from include.monitoring.catalogue import Route
    from include.monitoring.config import MonitorConfig

PAGERDUTY_CONN_TYPES = ("pagerduty_events",)  # the Airflow PagerDuty provider's Events API connection
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_SEVERITY = {"CRITICAL": "critical", "WARNING": "warning", "INFO": "info"}
PAGERDUTY_SOURCE = "airflow-model-monitoring"  # when a notification names no model
DEDUP_KEY_LIMIT = 255  # the Events API's limit; alert keys may be longer (a long slice value)
SUMMARY_LIMIT = 1024
# The Events API takes 512 KB per event; the message is repeated whole in custom_details up to this many characters
# (at most 4 bytes each in UTF-8, 64 KB), so that a long one cannot get the event refused.
DETAILS_MESSAGE_LIMIT = 16_000


def pagerduty_dedup_key(alert_key: str) -> str:
    """The alert key, so that a repeated trigger attaches to the open incident and the resolve closes it. A key
    over the limit keeps its start and ends with a hash of the whole, so two long keys cannot collide."""
    if len(alert_key) <= DEDUP_KEY_LIMIT:
        return alert_key
    digest = hashlib.sha256(alert_key.encode()).hexdigest()[:16]
    return f"{alert_key[:DEDUP_KEY_LIMIT - len(digest) - 1]}~{digest}"


def pagerduty_event(n: Notification, routing_key: str) -> dict[str, Any]:
    """An Events API v2 body. Triggers, escalations and reminders are all `trigger`: with the same dedup_key,
    PagerDuty adds them to the open incident instead of opening another."""
    event: dict[str, Any] = {"routing_key": routing_key, "dedup_key": pagerduty_dedup_key(n.alert_key),
                             "event_action": "resolve" if n.action == "resolve" else "trigger"}
    if event["event_action"] == "resolve":
        return event
    event["payload"] = {
        "summary": cut_to_limit(n.message, SUMMARY_LIMIT), "source": n.model or PAGERDUTY_SOURCE,
        "severity": PAGERDUTY_SEVERITY.get(n.severity, "error"),  # error: PagerDuty's tier between warning and critical
        "component": n.model, "group": "model-monitoring", "class": n.rule,
        "custom_details": {"message": cut_to_limit(n.message, DETAILS_MESSAGE_LIMIT), "alert_key": n.alert_key,
                           "action": n.action, "run_url": n.run_url, "runbook_url": n.runbook_url},
    }
    links = [{"href": href, "text": text} for href, text in ((n.run_url, "Airflow run"), (n.runbook_url, "Runbook")) if href]
    if links:
        event["links"] = links
    return event


class PagerDutyNotifier:
    """PagerDuty Events API v2. The dedup_key is the alert key: a repeated trigger (a retried or re-run delivery)
    attaches to the open incident, and the resolve closes it. PagerDuty answers 202 when it accepts an event."""

    def __init__(self, *, routing_key: str, events_url: str = PAGERDUTY_EVENTS_URL, timeout: float = 10,
                 retry: RetryPolicy | None = None) -> None:
        if not routing_key:
            raise ValueError("PagerDuty needs a routing key (the Events API v2 integration key)")
        if not events_url.startswith(("https://", "http://")):
            raise ValueError(f"PagerDuty events URL must be http(s): {events_url!r}")
        self._routing_key = routing_key
        self._events_url = events_url
        self._timeout = timeout
        self._retry = retry or RetryPolicy()

    def send(self, notification: Notification) -> None:
        event = pagerduty_event(notification, self._routing_key)
        answer, attempts = post_json_with_retries(self._events_url, event, self._timeout, self._retry, "PagerDuty")
        if answer.status == 202:
            return
        # A proxy in front of the Events API may echo the event, routing key included.
        body = Secrets.of(self._routing_key).scrub(answer.body[:500])
        text = f"PagerDuty Events API answered HTTP {answer.status} after {attempts} attempt(s): {body}"
        if is_retryable_status(answer.status):
            raise unavailable(text, answer.retry_after, self._retry)
        raise NotificationError(text)


def pagerduty_notifier(route: Route, config: MonitorConfig, connection: Callable[[str], Any],
                       retry: RetryPolicy | None = None) -> PagerDutyNotifier:
    """From a `pagerduty_events` connection, as the Airflow PagerDuty provider reads it: the routing (integration)
    key in the password, or in extra `routing_key` / `integration_key`; extra `events_url` overrides the endpoint
    (a proxy, or a local server in tests), extra `timeout` the per-request timeout in seconds."""
    conn_id = config.alerts.pagerduty_conn_id
    conn = connection(conn_id)
    if conn.conn_type not in PAGERDUTY_CONN_TYPES:
        raise ConnectionConfigError(
            f"connection {conn_id!r} has type {conn.conn_type!r}; expected one of {list(PAGERDUTY_CONN_TYPES)}")
    extra = conn.extra_dejson or {}
    routing_key = conn.password or extra.get("routing_key") or extra.get("integration_key")
    if not routing_key:
        raise ConnectionConfigError(f"connection {conn_id!r} has no routing key: put the Events API v2 integration key "
                                    "in its password (or extra routing_key)")
    try:
        return PagerDutyNotifier(routing_key=routing_key, events_url=extra.get("events_url") or PAGERDUTY_EVENTS_URL,
                                 timeout=float(extra.get("timeout", 10)), retry=retry)
    except ValueError as exc:
        raise ConnectionConfigError(f"connection {conn_id!r}: {exc}") from exc
