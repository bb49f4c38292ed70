"""Alert routes: the channel strings of a monitor file (`log`, `slack`, `slack:#team-risk`, `pagerduty`), parsed
once into a Route. Standard library only, so that config validation can use it at DAG parse time.

A route's text is also the outbox's `channel` column and the key of `notifiers_for`'s mapping: `str(route)` gives
back the text it was parsed from.
"""

from __future__ import annotations

from dataclasses import dataclass

from include.monitoring.errors import ConfigError

# Every channel kind a route may name. notifiers.NOTIFIERS has a factory for each (tests/unit/alerting/test_routes.py
# keeps the two equal: the registry imports slack_sdk, which this module must not).
ROUTE_KINDS = ("log", "slack", "pagerduty")
# The kinds that take a target after the colon, and how the target starts: slack:#<channel>, a team's own channel
# on the monitor's Slack connection.
TARGET_PREFIXES = {"slack": "#"}


class RouteError(ConfigError):
    """A route names an unknown channel kind, or a target its kind does not take."""


@dataclass(frozen=True, slots=True)
class Route:
    kind: str  # one of ROUTE_KINDS
    target: str = ""  # slack: the channel ("#team-risk"); "" = the kind's default (alerts.slack_channel)

    @classmethod
    def parse(cls, text: str) -> Route:
        kind, colon, target = text.partition(":")
        if kind not in ROUTE_KINDS:
            raise RouteError(f"unknown channel {text!r}; valid: {list(ROUTE_KINDS)}, or slack:#<channel> for a "
                             "team's own Slack channel")
        prefix = TARGET_PREFIXES.get(kind)
        if colon and (prefix is None or not target.startswith(prefix) or len(target) <= len(prefix)):
            valid = f"{kind}:{prefix}<name>" if prefix else f"{kind} alone"
            raise RouteError(f"invalid route {text!r}; expected {valid}")
        return cls(kind, target)

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}" if self.target else self.kind
