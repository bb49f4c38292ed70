"""Deliver the notification outbox: pending rows are sent, then marked sent, each row committed on its own.

- Only `pending` rows are sent, so a retried task never re-sends a row already marked sent. Each row is also
  claimed just before its send (a conditional update: still pending, attempts unchanged since it was read), so a
  delivery working from an outdated list skips a row that another delivery has handled since.
- A failed send leaves its row pending with attempts and last_error, and the other rows go on. A channel that is
  down (its retry budget spent: ChannelUnavailableError) is not tried again in the same delivery: its later rows
  stay pending, noted as not attempted, instead of each waiting out the budget while other channels wait.
- Every failure is listed in the report; the task raises on them, so a failing channel fails the run visibly.
- A trigger whose alert a later notification on the same channel has already resolved is outdated: it is marked
  skipped, since sending it would reopen an incident (PagerDuty) or announce an alert that is over (Slack).

Delivery is at least once. If the task is killed after a channel accepted a notification but before its row is
marked sent (or the store cannot be written then), the row is still pending and the next delivery sends it again.
For PagerDuty the repeat is harmless: it has the same dedup_key (the alert key), so PagerDuty adds it to the
open incident, or resolves an already resolved one, instead of opening a second incident. Slack has no such key:
the message is posted twice.

The claim does not lock a row while it is being sent: two deliveries of one model running at the same moment
(runs overlap up to the DAG's max_active_runs) can both send a row if the second reads it while the first is
sending it. Running the delivery task one at a time per DAG (max_active_tis_per_dag=1) closes that gap.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting import keys
from include.monitoring.alerting.notifiers import ChannelUnavailableError, Notification, Notifier

log = logging.getLogger("monitoring.alerts")


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)  # channel -> outcome -> count, for the log

    def count(self, channel: str, outcome: str, n: int = 1) -> int:
        if n:
            outcomes = self.by_channel.setdefault(channel, {})
            outcomes[outcome] = outcomes.get(outcome, 0) + n
        return n


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    notifiers: Mapping[str, Notifier]
    missing_reasons: Mapping[str, str]
    now: datetime
    run_url: str = ""
    runbook_url: str = ""


def deliver_pending(engine: sa.Engine, model: str, notifiers: Mapping[str, Notifier], now: datetime,
                    missing_reasons: Mapping[str, str] | None = None, run_url: str = "",
                    runbook_url: str = "") -> DeliveryReport:
    """Send every pending notification of `model`. A failed send stays pending for the next run.

    A channel absent from `notifiers` is marked skipped with its reason (for example, no Slack
    connection), so the outbox shows what would have been sent.
    """
    context = DeliveryContext(notifiers, missing_reasons or {}, now, run_url, runbook_url)
    return deliver_rows(engine, pending_rows(engine, model), context)


def pending_rows(engine: sa.Engine, model: str) -> list[sa.Row]:
    table = store.notifications
    with engine.connect() as conn:
        return list(conn.execute(sa.select(table).where(table.c.model == model, table.c.status == "pending")
                                 .order_by(table.c.id)))


def deliver_rows(engine: sa.Engine, rows: list[sa.Row], context: DeliveryContext) -> DeliveryReport:
    """Send `rows` (read earlier, perhaps by a delivery that has lost the race since) in order."""
    report = DeliveryReport()
    down: dict[str, str] = {}  # channel -> why it is not tried again in this delivery
    for row in rows:
        notifier = context.notifiers.get(row.channel)
        if notifier is None:
            reason = context.missing_reasons.get(row.channel, f"channel {row.channel!r} is not configured")
            report.skipped += report.count(row.channel, "skipped", _mark_pending(engine, row.id, status="skipped",
                                                                                 last_error=reason))
        elif row.channel in down:
            _leave_pending(engine, row, down[row.channel], report)
        elif (resolved_by := _resolved_later(engine, row)) is not None:
            report.skipped += report.count(row.channel, "skipped", _mark_pending(
                engine, row.id, status="skipped", last_error=f"outdated: notification {resolved_by} already resolved the alert"))
        elif _claim(engine, row):
            error = _send(engine, row, notifier, context, report)
            if isinstance(error, ChannelUnavailableError):
                down[row.channel] = str(error)
        else:
            log.info("notification %s was handled by another delivery since it was read; not sent again", row.id)
    return report


def _send(engine: sa.Engine, row: sa.Row, notifier: Notifier, context: DeliveryContext,
          report: DeliveryReport) -> Exception | None:
    notification = Notification(id=row.id, alert_key=row.alert_key, model=row.model, channel=row.channel,
                                action=row.action, severity=row.severity, message=row.message,
                                run_url=context.run_url, runbook_url=context.runbook_url,
                                thread=_thread_of(engine, row) if row.action != "trigger" else "",
                                rule=_rule_of(engine, row))
    try:
        reference = notifier.send(notification)
    except Exception as exc:  # any channel error: recorded on the row, retried next run, reported
        _mark(engine, row.id, last_error=f"{type(exc).__name__}: {exc}"[:2000])
        report.failures.append(f"{row.channel} notification {row.id} ({row.alert_key}): {exc}")
        report.count(row.channel, "failed")
        return exc
    # A kill here leaves a sent row pending: the next delivery repeats it (see the module docstring).
    _mark(engine, row.id, status="sent", sent_at=context.now, last_error="", reference=reference or "")
    report.sent += report.count(row.channel, "sent")
    return None


def _thread_of(engine: sa.Engine, row: sa.Row) -> str:
    """The reference of the sent trigger that opened this alert on this channel (escalations, reminders and the
    resolve reply in its thread)."""
    table = store.notifications
    with engine.connect() as conn:
        return conn.execute(sa.select(table.c.reference).where(
            table.c.alert_key == row.alert_key, table.c.channel == row.channel, table.c.action == "trigger",
            table.c.status == "sent", table.c.id < row.id).order_by(table.c.id.desc()).limit(1)).scalar() or ""


def _rule_of(engine: sa.Engine, row: sa.Row) -> str:
    """The rule of the row's alert (alerts.rule: a row's alert_key is its alert's, or its incident's first root's).
    A row without its alert (the digest, or a row written by hand) has its rule read back from the key."""
    with engine.connect() as conn:
        rule = conn.execute(sa.select(store.alerts.c.rule).where(store.alerts.c.alert_key == row.alert_key)).scalar()
    return rule if rule is not None else keys.rule_from_key(row.model, row.alert_key)


def _leave_pending(engine: sa.Engine, row: sa.Row, why: str, report: DeliveryReport) -> None:
    """A row of a channel found down earlier in this delivery: not attempted, so attempts stay as they were."""
    note = f"not attempted: {row.channel} was unavailable earlier in this delivery ({why})"
    _mark_pending(engine, row.id, last_error=note[:2000])
    report.failures.append(f"{row.channel} notification {row.id} ({row.alert_key}): {note}")
    report.count(row.channel, "not attempted")


def _claim(engine: sa.Engine, row: sa.Row) -> bool:
    """Count the attempt before sending, on condition that nobody changed the row since it was read."""
    table = store.notifications
    with engine.begin() as conn:
        result = conn.execute(sa.update(table).where(table.c.id == row.id, table.c.status == "pending",
                                                     table.c.attempts == row.attempts).values(attempts=row.attempts + 1))
    return result.rowcount == 1


def _resolved_later(engine: sa.Engine, row: sa.Row) -> int | None:
    """The id of a later, sent resolve of the same alert on the same channel, if `row` is a trigger it outdates."""
    if row.action == "resolve":
        return None
    table = store.notifications
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.min(table.c.id)).where(
            table.c.alert_key == row.alert_key, table.c.channel == row.channel, table.c.action == "resolve",
            table.c.status == "sent", table.c.id > row.id)).scalar()


def _mark_pending(engine: sa.Engine, notification_id: int, **values: object) -> int:
    """Update a row only while it is still pending; 1 if it was."""
    table = store.notifications
    with engine.begin() as conn:
        result = conn.execute(sa.update(table).where(table.c.id == notification_id, table.c.status == "pending")
                              .values(**values))
    return result.rowcount


def _mark(engine: sa.Engine, notification_id: int, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(store.notifications).where(store.notifications.c.id == notification_id).values(**values))
