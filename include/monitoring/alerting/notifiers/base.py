"""What every channel shares: the Notification it sends, the Notifier protocol, its errors, the factory that builds
it from the monitor's config, and the log channel, which is always available."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from include.monitoring.errors import MonitoringError

if TYPE_CHECKING:
    from include.monitoring.alerting.notifiers.retry import RetryPolicy
    from include.monitoring.catalogue import Route
    from include.monitoring.config import MonitorConfig

log = logging.getLogger("monitoring.alerts")


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    alert_key: str
    model: str
    channel: str
    action: str
    severity: str
    message: str
    run_url: str = ""
    runbook_url: str = ""
    thread: str = ""  # the channel's reference of the alert's first message (a Slack ts): the resolve replies there
    rule: str = ""  # `<kind>:<rule>` of the alert (alerts.rule), e.g. `drift:feature_drift`: PagerDuty's class


class Notifier(Protocol):
    def send(self, notification: Notification) -> str | None:
        """Send; raise on failure. May return the channel's reference of the message (a Slack ts)."""


class NotifierFactory(Protocol):
    def __call__(self, route: Route, config: MonitorConfig, connection: Callable[[str], Any],
                 retry: RetryPolicy | None = None) -> Notifier:
        """The notifier of `route`. `connection(conn_id)` returns an Airflow connection (or raises
        ConnectionConfigError); `retry` bounds the HTTP retries (default policy)."""


class NotificationError(MonitoringError):
    """A channel refused a notification (bad token, unknown channel, invalid event): retrying cannot help."""


class ChannelUnavailableError(NotificationError):
    """A channel did not take a notification within the retry budget (rate limited, server errors, no answer).
    Delivery stops using the channel for the rest of the run; its rows stay pending for the next one."""


class LogNotifier:
    """Always available: the alert in the task log."""

    def send(self, notification: Notification) -> None:
        level = logging.INFO if notification.action in ("resolve", "update") else logging.WARNING
        log.log(level, "%s (%s, alert %s)", notification.message, notification.action, notification.alert_key)


def log_notifier(route: Route, config: MonitorConfig, connection: Callable[[str], Any],
                 retry: RetryPolicy | None = None) -> LogNotifier:
    return LogNotifier()
