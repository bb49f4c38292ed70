"""The daily INFO digest: INFO rows never open alerts, so once a day one message lists what they said.

Queued into the outbox by the first run of a UTC day, for the day before: one notification per day and route
(the outbox's unique key makes re-runs and retries harmless), delivered with the rest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting import keys
from include.monitoring.config import MonitorConfig
from include.monitoring.types import Window

MAX_LINES = 20


def queue_digest(conn: sa.Connection, config: MonitorConfig, window: Window, now: datetime) -> bool:
    """Queue the digest of the UTC day before `window`, when `window` is the day's first; True if queued."""
    route = config.alerts.info_digest
    if not route or window.start.hour != 0 or window.start.minute != 0:
        return False
    day = Window(window.start - timedelta(days=1), window.start)
    table = store.metric_values
    found = conn.execute(
        sa.select(table.c.kind, table.c.metric, table.c.column_name, table.c.slice_key, table.c.slice_value,
                  sa.func.count().label("windows"))
        .where(table.c.model == config.model, table.c.severity == "INFO", table.c.window_start >= day.start,
               table.c.window_start < day.end)
        .group_by(table.c.kind, table.c.metric, table.c.column_name, table.c.slice_key, table.c.slice_value)
        .order_by(sa.func.count().desc())).all()
    if not found:
        return False
    lines = [f"- {r.kind} {r.metric}" + (f" of `{r.column_name}`" if r.column_name else "")
             + (f" for {r.slice_key}={r.slice_value}" if r.slice_key else "") + f": {r.windows} window(s)"
             for r in found[:MAX_LINES]]
    if len(found) > MAX_LINES:
        lines.append(f"- and {len(found) - MAX_LINES} more (metric_values, severity INFO)")
    message = f"[INFO] {config.model}: daily digest of INFO findings for {day.start:%Y-%m-%d} UTC\n" + "\n".join(lines)
    key = keys.digest_key(config.model)
    exists = conn.execute(sa.select(store.notifications.c.id).where(
        store.notifications.c.alert_key == key, store.notifications.c.window_start == day.start,
        store.notifications.c.channel == route)).first()
    if exists is None:
        conn.execute(sa.insert(store.notifications), [{
            "alert_key": key, "model": config.model, "window_start": day.start, "channel": route, "action": "digest",
            "severity": "INFO", "message": message, "status": "pending", "attempts": 0, "last_error": "",
            "created_at": now}])
    return True
