"""The metric store: SQLAlchemy Core tables and idempotent, one-transaction-per-window writes.

Tables are long and narrow so that Grafana, SQL alerts and our own views can read them. Every write
for a window first deletes that window's rows of the same kinds and then inserts, inside one
transaction: re-runs and backfills rewrite, never duplicate, and a failure leaves nothing half-written. One table
is no window's: `slice_calibrations` keeps the slices' noise tables (drift/slice_calibration.py) for every later run;
its points are inserted if absent, so runs that compute the same point at once both succeed.

Concurrent runs of one model (max_active_runs, backfills) share rows: each re-scores the same older windows and
updates the same alerts. Their write transactions are serialised per model (`lock_model`): on PostgreSQL by a
transaction-scoped advisory lock taken first, on SQLite by the database's single writer lock (the engine waits
for it). The expensive computing before the write stays parallel.

Every bounded string column has the same limit on both stores: PostgreSQL rejects a longer value where SQLite
keeps it. A longer value is stored shortened to the limit with a marker and a digest of the whole value
(`bounded`), in writes and lookups alike, so two long values that share a head stay two keys.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

import sqlalchemy as sa

from include.monitoring.alerting.keys import rule_from_key
from include.monitoring.profile_types import CalibrationPoint
from include.monitoring.types import MetricRow, RunStatus, Window
from include.monitoring.validation.records import CheckSeverity, ValidationResult

log = logging.getLogger(__name__)

metadata = sa.MetaData()

TRUNCATION_MARKER = "...#"  # then the first characters of the whole value's SHA-256
_DIGEST_CHARS = 10


def bounded(value: str, length: int) -> str:
    """`value` when it has at most `length` characters; otherwise its head, TRUNCATION_MARKER and a digest of the
    whole value, `length` characters in all."""
    if len(value) <= length:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:_DIGEST_CHARS]
    head = max(length - len(TRUNCATION_MARKER) - _DIGEST_CHARS, 0)
    return (value[:head] + TRUNCATION_MARKER + digest)[:length]


class BoundedString(sa.types.TypeDecorator[str]):
    """VARCHAR(length) that shortens longer values with `bounded` before they reach the database, in inserts,
    updates and WHERE clauses alike (a lookup by the whole value finds the shortened row)."""

    impl = sa.String
    cache_ok = True

    @property
    def length(self) -> int:
        impl = self.impl_instance
        assert isinstance(impl, sa.String) and impl.length is not None, "a BoundedString is built with its length"
        return impl.length

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        # PostgreSQL text cannot hold NUL (SQLite can): dropped on both, so both stores keep the same value
        return bounded(value.replace("\x00", ""), self.length) if isinstance(value, str) else value


def column_length(column: sa.Column[Any]) -> int:
    """The length a BoundedString column keeps."""
    assert isinstance(column.type, BoundedString), f"{column.name} is not a BoundedString"
    return column.type.length


def overlong(table: sa.Table, record: dict[str, Any]) -> dict[str, str]:
    """The values of `record` longer than their column of `table` holds (stored shortened), by column."""
    return {name: value for name, value in record.items()
            if isinstance(value, str) and name in table.c and isinstance(column_type := table.c[name].type, BoundedString)
            and len(value) > column_type.length}

_Time = sa.DateTime(timezone=True)

monitor_runs = sa.Table(
    "monitor_runs", metadata,
    sa.Column("model", BoundedString(128), primary_key=True),
    sa.Column("window_start", _Time, primary_key=True),
    sa.Column("window_end", _Time, nullable=False),
    sa.Column("status", BoundedString(32), nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False, default=""),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("sampled_rows", sa.Integer, nullable=False),
    sa.Column("reference_id", BoundedString(64), nullable=False),
    sa.Column("dag_run_id", BoundedString(256), nullable=False, default=""),
    sa.Column("started_at", _Time, nullable=False),
    sa.Column("finished_at", _Time, nullable=False),
)

window_profiles = sa.Table(
    "window_profiles", metadata,
    sa.Column("model", BoundedString(128), primary_key=True),
    sa.Column("window_start", _Time, primary_key=True),
    sa.Column("column_name", BoundedString(256), primary_key=True),
    sa.Column("reference_id", BoundedString(64), nullable=False),
    sa.Column("profile", sa.Text, nullable=False),  # JSON: counts per reference bin or category, nulls, moments
)

metric_values = sa.Table(
    "metric_values", metadata,
    sa.Column("model", BoundedString(128), primary_key=True),
    sa.Column("window_start", _Time, primary_key=True),
    sa.Column("kind", BoundedString(32), primary_key=True),
    sa.Column("column_name", BoundedString(256), primary_key=True),
    sa.Column("slice_key", BoundedString(256), primary_key=True),
    sa.Column("slice_value", BoundedString(256), primary_key=True),
    sa.Column("metric", BoundedString(128), primary_key=True),
    sa.Column("window_end", _Time, nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("p_value", sa.Float),
    sa.Column("n", sa.Integer),
    sa.Column("threshold_warning", sa.Float),
    sa.Column("threshold_critical", sa.Float),
    sa.Column("severity", BoundedString(16), nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # JSON
    sa.Column("computed_at", _Time, nullable=False),
)

validation_results = sa.Table(
    "validation_results", metadata,
    sa.Column("model", BoundedString(128), primary_key=True),
    sa.Column("window_start", _Time, primary_key=True),
    sa.Column("check_name", BoundedString(128), primary_key=True),
    sa.Column("column_name", BoundedString(256), primary_key=True),
    sa.Column("expectation", BoundedString(128), nullable=False),
    sa.Column("severity", BoundedString(16), nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("observed", sa.Text, nullable=False),
    sa.Column("unexpected_pct", sa.Float),
    sa.Column("examples", sa.Text, nullable=False),  # JSON list of offending values
    sa.Column("expected", sa.Text, nullable=False, default=""),  # what a passing window looks like
)

reference_profiles = sa.Table(
    "reference_profiles", metadata,
    sa.Column("reference_id", BoundedString(64), primary_key=True),  # content hash: rebuilding the same data is a no-op
    sa.Column("model", BoundedString(128), nullable=False, index=True),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("profile", sa.Text, nullable=False),  # JSON
)

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("alert_key", BoundedString(512), primary_key=True),  # model:rule:column:slice
    sa.Column("model", BoundedString(128), nullable=False, index=True),
    sa.Column("rule", BoundedString(128), nullable=False),
    sa.Column("column_name", BoundedString(256), nullable=False),
    sa.Column("slice", BoundedString(256), nullable=False),
    # The alert's severity: the tier that opened it, raised by escalations, kept after it resolves (its peak).
    sa.Column("severity", BoundedString(16), nullable=False),
    sa.Column("last_severity", BoundedString(16)),  # the verdict of the latest window evaluated (last_seen_at)
    sa.Column("status", BoundedString(16), nullable=False),  # watching (breached, not yet persistent) | open | resolved
    sa.Column("opened_at", _Time, nullable=False),  # window start of the breach that opened it
    sa.Column("last_seen_at", _Time, nullable=False),  # latest window start evaluated for this key
    sa.Column("resolved_at", _Time),
    sa.Column("value", sa.Float),
    sa.Column("threshold", sa.Float),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("clean_windows", sa.Integer, nullable=False, default=0),  # consecutive clean windows while open
    sa.Column("history", sa.Text, nullable=False, default="{}"),  # JSON {window start: severity} of recent windows
    sa.Column("last_notified_at", _Time),  # when the last trigger, escalation or reminder was queued
    # Folding (alerting/folding.py): the alert this one is folded under in its latest window ("" = a root), and the
    # model incident whose notifications carry it (the alert key of the incident's first root: PagerDuty's dedup_key).
    sa.Column("parent_key", BoundedString(512), nullable=False, default="", server_default=""),
    sa.Column("incident", BoundedString(512), nullable=False, default="", server_default=""),
    # The latest run window that evaluated this key: the count of windows not evaluated since resolves an alert
    # that is no longer seen (alerts.resolve_unseen_after).
    sa.Column("evaluated_through", _Time),
    # The run window that resolved it (resolved_at is the evaluated window's start, older for re-scored performance):
    # the clock of its incident's quiet period.
    sa.Column("resolved_in_run", _Time),
)

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_key", BoundedString(512), nullable=False, index=True),
    sa.Column("model", BoundedString(128), nullable=False),
    sa.Column("window_start", _Time, nullable=False),
    sa.Column("channel", BoundedString(32), nullable=False),
    sa.Column("action", BoundedString(16), nullable=False),  # trigger | escalate | remind | resolve
    sa.Column("severity", BoundedString(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("status", BoundedString(16), nullable=False),  # pending | sent | skipped | suppressed (silenced, backfill)
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text, nullable=False, default=""),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("sent_at", _Time),
    sa.Column("reference", BoundedString(128), nullable=False, default=""),  # the channel's id of the message (Slack ts)
    sa.UniqueConstraint("alert_key", "window_start", "channel", "action", name="uq_notification_once"),
)


# The slices' noise tables (drift/slice_calibration.py), filled a point at a time on first use and read by later runs.
# A point is a function of its key alone, so every run that computes it computes the same value: the first insert
# stays, a concurrent one is ignored.
slice_calibrations = sa.Table(
    "slice_calibrations", metadata,
    sa.Column("table_key", BoundedString(64), primary_key=True),  # digest of the slice's counts, method and quantile
    sa.Column("size", sa.Integer, primary_key=True),  # window rows (one of drift/calibration.py's CALIBRATION_SIZES)
    sa.Column("noise", sa.Float, nullable=False),
    sa.Column("method", BoundedString(32), nullable=False),
    sa.Column("quantile", sa.Float, nullable=False),
    # The slice and reference the point was first computed for (references with the same slice counts share it).
    sa.Column("column_name", BoundedString(256), nullable=False),
    sa.Column("slice_key", BoundedString(256), nullable=False),
    sa.Column("slice_value", BoundedString(256), nullable=False),
    sa.Column("reference_id", BoundedString(64), nullable=False),
)

# A window's records on their way from one task of a run to the next (see staging.py); deleted once written.
task_payloads = sa.Table(
    "task_payloads", metadata,
    sa.Column("model", BoundedString(128), primary_key=True),
    sa.Column("dag_run_id", BoundedString(256), primary_key=True),
    sa.Column("name", BoundedString(64), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column("created_at", _Time, nullable=False),
)

def create_tables(engine: sa.Engine) -> None:
    """Create missing tables and add the columns later versions gave them. Safe to call from concurrent tasks: a
    lost creation race is ignored."""
    try:
        metadata.create_all(engine, checkfirst=True)
    except (sa.exc.ProgrammingError, sa.exc.IntegrityError, sa.exc.OperationalError):
        metadata.create_all(engine, checkfirst=True)  # another task created them between check and create
    upgrade_alerts(engine)


# Engines whose alerts table this process has brought up to date: the check costs a catalogue query, once.
_upgraded: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def upgrade_alerts(engine: sa.Engine) -> None:
    """Bring an alerts table created by an earlier version up to this one (create_all adds tables, never columns):
    add `last_severity` (filled from each row's history), set `rule` to the rule of the alert key, where earlier
    versions wrote the scoring method (`drift:ks` under a `drift:feature_drift` key), and give resolved alerts
    back the peak severity their notifications record; add the folding columns (every earlier alert is a root of
    its own incident, which its notifications' alert key already names) and `evaluated_through`."""
    if engine in _upgraded:
        return
    with engine.begin() as conn:
        present = {column["name"] for column in sa.inspect(conn).get_columns("alerts")}
        if "last_severity" not in present:
            _add_column(conn, alerts.c.last_severity)
            _fill_last_severity(conn)
            _heal_rules(conn)
            _restore_peaks(conn)
        for column in (alerts.c.parent_key, alerts.c.incident):
            if column.name not in present:
                _add_column(conn, column, default="''")
        for column in (alerts.c.evaluated_through, alerts.c.resolved_in_run):
            if column.name not in present:
                _add_column(conn, column)
    _upgraded.add(engine)


def _add_column(conn: sa.Connection, column: sa.Column[Any], default: str = "") -> None:
    ddl = f"{column.name} {column.type.compile(dialect=conn.dialect)}"
    if default:
        ddl += f" NOT NULL DEFAULT {default}"
    if conn.dialect.name == "postgresql":  # a concurrent upgrade waits for the first one's lock, then does nothing
        conn.execute(sa.text(f"ALTER TABLE {alerts.name} ADD COLUMN IF NOT EXISTS {ddl}"))
        return
    try:
        conn.execute(sa.text(f"ALTER TABLE {alerts.name} ADD COLUMN {ddl}"))
    except sa.exc.OperationalError as exc:  # SQLite has no IF NOT EXISTS here: another process added it first
        if "duplicate column" not in str(exc):
            raise


def _fill_last_severity(conn: sa.Connection) -> None:
    found = conn.execute(sa.select(alerts.c.alert_key, alerts.c.history).where(alerts.c.last_severity.is_(None)))
    for key, history in found.all():
        verdicts = json.loads(history or "{}")
        if verdicts:
            conn.execute(sa.update(alerts).where(alerts.c.alert_key == key).values(
                last_severity=verdicts[max(verdicts)]))


def _restore_peaks(conn: sa.Connection) -> None:
    """Earlier versions lowered a resolved alert's severity with the next clean window; its notifications since it
    opened still say how high it went (when its severities had a route)."""
    n = notifications.c
    peaks = conn.execute(
        sa.select(alerts.c.alert_key, sa.func.max(sa.case((n.severity == "CRITICAL", 2), (n.severity == "WARNING", 1),
                                                          else_=0)))
        .join(notifications, n.alert_key == alerts.c.alert_key)
        .where(alerts.c.status != "open", alerts.c.severity.not_in(("WARNING", "CRITICAL")),
               n.action.in_(("trigger", "escalate", "remind")), n.window_start >= alerts.c.opened_at)
        .group_by(alerts.c.alert_key)).all()
    for key, peak in peaks:
        if peak:
            conn.execute(sa.update(alerts).where(alerts.c.alert_key == key).values(
                severity="CRITICAL" if peak == 2 else "WARNING"))


def _heal_rules(conn: sa.Connection) -> None:
    """The key is `<model>:<kind>:<rule>:<column>:<slice>` (alerting/keys.py); rule names hold no colon."""
    for key, model, rule in conn.execute(sa.select(alerts.c.alert_key, alerts.c.model, alerts.c.rule)).all():
        kind_and_rule = rule_from_key(model, key)
        if key.startswith(f"{model}:") and kind_and_rule != rule:
            conn.execute(sa.update(alerts).where(alerts.c.alert_key == key).values(rule=kind_and_rule))


class SliceCalibrations:
    """The slices' calibration points kept in the metric store (drift.slice_calibration.CalibrationPoints)."""

    source = "slice calibration table in the metric store (slice_calibrations)"

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def read(self, keys: Collection[str]) -> dict[tuple[str, int], float]:
        create_tables(self.engine)
        table = slice_calibrations
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(table.c.table_key, table.c.size, table.c.noise)
                                 .where(table.c.table_key.in_(list(keys)))).all()
        return {(key, size): noise for key, size, noise in found}

    def write(self, points: Sequence[CalibrationPoint]) -> None:
        """Insert the points, in one transaction of their own; a point another run inserted first is left alone."""
        if not points:
            return
        records = [{"table_key": p.table_key, "size": p.size, "noise": p.noise, "method": p.method,
                    "quantile": p.quantile, "column_name": p.column, "slice_key": p.slice_key,
                    "slice_value": p.slice_value, "reference_id": p.reference_id}
                   for p in sorted(points, key=lambda p: (p.table_key, p.size))]  # one lock order for every writer
        create_tables(self.engine)
        with self.engine.begin() as conn:
            insert = _insert_new(conn.dialect.name, slice_calibrations)
            if insert is not None:
                conn.execute(insert, records)
                return
            for record in records:  # another database: a savepoint per row, its duplicate-key error ignored
                try:
                    with conn.begin_nested():
                        conn.execute(sa.insert(slice_calibrations), [record])
                except sa.exc.IntegrityError:
                    pass


def _insert_new(dialect: str, table: sa.Table) -> sa.Insert | None:
    """An INSERT that skips the rows whose primary key is stored already: ON CONFLICT DO NOTHING on PostgreSQL (a
    concurrent insert of the same key waits for the other transaction, then skips) and SQLite; None elsewhere."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    return None


@overload
def utc(moment: datetime) -> datetime: ...
@overload
def utc(moment: None) -> None: ...
def utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes even for timezone=True columns; everything we store is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class RunRecord:
    status: RunStatus
    status_reason: str
    row_count: int
    sampled_rows: int
    reference_id: str
    dag_run_id: str
    started_at: datetime
    finished_at: datetime


# Details that are a run's decision inputs, not facts of the window: whether a re-scored window was judged by this
# run depends on what the store held when the run read it, so parallel runs of a backfill would store it differently.
RUN_ONLY_DETAILS = ("first_look",)


def _metric_record(model: str, row: MetricRow, computed_at: datetime) -> dict[str, Any]:
    """The row's record (without RUN_ONLY_DETAILS); its details keep the whole value of every field stored shortened,
    under `truncated`."""
    record = {
        "model": model, "window_start": row.window.start, "window_end": row.window.end, "kind": row.kind.value,
        "column_name": row.column, "slice_key": row.slice_key, "slice_value": row.slice_value,
        "metric": row.metric, "value": row.value, "p_value": row.p_value, "n": row.n,
        "threshold_warning": row.threshold_warning, "threshold_critical": row.threshold_critical,
        "severity": row.severity.name, "computed_at": computed_at,
    }
    shortened = overlong(metric_values, record)
    details = {key: value for key, value in row.details.items() if key not in RUN_ONLY_DETAILS}
    if shortened:
        details["truncated"] = shortened
    return {**record, "details": json.dumps(details, sort_keys=True, default=str)}


def _validation_record(model: str, window: Window, result: ValidationResult) -> dict[str, Any]:
    """The result's row; the one place its observed value and examples become JSON text."""
    return {"model": model, "window_start": window.start, "expectation": result.expectation,
            "column_name": result.column_name, "check_name": result.check_name, "severity": result.severity.value,
            "success": result.success,
            "observed": json.dumps(result.observed, default=str) if result.observed is not None else "",
            "unexpected_pct": result.unexpected_pct, "examples": json.dumps(list(result.examples)),
            "expected": result.expected}


def _validation_result(row: Any) -> ValidationResult:
    """The result a `validation_results` row holds: `_validation_record` read back."""
    return ValidationResult(expectation=row["expectation"], column_name=row["column_name"], check_name=row["check_name"],
                            severity=CheckSeverity(row["severity"]), success=row["success"],
                            observed=json.loads(row["observed"]) if row["observed"] else None,
                            unexpected_pct=row["unexpected_pct"], examples=tuple(json.loads(row["examples"])),
                            expected=row["expected"])


def _log_shortened(model: str, window: Window, records: Iterable[tuple[sa.Table, Sequence[dict[str, Any]]]]) -> None:
    """One line per write that stored values shortened: how many, and in which columns."""
    columns = [f"{table.name}.{name}" for table, rows in records for record in rows for name in overlong(table, record)]
    if columns:
        log.warning("%s %s: %d value(s) longer than their column stored shortened with %r and a digest: %s",
                    model, window, len(columns), TRUNCATION_MARKER, ", ".join(sorted(set(columns))))


def lock_model(conn: sa.Connection, model: str) -> None:
    """Make the caller's transaction the only writer of `model` until it ends; call it first in the transaction.

    Runs of different windows of one model re-score the same older windows and update the same alerts, so a lock
    per window would not do. On PostgreSQL a transaction-scoped advisory lock on the model queues the others (it
    is released by commit or rollback, also when the process dies). SQLite has a single writer already: the first
    write takes the database lock and a concurrent writer waits for it (the engine's busy timeout).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_id(model))))


def _lock_id(model: str) -> int:
    """A stable signed 64-bit advisory lock id for the model (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.sha256(f"monitoring-store:{model}".encode()).digest()[:8], "big", signed=True)


def _without_stale_performance(conn: sa.Connection, model: str, metrics: Sequence[MetricRow]) -> list[MetricRow]:
    """Drop the performance rows of a window that a later run already scored with later labels: two runs that
    re-score the same old window (a backfill beside the live run) must leave the newer result."""
    cut_offs = {row.window.start: row.details["labels_known_by"] for row in metrics
                if row.kind.value == "performance" and row.metric == "label_coverage" and "labels_known_by" in row.details}
    if not cut_offs:
        return list(metrics)
    stored = scored_label_counts_in(conn, model, list(cut_offs))
    stale = {start for start, cut_off in cut_offs.items()
             if start in stored and stored[start][1] > datetime.fromisoformat(cut_off)}
    return [row for row in metrics if not (row.kind.value == "performance" and row.window.start in stale)]


def replace_window(conn: sa.Connection, model: str, window: Window, run: RunRecord, metrics: Sequence[MetricRow],
                   validations: Iterable[ValidationResult], profiles: dict[str, Any]) -> None:
    """Rewrite everything one run produced, inside the caller's transaction (which holds `lock_model`).

    Metric rows may belong to older windows (performance is computed once labels have matured); each
    (window, kind) they touch is replaced as a whole.
    """
    for table in (monitor_runs, window_profiles, validation_results):
        conn.execute(sa.delete(table).where(table.c.model == model, table.c.window_start == window.start))
    run_record = {
        "model": model, "window_start": window.start, "window_end": window.end, "status": run.status.value,
        "status_reason": run.status_reason, "row_count": run.row_count, "sampled_rows": run.sampled_rows,
        "reference_id": run.reference_id, "dag_run_id": run.dag_run_id,
        "started_at": run.started_at, "finished_at": run.finished_at,
    }
    conn.execute(sa.insert(monitor_runs), [run_record])
    metrics = _without_stale_performance(conn, model, metrics)
    touched = {(row.window.start, row.kind.value) for row in metrics} | {
        (window.start, kind) for kind in ("drift", "quality", "operational", "estimated_performance")
    }
    for start, kind in sorted(touched):
        conn.execute(sa.delete(metric_values).where(
            metric_values.c.model == model, metric_values.c.window_start == start, metric_values.c.kind == kind))
    metric_records = [_metric_record(model, row, run.finished_at) for row in metrics]
    validation_records = [_validation_record(model, window, result) for result in validations]
    profile_records = [{"model": model, "window_start": window.start, "column_name": column,
                        "reference_id": run.reference_id, "profile": json.dumps(profile, sort_keys=True)}
                       for column, profile in profiles.items()]
    for table, records in ((metric_values, metric_records), (validation_results, validation_records),
                           (window_profiles, profile_records)):
        if records:
            conn.execute(sa.insert(table), records)
    _log_shortened(model, window, [(monitor_runs, [run_record]), (metric_values, metric_records),
                                   (validation_results, validation_records), (window_profiles, profile_records)])


def record_failed_run(conn: sa.Connection, model: str, window: Window, row: MetricRow, dag_run_id: str,
                      now: datetime) -> None:
    """Mark a window `failed` unless a completed run already recorded it, and write the failure's metric row."""
    existing = conn.execute(sa.select(monitor_runs.c.status).where(
        monitor_runs.c.model == model, monitor_runs.c.window_start == window.start)).scalar_one_or_none()
    if existing in (None, RunStatus.FAILED.value):
        conn.execute(sa.delete(monitor_runs).where(monitor_runs.c.model == model,
                                                   monitor_runs.c.window_start == window.start))
        conn.execute(sa.insert(monitor_runs), [{
            "model": model, "window_start": window.start, "window_end": window.end,
            "status": RunStatus.FAILED.value, "status_reason": row.details.get("error", ""), "row_count": 0,
            "sampled_rows": 0, "reference_id": "", "dag_run_id": dag_run_id, "started_at": now, "finished_at": now}])
    key = (metric_values.c.model == model, metric_values.c.window_start == window.start,
           metric_values.c.kind == row.kind.value, metric_values.c.metric == row.metric)
    conn.execute(sa.delete(metric_values).where(*key))
    conn.execute(sa.insert(metric_values), [_metric_record(model, row, now)])


def failed_run_reason(engine: sa.Engine, model: str, window: Window, dag_run_id: str) -> str | None:
    """The reason recorded when DAG run `dag_run_id` failed on `window`; None when it did not."""
    create_tables(engine)
    with engine.connect() as conn:
        return conn.execute(sa.select(monitor_runs.c.status_reason).where(
            monitor_runs.c.model == model, monitor_runs.c.window_start == window.start,
            monitor_runs.c.status == RunStatus.FAILED.value, monitor_runs.c.dag_run_id == dag_run_id)).scalar_one_or_none()


def completed_validations(engine: sa.Engine, model: str, window: Window,
                          check_names: Sequence[str]) -> list[ValidationResult] | None:
    """The stored results of the checks `check_names` in `window` (only the failed ones are stored for the pipeline's
    own checks); None when no run completed the window (none ran, or the last one failed before writing)."""
    create_tables(engine)
    with engine.connect() as conn:
        status = conn.execute(sa.select(monitor_runs.c.status).where(
            monitor_runs.c.model == model, monitor_runs.c.window_start == window.start)).scalar_one_or_none()
        if status in (None, RunStatus.FAILED.value):
            return None
        v = validation_results.c
        found = conn.execute(sa.select(validation_results).where(
            v.model == model, v.window_start == window.start, v.check_name.in_(check_names))).mappings().all()
    return [_validation_result(row) for row in found]


def scored_label_counts(engine: sa.Engine, model: str, period: Window) -> dict[datetime, tuple[int, datetime]]:
    """Per window of `period` already scored: the labelled count and the label cut-off it was scored with."""
    create_tables(engine)
    with engine.connect() as conn:
        return _scored(conn, model, metric_values.c.window_start >= period.start, metric_values.c.window_start < period.end)


def scored_label_counts_in(conn: sa.Connection, model: str, starts: list[datetime]) -> dict[datetime, tuple[int, datetime]]:
    return _scored(conn, model, metric_values.c.window_start.in_(starts))


def _scored(conn: sa.Connection, model: str, *where: Any) -> dict[datetime, tuple[int, datetime]]:
    found = conn.execute(sa.select(metric_values.c.window_start, metric_values.c.details).where(
        metric_values.c.model == model, metric_values.c.kind == "performance",
        metric_values.c.metric == "label_coverage", metric_values.c.slice_key == "", *where)).all()
    result = {}
    for start, details in found:
        details = json.loads(details)
        if "labels_known_by" in details:
            result[utc(start)] = (int(details["labelled"]), datetime.fromisoformat(details["labels_known_by"]))
    return result
