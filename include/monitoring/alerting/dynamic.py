"""Dynamic thresholds: a metric judged against its own recent history, mean +- k x std over the last N windows,
for metrics without a natural fixed tier (a latency, a mean score, a volume that trends). Configured per
"<kind>:<metric>" in alerts.dynamic; the tier a row already has from fixed thresholds is kept when higher."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence

import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting import policy
from include.monitoring.config import MonitorConfig
from include.monitoring.types import MetricRow


def apply_dynamic(conn: sa.Connection, config: MonitorConfig, rows: Sequence[MetricRow]) -> list[MetricRow]:
    """`rows` with the severity their own history gives, where a dynamic threshold is configured."""
    return [_judged(conn, config, row) if f"{row.kind.value}:{row.metric}" in config.alerts.dynamic else row
            for row in rows]


def _judged(conn: sa.Connection, config: MonitorConfig, row: MetricRow) -> MetricRow:
    rule = config.alerts.dynamic[f"{row.kind.value}:{row.metric}"]
    if row.value is None:
        return row
    table = store.metric_values
    history = [value for (value,) in conn.execute(
        sa.select(table.c.value).where(
            table.c.model == config.model, table.c.kind == row.kind.value, table.c.metric == row.metric,
            table.c.column_name == row.column, table.c.slice_key == row.slice_key, table.c.slice_value == row.slice_value,
            table.c.window_start < row.window.start, table.c.value.is_not(None))
        .order_by(table.c.window_start.desc()).limit(rule.windows))]
    details = {**row.details, "dynamic": {"windows": len(history), "k_warning": rule.k_warning,
                                          "k_critical": rule.k_critical}}
    if len(history) < rule.min_windows:
        details["dynamic"]["skipped"] = f"{len(history)} earlier windows, fewer than min_windows={rule.min_windows}"
        return dataclasses.replace(row, details=details)
    mean, std = statistics.fmean(history), statistics.stdev(history)
    details["dynamic"].update(mean=mean, std=std)
    if std == 0:
        return dataclasses.replace(row, details=details)
    z = abs(row.value - mean) / std
    severity = policy.dynamic_severity(z, rule.k_warning, rule.k_critical)
    details["dynamic"]["z"] = z
    return dataclasses.replace(row, severity=max(row.severity, severity), details=details)
