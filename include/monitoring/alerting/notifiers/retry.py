"""How long one notification may hold the delivery task: which answers are retried, and how long to wait.

Slack and PagerDuty retry rate limits (429, honouring Retry-After), server errors (5xx) and requests that reached
no server, within a RetryPolicy's bounds; an exhausted budget raises ChannelUnavailableError.
"""

from __future__ import annotations

import email.utils
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from include.monitoring.alerting.notifiers.base import ChannelUnavailableError, log


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


def log_retry(channel: str, outcome: object, retries_done: int, policy: RetryPolicy, wait: float) -> None:
    log.warning("%s: %s; retry %d of %d in %.1f s", channel, outcome, retries_done + 1, policy.max_attempts - 1, wait)


def unavailable(answer: str, retry_after: str | None, policy: RetryPolicy) -> ChannelUnavailableError:
    waited = f" with Retry-After {retry_after} s" if retry_after else ""
    return ChannelUnavailableError(f"{answer}{waited}; not delivered within the retry policy ({policy.describe()})")
