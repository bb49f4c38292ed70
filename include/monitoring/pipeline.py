"""The steps of one window, callable without Airflow (the DAG tasks, the CLI and the tests call these).

    observe_window      rows of the window -> validation results, then observe_frame: quality rows, column
                        profiles, the estimate, status
    compute_drift       profiles vs the reference profile -> drift rows (direction applied in the policy)
    compute_performance labels matured since the window closed -> performance rows for older windows
    write_window        everything above -> metric store, alert state and outbox, in one transaction

The outbox is delivered by alerting/delivery.py (the send_notifications task).

Raw rows are touched once, in `observe_window`; everything after works on profiles and small results,
which is why they can travel between Airflow tasks as XCom.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from include.monitoring import operational, profiles, store, warehouse
from include.monitoring.alerting import policy
from include.monitoring.alerting.digest import queue_digest
from include.monitoring.alerting.dynamic import apply_dynamic
from include.monitoring.alerting.lifecycle import Transition, apply_alerts
from include.monitoring.config import MonitorConfig, Silence, Tiers
from include.monitoring.drift import get_method
from include.monitoring.drift.base import DriftMethod, DriftScore, ScoreKind
from include.monitoring.drift.scoring import band, score_column, skip_reason
from include.monitoring.errors import MissingColumnsError, MissingTableError
from include.monitoring.performance import labels, rescoring
from include.monitoring.types import MetricKind, MetricRow, RunStatus, Severity, Window
from include.monitoring.validation.run import validate_frame
from include.monitoring.validation.suite import FINITE_SUFFIX, RAW_SUFFIX, custom_suite_path, expectation_specs, load_custom_suite

# Fewer rows than this in never-seen categories do not alert, whatever their share of a tiny window.
NEW_CATEGORY_MIN_ROWS = 3
# From this many rows a window's columns are profiled in parallel threads; below it threads cost more than they save.
PARALLEL_PROFILE_ROWS = 50_000
# The alert rule of a feature's own drift score: one alert per column, whichever method scored the window
# ("auto" switches between a test and a distance with the window size).
FEATURE_DRIFT = "feature_drift"
GX_SEVERITY = {"critical": Severity.CRITICAL, "warning": Severity.WARNING, "info": Severity.INFO}


@dataclass(frozen=True, slots=True)
class Observation:
    """What one window's rows showed; JSON-safe through `to_record` for XCom."""

    window: Window
    status: RunStatus
    reason: str
    row_count: int
    sampled_rows: int
    reference_id: str
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    validations: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[MetricRow] = field(default_factory=list)
    slices: dict[str, Any] = field(default_factory=dict)  # {slice column: {value: {feature: profile}}}

    def to_record(self) -> dict[str, Any]:
        return {"window_start": self.window.start.isoformat(), "window_end": self.window.end.isoformat(),
                "status": self.status.value, "reason": self.reason, "row_count": self.row_count,
                "sampled_rows": self.sampled_rows, "reference_id": self.reference_id, "profiles": self.profiles,
                "validations": self.validations, "metrics": [row.to_record() for row in self.metrics],
                "slices": self.slices}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Observation:
        return cls(window=Window.parse(record["window_start"], record["window_end"]),
                   status=RunStatus(record["status"]), reason=record["reason"], row_count=record["row_count"],
                   sampled_rows=record["sampled_rows"], reference_id=record["reference_id"],
                   profiles=record["profiles"], validations=record["validations"],
                   metrics=[MetricRow.from_record(r) for r in record["metrics"]], slices=record.get("slices", {}))


def observe_window(config: MonitorConfig, reference_id: str, reference: dict[str, Any], warehouse_engine: sa.Engine,
                   window: Window) -> Observation:
    rows = warehouse.fetch_window(warehouse_engine, config, window)
    frame, outside = split_by_window(config, rows.frame, window)
    row_count = rows.row_count - len(outside)
    timestamps = warehouse.instants(frame[config.warehouse.timestamp_column], config.warehouse.timestamp_unit) \
        if len(frame) else None
    operational_rows = operational.freshness_rows(config, warehouse_engine, window, row_count,
                                                  timestamps.max().to_pydatetime() if timestamps is not None else None)
    checks = pipeline_checks(config, rows, outside, window)
    if row_count == 0:
        return Observation(window, RunStatus.NO_DATA, "no predictions in the window", 0, 0, reference_id,
                           validations=checks, metrics=[*operational_rows, *quality_rows(checks, window, 0)])
    frame = validation_frame(config, frame)
    specs = [*expectation_specs(config, reference, frame), *load_custom_suite(custom_suite_path(config))]
    validations = [*_with_hints(validate_frame(frame, specs, suite_name=f"{config.model}_window"), rows), *checks]
    return observe_frame(config, reference_id, reference, window, frame, row_count, validations, operational_rows)


def observe_frame(config: MonitorConfig, reference_id: str, reference: dict[str, Any], window: Window,
                  frame: pd.DataFrame, row_count: int, validations: list[dict[str, Any]],
                  operational_rows: list[MetricRow]) -> Observation:
    """What a window's validated rows show, given their validation results: the status, quality rows, profiles,
    estimated performance and serving rows. Reads nothing (bench/false_pages.py calls it without a warehouse)."""
    quality = quality_rows(validations, window, len(frame))
    status, reason = RunStatus.OK, ""
    blocking = [r for r in validations if not r["success"] and r["check_name"] in config.validation.blocking]
    if blocking:
        status, reason = RunStatus.BLOCKED, "; ".join(map(_blocking_reason, blocking))
    elif row_count < config.min_rows:
        status, reason = RunStatus.INSUFFICIENT_DATA, f"{row_count} rows, fewer than min_rows={config.min_rows}"
    column_profiles, by_slice, estimated = {}, {}, []
    if status is not RunStatus.BLOCKED:
        column_profiles = window_profiles(config, reference, frame)
        by_slice = slice_profiles(config, reference, frame)
        if config.warehouse.score_column in frame.columns:
            served = frame.get(config.warehouse.prediction_column) if config.warehouse.prediction_column else None
            estimated = rescoring.estimated_performance(config, reference, frame[config.warehouse.score_column], window,
                                                        served)
    return Observation(window, status, reason, row_count, len(frame), reference_id, profiles=column_profiles,
                       validations=validations, slices=by_slice,
                       metrics=[*operational_rows, *operational.serving_rows(config, frame, window), *quality, *estimated])


def split_by_window(config: MonitorConfig, frame: pd.DataFrame, window: Window) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows whose timestamps, read as UTC, fall in the window, and the others. The query already selects
    the window, so the others exist only when the database compared something else than UTC instants: text
    timestamps with an offset ("...+02:00"), or values it could not compare at all."""
    column = config.warehouse.timestamp_column
    if frame.empty:
        return frame, frame
    moments = warehouse.instants(frame[column], config.warehouse.timestamp_unit)
    inside = (moments >= pd.Timestamp(window.start)) & (moments < pd.Timestamp(window.end))
    return frame[inside].reset_index(drop=True), frame[~inside]


def pipeline_checks(config: MonitorConfig, rows: warehouse.WindowRows, outside: pd.DataFrame,
                    window: Window) -> list[dict[str, Any]]:
    """The checks GX does not see: timestamps outside the window (they were dropped from it) and extra columns."""
    records = []
    if len(outside):
        ts = config.warehouse.timestamp_column
        records.append(_pipeline_record(
            "timestamp_outside_window", "timestamps read as UTC inside the window", ts, "critical",
            f"{len(outside)} of {len(rows.frame)} rows have timestamps outside {window} (or none that parses); "
            "they were left out of this window. Store UTC instants (timestamptz) or naive UTC",
            100 * len(outside) / len(rows.frame), outside[ts].head(5).tolist()))
    if rows.unplaced:
        ts = config.warehouse.timestamp_column
        records.append(_pipeline_record(
            "timestamp_unparseable", "every timestamp a time (ISO-8601, or epoch numbers with warehouse.timestamp_unit)",
            ts, "critical",
            f"{rows.unplaced} rows of {config.warehouse.predictions_table!r} have a timestamp that is null or not a "
            "time, so no window holds them (they are in no window's counts, drift or performance)",
            None, list(rows.unplaced_examples)))
    if rows.extra_columns:
        records.append(_pipeline_record(
            "extra_columns", "no columns beyond those the monitor file names", "", "info",
            f"table {config.warehouse.predictions_table!r} has columns the monitor file does not name (not monitored): "
            f"{list(rows.extra_columns)}", None, list(rows.extra_columns)))
    return records


def _pipeline_record(check: str, expected: str, column: str, severity: str, observed: str,
                     unexpected_pct: float | None, examples: list[Any]) -> dict[str, Any]:
    return {"expectation": check, "column_name": column, "check_name": check, "severity": severity,
            "success": False, "observed": json.dumps(observed), "unexpected_pct": unexpected_pct,
            "examples": json.dumps([str(value) for value in examples[:5]]), "expected": expected}


def _with_hints(records: list[dict[str, Any]], rows: warehouse.WindowRows) -> list[dict[str, Any]]:
    """A missing column's result names the table's unmonitored columns: a rename shows up as one missing and one extra."""
    for record in records:
        if record["check_name"] == "column_missing" and not record["success"]:
            record["observed"] = json.dumps(f"column {record['column_name']!r} is not in the table; columns the monitor "
                                            f"file does not name: {list(rows.extra_columns)} (renamed?)")
    return records


def _blocking_reason(record: dict[str, Any]) -> str:
    examples = json.loads(record["examples"])
    return (f"blocking check {record['check_name']} ({record['expectation']}) failed on column "
            f"{record['column_name']!r}: {json.loads(record['observed']) if record['observed'] else 'failed'}"
            + (f"; examples: {', '.join(examples)}" if examples else ""))


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


def quality_rows(validations: list[dict[str, Any]], window: Window, n: int) -> list[MetricRow]:
    """One row per validation result (the unexpected share, at the expectation's severity when it failed),
    and a summary: how many expectations ran and failed, per severity."""
    rows = [_quality_row(record, window, n) for record in validations]
    failed = [r for r in validations if not r["success"]]
    by_severity = {name: sum(r["severity"] == name for r in failed) for name in GX_SEVERITY}
    rows.append(MetricRow(MetricKind.QUALITY, "failed_expectations", float(len(failed)), window, n=len(validations),
                          details={"evaluated": len(validations), "failed_by_severity": by_severity}))
    return rows


# A range check fails on a share of rows; in a 30-row night hour one legitimate outlier is 3 %. Like unseen
# categories, it alerts only from this many offending rows.
MIN_OFFENDING_ROWS = 3


def _quality_row(record: dict[str, Any], window: Window, n: int) -> MetricRow:
    failed = not record["success"]
    if failed and record["check_name"] == "out_of_range" and record["unexpected_pct"] is not None \
            and record["unexpected_pct"] / 100 * n < MIN_OFFENDING_ROWS - 0.5:
        failed = False  # recorded in validation_results as GX judged it; no alert for one or two rows
    share = record["unexpected_pct"] / 100 if record["unexpected_pct"] is not None else (1.0 if failed else 0.0)
    return MetricRow(
        MetricKind.QUALITY, record["check_name"], share, window, column=record["column_name"], n=n,
        severity=GX_SEVERITY.get(record["severity"], Severity.CRITICAL) if failed else Severity.OK,
        details={"expectation": record["expectation"], "expected": record["expected"],
                 "observed": json.loads(record["observed"]) if record["observed"] else "",
                 "examples": json.loads(record["examples"])},
    )


def window_profiles(config: MonitorConfig, reference: dict[str, Any], frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each column's counts in the reference's frozen bins, grid and categories (and the score's outputs)."""
    jobs: dict[str, Callable[[], dict[str, Any]]] = {}
    for column in (*config.features.numeric, config.warehouse.score_column):
        if column in frame.columns:
            source = frame[f"{column}{RAW_SUFFIX}"] if f"{column}{RAW_SUFFIX}" in frame.columns else frame[column]
            jobs[column] = functools.partial(profiles.profile_in_bins, source, reference["columns"][column])
    for column in config.features.categorical:
        if column in frame.columns:
            jobs[column] = functools.partial(profiles.profile_in_bins, frame[column], reference["columns"][column])
    result = _run_jobs(jobs, parallel=len(frame) >= PARALLEL_PROFILE_ROWS)
    score = config.warehouse.score_column
    if score in result and config.task == "binary_classification":
        result[score]["output"] = profiles.output_summary(frame[score], config.performance.threshold)
    return result


def slice_profiles(config: MonitorConfig, reference: dict[str, Any], frame: pd.DataFrame) -> dict[str, Any]:
    """Per slice value the reference also has (see reference.fit_slice_profiles) and with at least
    drift.min_slice_rows (and min_rows) rows in the window: each feature counted in the reference's bins.
    {slice column: {value: {feature: profile}}}."""
    result: dict[str, Any] = {}
    for column, by_value in reference.get("slice_profiles", {}).items():
        if column not in frame.columns:
            continue
        names = frame[column].astype("string")
        for value, features in by_value.items():
            part = frame[names == value]
            if len(part) < max(config.min_rows, config.drift.min_slice_rows):
                continue
            result.setdefault(column, {})[value] = {
                feature: profiles.profile_in_bins(
                    part[f"{feature}{RAW_SUFFIX}"] if f"{feature}{RAW_SUFFIX}" in part.columns else part[feature],
                    reference["columns"][feature])
                for feature in features if feature in part.columns}
    return result


def _run_jobs(jobs: dict[str, Callable[[], dict[str, Any]]], parallel: bool) -> dict[str, dict[str, Any]]:
    """Run the column jobs, in threads on every core when `parallel`: numpy's binary search and counting
    release the GIL, so a large window's columns are profiled side by side."""
    workers = min(os.cpu_count() or 1, len(jobs))
    if not parallel or workers < 2:
        return {column: job() for column, job in jobs.items()}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="profile") as pool:
        return dict(zip(jobs, pool.map(lambda job: job(), jobs.values()), strict=True))


def compute_drift(config: MonitorConfig, reference: dict[str, Any], observation: Observation) -> list[MetricRow]:
    """Drift of every profiled column and of the model's output against the reference. All p-values of the
    window (each p-value feature and the positive share) are corrected together, then for the family's share of the
    window's false-page budget (policy.BUDGET_SHARES), so that an undrifted window alerts with at most its share of
    the tier's probability however many features it has."""
    if observation.status is not RunStatus.OK:
        return []
    window = observation.window
    scored: list[tuple[str, DriftMethod, DriftScore]] = []
    rows: list[MetricRow] = []
    levels: list[MetricRow] = []  # one drift_level row per feature_drift row, after the verdicts they restate
    for column, profile in observation.profiles.items():
        method = get_method(config.drift_method(column, observation.row_count))
        ref = reference["columns"][column]
        reason = _window_skip_reason(profile) or skip_reason(method, ref)
        if reason:
            skipped = MetricRow(MetricKind.DRIFT, method.name, None, window, column=column, n=profile["n"],
                                details={"skipped": reason, "alert_rule": FEATURE_DRIFT})
            rows.append(skipped)
            levels.append(drift_level_row(skipped, method.score_kind, config.drift_tiers(column, method.name), None))
            continue
        scored.append((column, method, score_column(method, ref, profile, config.drift.noise_quantile)))
    output = positive_share_test(config, reference, observation)
    tests = [s for _, m, s in scored if m.score_kind is ScoreKind.P_VALUE]
    if output and output[0].score_kind is ScoreKind.P_VALUE:
        tests.append(output[1])
    raw = [test.p_value for test in tests]
    corrected = iter(policy.spend(policy.correct_p_values(raw, config.drift.correction), "drift"))
    for column, method, score in scored:
        p_value = next(corrected) if method.score_kind is ScoreKind.P_VALUE else None
        rows.append(feature_drift_row(config, window, column, method, score, p_value, len(raw)))
        levels.append(drift_level_row(rows[-1], method.score_kind, config.drift_tiers(column, method.name), score.noise))
        if column in config.features.categorical:
            rows.append(new_category_row(config, column, observation.profiles[column], window))
    if output:
        rows += output_rows(config, reference, observation, output, next(corrected, None), len(raw))
    severities: dict[str, Severity] = {}
    for r in rows:
        if r.column and r.column != config.warehouse.score_column and r.value is not None:
            severities[r.column] = max(severities.get(r.column, Severity.OK), r.severity)
    if severities:
        drifted = sorted(column for column, severity in severities.items() if severity >= Severity.WARNING)
        rows.append(MetricRow(MetricKind.DRIFT, "drift_share", len(drifted) / len(severities), window,
                              n=len(severities), details={"drifted": drifted}))
    return [*rows, *levels, *slice_drift_rows(config, reference, observation)]


def drift_level_row(method_row: MetricRow, kind: ScoreKind, tiers: Tiers, noise: float | None) -> MetricRow:
    """A feature's drift on the unitless scale of `policy.drift_level` (0 no drift, 1 WARNING tier, 2 CRITICAL
    tier), beside the method row it restates (same window, column and slice; metric `drift_level`).

    The method row's `value` changes unit when `auto` switches method with the window size (a KS statistic at
    night, standard deviations of Wasserstein at the peak); this series does not, so a chart can follow it. It is
    a series, not a finding: severity OK, no alert of its own (the method row beside it carries the verdict and
    alerts); its tiers are its thresholds, 1 and 2, and the method row's verdict is kept in `details.severity`."""
    judged = method_row.p_value if kind is ScoreKind.P_VALUE else method_row.value
    details = {"method": method_row.metric, "score_kind": kind.value, "score": method_row.value,
               "p_value": method_row.p_value, "noise": noise, "tiers": [tiers.warning, tiers.critical],
               "severity": method_row.severity.name}
    if "skipped" in method_row.details:
        details["skipped"] = method_row.details["skipped"]
    return MetricRow(MetricKind.DRIFT, policy.DRIFT_LEVEL, policy.drift_level(kind, judged, tiers, noise),
                     method_row.window, column=method_row.column, slice_key=method_row.slice_key,
                     slice_value=method_row.slice_value, n=method_row.n, threshold_warning=1.0,
                     threshold_critical=2.0, details=details)


def slice_drift_rows(config: MonitorConfig, reference: dict[str, Any], observation: Observation) -> list[MetricRow]:
    """Each feature's drift within each slice (a model version, a customer segment) against the same slice of the
    reference, by the rule of the whole window: the method `drift_method` picks for the slice's own row count (`auto`:
    a test below auto_switch_rows, a distance from there) and the same tiers. A distance's noise band is resampled at
    run time from the slice's reference counts at the slice's size (no table is stored per slice; a slice that holds
    the whole window reads the column's stored table). The slices'
    p-values are corrected together (a family apart from the whole window's, whose power it would otherwise dilute),
    then for the slices' share of the window's false-page budget; distances are not p-values and need neither."""
    scored: list[tuple[str, str, str, DriftMethod, DriftScore]] = []
    for slice_key, by_value in observation.slices.items():
        for slice_value, features in by_value.items():
            for feature, profile in features.items():
                method = get_method(config.drift_method(feature, profile["n"]))
                whole = reference["columns"][feature]
                # A slice holding every row of the window (the only serving model version) is the window again: the
                # column's stored band serves it; any other slice's band is resampled from its own reference counts.
                restates = profile["n"] == observation.sampled_rows
                ref = {**whole, **reference["slice_profiles"][slice_key][slice_value][feature],
                       "calibration": whole.get("calibration", {}) if restates else {}}
                if _window_skip_reason(profile) or skip_reason(method, ref):
                    continue
                scored.append((slice_key, slice_value, feature, method,
                               score_column(method, ref, profile, config.drift.noise_quantile)))
    tests = [score.p_value for *_, method, score in scored if method.score_kind is ScoreKind.P_VALUE]
    corrected = iter(policy.spend(policy.correct_p_values(tests, config.drift.correction), "drift_slices"))
    rows, levels = [], []
    for slice_key, slice_value, feature, method, score in scored:
        p_value = next(corrected) if method.score_kind is ScoreKind.P_VALUE else None
        rows.append(feature_drift_row(config, observation.window, feature, method, score, p_value, len(tests),
                                      slice_key, slice_value))
        levels.append(drift_level_row(rows[-1], method.score_kind, config.drift_tiers(feature, method.name), score.noise))
    return [*rows, *levels]


def feature_drift_row(config: MonitorConfig, window: Window, column: str, method: DriftMethod, score: DriftScore,
                      p_value: float | None, tests: int, slice_key: str = "", slice_value: str = "") -> MetricRow:
    """A feature's drift (rule feature_drift) in the window or one of its slices: a test judged by its p-value after
    its family's correction and share of the budget (`p_value`; `tests` in the family), a distance by its tier
    above its noise band."""
    tiers = config.drift_tiers(column, method.name)
    details = {**score.details, "noise": score.noise, "score_kind": method.score_kind.value,
               "method_choice": config.configured_drift_method(column), "alert_rule": FEATURE_DRIFT}
    if p_value is not None:
        details.update({"raw_p_value": score.p_value, "correction": config.drift.correction,
                        "tests_in_slices" if slice_key else "tests_in_window": tests,
                        "budget_share": policy.BUDGET_SHARES["drift_slices" if slice_key else "drift"]})
    return MetricRow(MetricKind.DRIFT, method.name, score.value, window, column=column, slice_key=slice_key,
                     slice_value=slice_value, p_value=p_value, n=score.n, threshold_warning=tiers.warning,
                     threshold_critical=tiers.critical, details=details,
                     severity=policy.score_severity(method.score_kind, score.value if p_value is None else p_value,
                                                    tiers, score.noise))


def new_category_row(config: MonitorConfig, column: str, profile: dict[str, Any], window: Window) -> MetricRow:
    """The share of the window's non-null values in categories the reference never saw.

    The reference cannot produce such values, so there is no sampling noise to calibrate; but one or
    two odd values are a curiosity, not drift: NEW_CATEGORY_MIN_ROWS rows are needed before it alerts.
    """
    present = sum(profile["counts"]) + profile["unseen"]
    share = profile["unseen"] / present if present else None
    tiers = config.drift.new_category
    noise = (NEW_CATEGORY_MIN_ROWS - 1) / present if present else None
    return MetricRow(MetricKind.DRIFT, "new_category_share", share, window, column=column, n=present,
                     threshold_warning=tiers.warning, threshold_critical=tiers.critical,
                     severity=policy.score_severity(ScoreKind.DISTANCE, share, tiers, noise),
                     details={"unseen_rows": profile["unseen"], "examples": profile["unseen_examples"], "noise": noise})


def positive_share_test(config: MonitorConfig, reference: dict[str, Any],
                        observation: Observation) -> tuple[DriftMethod, DriftScore] | None:
    """The window's predicted-class shares against the reference's, scored like a categorical feature
    (auto: chi-squared below auto_switch_rows, Jensen-Shannon with its noise band from there); None without scores."""
    score = config.warehouse.score_column
    window_output = observation.profiles.get(score, {}).get("output")
    reference_output = reference["columns"][score].get("output")
    if not window_output or not reference_output or not window_output["scored"]:
        return None
    n = window_output["scored"]
    method = get_method(config.positive_share_method(n))
    reference_counts = [reference_output["scored"] - reference_output["positive"], reference_output["positive"]]
    result = method.score(reference_counts, [n - window_output["positive"], window_output["positive"]])
    if method.statistic is not None:
        result = dataclasses.replace(result, noise=band(method, reference_counts, n, config.drift.noise_quantile, None)[0])
    return method, result


def output_rows(config: MonitorConfig, reference: dict[str, Any], observation: Observation,
                test: tuple[DriftMethod, DriftScore], p_value: float | None, tests_in_window: int) -> list[MetricRow]:
    """Output drift beside the score's own drift: the predicted-positive share (a p-value is corrected with
    the window's others), and the mean score and low-confidence share, recorded beside their reference values."""
    score = config.warehouse.score_column
    window_output, reference_output = observation.profiles[score]["output"], reference["columns"][score]["output"]
    window, n = observation.window, window_output["scored"]
    method, result = test
    tiers = getattr(config.drift, method.name)
    share = window_output["positive"] / n
    reference_share = reference_output["positive"] / max(reference_output["scored"], 1)
    details = {"reference": reference_share, "threshold": config.performance.threshold, "test": method.name,
               "statistic": result.value, "noise": result.noise}
    if p_value is not None:
        details.update(raw_p_value=result.p_value, correction=config.drift.correction, tests_in_window=tests_in_window,
                       budget_share=policy.BUDGET_SHARES["drift"])
    return [
        MetricRow(MetricKind.DRIFT, "positive_share", share, window, column=score, p_value=p_value, n=n,
                  threshold_warning=tiers.warning, threshold_critical=tiers.critical,
                  severity=policy.score_severity(method.score_kind, result.value if p_value is None else p_value,
                                                 tiers, result.noise),
                  details=details),
        MetricRow(MetricKind.DRIFT, "mean_score", window_output["mean"], window, column=score, n=n,
                  details={"reference": reference_output["mean"]}),
        MetricRow(MetricKind.DRIFT, "low_confidence_share", window_output["low_confidence"] / n, window, column=score,
                  n=n, details={"reference": reference_output["low_confidence"] / max(reference_output["scored"], 1),
                                "margin": profiles.LOW_CONFIDENCE_MARGIN}),
    ]


def _window_skip_reason(profile: dict[str, Any]) -> str:
    if profile["kind"] == "numeric":
        if profile.get("unparseable"):
            return f"{profile['unparseable']} values could not be parsed as numbers (see validation)"
        if sum(profile["counts"]) == 0:
            return "no finite values in the window (all null or infinite)"
    elif sum(profile["counts"]) + profile["unseen"] == 0:
        return "no non-null values in the window"
    return ""


def compute_performance(config: MonitorConfig, reference: dict[str, Any], warehouse_engine: sa.Engine,
                        store_engine: sa.Engine, window: Window) -> list[MetricRow]:
    """Realized performance of every recent window whose labels changed, as known at this window's end
    (performance/rescoring.py), and the labels of this window that match no prediction."""
    try:
        label_checks = [unmatched_labels_row(config, warehouse_engine, window),
                        labels.label_values_row(config, warehouse.arrived_label_values(warehouse_engine, config, window),
                                                window),
                        labels.duplicate_labels_row(config, warehouse.repeated_labels(warehouse_engine, config, window),
                                                    window)]
        return [*label_checks, *rescoring.rescore(config, reference, warehouse_engine, store_engine, window)]
    except (MissingColumnsError, MissingTableError) as exc:  # a broken contract is recorded; no answer still fails
        return [MetricRow(MetricKind.PERFORMANCE, "label_coverage", None, window, details={"skipped": str(exc)})]


def unmatched_labels_row(config: MonitorConfig, warehouse_engine: sa.Engine, window: Window) -> MetricRow:
    """Labels that arrived during the window and match no prediction id: a few are predictions older than the
    log keeps; many mean the id columns disagree (a type or format change), and then no performance is ever computed."""
    arrived, unmatched, examples = warehouse.unmatched_labels(warehouse_engine, config, window)
    share = unmatched / arrived if arrived else 0.0
    limit = config.labels.max_unmatched_share
    return MetricRow(MetricKind.QUALITY, "unmatched_labels", share, window, column=config.labels.id_column, n=arrived,
                     threshold_warning=limit, severity=Severity.WARNING if share > limit else Severity.OK,
                     details={"expectation": "unmatched_labels", "examples": examples,
                              "observed": f"{unmatched} of {arrived} labels that arrived in the window match no "
                                          f"prediction in {config.warehouse.predictions_table!r}",
                              "expected": f"at most {limit:.0%} of arriving labels without a prediction"})


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
                             observation.profiles)
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
    observation = observe_window(config, reference_id, profile, warehouse_engine, window)
    rows = [*compute_drift(config, profile, observation),
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
