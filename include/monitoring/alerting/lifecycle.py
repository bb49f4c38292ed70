"""Alert state per (model, rule, column, slice) key, and the notifications its transitions cause.

    breach (persistent)      no alert, or resolved  -> open      "trigger"
    higher tier              open                   -> open      "escalate"
    breach again             open                   -> open      nothing, or "remind" after alerts.remind_hours
    resolve_after clean      open                   -> resolved  "resolve"
    breach, not persistent   no alert               -> watching  nothing (alerts.<tier>_persistence: N in M windows)
    same window again        any                    -> same      nothing: the window's verdict and value are updated
    not evaluated            open                   -> open      nothing; a root resolves after
                                                                 alerts.resolve_unseen_after runs without a look

Alerts are folded by cause (folding.py): a folded alert changes state like any other but notifies nothing of its
own while its cause is open, and resolves with it. The window's root transitions become one notification per
incident and route (incidents.py).

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

import dataclasses
import fnmatch
import json
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting import incidents, keys
from include.monitoring.alerting.folding import Folding, fold
from include.monitoring.alerting.messages import (
    alert_key,
    alert_rule,
    describe,
    folded_resolved_text,
    resolved_text,
    unseen_text,
)
from include.monitoring.catalogue import DRIFT_LEVEL
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
    folded_under: str = ""  # the open alert whose notification carries this one ("" = a root, notified itself)
    starts_incident: bool = False  # a root that opened a new incident in this window (its page is a `trigger`)


def apply_alerts(conn: sa.Connection, config: MonitorConfig, rows: Sequence[MetricRow], now: datetime,
                 run_window: Window | None = None, backfill: bool = False,
                 silences: Sequence[Silence] = ()) -> list[Transition]:
    """Update each row's alert and queue the notifications. `run_window` is the window of the run (performance
    rows belong to older windows), `backfill` whether the run is a backfill; `silences` adds to the config's
    (those of the Airflow variable)."""
    table = store.alerts
    keyed = {alert_key(config.model, row): row for row in rows if not is_series_only(row) and not not_evaluated(row)}
    run_start = run_window.start if run_window is not None else None
    quiet = incidents.quiet(conn, config, run_start or max((row.window.start for row in keyed.values()),
                                                             default=None))
    live = set(conn.execute(sa.select(table.c.alert_key).where(table.c.model == config.model, sa.or_(
        table.c.status == "open", table.c.incident.in_(list(quiet))))).scalars())
    folding = fold(config.warehouse.score_column, keyed, live, config.performance_metrics)
    keyed = {key: row for key, row in keyed.items() if key not in folding.whole_window_slices}
    existing = {r.alert_key: r for r in conn.execute(sa.select(table).where(table.c.alert_key.in_(list(keyed))))}
    transitions: list[Transition] = []
    for key, row in keyed.items():
        current = existing.get(key)
        evaluated = _evaluated_through(current, run_start or row.window.start)
        if current is not None and row.window.start < store.utc(current.last_seen_at):
            # An older window, processed late: it must not reopen or resolve the present, but the rule was evaluated.
            conn.execute(sa.update(table).where(table.c.alert_key == key).values(evaluated_through=evaluated))
            continue
        transition = _advance(conn, config, key, row, current, now, evaluated)
        if transition is not None:
            transitions.append(transition)
    transitions += _resolve_unseen(conn, config, set(keyed), run_window)
    window_start = run_start or max((row.window.start for row in keyed.values()), default=None)
    if window_start is None:
        return transitions
    backfilled = _backfill_reason(config, run_window, backfill, now)

    def muted(ts: list[Transition]) -> list[Transition]:
        return [dataclasses.replace(t, suppressed=backfilled or _silenced(
            config, t.alert_key, [*config.alerts.silences, *silences], now)) for t in ts]

    # Muted first: an incident is named by a root that pages, when one does (a silenced root is recorded apart).
    transitions = muted(fold_transitions(conn, config, muted(transitions), folding, window_start, quiet))
    pages = incidents.pages(conn, config, transitions, keyed, folding, window_start)
    _enqueue(conn, [*incidents.outbox_records(config, pages, now), *incidents.quiet_ended(conn, config, window_start)])
    return transitions


def fold_transitions(conn: sa.Connection, config: MonitorConfig, transitions: list[Transition], folding: Folding,
                     window_start: datetime, quiet: AbstractSet[str] = frozenset()) -> list[Transition]:
    """Which transitions are folded (and under which open alert), the incident of each new root, and the folded
    alerts that resolve with their cause.

    An alert that opens is folded under its farthest open ancestor in this window (folding.py), and stays folded
    under it until it resolves: its escalations, reminders and resolve are that alert's news, not pages of their own.
    The window's new roots start one incident together: what broke in one window is paged once, while a cause
    that is not a consequence of an open alert, found in a later window, is news and pages again. A new root that
    belonged to a quiet incident (all its roots resolved less than alerts.reopen_within_hours ago), or whose cause
    in this window did, rejoins that incident instead: a flapping alert is one incident, not a page per flap."""
    table = store.alerts
    related = {t.alert_key for t in transitions} | {a for t in transitions for a in folding.ancestors(t.alert_key)}
    state = {r.alert_key: r for r in conn.execute(
        sa.select(table.c.alert_key, table.c.status, table.c.parent_key, table.c.incident)
        .where(table.c.alert_key.in_(list(related))))}
    marked = []
    for t in transitions:
        if t.action == "trigger":
            open_ancestors = [a for a in folding.ancestors(t.alert_key) if a in state and state[a].status == "open"]
            parent = open_ancestors[-1] if open_ancestors else ""
        else:
            parent = state[t.alert_key].parent_key if t.alert_key in state else ""
        marked.append(dataclasses.replace(t, folded_under=parent))
    new_roots = sorted((t for t in marked if t.action == "trigger" and not t.folded_under),
                       key=lambda t: (bool(t.suppressed), -t.severity, t.alert_key))
    fresh = []
    for t in new_roots:
        rejoined = next((state[k].incident for k in [t.alert_key, *folding.ancestors(t.alert_key)]
                         if k in state and state[k].incident in quiet), "")
        if rejoined:
            conn.execute(sa.update(table).where(table.c.alert_key == t.alert_key).values(parent_key="",
                                                                                        incident=rejoined))
        else:
            fresh.append(t.alert_key)
    if fresh:  # they start one incident, named by the most severe: one page for what broke in this window
        conn.execute(sa.update(table).where(table.c.alert_key.in_(fresh)).values(parent_key="", incident=fresh[0]))
        marked = [dataclasses.replace(t, starts_incident=t.alert_key in fresh) for t in marked]
    for t in marked:
        if t.action == "trigger" and t.folded_under:
            cause = conn.execute(sa.select(table.c.incident).where(table.c.alert_key == t.folded_under)).scalar()
            conn.execute(sa.update(table).where(table.c.alert_key == t.alert_key).values(
                parent_key=t.folded_under, incident=cause or t.folded_under))
    return marked + _resolve_with_causes(conn, config, [t.alert_key for t in marked if t.action == "resolve"],
                                         window_start)


def _resolve_with_causes(conn: sa.Connection, config: MonitorConfig, resolved: list[str],
                         window_start: datetime) -> list[Transition]:
    """The open alerts folded under an alert that resolved in this window resolve with it."""
    if not resolved:
        return []
    table = store.alerts
    children = conn.execute(sa.select(table).where(table.c.model == config.model, table.c.status == "open",
                                                   table.c.parent_key.in_(resolved))).all()
    if children:
        conn.execute(sa.update(table).where(table.c.alert_key.in_([c.alert_key for c in children])).values(
            status="resolved", resolved_at=window_start, resolved_in_run=window_start))
    return [Transition(c.alert_key, "resolve", Severity.parse(c.severity),
                       folded_resolved_text(config.model, c, c.parent_key), folded_under=c.parent_key)
            for c in children]


def not_evaluated(row: MetricRow) -> bool:
    """A row that says its rule could not be judged in the window (a feature or slice skipped: too few rows, no
    reference values): neither clean nor breaching, so it must not count toward resolving an open alert."""
    return bool(row.details.get("skipped")) and row.severity < OPENS_AT


def _evaluated_through(current: sa.Row[*tuple[Any, ...]] | None, run_start: datetime) -> datetime:
    previous = current.evaluated_through if current is not None else None
    return max(store.utc(previous), run_start) if previous is not None else run_start


def _resolve_unseen(conn: sa.Connection, config: MonitorConfig, evaluated: set[str],
                    run_window: Window | None) -> list[Transition]:
    """Resolve the model's open root alerts that `alerts.resolve_unseen_after` runs in a row have not evaluated
    (folded alerts resolve with their cause). Counted in windows from the latest run that evaluated each key, so a
    run of an older window (a backfill) resolves nothing."""
    if run_window is None:
        return []
    table = store.alerts
    after = config.alerts.resolve_unseen_after
    width = run_window.end - run_window.start
    transitions = []
    for alert in conn.execute(sa.select(table).where(table.c.model == config.model, table.c.status == "open",
                                                     table.c.parent_key == "")):
        last = store.utc(alert.evaluated_through or alert.last_seen_at)
        missed = (run_window.start - last) // width  # the runs since the last one that evaluated it
        if alert.alert_key in evaluated or missed < after:
            continue
        conn.execute(sa.update(table).where(table.c.alert_key == alert.alert_key).values(
            status="resolved", resolved_at=run_window.start, resolved_in_run=run_window.start))
        transitions.append(Transition(alert.alert_key, "resolve", Severity.parse(alert.severity),
                                      unseen_text(config.model, alert, missed, run_window)))
    return transitions


def is_series_only(row: MetricRow) -> bool:
    """A row kept for charts that restates another row's verdict (a feature's drift_level beside its method row)."""
    return row.kind is MetricKind.DRIFT and row.metric == DRIFT_LEVEL


def _advance(conn: sa.Connection, config: MonitorConfig, key: str, row: MetricRow, current: sa.Row[*tuple[Any, ...]] | None,
             now: datetime, evaluated_through: datetime) -> Transition | None:
    """The key's next state after `row`, written to the alerts table; the transition to notify, if any."""
    table = store.alerts
    alerts = config.alerts
    history = _history(current, row)
    threshold = row.threshold_critical if row.severity is Severity.CRITICAL else row.threshold_warning
    clean_windows = _trailing_clean(history)
    state = {"last_seen_at": row.window.start, "value": row.value, "threshold": threshold, "rule": alert_rule(row),
             "last_severity": row.severity.name, "history": json.dumps(history, sort_keys=True),
             "clean_windows": clean_windows, "evaluated_through": evaluated_through}
    if current is not None and row.window.start == store.utc(current.last_seen_at):
        conn.execute(sa.update(table).where(table.c.alert_key == key).values(**state))
        return None  # the same window again: one look per window (see the module docstring)
    fires = firing_tier(config, alert_rule(row), [Severity.parse(name) for _, name in sorted(history.items())],
                        row.severity)
    is_open = current is not None and current.status == "open"
    if not is_open and fires >= OPENS_AT:
        message = describe(config.model, row)
        values = {**state, "alert_key": key, "model": config.model, "column_name": row.column,
                  "slice": keys.slice_part(row.slice_key, row.slice_value),
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
                                         "slice": keys.slice_part(row.slice_key, row.slice_value),
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
    if clean_windows >= alerts.resolve_after:
        conn.execute(sa.update(table).where(table.c.alert_key == key).values(
            **state, status="resolved", resolved_at=row.window.start, resolved_in_run=evaluated_through))
        return Transition(key, "resolve", opened_at, resolved_text(config.model, row))
    conn.execute(sa.update(table).where(table.c.alert_key == key).values(**state))
    return None


def _history(current: sa.Row[*tuple[Any, ...]] | None, row: MetricRow) -> dict[str, str]:
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


def _upsert(conn: sa.Connection, key: str, current: sa.Row[*tuple[Any, ...]] | None, values: dict[str, Any]) -> None:
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


def _enqueue(conn: sa.Connection, records: Sequence[dict[str, Any]]) -> None:
    """Write the outbox rows (incidents.py), each once per incident, window, route and action; delivery happens in a
    later step."""
    for record in records:
        exists = conn.execute(sa.select(store.notifications.c.id).where(
            *(getattr(store.notifications.c, k) == record[k] for k in ("alert_key", "window_start", "channel", "action"))
        )).first()
        if exists is None:
            conn.execute(sa.insert(store.notifications), [record])
