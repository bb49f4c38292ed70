"""The fire drill: a test notification through every channel a monitor routes alerts to, and which worked.

A PagerDuty drill triggers an incident with its own dedup key and resolves it at once, so nobody is paged for
long; Slack gets one message per channel. Nothing is written to the outbox: a drill is not an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from include.monitoring.alerting import keys
from include.monitoring.alerting.notifiers import Notification, Notifier
from include.monitoring.catalogue import Route
from include.monitoring.config import MonitorConfig


def drill(config: MonitorConfig, notifiers: Mapping[str, Notifier], missing: Mapping[str, str], now: datetime,
          run_url: str = "") -> dict[str, str]:
    """{channel: "ok" | "not configured: ..." | "failed: ..."} for every channel of the monitor's routes."""
    routes = {channel: severity for severity in ("info", "warning", "critical")
              for channel in getattr(config.alerts, severity)}  # each channel at the highest severity routed to it
    results: dict[str, str] = {}
    for channel, severity in routes.items():
        if channel not in notifiers:
            results[channel] = f"not configured: {missing.get(channel, 'no notifier')}"
            continue
        route = Route.parse(channel)
        key = keys.drill_key(config.model, channel)
        message = (f"[TEST] {config.model}: fire drill of the {channel} route ({severity.upper()} alerts go here), "
                   f"sent {now:%Y-%m-%d %H:%M} UTC. No action needed.")
        try:
            for action in ("trigger", "resolve") if route.kind == "pagerduty" else ("trigger",):
                notifiers[channel].send(Notification(
                    id=0, alert_key=key, model=config.model, channel=channel, action=action, severity=severity.upper(),
                    message=message, run_url=run_url, runbook_url=config.alerts.runbook_url,
                    rule=keys.drill_rule(route.kind)))
            results[channel] = "ok"
        except Exception as exc:  # noqa: BLE001 (any channel error is the drill's finding, reported per channel)
            results[channel] = f"failed: {type(exc).__name__}: {exc}"
    return results
