"""Notification channels (being split into one module per job; see the next commit)."""

from include.monitoring.alerting.notifiers.slack import *  # noqa: F403
from include.monitoring.alerting.notifiers.slack import PAGERDUTY_EVENTS_URL  # noqa: F401
