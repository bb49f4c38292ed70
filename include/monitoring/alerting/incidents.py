"""One incident, one page: a window's notifications grouped per model incident.

An incident is what the root alerts (alerts not folded under another, see folding.py) that open in one window
report together; its later news (escalations, reminders, resolves) stays with it. It is named by the alert key of
its most severe root, which is also the PagerDuty dedup_key and the key of its Slack thread. Per window, each
incident gets at most one notification per kind and route:

    new or escalated roots   "trigger" when they open the incident, else "escalate" (a reply in its thread; for
                             PagerDuty a trigger with the same dedup_key, which adds to the open alert, no new page);
                             a folded alert rising above its cause escalates the incident too
    reminders                "remind"
    resolved roots           "resolve" when no root of the incident is left open (PagerDuty resolves it), else
                             "update" (Slack and the log only: part of the incident is over)

A root that opens in a later window is not a consequence of anything open (it would be folded), so it is news: a
new incident and a new page.

Why one PagerDuty event per incident rather than one per root alert: PagerDuty deduplicates by dedup_key, and
groups alerts into one incident only when the service has alert grouping configured; two root alerts with their own
keys would otherwise page twice for one broken pipeline (the zeroed-income hour has two roots, the constant columns
of income and credit_limit). The incident's event lists every root and folded alert in its summary and details.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting.folding import Folding
from include.monitoring.alerting.messages import incident_text
from include.monitoring.config import MonitorConfig
from include.monitoring.types import MetricRow, Severity

if TYPE_CHECKING:
    from include.monitoring.alerting.lifecycle import Transition

GROUP_OF_ACTION = {"trigger": "new", "escalate": "new", "remind": "remind", "resolve": "resolve"}


@dataclass(frozen=True, slots=True)
class Page:
    """One incident's news of one kind in one window: its root transitions, each with the alerts folded under it."""

    incident: str
    action: str  # trigger | escalate | remind | resolve | update
    members: list[Transition]
    folded: dict[str, list[tuple[str, MetricRow | None, str]]]
    open_left: int  # root alerts of the incident still open after the window
    suppressed: str
    window_start: datetime


def pages(conn: sa.Connection, config: MonitorConfig, transitions: Sequence[Transition],
          rows: Mapping[str, MetricRow], folding: Folding, window_start: datetime) -> list[Page]:
    """The window's notifications: the root transitions grouped by incident, kind and suppression."""
    table = store.alerts
    roots = [t for t in transitions if not t.folded_under] + _outranking(conn, transitions)
    if not roots:
        return []
    incident_of = {r.alert_key: r.incident or r.alert_key for r in conn.execute(
        sa.select(table.c.alert_key, table.c.incident).where(table.c.alert_key.in_([t.alert_key for t in roots])))}
    groups: dict[tuple[str, str, str], list[Transition]] = {}
    for t in roots:
        # A silenced or backfilled root is recorded under its own key: it must not take its incident's outbox slot
        # (one row per incident, window, route and action) from the roots that do page.
        incident = t.alert_key if t.suppressed else incident_of.get(t.alert_key, t.alert_key)
        groups.setdefault((incident, GROUP_OF_ACTION[t.action], t.suppressed), []).append(t)
    open_roots = _open_roots(conn, config.model, {incident for incident, _kind, _muted in groups})
    result = []
    for (incident, kind, suppressed), members in groups.items():
        starts = any(t.starts_incident for t in members)
        action = {"new": "trigger" if starts else "escalate", "remind": "remind",
                  "resolve": "resolve" if not open_roots.get(incident) else "update"}[kind]
        folded = {t.alert_key: _folded_under(t.alert_key, transitions, rows, folding) for t in members}
        result.append(Page(incident, action, members, folded, open_roots.get(incident, 0), suppressed, window_start))
    return result


def outbox_records(config: MonitorConfig, pages: Sequence[Page], now: datetime) -> list[dict[str, Any]]:
    """One outbox row per page and route. A route gets the page's roots whose severity it serves (a team's WARNING
    channel is not sent the CRITICAL roots it does not take), so its message and severity are its own. An `update`
    (part of an incident resolved) goes to every route but PagerDuty, where any event other than the incident's
    resolve would re-trigger it; PagerDuty's `resolve` waits for the incident's quiet period (quiet_ended), so that
    an alert flapping back rejoins the open PagerDuty alert instead of paging again."""
    deferred = config.alerts.reopen_within_hours > 0  # PagerDuty's resolve waits for the quiet period (quiet_ended)
    records = []
    for page in pages:
        routes: dict[str, list[Transition]] = {}
        for member in page.members:
            for channel in config.channels_for(member.severity):
                routes.setdefault(channel, []).append(member)
        for channel, members in routes.items():
            if channel == "pagerduty" and (page.action == "update" or page.action == "resolve" and deferred):
                continue
            records.append({
                "alert_key": page.incident, "model": config.model, "window_start": page.window_start,
                "channel": channel, "action": page.action, "severity": max(m.severity for m in members).name,
                "message": incident_text(config.model, page.action, members, page.folded, page.open_left),
                "status": "suppressed" if page.suppressed else "pending", "attempts": 0,
                "last_error": page.suppressed, "created_at": now})
    return records


def _outranking(conn: sa.Connection, transitions: Sequence[Transition]) -> list[Transition]:
    """Folded alerts that open or escalate above the alert they are folded under: their incident escalates with
    them, so a CRITICAL finding reaches the CRITICAL routes even when its cause was reported at WARNING."""
    rising = [t for t in transitions if t.folded_under and t.action in ("trigger", "escalate")]
    if not rising:
        return []
    table = store.alerts
    cause = dict(conn.execute(sa.select(table.c.alert_key, table.c.severity).where(
        table.c.alert_key.in_([t.folded_under for t in rising]))).all())
    return [t for t in rising if t.folded_under in cause and t.severity > Severity.parse(cause[t.folded_under])]


def quiet(conn: sa.Connection, config: MonitorConfig, at: datetime | None) -> set[str]:
    """The model's incidents whose roots all resolved less than alerts.reopen_within_hours before `at`."""
    hours = config.alerts.reopen_within_hours
    if not hours or at is None:
        return set()
    table = store.alerts
    incident = _incident_name(table)
    found = conn.execute(sa.select(incident).where(table.c.model == config.model, table.c.parent_key == "")
                         .group_by(incident)
                         .having(sa.func.sum(sa.case((table.c.status == "open", 1), else_=0)) == 0)
                         .having(sa.func.max(_resolved(table)) > at - timedelta(hours=hours)))
    return {name for (name,) in found if name}


def quiet_ended(conn: sa.Connection, config: MonitorConfig, at: datetime) -> list[dict[str, Any]]:
    """PagerDuty resolves of the incidents whose quiet period is over: every root resolved at least
    alerts.reopen_within_hours before `at`, paged, and not resolved on PagerDuty since."""
    hours = config.alerts.reopen_within_hours
    if not hours or "pagerduty" not in {*config.alerts.critical, *config.alerts.warning, *config.alerts.info}:
        return []
    table, sent = store.alerts, store.notifications
    incident = _incident_name(table)
    over = {name: resolved for name, resolved in conn.execute(
        sa.select(incident, sa.func.max(_resolved(table))).where(table.c.model == config.model,
                                                                   table.c.parent_key == "")
        .group_by(incident)
        .having(sa.func.sum(sa.case((table.c.status == "open", 1), else_=0)) == 0)
        .having(sa.func.max(_resolved(table)) <= at - timedelta(hours=hours)))}
    if not over:
        return []
    rows = conn.execute(sa.select(sent.c.alert_key, sent.c.action, sent.c.severity, sent.c.id).where(
        sent.c.model == config.model, sent.c.channel == "pagerduty", sent.c.status != "suppressed",
        sent.c.alert_key.in_(list(over))).order_by(sent.c.id)).all()
    last: dict[str, sa.Row[*tuple[Any, ...]]] = {}
    for row in rows:
        last[row.alert_key] = row
    return [{"alert_key": name, "model": config.model, "window_start": at, "channel": "pagerduty", "action": "resolve",
             "severity": row.severity, "status": "pending", "attempts": 0, "last_error": "", "created_at": at,
             "message": f"[RESOLVED] {config.model}: every alert of incident {name.removeprefix(config.model + ':')} "
                        f"resolved by {store.utc(over[name]):%Y-%m-%d %H:%M} UTC and none came back in "
                        f"{hours:g} h (alerts.reopen_within_hours)"}
            for name, row in last.items() if row.action != "resolve"]


def _resolved(table: sa.Table) -> sa.ColumnElement[Any]:
    """When an alert resolved, in run time (alerts from before resolved_in_run: their window's start)."""
    return sa.func.coalesce(table.c.resolved_in_run, table.c.resolved_at)


def _incident_name(table: sa.Table) -> sa.ColumnElement[Any]:
    """An alert's incident; an alert from before incidents is one of its own, named by its key."""
    return sa.case((table.c.incident == "", table.c.alert_key), else_=table.c.incident)


def _open_roots(conn: sa.Connection, model: str, incidents: set[str]) -> dict[str, int]:
    """Open root alerts per incident, after this window (an alert from before incidents has its own key as one)."""
    table = store.alerts
    incident = _incident_name(table)
    found = conn.execute(sa.select(incident, sa.func.count()).where(
        table.c.model == model, table.c.status == "open", table.c.parent_key == "", incident.in_(list(incidents)))
        .group_by(incident))
    return {name: count for name, count in found}


def _folded_under(root: str, transitions: Sequence[Transition], rows: Mapping[str, MetricRow],
                  folding: Folding) -> list[tuple[str, MetricRow | None, str]]:
    """(key, row, note) of the alerts folded under `root` in this window: the breaching rows whose causes include it,
    and the folded alerts that resolved with it."""
    found: dict[str, tuple[str, MetricRow | None, str]] = {}
    for key, row in rows.items():
        if row.severity >= Severity.WARNING and root in folding.ancestors(key):
            found[key] = (key, row, "")
    for t in transitions:
        if t.folded_under == root and t.action == "resolve":
            found.setdefault(t.alert_key, (t.alert_key, rows.get(t.alert_key), "resolved with it"))
    return sorted(found.values(), key=lambda item: item[0])
