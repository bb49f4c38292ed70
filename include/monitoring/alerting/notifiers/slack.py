"""Notification channels. Each has `send(notification)`, raising on failure; delivery does the bookkeeping.

Slack and PagerDuty retry rate limits (429, honouring Retry-After), server errors (5xx) and requests that reached
no server, within a RetryPolicy's bounds. A refusal (an invalid token, an unknown channel, an invalid event)
raises NotificationError at once; an exhausted retry budget raises ChannelUnavailableError.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from include.monitoring.alerting.messages import cut_to_limit, within_limit
from include.monitoring.errors import MonitoringError

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
    thread: str = ""  # the channel's reference of the alert's first message (a Slack ts): the resolve replies there


class Notifier(Protocol):
    def send(self, notification: Notification) -> str | None:
        """Send; raise on failure. May return the channel's reference of the message (a Slack ts)."""


class LogNotifier:
    """Always available: the alert in the task log."""

    def send(self, notification: Notification) -> None:
        level = logging.INFO if notification.action in ("resolve", "update") else logging.WARNING
        log.log(level, "%s (%s, alert %s)", notification.message, notification.action, notification.alert_key)


# --- secrets ---------------------------------------------------------------------------------------------------

REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 8  # a webhook's last path part is redacted on its own only when it is long enough to be a key


@dataclass(frozen=True, slots=True)
class Secrets:
    """A channel's secrets (a webhook URL, a token, a routing key), to be rewritten out of any text it emits."""

    values: tuple[str, ...]

    @classmethod
    def of_webhook(cls, url: str) -> Secrets:
        """A webhook URL is a secret as a whole, and so are its path (`/services/T.../B.../xyz`) and its last
        part, the token, which a message may quote without the rest."""
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        token = parts.path.rstrip("/").rsplit("/", 1)[-1]
        return cls.of(url, path if len(path) > 1 else "", token if len(token) >= MIN_SECRET_LENGTH else "")

    @classmethod
    def of(cls, *values: str) -> Secrets:
        # The longest first, so that a URL is replaced whole rather than around its path.
        return cls(tuple(sorted({v for v in values if v}, key=len, reverse=True)))

    def scrub(self, text: str) -> str:
        for secret in self.values:
            text = text.replace(secret, REDACTED)
        return text


class RedactingFilter(logging.Filter):
    """Rewrites a channel's secrets out of a log record's final text (and out of its traceback, if any)."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self._secrets.scrub(record.getMessage()), ()
        if record.exc_info:
            record.exc_text = self._secrets.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def redacting_logger(name: str, secrets: Secrets) -> logging.Logger:
    """A logger for one slack_sdk client. slack_sdk logs the request URL (for a webhook, the secret itself) on
    retries at INFO and with each request at DEBUG; this logger rewrites the secrets out, then hands the record to
    slack_sdk's own logger `name`, whose level and handlers apply as before. It is not registered with
    logging.getLogger, so that each notifier's filter lives and dies with it."""
    logger = logging.Logger(name)
    logger.parent = logging.getLogger(name)
    logger.addFilter(RedactingFilter(secrets))
    return logger


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


class NotificationError(MonitoringError):
    """A channel refused a notification (bad token, unknown channel, invalid event): retrying cannot help."""


class ChannelUnavailableError(NotificationError):
    """A channel did not take a notification within the retry budget (rate limited, server errors, no answer).
    Delivery stops using the channel for the rest of the run; its rows stay pending for the next one."""


# --- retries ---------------------------------------------------------------------------------------------------


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds: a number, or an HTTP date (RFC 9110); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds()) if moment.tzinfo else None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long one notification may hold the delivery task. 429 and 5xx answers, and requests that reached no
    server, are retried: at most `max_attempts` requests, exponential backoff (1 s, 2 s, ... capped at
    `max_backoff`), or the server's Retry-After when it sends one. A Retry-After above `max_retry_after` is not
    waited for: the notification fails at once and stays pending for the next run, rather than a server stalling
    the task. Worst case per notification: (max_attempts - 1) x max(max_backoff, max_retry_after) seconds of waits."""

    max_attempts: int = 3
    base_backoff: float = 1.0
    max_backoff: float = 4.0
    max_retry_after: float = 15.0
    sleep: Callable[[float], None] = time.sleep  # injectable, so that tests need not wait

    def describe(self) -> str:
        return f"at most {self.max_attempts} attempts, Retry-After waited up to {self.max_retry_after:g} s"

    def backoff(self, retries_done: int) -> float:
        return min(self.max_backoff, self.base_backoff * 2**retries_done)

    def wait_before_retry(self, retries_done: int, status: int | None, retry_after: str | None = None) -> float | None:
        """Seconds to wait before the next request, or None when the last answer is final. `status` None means the
        request reached no server (connection refused, DNS), which is always safe to repeat."""
        if retries_done >= self.max_attempts - 1:
            return None
        if status == 429:
            requested = retry_after_seconds(retry_after)
            if requested is None:
                return self.backoff(retries_done)
            return requested if requested <= self.max_retry_after else None
        if status is None or 500 <= status <= 599:
            return self.backoff(retries_done)
        return None


def is_retryable_status(status: int | None) -> bool:
    return status == 429 or (status is not None and 500 <= status <= 599)


def reached_no_server(error: BaseException | None) -> bool:
    """True for errors raised before a request was sent (urllib wraps them in URLError). A read timeout is not
    one: the server may have acted on the request, and repeating it could post a Slack message twice."""
    return isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError)


def _log_retry(channel: str, outcome: object, retries_done: int, policy: RetryPolicy, wait: float) -> None:
    log.warning("%s: %s; retry %d of %d in %.1f s", channel, outcome, retries_done + 1, policy.max_attempts - 1, wait)


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
        _log_retry(self._channel, f"HTTP {response.status_code}" if response is not None else error,
                   state.current_attempt, self._policy, wait)
        state.next_attempt_requested = True
        self._policy.sleep(wait)
        state.increment_current_attempt()


# --- Slack -----------------------------------------------------------------------------------------------------


def unavailable(answer: str, retry_after: str | None, policy: RetryPolicy) -> ChannelUnavailableError:
    waited = f" with Retry-After {retry_after} s" if retry_after else ""
    return ChannelUnavailableError(f"{answer}{waited}; not delivered within the retry policy ({policy.describe()})")


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
        handlers = [SlackRetryHandler(self._retry, "Slack")]
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
            response = self._webhook.send(text=text, blocks=blocks)
            if response.status_code != 200:
                raise _slack_webhook_error(response, self._retry)
            return None
        assert self._client is not None
        thread = {"thread_ts": notification.thread, "reply_broadcast": True} if notification.thread else {}
        response = self._client.chat_postMessage(channel=self._channel, text=text, blocks=blocks, **thread)
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


# --- PagerDuty -------------------------------------------------------------------------------------------------

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


def alert_rule(n: Notification) -> str:
    """The rule part of an alert key `model:kind:rule:column:slice`, for example `drift:feature_drift`."""
    return ":".join(n.alert_key.removeprefix(f"{n.model}:").split(":")[:2])


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
        "component": n.model, "group": "model-monitoring", "class": alert_rule(n),
        "custom_details": {"message": cut_to_limit(n.message, DETAILS_MESSAGE_LIMIT), "alert_key": n.alert_key,
                           "action": n.action, "run_url": n.run_url, "runbook_url": n.runbook_url},
    }
    links = [{"href": href, "text": text} for href, text in ((n.run_url, "Airflow run"), (n.runbook_url, "Runbook")) if href]
    if links:
        event["links"] = links
    return event


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: str
    retry_after: str | None


def post_json(url: str, body: dict[str, Any], timeout: float) -> HttpAnswer:
    """One POST; an HTTP error status is an answer, not an exception (urllib raises HTTPError for it)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, response.read().decode("utf-8", "replace"), None)
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, exc.read().decode("utf-8", "replace"), exc.headers.get("Retry-After"))


def post_json_with_retries(url: str, body: dict[str, Any], timeout: float, policy: RetryPolicy,
                           channel: str) -> tuple[HttpAnswer, int]:
    """The final answer and the number of requests made. Raises ChannelUnavailableError when no server answered."""
    retries = 0
    while True:  # bounded: wait_before_retry says None once max_attempts requests were made
        try:
            answer: HttpAnswer | None = post_json(url, body, timeout)
            error: Exception | None = None
        except urllib.error.URLError as exc:  # HTTPError is handled inside post_json: this reached no server
            answer, error = None, exc
        except (TimeoutError, ConnectionError) as exc:  # the server may have the event: not repeated here
            raise ChannelUnavailableError(f"{channel} did not answer within {timeout} s: {exc}") from exc
        if answer is None:
            wait = policy.wait_before_retry(retries, None)
            if wait is None:
                raise ChannelUnavailableError(f"{channel} unreachable after {retries + 1} attempt(s): {error}") from error
        else:
            wait = policy.wait_before_retry(retries, answer.status, answer.retry_after)
            if wait is None:
                return answer, retries + 1
        _log_retry(channel, error if answer is None else f"HTTP {answer.status}", retries, policy, wait)
        policy.sleep(wait)
        retries += 1


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
