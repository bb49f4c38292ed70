"""Notification channels. Each has `send(notification)`, raising on failure; delivery does the bookkeeping.

NOTIFIERS is the one registry: a route's channel kind (catalogue.Route) -> the factory that builds its notifier
from the monitor's config and Airflow connection. A new channel is one module here and one line in NOTIFIERS
(and its kind in catalogue.CHANNELS, which config validation reads without importing slack_sdk).

Slack and PagerDuty retry rate limits (429, honouring Retry-After), server errors (5xx) and requests that reached
no server, within a RetryPolicy's bounds. A refusal (an invalid token, an unknown channel, an invalid event)
raises NotificationError at once; an exhausted retry budget raises ChannelUnavailableError.

    base.py       Notification, Notifier, NotifierFactory, the errors, LogNotifier
    secrets.py    Secrets: a channel's secrets rewritten out of its texts and logs
    retry.py      RetryPolicy and which answers are retried
    http.py       JSON POSTs with retries (urllib)
    slack.py      Slack: mrkdwn, Block Kit, slack_sdk's retry hook, SlackNotifier
    pagerduty.py  PagerDuty Events API v2: the event, PagerDutyNotifier
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from include.monitoring.alerting.notifiers.base import (
    ChannelUnavailableError,
    LogNotifier,
    Notification,
    NotificationError,
    Notifier,
    NotifierFactory,
    log_notifier,
)
from include.monitoring.alerting.notifiers.http import HttpAnswer, post_json, post_json_with_retries
from include.monitoring.alerting.notifiers.pagerduty import (
    PAGERDUTY_EVENTS_URL,
    PagerDutyNotifier,
    pagerduty_dedup_key,
    pagerduty_event,
    pagerduty_notifier,
)
from include.monitoring.alerting.notifiers.retry import RetryPolicy, is_retryable_status, retry_after_seconds
from include.monitoring.alerting.notifiers.secrets import REDACTED, RedactingFilter, Secrets, redacting_logger
from include.monitoring.alerting.notifiers.slack import (
    SlackNotifier,
    SlackRetryHandler,
    escape_mrkdwn,
    mrkdwn_literal,
    slack_blocks,
    slack_notifier,
)

# Channel kind -> factory. Its keys equal catalogue.CHANNELS (tests/unit/alerting/test_routes.py).
NOTIFIERS: Mapping[str, NotifierFactory] = MappingProxyType({
    "log": log_notifier,
    "slack": slack_notifier,
    "pagerduty": pagerduty_notifier,
})

__all__ = [
    "NOTIFIERS", "PAGERDUTY_EVENTS_URL", "REDACTED",
    "ChannelUnavailableError", "HttpAnswer", "LogNotifier", "Notification", "NotificationError", "Notifier",
    "NotifierFactory", "PagerDutyNotifier", "RedactingFilter", "RetryPolicy", "Secrets", "SlackNotifier",
    "SlackRetryHandler",
    "escape_mrkdwn", "is_retryable_status", "log_notifier", "mrkdwn_literal", "pagerduty_dedup_key", "pagerduty_event",
    "pagerduty_notifier", "post_json", "post_json_with_retries", "redacting_logger", "retry_after_seconds",
    "slack_blocks", "slack_notifier",
]
