"""Notification channels. Each has `send(notification)`, raising on failure; delivery does the bookkeeping."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("monitoring.alerts")

EMOJI = {"CRITICAL": ":red_circle:", "WARNING": ":large_orange_circle:", "INFO": ":large_blue_circle:"}


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


class Notifier(Protocol):
    def send(self, notification: Notification) -> None: ...


class LogNotifier:
    """Always available: the alert in the task log."""

    def send(self, notification: Notification) -> None:
        level = logging.INFO if notification.action == "resolve" else logging.WARNING
        log.log(level, "%s (%s, alert %s)", notification.message, notification.action, notification.alert_key)


def escape_mrkdwn(text: str) -> str:
    """Slack needs &, < and > escaped; data values (category names, columns) may contain them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_blocks(n: Notification) -> list[dict[str, Any]]:
    header = "Resolved" if n.action == "resolve" else f"{n.severity.title()} alert"
    links = [f"<{url}|{label}>" for url, label in ((n.run_url, "Airflow run"), (n.runbook_url, "Runbook")) if url]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn",
                                      "text": f"{EMOJI.get(n.severity, '')} *{header}: {escape_mrkdwn(n.model)}*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": escape_mrkdwn(n.message)}},
    ]
    if links:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(links)}]})
    return blocks


class SlackNotifier:
    """Posts through slack_sdk: `chat.postMessage` with a bot token, or an incoming webhook."""

    def __init__(self, *, token: str = "", base_url: str = "", channel: str = "", webhook_url: str = "",
                 timeout: int = 10) -> None:
        from slack_sdk import WebClient, WebhookClient

        self._channel = channel
        self._webhook = WebhookClient(url=webhook_url, timeout=timeout) if webhook_url else None
        self._client = None if webhook_url else WebClient(token=token, base_url=base_url or WebClient.BASE_URL,
                                                          timeout=timeout)

    def send(self, notification: Notification) -> None:
        text = escape_mrkdwn(notification.message)
        blocks = slack_blocks(notification)
        if self._webhook is not None:
            response = self._webhook.send(text=text, blocks=blocks)
            if response.status_code != 200:
                raise RuntimeError(f"Slack webhook answered {response.status_code}: {response.body}")
        else:
            assert self._client is not None
            self._client.chat_postMessage(channel=self._channel, text=text, blocks=blocks)  # raises SlackApiError
