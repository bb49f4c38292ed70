"""Alert keys, built here and nowhere else: `<model>:<kind>:<rule>:<column>:<slice>`, e.g.
`credit_default:drift:feature_drift:income:` or `credit_default:performance:recall::region=EU`.

One key per alert: the alerts table's primary key, the outbox's alert_key, PagerDuty's dedup_key. The parts are
stored beside it (alerts.rule, column_name, slice), and code that needs them reads those columns or the
Notification rather than taking a key apart. The readers below are the exceptions, all here: `rule_from_key` for
a key that has no alerts row to read, `is_slice_of` and `is_slice_of_kind` for folding.fold, which is given the
open alerts as bare keys. Standard library only.
"""

from __future__ import annotations

DRILL_RULE = "fire-drill"  # the rule part of a fire drill's key and PagerDuty class: `fire-drill:<channel kind>`


def slice_part(slice_key: str, slice_value: str) -> str:
    """The slice as the key and alerts.slice hold it: `region=EU`, or "" for the whole window."""
    return f"{slice_key}={slice_value}" if slice_key else ""


def alert_key(model: str, rule: str, column: str, slice_: str) -> str:
    """The key of `model`'s alert on `rule` (`<kind>:<rule>`, alerts.rule), `column` ("" for none) and `slice_`
    (slice_part). Unbounded: messages.alert_key shortens it as the store keeps it."""
    return f"{model}:{rule}:{column}:{slice_}"


def digest_key(model: str) -> str:
    """The outbox key of the model's daily digest of INFO findings (one row per day and route)."""
    return alert_key(model, "digest:info", "", "")


def drill_key(model: str, route: str) -> str:
    """The key (and PagerDuty dedup_key) of a fire drill of one route; never stored."""
    return f"{model}:{DRILL_RULE}:{route}"


def drill_rule(kind: str) -> str:
    """The rule of a fire drill on a channel kind: the `<kind>:<rule>` a drill key reads as."""
    return f"{DRILL_RULE}:{kind}"


def is_slice_of(key: str, window_key: str) -> bool:
    """Whether `key` is the alert of a slice of the whole window's alert `window_key` (same rule and column)."""
    return key.startswith(window_key) and key != window_key


def is_slice_of_kind(key: str, kind: str) -> bool:
    """Whether `key` is a slice's alert of metric kind `kind` (`drift`, `performance`, ...). For the open alerts
    folding.fold gets as bare keys; the model is taken to hold no colon."""
    parts = key.split(":", 4)
    return len(parts) == 5 and parts[1] == kind and bool(parts[4])


def rule_from_key(model: str, key: str) -> str:
    """The `<kind>:<rule>` part of an alert key. Only for a key with no alerts row to read the rule from: an outbox
    row written without its alert (by an older version, or by hand), and the repair of stored rules
    (store._heal_rules). Rule names hold no colon."""
    return ":".join(key.removeprefix(f"{model}:").split(":", 2)[:2])
