"""Slack through slack_sdk: `chat.postMessage` with a bot token, or an incoming webhook. Data (model, column and
category names, examples) is shown literally within Block Kit's limits; rate limits and server errors are retried
within a RetryPolicy, a refusal raises NotificationError at once."""

from __future__ import annotations

import urllib.error
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from include.monitoring.alerting.messages import within_limit
from include.monitoring.alerting.notifiers.base import ChannelUnavailableError, Notification, NotificationError
from include.monitoring.alerting.notifiers.retry import (
    RetryPolicy,
    is_retryable_status,
    log_retry,
    reached_no_server,
    unavailable,
)
from include.monitoring.alerting.notifiers.secrets import Secrets, redacting_logger
from include.monitoring.errors import ConnectionConfigError

if TYPE_CHECKING:
    from include.monitoring.catalogue import Route
    from include.monitoring.config import MonitorConfig

SLACK_CONN_TYPES = ("slack", "slackwebhook")
EMOJI = {"CRITICAL": ":red_circle:", "WARNING": ":large_orange_circle:", "INFO": ":large_blue_circle:"}


# --- Slack text: literal data within Block Kit's limits ------------------------------------------------------------

# Block Kit's limits (docs.slack.dev/reference/block-kit/blocks): a section's text 3,000 characters, a context
# element's text 2,000. Slack accepts a top-level `text` (the notification fallback) up to 40,000 and truncates
# it beyond; it carries the same words as the message's section, so it gets the section's limit.
SLACK_SECTION_LIMIT = 3000
SLACK_CONTEXT_LIMIT = 2000
SLACK_FALLBACK_LIMIT = 3000
ZERO_WIDTH_SPACE = "\u200b"
MRKDWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}  # the only escaping Slack documents
MRKDWN_FORMATTING = "*_~`"


def _mrkdwn_literal_char(text: str, i: int) -> str:
    """Character `i` of `text` as mrkdwn that shows it as itself.

    A formatting character opens or closes bold, italics, strike-through or code only at the edge of a word, so a
    zero-width space on each side keeps it literal whichever way Slack classes that space (a letter: the character
    is inside a word; a space: the character is followed by one, which cannot open a span). Between two letters or
    digits (`credit_default`) it cannot format, and it is left alone so that names copied from Slack still match.
    Backticks are always neutralised."""
    char = text[i]
    if char in MRKDWN_ENTITIES:
        return MRKDWN_ENTITIES[char]
    if char not in MRKDWN_FORMATTING:
        return char
    inside_word = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
    return char if inside_word and char != "`" else f"{ZERO_WIDTH_SPACE}{char}{ZERO_WIDTH_SPACE}"


def mrkdwn_literal(text: str, limit: int | None = None) -> str:
    """`text` (data: model, column and category names, examples) as mrkdwn that Slack shows literally, cut with a
    visible marker to `limit` characters when given."""
    pieces = [_mrkdwn_literal_char(text, i) for i in range(len(text))]
    return "".join(pieces) if limit is None else within_limit(pieces, limit)


def escape_mrkdwn(text: str) -> str:
    """The Slack fallback text of a message: shown literally, within its limit."""
    return mrkdwn_literal(text, SLACK_FALLBACK_LIMIT)


def _links_text(n: Notification) -> str:
    """The run and runbook links, each kept only when it fits the context element whole (a cut link is broken)."""
    text = ""
    for url, label in ((n.run_url, "Airflow run"), (n.runbook_url, "Runbook")):
        link = f"<{url}|{label}>"
        candidate = f"{text} · {link}" if text else link
        if url and len(candidate) <= SLACK_CONTEXT_LIMIT:
            text = candidate
    return text


def slack_blocks(n: Notification) -> list[dict[str, Any]]:
    """A header line, the message, and the links: three blocks, each within Block Kit's limits, data shown literally."""
    header = {"resolve": "Resolved", "update": "Partly resolved"}.get(n.action, f"{n.severity.title()} alert")
    opening = f"{EMOJI.get(n.severity, '')} *{header}: "
    model = mrkdwn_literal(n.model, SLACK_SECTION_LIMIT - len(opening) - 1)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{opening}{model}*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn_literal(n.message, SLACK_SECTION_LIMIT)}},
    ]
    if links := _links_text(n):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
    return blocks


# --- retries: slack_sdk's hook driven by a RetryPolicy ------------------------------------------------------


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """A header from slack_sdk's retry response (values are lists) or an http.client message, case-insensitively."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else value
    return None


class SlackRetryHandler(RetryHandler):
    """slack_sdk's retry hook driven by a RetryPolicy. The built-in RateLimitErrorRetryHandler and
    ServerErrorRetryHandler sleep with time.sleep (not injectable), wait whatever Retry-After says, and count only
    500 and 503 as server errors; this one keeps the policy's bounds."""

    def __init__(self, policy: RetryPolicy, channel: str) -> None:
        super().__init__(max_retry_count=policy.max_attempts - 1)
        self._policy = policy
        self._channel = channel

    def _wait(self, state: RetryState, response: HttpResponse | None, error: Exception | None) -> float | None:
        if response is None:
            return self._policy.wait_before_retry(state.current_attempt, None) if reached_no_server(error) else None
        return self._policy.wait_before_retry(state.current_attempt, response.status_code,
                                              _header(response.headers, "Retry-After"))

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return self._wait(state, response, error) is not None

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        wait = self._wait(state, response, error)
        assert wait is not None  # slack_sdk calls this only after _can_retry said yes
        log_retry(self._channel, f"HTTP {response.status_code}" if response is not None else error,
                  state.current_attempt, self._policy, wait)
        state.next_attempt_requested = True
        self._policy.sleep(wait)
        state.increment_current_attempt()


def _slack_api_error(exc: Exception, policy: RetryPolicy) -> NotificationError:
    """slack_sdk's SlackApiError as ours: unavailable after retryable answers, refused otherwise."""
    response = exc.response  # type: ignore[attr-defined]
    status, error = response.status_code, response.get("error", "")
    if is_retryable_status(status):
        return unavailable(f"Slack chat.postMessage answered HTTP {status} ({error})", _header(response.headers, "Retry-After"),
                           policy)
    return NotificationError(f"Slack chat.postMessage failed: {error} (HTTP {status})")


def _slack_webhook_error(response: Any, policy: RetryPolicy) -> NotificationError:
    answer = f"Slack webhook answered HTTP {response.status_code}: {str(response.body)[:500]}"
    if is_retryable_status(response.status_code):
        return unavailable(answer, _header(response.headers or {}, "Retry-After"), policy)
    return NotificationError(answer)


class SlackNotifier:
    """Posts through slack_sdk: `chat.postMessage` with a bot token, or an incoming webhook. An `{"ok": false}`
    reply (channel_not_found, invalid_auth, ...) raises at once; rate limits and server errors are retried.
    Neither the webhook URL nor the token appears in what it logs or raises."""

    def __init__(self, *, token: str = "", base_url: str = "", channel: str = "", webhook_url: str = "",
                 timeout: int = 10, retry: RetryPolicy | None = None) -> None:
        from slack_sdk import WebClient, WebhookClient

        self._retry = retry or RetryPolicy()
        handlers: list[RetryHandler] = [SlackRetryHandler(self._retry, "Slack")]
        self._channel = channel
        self._secrets = Secrets.of_webhook(webhook_url) if webhook_url else Secrets.of(token)
        self._webhook = WebhookClient(url=webhook_url, timeout=timeout, retry_handlers=handlers,
                                      logger=redacting_logger("slack_sdk.webhook.client", self._secrets)) \
            if webhook_url else None
        self._client = None if webhook_url else WebClient(
            token=token, base_url=base_url or WebClient.BASE_URL, timeout=timeout, retry_handlers=handlers,
            logger=redacting_logger("slack_sdk.web.base_client", self._secrets))

    def send(self, notification: Notification) -> str | None:
        """Post; through the Web API the resolve goes into the alert's thread (and to the channel). Returns the ts."""
        try:
            return self._post(notification)
        except Exception as exc:  # slack_sdk's and urllib's errors may quote the URL: ours carry their text scrubbed
            raise self._as_notification_error(exc) from None

    def _post(self, notification: Notification) -> str | None:
        text = escape_mrkdwn(notification.message)
        blocks = slack_blocks(notification)
        if self._webhook is not None:
            answer = self._webhook.send(text=text, blocks=blocks)
            if answer.status_code != 200:
                raise _slack_webhook_error(answer, self._retry)
            return None
        assert self._client is not None
        # The resolve goes into the alert's thread, and to the channel too.
        thread, broadcast = (notification.thread, True) if notification.thread else (None, None)
        response = self._client.chat_postMessage(channel=self._channel, text=text, blocks=blocks, thread_ts=thread,
                                                 reply_broadcast=broadcast)
        return str(response.get("ts") or "") or None

    def _as_notification_error(self, exc: Exception) -> NotificationError:
        """Raised `from None`: a chained cause would print its own text, secret included, under a traceback."""
        from slack_sdk.errors import SlackApiError

        if isinstance(exc, NotificationError):
            error = exc
        elif isinstance(exc, SlackApiError):
            error = _slack_api_error(exc, self._retry)
        elif isinstance(exc, urllib.error.URLError | TimeoutError | ConnectionError):
            error = ChannelUnavailableError(f"Slack did not answer: {exc}")
        else:
            error = NotificationError(f"Slack: {type(exc).__name__}: {exc}")
        return type(error)(self._secrets.scrub(str(error)))


def slack_notifier(route: Route, config: MonitorConfig, connection: Callable[[str], Any],
                   retry: RetryPolicy | None = None) -> SlackNotifier:
    """Slack API connections post to the route's channel (`slack:#team-risk`; default alerts.slack_channel); a
    webhook posts to its own channel, so a team route on a webhook connection needs its own webhook."""
    conn_id = config.alerts.slack_conn_id
    conn = connection(conn_id)
    extra = conn.extra_dejson or {}
    timeout = int(extra.get("timeout", 10))
    if conn.conn_type == "slackwebhook":
        url = conn.password if "://" in (conn.password or "") else (
            f"{conn.schema or 'https'}://{conn.host or 'hooks.slack.com/services'}/{conn.password}")
        return SlackNotifier(webhook_url=url, timeout=timeout, retry=retry)
    if conn.conn_type == "slack":
        return SlackNotifier(token=conn.password, base_url=extra.get("base_url", ""),
                             channel=route.target or config.alerts.slack_channel, timeout=timeout, retry=retry)
    raise ConnectionConfigError(
        f"connection {conn_id!r} has type {conn.conn_type!r}; expected one of {list(SLACK_CONN_TYPES)}")
