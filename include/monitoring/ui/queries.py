"""Read-only queries behind the Model health pages and their JSON endpoints.

Every function reads the store's own tables (include/monitoring/store.py) and returns plain dicts and lists that
serialise as JSON as they are: the pages render them, other tools read the same data from the endpoints. Queries
select by (model, window_start) range, the leading columns of every metric table's primary key, so a 30-day
page reads an index range instead of the table.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, overload

import sqlalchemy as sa  # noqa: TID253 (imported only inside request handlers, never by the plugin)

from include.monitoring.store import alerts, metric_values, monitor_runs, notifications, utc, validation_results

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
SEVERITY_RANK = {"OK": 0, "INFO": 1, "WARNING": 2, "CRITICAL": 3}
# Drift rows that describe the window as a whole, not one feature: not cells of the heatmap.
WINDOW_LEVEL_DRIFT = ("drift_share", "low_confidence_share", "mean_score", "positive_share", "new_category_share")
# Not a method's score: each feature's drift_level repeats its verdict on one scale (for charts), so a heatmap cell
# shows the method row that judged the window.
NOT_A_CELL = (*WINDOW_LEVEL_DRIFT, "drift_level")
OPERATIONAL_SERIES = ("volume", "latency_p95", "error_rate")
WORST_FEATURES_SHOWN = 3
# Labels arrive within days; a run re-scores no window older than this (bounds the window page's scan).
RESCORE_HORIZON = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ModelRef:
    """What the pages need to know of a monitor file: its model, DAG and headline performance metric."""
    model: str
    dag_id: str
    headline_metric: str


@overload
def _iso(moment: datetime) -> str: ...
@overload
def _iso(moment: None) -> None: ...
def _iso(moment: datetime | None) -> str | None:
    return utc(moment).isoformat() if moment is not None else None


def _json(text: str | None) -> Any:
    """A JSON-encoded validation field (observed, examples) as its value; text that is not JSON as it is."""
    try:
        return json.loads(text) if text else text
    except ValueError:
        return text


def _details(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- Fleet -------------------------------------------------------------------------------------------------


def fleet(conn: sa.Connection, models: list[ModelRef], now: datetime) -> list[dict[str, Any]]:
    """One row per model, worst first: open CRITICAL alerts, then WARNING ones, then the model name."""
    rows = [_fleet_row(conn, ref, now) for ref in models]
    return sorted(rows, key=lambda row: (-row["open_alerts"].get("CRITICAL", 0), -row["open_alerts"].get("WARNING", 0),
                                         row["model"]))


def _fleet_row(conn: sa.Connection, ref: ModelRef, now: datetime) -> dict[str, Any]:
    last = latest_run(conn, ref.model)
    # The 24 h up to the model's last window: a paused or stopped monitor shows its last day, not zeros; how long
    # ago that was is the row's own column.
    until = datetime.fromisoformat(last["window_end"]) if last else now
    since = until - RANGES["24h"]
    return {
        "model": ref.model,
        "dag_id": ref.dag_id,
        "last_window": last,
        "last_window_age_hours": round((now - until).total_seconds() / 3600, 1) if last else None,
        "open_alerts": open_alerts_by_severity(conn, ref.model),
        "worst_features": worst_drifted_features(conn, ref.model),
        "performance": headline_performance(conn, ref),
        "quality_failures_24h": quality_failure_count(conn, ref.model, since, until),
        "volume_24h": volume(conn, ref.model, since, until),
    }


def latest_run(conn: sa.Connection, model: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(monitor_runs).where(monitor_runs.c.model == model)
                       .order_by(monitor_runs.c.window_start.desc()).limit(1)).mappings().first()
    return _run(row) if row else None


def _run(row: Any) -> dict[str, Any]:
    return {"window_start": _iso(row["window_start"]), "window_end": _iso(row["window_end"]),
            "status": row["status"], "status_reason": row["status_reason"], "row_count": row["row_count"],
            "sampled_rows": row["sampled_rows"], "dag_run_id": row["dag_run_id"]}


def open_alerts_by_severity(conn: sa.Connection, model: str) -> dict[str, int]:
    query = (sa.select(alerts.c.severity, sa.func.count()).where(alerts.c.model == model, alerts.c.status == "open")
             .group_by(alerts.c.severity))
    return {severity: count for severity, count in conn.execute(query)}


def worst_drifted_features(conn: sa.Connection, model: str) -> list[dict[str, Any]]:
    """The drifted features of the latest window with drift rows (a night window below min_rows has none), most
    severe first, then by p-value (smaller is worse), then by score."""
    m = metric_values.c
    latest = conn.execute(sa.select(sa.func.max(m.window_start)).where(m.model == model, m.kind == "drift")).scalar()
    if latest is None:
        return []
    latest = utc(latest if isinstance(latest, datetime) else datetime.fromisoformat(latest))
    cells = [cell for cell in _drift_cells(conn, model, latest, latest + timedelta(seconds=1))
             if cell["severity"] != "OK"]
    cells.sort(key=lambda cell: (-SEVERITY_RANK.get(cell["severity"], 0), cell["p_value"] or 0.0, -(cell["value"] or 0)))
    return [{"window_start": cell["window_start"], "feature": cell["feature"], "severity": cell["severity"],
             "method": cell["method"], "value": cell["value"]} for cell in cells[:WORST_FEATURES_SHOWN]]


def headline_performance(conn: sa.Connection, ref: ModelRef) -> dict[str, Any] | None:
    """The latest realized value of the headline metric (whole window), its baseline and that window's label
    coverage, beside the latest estimate."""
    realized = _latest_metric(conn, ref.model, "performance", ref.headline_metric, with_value=True)
    estimated = _latest_metric(conn, ref.model, "estimated_performance", ref.headline_metric, with_value=True)
    if realized is None and estimated is None:
        return None
    coverage = None
    if realized is not None:
        coverage = _coverage(conn, ref.model, datetime.fromisoformat(realized["window_start"]))
    return {"metric": ref.headline_metric, "realized": realized, "estimated": estimated, "coverage": coverage}


def _latest_metric(conn: sa.Connection, model: str, kind: str, metric: str, with_value: bool) -> dict[str, Any] | None:
    m = metric_values.c
    query = (sa.select(m.window_start, m.value, m.n, m.severity, m.details)
             .where(m.model == model, m.kind == kind, m.metric == metric, m.slice_key == "")
             .order_by(m.window_start.desc()).limit(1))
    if with_value:
        query = query.where(m.value.is_not(None))
    row = conn.execute(query).first()
    if row is None:
        return None
    details = _details(row.details)
    return {"window_start": _iso(row.window_start), "value": row.value, "n": row.n, "severity": row.severity,
            "baseline": details.get("baseline")}


def _coverage(conn: sa.Connection, model: str, window_start: datetime) -> float | None:
    m = metric_values.c
    return conn.execute(sa.select(m.value).where(
        m.model == model, m.window_start == window_start, m.kind == "performance", m.metric == "label_coverage",
        m.slice_key == "")).scalar()


def quality_failure_count(conn: sa.Connection, model: str, since: datetime, until: datetime) -> int:
    v = validation_results.c
    return conn.execute(sa.select(sa.func.count()).where(
        v.model == model, v.window_start >= since, v.window_start < until, v.success.is_(False))).scalar() or 0


def volume(conn: sa.Connection, model: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Rows received in [since, until) and the rows expected from each window's seasonal history, where the
    window had one (the operational volume rule's band mean)."""
    m = metric_values.c
    rows = conn.execute(sa.select(m.value, m.details).where(
        m.model == model, m.window_start >= since, m.window_start < until, m.kind == "operational",
        m.metric == "volume", m.slice_key == "")).all()
    expected = [_details(row.details).get("mean") for row in rows]  # the band's centre (operational.volume_row)
    known = [value for value in expected if isinstance(value, int | float)]
    return {"rows": int(sum(row.value or 0 for row in rows)), "windows": len(rows),
            "expected": round(sum(known)) if known else None, "windows_with_expectation": len(known)}


# --- Model ---------------------------------------------------------------------------------------------------


def model_history(conn: sa.Connection, ref: ModelRef, since: datetime, until: datetime) -> dict[str, Any]:
    """Everything the model page draws for windows starting in [since, until)."""
    runs = [_run(row) for row in conn.execute(
        sa.select(monitor_runs).where(monitor_runs.c.model == ref.model, monitor_runs.c.window_start >= since,
                                      monitor_runs.c.window_start < until)
        .order_by(monitor_runs.c.window_start)).mappings()]
    return {
        "model": ref.model, "dag_id": ref.dag_id, "since": _iso(since), "until": _iso(until),
        "windows": runs,
        "drift": drift_heatmap(conn, ref.model, since, until),
        "performance": performance_series(conn, ref.model, since, until),
        "quality": quality_series(conn, ref.model, since, until),
        "operational": operational_series(conn, ref.model, since, until),
        "alerts": alert_timeline(conn, ref.model, since, until),
    }


def _drift_cells(conn: sa.Connection, model: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    m = metric_values.c
    query = (sa.select(m.window_start, m.column_name, m.metric, m.value, m.p_value, m.n, m.threshold_warning,
                       m.threshold_critical, m.severity, m.details)
             .where(m.model == model, m.window_start >= since, m.window_start < until, m.kind == "drift",
                    m.slice_key == "", m.column_name != "", m.metric.not_in(NOT_A_CELL))
             .order_by(m.window_start, m.column_name))
    return [_drift_cell(row) for row in conn.execute(query)]


def _drift_cell(row: Any) -> dict[str, Any]:
    details = _details(row.details)
    return {"window_start": _iso(row.window_start), "feature": row.column_name, "method": row.metric,
            "value": row.value, "p_value": row.p_value, "rows": row.n, "warning": row.threshold_warning,
            "critical": row.threshold_critical, "severity": row.severity, "band": details.get("noise"),
            "note": details.get("skipped", "")}


def drift_heatmap(conn: sa.Connection, model: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Features x windows: {"features": [...], "windows": [...], "cells": {feature: {window: cell}}}."""
    cells: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    windows: set[str] = set()
    for cell in _drift_cells(conn, model, since, until):
        current = cells[cell["feature"]].get(cell["window_start"])
        # A feature may have several method rows in a window: the cell shows the most severe one.
        if current is None or SEVERITY_RANK.get(cell["severity"], 0) > SEVERITY_RANK.get(current["severity"], 0):
            cells[cell["feature"]][cell["window_start"]] = cell
        windows.add(cell["window_start"])
    return {"features": sorted(cells), "windows": sorted(windows), "cells": cells}


def performance_series(conn: sa.Connection, model: str, since: datetime, until: datetime) -> dict[str, list[dict[str, Any]]]:
    """Whole-window realized and estimated metrics and label coverage, per metric, in window order."""
    m = metric_values.c
    query = (sa.select(m.window_start, m.kind, m.metric, m.value, m.n, m.threshold_warning, m.threshold_critical,
                       m.severity, m.details)
             .where(m.model == model, m.window_start >= since, m.window_start < until,
                    m.kind.in_(("performance", "estimated_performance")), m.slice_key == "",
                    m.metric != "sufficient_statistics")
             .order_by(m.window_start))
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(query):
        details = _details(row.details)
        name = "label_coverage" if row.metric == "label_coverage" else f"{row.kind}:{row.metric}"
        series[name].append({"window_start": _iso(row.window_start), "value": row.value, "n": row.n,
                             "severity": row.severity, "baseline": details.get("baseline"),
                             "warning_drop": row.threshold_warning, "critical_drop": row.threshold_critical})
    return dict(series)


def quality_series(conn: sa.Connection, model: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per window: failed checks by severity and their names."""
    v = validation_results.c
    query = (sa.select(v.window_start, v.check_name, v.column_name, v.severity)
             .where(v.model == model, v.window_start >= since, v.window_start < until, v.success.is_(False))
             .order_by(v.window_start))
    per_window: dict[str, dict[str, Any]] = {}
    for row in conn.execute(query):
        entry = per_window.setdefault(_iso(row.window_start), {"severities": Counter(), "checks": []})
        entry["severities"][row.severity] += 1
        entry["checks"].append(f"{row.check_name}:{row.column_name}" if row.column_name else row.check_name)
    return [{"window_start": start, "failed": sum(entry["severities"].values()),
             "by_severity": dict(entry["severities"]), "checks": entry["checks"]}
            for start, entry in per_window.items()]


def operational_series(conn: sa.Connection, model: str, since: datetime, until: datetime) -> dict[str, list[dict[str, Any]]]:
    m = metric_values.c
    query = (sa.select(m.window_start, m.metric, m.value, m.severity)
             .where(m.model == model, m.window_start >= since, m.window_start < until, m.kind == "operational",
                    m.metric.in_(OPERATIONAL_SERIES), m.slice_key == "")
             .order_by(m.window_start))
    series: dict[str, list[dict[str, Any]]] = {name: [] for name in OPERATIONAL_SERIES}
    for row in conn.execute(query):
        series[row.metric].append({"window_start": _iso(row.window_start), "value": row.value,
                                   "severity": row.severity})
    return series


def alert_timeline(conn: sa.Connection, model: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Alerts alive at some point of [since, until), each with its notifications per channel."""
    a = alerts.c
    query = (sa.select(a.alert_key, a.rule, a.column_name, a.slice, a.severity, a.status, a.opened_at,
                       a.last_seen_at, a.resolved_at, a.value, a.threshold, a.message, a.history, a.parent_key,
                       a.incident)
             .where(a.model == model, a.opened_at < until,
                    sa.or_(a.resolved_at.is_(None), a.resolved_at >= since), a.status != "watching")
             .order_by(a.opened_at))
    timeline = [{"alert_key": row.alert_key, "rule": row.rule, "column": row.column_name, "slice": row.slice,
                 "severity": row.severity, "status": row.status, "opened_at": _iso(row.opened_at),
                 "last_seen_at": _iso(row.last_seen_at), "resolved_at": _iso(row.resolved_at), "value": row.value,
                 "threshold": row.threshold, "message": row.message, "history": _details(row.history),
                 "folded_under": row.parent_key, "incident": row.incident or row.alert_key}
                for row in conn.execute(query)]
    # An incident's notifications carry every alert of it (alerting/incidents.py): a folded alert's are its cause's.
    sent = _notifications_by_alert(conn, model, sorted({entry["incident"] for entry in timeline}))
    for entry in timeline:
        entry["notifications"] = [] if entry["folded_under"] else sent.get(entry["incident"], [])
    return timeline


def _notifications_by_alert(conn: sa.Connection, model: str, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
    if not keys:
        return {}
    n = notifications.c
    query = (sa.select(n.alert_key, n.window_start, n.channel, n.action, n.severity, n.status, n.attempts,
                       n.last_error, n.created_at, n.sent_at)
             .where(n.model == model, n.alert_key.in_(keys)).order_by(n.id))
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(query):
        grouped[row.alert_key].append(_notification(row))
    return grouped


def _notification(row: Any) -> dict[str, Any]:
    return {"window_start": _iso(row.window_start), "channel": row.channel, "action": row.action,
            "severity": row.severity, "status": row.status, "attempts": row.attempts, "last_error": row.last_error,
            "created_at": _iso(row.created_at), "sent_at": _iso(row.sent_at)}


# --- Window --------------------------------------------------------------------------------------------------


def run_by_dag_run_id(conn: sa.Connection, model: str, dag_run_id: str) -> dict[str, Any] | None:
    """The window a DAG run wrote. A cleared and re-run DAG run keeps its id, so its page keeps its findings."""
    row = conn.execute(sa.select(monitor_runs).where(monitor_runs.c.model == model,
                                                     monitor_runs.c.dag_run_id == dag_run_id)
                       .order_by(monitor_runs.c.window_start.desc()).limit(1)).mappings().first()
    return _run(row) if row else None


def window_detail(conn: sa.Connection, model: str, run: dict[str, Any]) -> dict[str, Any]:
    start = datetime.fromisoformat(run["window_start"])
    return {"model": model, "run": run, "validation": validation_rows(conn, model, start),
            "drift": _drift_cells(conn, model, start, start + timedelta(seconds=1)),
            "performance": window_performance(conn, model, run),
            **window_alerts(conn, model, start)}


def validation_rows(conn: sa.Connection, model: str, window_start: datetime) -> list[dict[str, Any]]:
    v = validation_results.c
    query = (sa.select(validation_results).where(v.model == model, v.window_start == window_start)
             .order_by(v.success, v.check_name, v.column_name))
    rows = []
    for row in conn.execute(query).mappings():
        examples = _json(row["examples"] or "[]")
        rows.append({"check": row["check_name"], "column": row["column_name"], "expectation": row["expectation"],
                     "severity": row["severity"], "success": bool(row["success"]), "observed": _json(row["observed"]),
                     "unexpected_pct": row["unexpected_pct"], "examples": examples if isinstance(examples, list) else [examples],
                     "expected": row["expected"]})
    return rows


def window_performance(conn: sa.Connection, model: str, run: dict[str, Any]) -> list[dict[str, Any]]:
    """This window's performance rows, and the older windows this run re-scored: every performance row records
    in `labels_known_by` the end of the window whose run computed it."""
    m = metric_values.c
    start = datetime.fromisoformat(run["window_start"])
    computed_by_this_run = sa.and_(
        m.window_start >= start - RESCORE_HORIZON, m.window_start < start,
        m.details.contains(f'"labels_known_by": "{run["window_end"]}"'))
    query = (sa.select(m.window_start, m.kind, m.metric, m.slice_key, m.slice_value, m.value, m.n, m.severity,
                       m.details)
             .where(m.model == model, m.kind.in_(("performance", "estimated_performance")),
                    m.metric != "sufficient_statistics", sa.or_(m.window_start == start, computed_by_this_run))
             .order_by(m.window_start.desc(), m.kind, m.metric, m.slice_key, m.slice_value))
    return [{"window_start": _iso(row.window_start), "kind": row.kind, "metric": row.metric,
             "slice": f"{row.slice_key}={row.slice_value}" if row.slice_key else "", "value": row.value,
             "n": row.n, "severity": row.severity, "baseline": _details(row.details).get("baseline"),
             "rescored": utc(row.window_start) != utc(start)} for row in conn.execute(query)]


def window_alerts(conn: sa.Connection, model: str, window_start: datetime) -> dict[str, list[dict[str, Any]]]:
    """Alerts this window evaluated (it is in their history or is their last window) and the notifications it
    queued."""
    a, n = alerts.c, notifications.c
    key = _iso(window_start)
    rows = conn.execute(sa.select(a.alert_key, a.rule, a.column_name, a.slice, a.severity, a.status, a.opened_at,
                                  a.resolved_at, a.message, a.history, a.last_seen_at)
                        .where(a.model == model, a.opened_at <= window_start,
                               sa.or_(a.last_seen_at >= window_start))
                        .order_by(a.alert_key)).all()
    found = []
    for row in rows:
        history = _details(row.history)
        if key not in history and _iso(row.last_seen_at) != key and _iso(row.opened_at) != key:
            continue
        found.append({"alert_key": row.alert_key, "rule": row.rule, "column": row.column_name, "slice": row.slice,
                      "severity_in_window": history.get(key), "severity": row.severity, "status": row.status,
                      "opened_at": _iso(row.opened_at), "resolved_at": _iso(row.resolved_at),
                      "message": row.message})
    sent = [{"alert_key": row.alert_key, **_notification(row)} for row in conn.execute(
        sa.select(n.alert_key, n.window_start, n.channel, n.action, n.severity, n.status, n.attempts, n.last_error,
                  n.created_at, n.sent_at).where(n.model == model, n.window_start == window_start).order_by(n.id))]
    return {"alerts": found, "notifications": sent}


# --- Prometheus ----------------------------------------------------------------------------------------------

# A series (kind, column, slice, metric) absent from this many days before the model's latest window is no longer
# current: the scrape reads this index range instead of the model's whole history. Realized performance lags by the
# label delay and is re-scored up to RESCORE_HORIZON, so the lookback is that horizon.
LATEST_VALUE_LOOKBACK = RESCORE_HORIZON
NOT_A_VALUE = ("sufficient_statistics",)  # counts kept for re-aggregation, not a metric


def latest_metric_values(conn: sa.Connection, model: str) -> list[dict[str, Any]]:
    """Per series (kind, column, slice, metric) of the model, its row at the latest window that has a value:
    a window that skipped a feature or awaits its labels does not blank the series."""
    m = metric_values.c
    latest = _moment(conn.execute(sa.select(sa.func.max(m.window_start)).where(m.model == model)).scalar())
    if latest is None:
        return []
    newest_first = sa.func.row_number().over(partition_by=(m.kind, m.column_name, m.slice_key, m.slice_value, m.metric),
                                             order_by=m.window_start.desc())
    ranked = (sa.select(m.window_start, m.kind, m.column_name, m.slice_key, m.slice_value, m.metric, m.value,
                        m.p_value, m.details, newest_first.label("rank"))
              .where(m.model == model, m.window_start >= latest - LATEST_VALUE_LOOKBACK, m.value.is_not(None),
                     m.metric.not_in(NOT_A_VALUE))
              .subquery())
    query = sa.select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.kind, ranked.c.metric,
                                                                   ranked.c.column_name, ranked.c.slice_key,
                                                                   ranked.c.slice_value)
    return [{"window_start": _iso(row.window_start), "kind": row.kind, "column": row.column_name,
             "slice": f"{row.slice_key}={row.slice_value}" if row.slice_key else "", "metric": row.metric,
             "value": row.value, "p_value": row.p_value, "details": _details(row.details)}
            for row in conn.execute(query)]


def latest_quality_failures(conn: sa.Connection, model: str) -> dict[str, int]:
    """{severity: failed checks} of the latest window with validation results (an empty window has none)."""
    v = validation_results.c
    latest = _moment(conn.execute(sa.select(sa.func.max(v.window_start)).where(v.model == model)).scalar())
    if latest is None:
        return {}
    query = (sa.select(v.severity, sa.func.count()).where(v.model == model, v.window_start == latest,
                                                          v.success.is_(False))
             .group_by(v.severity))
    return {severity: count for severity, count in conn.execute(query)}


def _moment(value: datetime | str | None) -> datetime | None:
    """An aggregate's timestamp in UTC: SQLite returns MAX() of a DateTime column as text."""
    if value is None:
        return None
    return utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))
