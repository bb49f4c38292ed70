"""JSON over HTTP with urllib, retried within a RetryPolicy (the PagerDuty Events API; Slack goes through slack_sdk)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from include.monitoring.alerting.notifiers.base import ChannelUnavailableError
from include.monitoring.alerting.notifiers.retry import RetryPolicy, log_retry


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
        log_retry(channel, error if answer is None else f"HTTP {answer.status}", retries, policy, wait)
        policy.sleep(wait)
        retries += 1
