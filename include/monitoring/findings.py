"""A window's findings as one line: what a DAG run's note shows in Airflow's grid and run list.

Read from the store, not from what one run changed, so that a cleared and re-run window (whose alerts are
already open and whose notifications were sent) still shows the same findings. The store and SQLAlchemy are
imported inside the functions: this module is imported only by tasks, but ruff keeps heavy imports out of
module level everywhere but the listed leaf modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from include.monitoring.types import Window

NOTE_LIMIT = 1000  # Airflow keeps at most 1000 characters of a DAG run's note
SHOWN_PER_SEVERITY = 10  # a note is one line; the rest are counted
FLAGGED = ("CRITICAL", "WARNING")
NO_FINDINGS = "OK: no findings"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str
    kind: str
    metric: str
    column: str
    slice: str
    value: float | None

    def label(self) -> str:
        where = " ".join(part for part in (self.column, self.slice) if part)
        value = f" {self.value:.3g}" if self.value is not None else ""
        return f"{self.kind} {self.metric}{' ' + where if where else ''}{value}"


def window_findings(engine: Any, model: str, window: Window) -> list[Finding]:
    """The window's WARNING and CRITICAL metric rows, worst first, whole-population rows before slices."""
    import sqlalchemy as sa

    from include.monitoring import store

    table = store.metric_values
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).where(
            table.c.model == model, table.c.window_start == window.start, table.c.severity.in_(FLAGGED)))
        findings = [Finding(r.severity, r.kind, r.metric, r.column_name,
                            f"{r.slice_key}={r.slice_value}" if r.slice_key else "", r.value) for r in rows]
    return sorted(findings, key=lambda f: (FLAGGED.index(f.severity), bool(f.slice), f.kind, f.column, f.slice,
                                           f.metric))


def window_status(engine: Any, model: str, window: Window) -> tuple[str, str] | None:
    """The window's recorded run status and reason, None when no run recorded it."""
    import sqlalchemy as sa

    from include.monitoring import store

    table = store.monitor_runs
    with engine.connect() as conn:
        row = conn.execute(sa.select(table.c.status, table.c.status_reason).where(
            table.c.model == model, table.c.window_start == window.start)).one_or_none()
    return (row.status, row.status_reason) if row else None


def summary_line(findings: list[Finding], status: tuple[str, str] | None) -> str:
    """`CRITICAL 2: drift psi income 0.83, ... | WARNING 1: ...`, or NO_FINDINGS, within NOTE_LIMIT: fewer
    findings are named when they do not fit, the counts always stay."""
    for shown in range(SHOWN_PER_SEVERITY, -1, -1):
        line = _line(findings, status, shown)
        if len(line) <= NOTE_LIMIT:
            return line
    return line[:NOTE_LIMIT - 1] + "…"  # a status reason alone longer than a note


def _line(findings: list[Finding], status: tuple[str, str] | None, shown: int) -> str:
    parts = []
    if status is not None and status[0] != "ok":
        parts.append(f"run {status[0]}{': ' + status[1] if status[1] else ''}")
    for severity in FLAGGED:
        of_severity = [f.label() for f in findings if f.severity == severity]
        if of_severity:
            more = len(of_severity) - shown
            named = ", ".join(of_severity[:shown])
            rest = f"+{more} more" if more > 0 else ""
            parts.append(f"{severity} {len(of_severity)}: {', '.join(p for p in (named, rest) if p)}")
    return " | ".join(parts) or NO_FINDINGS


def window_summary(engine: Any, model: str, window: Window) -> str:
    from include.monitoring import store

    store.create_tables(engine)
    return summary_line(window_findings(engine, model, window), window_status(engine, model, window))
