"""Alert state per (model, rule, column, slice) key, and the notifications its transitions cause.

    breach (persistent)      no alert, or resolved  -> open      "trigger"
    higher tier              open                   -> open      "escalate"
    breach again             open                   -> open      nothing, or "remind" after alerts.remind_hours
    resolve_after clean      open                   -> resolved  "resolve"
    breach, not persistent   no alert               -> watching  nothing (alerts.<tier>_persistence: N in M windows)
    same window again        any                    -> same      nothing: the window's verdict and value are updated

Each window is one look: a window evaluated again (re-scored as its labels arrive, or re-run) replaces its own
verdict in the key's history but opens, escalates, resolves and reopens nothing, so a window re-scored hour after
hour cannot flap its alert. Clean windows are counted from that history, one per window.

Runs inside the window's write transaction, so alert state, metrics and the notification outbox change
together or not at all. Windows may be processed out of order (backfills run in parallel): a window older
than the newest one already seen for a key updates nothing. A silenced alert, or one raised by a backfill run
whose window ended more than alerts.page_within_hours before it, changes state as usual and its outbox rows are
recorded as `suppressed` with the reason, never sent.

`severity` is the alert's own severity: the tier that opened it, raised by each escalation, and kept when it
resolves (a resolved alert says how bad it got) until the key opens again; while a key is not open a breach can
raise it but a clean window never lowers it. `last_severity` is the verdict of the latest window evaluated.
`rule` is the rule of the alert key (`drift:feature_drift` whichever method scored the window). Rows of a
chart-only series (`drift_level`) raise no alert: the method row they restate does.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting import policy
from include.monitoring.alerting.messages import alert_key, alert_rule, describe, resolved_text
from include.monitoring.config import MAX_LOOKBACK_WINDOWS, MonitorConfig, Silence
from include.monitoring.types import MetricKind, MetricRow, Severity, Window

OPENS_AT = Severity.WARNING  # INFO stays in the metric tables


@dataclass(frozen=True, slots=True)
class Transition:
    alert_key: str
    action: str  # trigger | escalate | remind | resolve
    severity: Severity
    message: str
    suppressed: str = ""  # why its notifications are not sent (a silence, a backfill), "" when they are


def apply_alerts(conn: sa.Connection, config: MonitorConfig, rows: Sequence[MetricRow], now: datetime,
                 run_window: Window | None = None, backfill: bool = False,
                 silences: Sequence[Silence] = ()) -> list[Transition]:
    """Update each row's alert and queue the notifications. `run_window` is the window of the run (performance
    rows belong to older windows), `backfill` whether the run is a backfill; `silences` adds to the config's
    (those of the Airflow variable)."""
    table = store.alerts
    keyed = {alert_key(config.model, row): row for row in rows if not is_series_only(row)}
    if not keyed:
        return []
    existing = {r.alert_key: r for r in conn.execute(sa.select(table).where(table.c.alert_key.in_(list(keyed))))}
    backfilled = _backfill_reason(config, run_window, backfill, now)
    transitions: list[Transition] = []
    for key, row in keyed.items():
        current = existing.get(key)
        if current is not None and row.window.start < store.utc(current.last_seen_at):
            continue  # an older window, processed late: it must not reopen or resolve the present
        transition = _advance(conn, config, key, row, current, now)
        if transition is not None:
            muted = backfilled or _silenced(config, key, [*config.alerts.silences, *silences], now)
            transitions.append(Transition(transition.alert_key, transition.action, transition.severity,
                                          transition.message, muted))
    _enqueue(conn, config, transitions, rows_by_key=keyed, now=now)
    return transitions


def is_series_only(row: MetricRow) -> bool:
    """A row kept for charts that restates another row's verdict (a feature's drift_level beside its method row)."""
    return row.kind is MetricKind.DRIFT and row.metric == policy.DRIFT_LEVEL


def _advance(conn: sa.Connection, config: MonitorConfig, key: str, row: MetricRow, current: sa.Row | None,
             now: datetime) -> Transition | None:
    """The key's next state after `row`, written to the alerts table; the transition to notify, if any."""
    table = store.alerts
    alerts = config.alerts
    history = _history(current, row)
    threshold = row.threshold_critical if row.severity is Severity.CRITICAL else row.threshold_warning
    state = {"last_seen_at": row.window.start, "value": row.value, "threshold": threshold, "rule": alert_rule(row),
             "last_severity": row.severity.name, "history": json.dumps(history, sort_keys=True),
             "clean_windows": _trailing_clean(history)}
    if current is not None and row.window.start == store.utc(current.last_seen_at):
        conn.execute(sa.update(table).where(table.c.alert_key == key).values(**state))
        return None  # the same window again: one look per window (see the module docstring)
    fires = firing_tier(config, alert_rule(row), [Severity.parse(name) for _, name in sorted(history.items())],
                        row.severity)
    is_open = current is not None and current.status == "open"
    if not is_open and fires >= OPENS_AT:
        message = describe(config.model, row)
        values = {**state, "alert_key": key, "model": config.model, "column_name": row.column,
                  "slice": f"{row.slice_key}={row.slice_value}" if row.slice_key else "",
                  "severity": fires.name, "status": "open", "opened_at": row.window.start, "resolved_at": None,
                  "message": message, "last_notified_at": now}
        _upsert(conn, key, current, values)
        return Transition(key, "trigger", fires, message)
    if not is_open:
        if row.severity >= OPENS_AT or current is not None:  # a breach on its way to persistence, or history to keep
            status = "watching" if row.severity >= OPENS_AT else (current.status if current is not None else "watching")
            # Not open: a breach may raise the severity, a clean window keeps it (a resolved alert's peak).
            severity = max(row.severity, Severity.parse(current.severity)) if current is not None else row.severity
            _upsert(conn, key, current, {**state, "alert_key": key, "model": config.model, "column_name": row.column,
                                         "slice": f"{row.slice_key}={row.slice_value}" if row.slice_key else "",
                                         "severity": severity.name, "status": status,
                                         "opened_at": current.opened_at if current is not None else row.window.start,
                                         "message": current.message if current is not None else describe(config.model, row)})
        return None
    assert current is not None
    opened_at = Severity.parse(current.severity)
    if row.severity >= OPENS_AT:
        tier = max(fires, OPENS_AT)  # an open alert that breaches again stays open at least at WARNING
        escalated = tier > opened_at  # a higher tier escalates once its own persistence holds
        severity = max(tier, opened_at)
        reminded = (not escalated and alerts.remind_hours > 0 and current.last_notified_at is not None
                    and now - store.utc(current.last_notified_at) >= timedelta(hours=alerts.remind_hours))
        message = describe(config.model, row) if escalated or reminded else current.message
        values = {**state, "severity": severity.name, "message": message}
        if escalated or reminded:
            values["last_notified_at"] = now
        conn.execute(sa.update(table).where(table.c.alert_key == key).values(**values))
        if escalated:
            return Transition(key, "escalate", severity, message)
        return Transition(key, "remind", opened_at, message) if reminded else None
    if state["clean_windows"] >= alerts.resolve_after:
        conn.execute(sa.update(table).where(table.c.alert_key == key).values(
            **state, status="resolved", resolved_at=row.window.start))
        return Transition(key, "resolve", opened_at, resolved_text(config.model, row))
    conn.execute(sa.update(table).where(table.c.alert_key == key).values(**state))
    return None


def _history(current: sa.Row | None, row: MetricRow) -> dict[str, str]:
    """The key's recent severities by window start, this row's included (kept short: persistence needs few)."""
    history = json.loads(current.history or "{}") if current is not None else {}
    history[row.window.start.isoformat()] = row.severity.name
    return dict(sorted(history.items())[-MAX_LOOKBACK_WINDOWS:])


def _trailing_clean(history: dict[str, str]) -> int:
    """How many of the key's latest windows in a row were below WARNING."""
    clean = 0
    for _, name in sorted(history.items(), reverse=True):
        if Severity.parse(name) >= OPENS_AT:
            break
        clean += 1
    return clean


def firing_tier(config: MonitorConfig, rule: str, recent: Sequence[Severity], severity: Severity) -> Severity:
    """The highest tier up to `severity` whose persistence holds for `rule` ("<kind>:<rule>"): N breaches at that
    tier or above in the last M of `recent` (the key's severities, oldest first, this window's last)."""
    for tier in (Severity.CRITICAL, Severity.WARNING):
        needed, windows = config.persistence(rule, tier)
        if severity >= tier and sum(s >= tier for s in recent[-windows:]) >= needed:
            return tier
    return Severity.OK


def _upsert(conn: sa.Connection, key: str, current: sa.Row | None, values: dict) -> None:
    table = store.alerts
    if current is None:
        conn.execute(sa.insert(table), [{"resolved_at": None, "last_notified_at": None, **values}])
    else:
        conn.execute(sa.update(table).where(table.c.alert_key == key).values(**values))


def _backfill_reason(config: MonitorConfig, run_window: Window | None, backfill: bool, now: datetime) -> str:
    if not backfill or run_window is None or config.alerts.page_backfills:
        return ""
    age = now - run_window.end
    if age > timedelta(hours=config.alerts.page_within_hours):
        return f"backfill: the window ended {age.total_seconds() / 3600:.0f} h before the run (alerts.page_within_hours)"
    return ""


def _silenced(config: MonitorConfig, key: str, silences: Sequence[Silence], now: datetime) -> str:
    rule = key.removeprefix(f"{config.model}:")
    for silence in silences:
        active = not silence.until or now < store.utc(datetime.fromisoformat(silence.until))
        if active and fnmatch.fnmatchcase(rule, silence.match):
            return f"silenced ({silence.match}{' until ' + silence.until if silence.until else ''}: {silence.reason})"
    return ""


def _enqueue(conn: sa.Connection, config: MonitorConfig, transitions: Sequence[Transition],
             rows_by_key: dict[str, MetricRow], now: datetime) -> None:
    """Write one outbox row per transition and channel; delivery happens in a later step."""
    records = [
        {"alert_key": t.alert_key, "model": config.model, "window_start": rows_by_key[t.alert_key].window.start,
         "channel": channel, "action": t.action, "severity": t.severity.name, "message": t.message,
         "status": "suppressed" if t.suppressed else "pending", "attempts": 0, "last_error": t.suppressed,
         "created_at": now}
        for t in transitions for channel in config.channels_for(t.severity)
    ]
    for record in records:
        exists = conn.execute(sa.select(store.notifications.c.id).where(
            *(getattr(store.notifications.c, k) == record[k] for k in ("alert_key", "window_start", "channel", "action"))
        )).first()
        if exists is None:
            conn.execute(sa.insert(store.notifications), [record])
