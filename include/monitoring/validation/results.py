"""Validation results as the run records them: the checks GX does not see (timestamps, extra columns), the frame
GX validates, and the quality rows (one per result, at the expectation's severity, and a summary)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from include.monitoring import profiles
from include.monitoring.alerting import policy
from include.monitoring.config import MonitorConfig
from include.monitoring.types import MetricKind, MetricRow, Severity, Window
from include.monitoring.validation.records import CheckSeverity, ValidationResult
from include.monitoring.validation.suite import FINITE_SUFFIX, RAW_SUFFIX

if TYPE_CHECKING:
    from include.monitoring.warehouse import WindowRows




def pipeline_checks(config: MonitorConfig, rows: WindowRows, outside: pd.DataFrame,
                    window: Window) -> list[ValidationResult]:
    """The checks GX does not see: timestamps outside the window (they were dropped from it) and extra columns."""
    records = []
    if len(outside):
        ts = config.warehouse.timestamp_column
        records.append(_pipeline_record(
            "timestamp_outside_window", "timestamps read as UTC inside the window", ts, CheckSeverity.CRITICAL,
            f"{len(outside)} of {len(rows.frame)} rows have timestamps outside {window} (or none that parses); "
            "they were left out of this window. Store UTC instants (timestamptz) or naive UTC",
            100 * len(outside) / len(rows.frame), outside[ts].head(5).tolist()))
    if rows.unplaced:
        ts = config.warehouse.timestamp_column
        records.append(_pipeline_record(
            "timestamp_unparseable", "every timestamp a time (ISO-8601, or epoch numbers with warehouse.timestamp_unit)",
            ts, CheckSeverity.CRITICAL,
            f"{rows.unplaced} rows of {config.warehouse.predictions_table!r} have a timestamp that is null or not a "
            "time, so no window holds them (they are in no window's counts, drift or performance)",
            None, list(rows.unplaced_examples)))
    if rows.extra_columns:
        records.append(_pipeline_record(
            "extra_columns", "no columns beyond those the monitor file names", "", CheckSeverity.INFO,
            f"table {config.warehouse.predictions_table!r} has columns the monitor file does not name (not monitored): "
            f"{list(rows.extra_columns)}", None, list(rows.extra_columns)))
    return records


# Checks of the whole predictions table, not of the window's rows (see `counting_window`).
TABLE_CHECKS = ("timestamp_unparseable",)


def counting_window(window: Window) -> Window:
    """The window that counts the TABLE_CHECKS for `window`: the first window of its UTC day on the same grid (the
    window itself for daily windows). Counting the rows no window can place reads every timestamp of the table, which
    grows with the history (4.5 s of a 90-day SQLite warehouse's hourly run, bench/scale_bench.py), so it is done once
    a day and the day's other windows restate that count (`carried`)."""
    day = window.start.replace(hour=0, minute=0, second=0, microsecond=0)
    first = window.start - (window.start - day) // window.width * window.width
    return Window(first, first + window.width)


def carried(results: list[ValidationResult], counted_in: Window) -> list[ValidationResult]:
    """The TABLE_CHECKS results stored by the day's counting window, restated by a later window of the day."""
    return [dataclasses.replace(result, observed=f"{result.observed} (counted in window {counted_in}: the whole table "
                                                 "is counted once a day, in the day's first window)")
            for result in results]


def _pipeline_record(check: str, expected: str, column: str, severity: CheckSeverity, observed: str,
                     unexpected_pct: float | None, examples: list[Any]) -> ValidationResult:
    return ValidationResult(expectation=check, column_name=column, check_name=check, severity=severity, success=False,
                            observed=observed, unexpected_pct=unexpected_pct,
                            examples=tuple(str(value) for value in examples[:5]), expected=expected)


def with_hints(records: list[ValidationResult], rows: WindowRows) -> list[ValidationResult]:
    """A missing column's result names the table's unmonitored columns: a rename shows up as one missing and one extra."""
    return [dataclasses.replace(record, observed=f"column {record.column_name!r} is not in the table; columns the "
                                                 f"monitor file does not name: {list(rows.extra_columns)} (renamed?)")
            if record.check_name == "column_missing" and not record.success else record for record in records]


def blocking_reason(record: ValidationResult) -> str:
    return (f"blocking check {record.check_name} ({record.expectation}) failed on column "
            f"{record.column_name!r}: {record.observed if record.observed is not None else 'failed'}"
            + (f"; examples: {', '.join(record.examples)}" if record.examples else ""))


def validation_frame(config: MonitorConfig, raw: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns parsed to float; where they arrived as text, the text is kept beside as `<col>__raw`.
    Categorical columns become their category names (2 and 2.0 are one category), as the profiles count them."""
    frame = raw.copy()
    for column in (*config.features.numeric, config.warehouse.score_column):
        if column in frame.columns and frame[column].dtype.kind not in "biuf":
            frame[f"{column}{RAW_SUFFIX}"] = frame[column]
            frame[column] = profiles.to_numbers(frame[column])[0]
        if column in frame.columns and np.isinf(frame[column].to_numpy(dtype="float64")).any():
            frame[f"{column}{FINITE_SUFFIX}"] = frame[column].replace([np.inf, -np.inf], np.nan)
    for column in config.features.categorical:
        if column in frame.columns:
            frame[column] = profiles.category_names(frame[column]).reindex(frame.index).astype(object)
    return frame


def quality_rows(validations: list[ValidationResult], window: Window, n: int) -> list[MetricRow]:
    """One row per validation result (the unexpected share, at the expectation's severity when it failed),
    and a summary: how many expectations ran and failed, per severity."""
    rows = [_quality_row(record, window, n) for record in validations]
    failed = [r for r in validations if not r.success]
    by_severity = {name: sum(r.severity == name for r in failed) for name in policy.CHECK_SEVERITY}
    rows.append(MetricRow(MetricKind.QUALITY, "failed_expectations", float(len(failed)), window, n=len(validations),
                          details={"evaluated": len(validations), "failed_by_severity": by_severity}))
    return rows


def _quality_row(record: ValidationResult, window: Window, n: int) -> MetricRow:
    severity = policy.check_severity(record.check_name, record.severity, not record.success, record.unexpected_pct, n)
    failed = severity > Severity.OK
    share = record.unexpected_pct / 100 if record.unexpected_pct is not None else (1.0 if failed else 0.0)
    return MetricRow(
        MetricKind.QUALITY, record.check_name, share, window, column=record.column_name, n=n,
        severity=severity,
        details={"expectation": record.expectation, "expected": record.expected,
                 "observed": record.observed if record.observed is not None else "",
                 "examples": list(record.examples)},
    )
