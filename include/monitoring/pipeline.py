"""The steps of one window, callable without Airflow (the DAG tasks, the CLI and the tests call these).

    observe_window      rows of the window -> validation results, then observe_frame: quality rows, column
                        profiles, the estimate, status
    compute_drift       profiles vs the reference profile -> drift rows (direction applied in the policy)
    compute_performance labels matured since the window closed -> performance rows for older windows
    write_window        everything above -> metric store, alert state and outbox, in one transaction

This module orchestrates; the work is done where it belongs: validation results in validation/results.py, the
window's profiles in window_profiles.py, drift rows in drift/engine.py, re-scoring in performance/rescoring.py, the
alert lifecycle in alerting/lifecycle.py. The outbox is delivered by alerting/delivery.py (the send_notifications task).

Raw rows are touched once, in `observe_window`; everything after works on profiles and small results,
which is why they can travel between Airflow tasks as XCom. When warehouse.pushdown applies, the profiles are counted
in the warehouse over every row of the window (warehouse_profiles.py) and only a sample of rows is read, for the
checks that need rows (validation, serving, estimated performance).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from include.monitoring import operational, store, warehouse
from include.monitoring.alerting.digest import queue_digest
from include.monitoring.alerting.dynamic import apply_dynamic
from include.monitoring.alerting.lifecycle import Transition, apply_alerts
from include.monitoring.config import MonitorConfig, Silence
from include.monitoring.config.expectations import custom_suite_path, load_custom_suite
from include.monitoring.drift.engine import compute_drift
from include.monitoring.errors import MissingColumnsError, MissingTableError
from include.monitoring.observation import Observation
from include.monitoring.performance import labels, rescoring
from include.monitoring.profile_types import ColumnCounts, ReferenceProfile, SliceProfiles
from include.monitoring.types import MetricKind, MetricRow, RunStatus, Severity, Window
from include.monitoring.validation.records import ValidationResult
from include.monitoring.validation.results import (
    TABLE_CHECKS,
    blocking_reason,
    carried,
    counting_window,
    pipeline_checks,
    quality_rows,
    validation_frame,
    with_hints,
)
from include.monitoring.validation.run import validate_frame
from include.monitoring.validation.suite import expectation_specs
from include.monitoring.warehouse import split_by_window
from include.monitoring.warehouse_profiles import NotPushed, PushedProfiles, pushed_profiles
from include.monitoring.window_profiles import slice_profiles, window_profiles

log = logging.getLogger(__name__)


def observe_window(config: MonitorConfig, reference_id: str, reference: ReferenceProfile, warehouse_engine: sa.Engine,
                   window: Window, store_engine: sa.Engine | None = None) -> Observation:
    """`store_engine`: where the table-wide checks of the window's day are read from when the day's first window
    counted them (validation/results.py `counting_window`); without it, the window counts them itself."""
    carried_checks = _carried_table_checks(config, store_engine, window)
    with warehouse.reflected_once():
        return _observe_window(config, reference_id, reference, warehouse_engine, window, carried_checks)


def _carried_table_checks(config: MonitorConfig, store_engine: sa.Engine | None,
                          window: Window) -> list[ValidationResult] | None:
    """The table-wide check results the day's first window stored, restated for `window`; None when `window` counts
    them: it is the day's first, or that window has no completed run (a first run mid-day, a backfill out of order)."""
    counted_in = counting_window(window)
    if store_engine is None or counted_in == window:
        return None
    stored = store.completed_validations(store_engine, config.model, counted_in, TABLE_CHECKS)
    return None if stored is None else carried(stored, counted_in)


def _observe_window(config: MonitorConfig, reference_id: str, reference: ReferenceProfile, warehouse_engine: sa.Engine,
                    window: Window, carried_checks: list[ValidationResult] | None) -> Observation:
    pushed = _pushed_profiles(config, reference, warehouse_engine, window)
    count_unplaced = carried_checks is None
    if pushed is None:
        rows = warehouse.fetch_window(warehouse_engine, config, window, count_unplaced)
    else:
        rows = warehouse.fetch_window_sample(warehouse_engine, config, window, pushed.row_count, count_unplaced)
    frame, outside = split_by_window(config, rows.frame, window)
    # Pushed down, the profiles hold every row the warehouse placed in the window: that is the window's count (rows of
    # the sample pandas places elsewhere are still reported by the timestamp_outside_window check).
    row_count = rows.row_count - len(outside) if pushed is None else pushed.row_count
    timestamps = warehouse.instants(frame[config.warehouse.timestamp_column], config.warehouse.timestamp_unit) \
        if len(frame) else None
    operational_rows = operational.freshness_rows(config, warehouse_engine, window, row_count,
                                                  timestamps.max().to_pydatetime() if timestamps is not None else None)
    checks = [*pipeline_checks(config, rows, outside, window), *(carried_checks or [])]
    if row_count == 0:
        return Observation(window, RunStatus.NO_DATA, "no predictions in the window", 0, 0, reference_id,
                           validations=checks, metrics=[*operational_rows, *quality_rows(checks, window, 0)])
    frame = validation_frame(config, frame)
    specs = [*expectation_specs(config, reference, frame), *load_custom_suite(custom_suite_path(config))]
    validations = [*with_hints(validate_frame(frame, specs, suite_name=f"{config.model}_window"), rows), *checks]
    return observe_frame(config, reference_id, reference, window, frame, row_count, validations, operational_rows,
                         pushed)


def _pushed_profiles(config: MonitorConfig, reference: ReferenceProfile, warehouse_engine: sa.Engine,
                     window: Window) -> PushedProfiles | None:
    """The window's profiles counted in the warehouse when warehouse.pushdown applies ("on", or "auto" and more rows
    than max_rows_per_window), else None: the rows are read and profiled in memory."""
    w = config.warehouse
    if w.pushdown == "off" or (
            w.pushdown == "auto" and warehouse.count_windows(warehouse_engine, config, [window])[0] <= w.max_rows_per_window):
        return None
    result = pushed_profiles(warehouse_engine, config, reference, window)
    if isinstance(result, NotPushed):
        log.info("%s %s: profiles counted from the rows, not in the warehouse: %s", config.model, window, result.reason)
        return None
    return result


def observe_frame(config: MonitorConfig, reference_id: str, reference: ReferenceProfile, window: Window,
                  frame: pd.DataFrame, row_count: int, validations: list[ValidationResult],
                  operational_rows: list[MetricRow], pushed: PushedProfiles | None = None) -> Observation:
    """What a window's validated rows show, given their validation results: the status, quality rows, profiles,
    estimated performance and serving rows. Reads nothing (bench/false_pages.py calls it without a warehouse).
    `pushed`: the profiles counted in the warehouse over all of the window's rows, when `frame` is a sample of them."""
    quality = quality_rows(validations, window, len(frame))
    status, reason = RunStatus.OK, ""
    blocking = [r for r in validations if not r.success and r.check_name in config.validation.blocking]
    if blocking:
        status, reason = RunStatus.BLOCKED, "; ".join(map(blocking_reason, blocking))
    elif row_count < config.min_rows:
        status, reason = RunStatus.INSUFFICIENT_DATA, f"{row_count} rows, fewer than min_rows={config.min_rows}"
    column_profiles: dict[str, ColumnCounts] = {}
    by_slice: SliceProfiles = {}
    estimated: list[MetricRow] = []
    if status is not RunStatus.BLOCKED:
        column_profiles = window_profiles(config, reference, frame) if pushed is None else pushed.profiles
        by_slice = slice_profiles(config, reference, frame) if pushed is None else pushed.slices
        if config.warehouse.score_column in frame.columns:
            served = frame.get(config.warehouse.prediction_column) if config.warehouse.prediction_column else None
            estimated = rescoring.estimated_performance(config, reference, frame[config.warehouse.score_column], window,
                                                        served)
    return Observation(window, status, reason, row_count, len(frame), reference_id, profiles=column_profiles,
                       validations=validations, slices=by_slice,
                       metrics=[*operational_rows, *operational.serving_rows(config, frame, window), *quality, *estimated])


def compute_performance(config: MonitorConfig, reference: ReferenceProfile, warehouse_engine: sa.Engine,
                        store_engine: sa.Engine, window: Window) -> list[MetricRow]:
    """Realized performance of every recent window whose labels changed, as known at this window's end
    (performance/rescoring.py), and the labels of this window that match no prediction."""
    try:
        with warehouse.reflected_once():  # the same tables, asked for by each query below
            arrivals = warehouse.label_arrivals(warehouse_engine, config, window)  # one match, read by three steps below
            label_checks = [labels.unmatched_labels_row(config, arrivals.arrived, arrivals.unmatched_rows,
                                                        arrivals.examples, window),
                            labels.label_values_row(config, warehouse.arrived_label_values(warehouse_engine, config, window),
                                                    window),
                            labels.duplicate_labels_row(config, warehouse.repeated_labels(
                                warehouse_engine, config, window, min(arrivals.windows, default=window.start)), window)]
            return [*label_checks, *rescoring.rescore(config, reference, warehouse_engine, store_engine, window, arrivals)]
    except (MissingColumnsError, MissingTableError) as exc:  # a broken contract is recorded; no answer still fails
        return [MetricRow(MetricKind.PERFORMANCE, "label_coverage", None, window, details={"skipped": str(exc)})]


def write_window(config: MonitorConfig, store_engine: sa.Engine, observation: Observation,
                 metrics: list[MetricRow], dag_run_id: str, started_at: datetime, now: datetime,
                 backfill: bool = False, silences: Sequence[Silence] = ()) -> list[Transition]:
    """One transaction: the run record, metrics, validation results, profiles, alert state and outbox."""
    run = store.RunRecord(status=observation.status, status_reason=observation.reason,
                          row_count=observation.row_count, sampled_rows=observation.sampled_rows,
                          reference_id=observation.reference_id, dag_run_id=dag_run_id,
                          started_at=started_at, finished_at=now)
    store.create_tables(store_engine)
    with store_engine.begin() as conn:
        # First: runs of other windows re-score the same older windows and update the same alerts.
        store.lock_model(conn, config.model)
        all_rows = apply_dynamic(conn, config, [*observation.metrics, *metrics, run_failed_row(observation.window)])
        store.replace_window(conn, config.model, observation.window, run, all_rows, observation.validations,
                             {column: profile.to_json() for column, profile in observation.profiles.items()})
        transitions = apply_alerts(conn, config, alert_inputs(config, all_rows), now,
                                   run_window=observation.window, backfill=backfill, silences=silences)
        if not backfill:
            queue_digest(conn, config, observation.window, now)
        return transitions


def alert_inputs(config: MonitorConfig, rows: list[MetricRow]) -> list[MetricRow]:
    """The rows a run judges alerts by: the window's own rows that hold a value or a verdict, and per performance
    metric and slice the newest window its labels made eligible (rescoring.alerting_rows)."""
    current = [r for r in rows if r.kind is not MetricKind.PERFORMANCE and (r.value is not None or r.severity > Severity.OK)]
    return [*current, *rescoring.alerting_rows(config, rows)]


RUN_FAILED = "run_failed"


def run_failed_row(window: Window, error: str = "") -> MetricRow:
    """1 with CRITICAL when a task of the window's run failed for good, 0 in every run that completed (which
    resolves the alert)."""
    return MetricRow(MetricKind.OPERATIONAL, RUN_FAILED, 1.0 if error else 0.0, window,
                     severity=Severity.CRITICAL if error else Severity.OK, details={"error": error} if error else {})


def record_failure(config: MonitorConfig, store_engine: sa.Engine, window: Window, error: str, dag_run_id: str,
                   now: datetime) -> list[Transition]:
    """After a task failed its last try: the window's status `failed` with the error, and a CRITICAL alert, in one
    transaction. A window an earlier run completed keeps its results; only the alert says this run failed."""
    row = run_failed_row(window, error)
    store.create_tables(store_engine)
    with store_engine.begin() as conn:
        store.lock_model(conn, config.model)  # the window's run record and its alert are shared with running writes
        store.record_failed_run(conn, config.model, window, row, dag_run_id, now)
        return apply_alerts(conn, config, [row], now, run_window=window)


def run_window(config: MonitorConfig, warehouse_engine: sa.Engine, store_engine: sa.Engine, window: Window,
               now: datetime, run_id: str = "", backfill: bool = False) -> tuple[Observation, list[Transition]]:
    """Every step for one window, in one process (the CLI's replay and the tests)."""
    from include.monitoring.reference import load_reference

    reference_id, profile = load_reference(config, store_engine, window.start)
    observation = observe_window(config, reference_id, profile, warehouse_engine, window, store_engine)
    rows = [*compute_drift(config, profile, observation, store.SliceCalibrations(store_engine)),
            *compute_performance(config, profile, warehouse_engine, store_engine, window)]
    transitions = write_window(config, store_engine, observation, rows, run_id, started_at=now, now=now,
                               backfill=backfill)
    return observation, transitions


def windows_between(start: datetime, end: datetime, width: timedelta) -> list[Window]:
    """The consecutive windows of `width` that start in [start, end)."""
    windows = []
    moment = start
    while moment < end:
        windows.append(Window(moment, moment + width))
        moment += width
    return windows
