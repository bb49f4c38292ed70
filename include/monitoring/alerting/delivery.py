"""Deliver the notification outbox: pending rows are sent, then marked sent, one commit each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting.notifiers import Notification, Notifier


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)


def deliver_pending(engine: sa.Engine, model: str, notifiers: Mapping[str, Notifier], now: datetime,
                    missing_reasons: Mapping[str, str] | None = None, run_url: str = "",
                    runbook_url: str = "") -> DeliveryReport:
    """Send every pending notification of `model`. A failed send stays pending for the next run.

    A channel absent from `notifiers` is marked skipped with its reason (for example, no Slack
    connection), so the outbox shows what would have been sent.
    """
    table = store.notifications
    report = DeliveryReport()
    with engine.connect() as conn:
        pending = conn.execute(sa.select(table).where(table.c.model == model, table.c.status == "pending")
                               .order_by(table.c.id)).fetchall()
    for row in pending:
        notifier = notifiers.get(row.channel)
        if notifier is None:
            reason = (missing_reasons or {}).get(row.channel, f"channel {row.channel!r} is not configured")
            _mark(engine, row.id, status="skipped", last_error=reason)
            report.skipped += 1
            continue
        notification = Notification(id=row.id, alert_key=row.alert_key, model=row.model, channel=row.channel,
                                    action=row.action, severity=row.severity, message=row.message,
                                    run_url=run_url, runbook_url=runbook_url)
        try:
            notifier.send(notification)
        except Exception as exc:  # any channel error: recorded on the row, retried next run, reported below
            _mark(engine, row.id, attempts=row.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
            report.failures.append(f"{row.channel} notification {row.id} ({row.alert_key}): {exc}")
            continue
        _mark(engine, row.id, status="sent", attempts=row.attempts + 1, sent_at=now, last_error="")
        report.sent += 1
    return report


def _mark(engine: sa.Engine, notification_id: int, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(store.notifications).where(store.notifications.c.id == notification_id).values(**values))
