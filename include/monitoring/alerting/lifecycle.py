"""Alert state per (model, rule, column, slice) key, and the notifications its transitions cause.

Runs inside the window's write transaction, so alert state, metrics and the notification outbox
change together or not at all. Windows may be processed out of order (backfills run in parallel):
a window older than the newest one already seen for a key updates nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting.messages import alert_key, describe, resolved_text
from include.monitoring.config import MonitorConfig
from include.monitoring.types import MetricRow, Severity

OPENS_AT = Severity.WARNING  # INFO stays in the metric tables


@dataclass(frozen=True, slots=True)
class Transition:
    alert_key: str
    action: str  # trigger | escalate | resolve
    severity: Severity
    message: str


def apply_alerts(conn: sa.Connection, config: MonitorConfig, rows: Sequence[MetricRow], now: datetime) -> list[Transition]:
    table = store.alerts
    keyed = {alert_key(config.model, row): row for row in rows}
    if not keyed:
        return []
    existing = {r.alert_key: r for r in conn.execute(sa.select(table).where(table.c.alert_key.in_(list(keyed))))}
    transitions: list[Transition] = []
    for key, row in keyed.items():
        current = existing.get(key)
        is_open = current is not None and current.status == "open"
        if is_open and row.window.start < store.utc(current.last_seen_at):
            continue  # an older window, processed late: it must not reopen or resolve the present
        threshold = row.threshold_critical if row.severity is Severity.CRITICAL else row.threshold_warning
        state = {"severity": row.severity.name, "last_seen_at": row.window.start, "value": row.value,
                 "threshold": threshold}
        if row.severity >= OPENS_AT and not is_open:
            message = describe(config.model, row)
            values = {**state, "alert_key": key, "model": config.model, "rule": f"{row.kind.value}:{row.metric}",
                      "column_name": row.column, "slice": f"{row.slice_key}={row.slice_value}" if row.slice_key else "",
                      "status": "open", "opened_at": row.window.start, "resolved_at": None, "message": message}
            if current is None:
                conn.execute(sa.insert(table), [values])
            else:
                conn.execute(sa.update(table).where(table.c.alert_key == key).values(**values))
            transitions.append(Transition(key, "trigger", row.severity, message))
        elif is_open and row.severity >= OPENS_AT:
            escalated = row.severity > Severity.parse(current.severity)
            message = describe(config.model, row) if escalated else current.message
            state["severity"] = max(row.severity, Severity.parse(current.severity)).name
            conn.execute(sa.update(table).where(table.c.alert_key == key).values(**state, message=message))
            if escalated:
                transitions.append(Transition(key, "escalate", row.severity, message))
        elif is_open:
            conn.execute(sa.update(table).where(table.c.alert_key == key).values(
                status="resolved", resolved_at=row.window.start, last_seen_at=row.window.start, value=row.value))
            transitions.append(Transition(key, "resolve", Severity.parse(current.severity),
                                          resolved_text(config.model, row)))
    _enqueue(conn, config, transitions, rows_by_key=keyed, now=now)
    return transitions


def _enqueue(conn: sa.Connection, config: MonitorConfig, transitions: Sequence[Transition],
             rows_by_key: dict[str, MetricRow], now: datetime) -> None:
    """Write one outbox row per transition and channel; delivery happens in a later step."""
    records = [
        {"alert_key": t.alert_key, "model": config.model, "window_start": rows_by_key[t.alert_key].window.start,
         "channel": channel, "action": t.action, "severity": t.severity.name, "message": t.message,
         "status": "pending", "attempts": 0, "last_error": "", "created_at": now}
        for t in transitions for channel in config.channels_for(t.severity)
    ]
    for record in records:
        exists = conn.execute(sa.select(store.notifications.c.id).where(
            *(getattr(store.notifications.c, k) == record[k] for k in ("alert_key", "window_start", "channel", "action"))
        )).first()
        if exists is None:
            conn.execute(sa.insert(store.notifications), [record])
