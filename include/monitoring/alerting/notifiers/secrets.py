"""A channel's secrets (a webhook URL, a token, a routing key), rewritten out of any text or log record it emits."""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass

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
