"""The steps of one window, callable without Airflow (the DAG tasks, the CLI and the tests call these).

    observe_window      rows of the window -> validation results, quality rows, column profiles, status
    compute_drift       profiles vs the reference profile -> drift rows (direction applied in the policy)
    compute_performance labels matured since the window closed -> performance rows for an older window
    write_window        everything above -> metric store, alert state and outbox, in one transaction
    deliver             outbox -> notification channels

Raw rows are touched once, in `observe_window`; everything after works on profiles and small results,
which is why they can travel between Airflow tasks as XCom.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from include.monitoring import profiles, store, warehouse
from include.monitoring.alerting import policy
from include.monitoring.alerting.lifecycle import Transition, apply_alerts
from include.monitoring.config import MonitorConfig, Tiers
from include.monitoring.drift import get_method
from include.monitoring.drift.base import ScoreKind
from include.monitoring.errors import MissingColumnsError
from include.monitoring.performance.metrics import binary_metrics, bootstrap_standard_errors
from include.monitoring.types import MetricKind, MetricRow, RunStatus, Severity, Window
from include.monitoring.validation.run import validate_frame
from include.monitoring.validation.suite import RAW_SUFFIX, expectation_specs

# A performance drop alerts only when the value sits this many bootstrap standard errors below the baseline:
# each run tests several metrics and slices, so 2 (one-sided 2.3 %) would page on noise every few days.
PERFORMANCE_Z = 3.0
# Fewer rows than this in never-seen categories do not alert, whatever their share of a tiny window.
NEW_CATEGORY_MIN_ROWS = 3
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

    def to_record(self) -> dict[str, Any]:
        return {"window_start": self.window.start.isoformat(), "window_end": self.window.end.isoformat(),
                "status": self.status.value, "reason": self.reason, "row_count": self.row_count,
                "sampled_rows": self.sampled_rows, "reference_id": self.reference_id, "profiles": self.profiles,
                "validations": self.validations, "metrics": [row.to_record() for row in self.metrics]}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Observation:
        return cls(window=Window.parse(record["window_start"], record["window_end"]),
                   status=RunStatus(record["status"]), reason=record["reason"], row_count=record["row_count"],
                   sampled_rows=record["sampled_rows"], reference_id=record["reference_id"],
                   profiles=record["profiles"], validations=record["validations"],
                   metrics=[MetricRow.from_record(r) for r in record["metrics"]])


def observe_window(config: MonitorConfig, reference_id: str, reference: dict[str, Any], warehouse_engine: sa.Engine,
                   window: Window) -> Observation:
    rows = warehouse.fetch_window(warehouse_engine, config, window)
    volume = MetricRow(MetricKind.OPERATIONAL, "row_count", float(rows.row_count), window, n=rows.row_count,
                       threshold_critical=0.0, severity=Severity.CRITICAL if rows.row_count == 0 else Severity.OK,
                       details={"sampled_rows": len(rows.frame), "extra_columns": list(rows.extra_columns)})
    if rows.row_count == 0:
        return Observation(window, RunStatus.NO_DATA, "no predictions in the window", 0, 0, reference_id,
                           metrics=[volume])
    frame = validation_frame(config, rows.frame)
    specs = expectation_specs(config, reference, set(frame.columns))
    validations = validate_frame(frame, specs, suite_name=f"{config.model}_generated")
    quality = [_quality_row(record, window, len(frame)) for record in validations]
    status, reason = RunStatus.OK, ""
    blocking = [r for r in validations if not r["success"] and r["check_name"] in config.validation.blocking]
    if blocking:
        status = RunStatus.BLOCKED
        reason = "; ".join(f"blocking check {r['check_name']} failed on column {r['column_name']!r}" for r in blocking)
    elif rows.row_count < config.min_rows:
        status, reason = RunStatus.INSUFFICIENT_DATA, f"{rows.row_count} rows, fewer than min_rows={config.min_rows}"
    column_profiles = {} if status is RunStatus.BLOCKED else window_profiles(config, reference, frame)
    return Observation(window, status, reason, rows.row_count, len(rows.frame), reference_id,
                       profiles=column_profiles, validations=validations, metrics=[volume, *quality])


def validation_frame(config: MonitorConfig, raw: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns parsed to float; where they arrived as text, the text is kept beside as `<col>__raw`."""
    frame = raw.copy()
    for column in (*config.features.numeric, config.warehouse.score_column):
        if column in frame.columns and frame[column].dtype.kind not in "biuf":
            frame[f"{column}{RAW_SUFFIX}"] = frame[column]
            frame[column] = profiles.to_numbers(frame[column])[0]
    return frame


def _quality_row(record: dict[str, Any], window: Window, n: int) -> MetricRow:
    failed = not record["success"]
    share = record["unexpected_pct"] / 100 if record["unexpected_pct"] is not None else (1.0 if failed else 0.0)
    return MetricRow(
        MetricKind.QUALITY, record["check_name"], share, window, column=record["column_name"], n=n,
        severity=GX_SEVERITY.get(record["severity"], Severity.CRITICAL) if failed else Severity.OK,
        details={"expectation": record["expectation"], "observed": record["observed"],
                 "examples": json.loads(record["examples"])},
    )


def window_profiles(config: MonitorConfig, reference: dict[str, Any], frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for column in (*config.features.numeric, config.warehouse.score_column):
        if column in frame.columns:
            source = frame[f"{column}{RAW_SUFFIX}"] if f"{column}{RAW_SUFFIX}" in frame.columns else frame[column]
            result[column] = profiles.numeric_profile(source, reference["columns"][column]["edges"])
    score = config.warehouse.score_column
    if score in result:
        result[score]["output"] = profiles.output_summary(frame[score], config.performance.threshold)
    for column in config.features.categorical:
        if column in frame.columns:
            ref = reference["columns"][column]
            result[column] = {**profiles.categorical_profile(frame[column], ref["categories"], ref.get("pooled", [])),
                              "categories": ref["categories"]}
    return result


def compute_drift(config: MonitorConfig, reference: dict[str, Any], observation: Observation) -> list[MetricRow]:
    """Drift of every profiled column against the reference; p-values adjusted together (BH)."""
    if observation.status is not RunStatus.OK:
        return []
    window = observation.window
    scored: list[tuple[str, Any, Any, Tiers]] = []
    skipped: list[MetricRow] = []
    for column, profile in observation.profiles.items():
        method = get_method(config.drift_method(column) if column != config.warehouse.score_column
                            else config.drift.numeric_method)
        tiers = (config.drift_tiers(column) if column != config.warehouse.score_column
                 else getattr(config.drift, config.drift.numeric_method))
        ref = reference["columns"][column]
        reason = _skip_reason(profile) or ("" if sum(ref["counts"]) else "the reference has no values for this column")
        if reason:
            skipped.append(MetricRow(MetricKind.DRIFT, method.name, None, window, column=column, n=profile["n"],
                                     details={"skipped": reason}))
            continue
        ref_counts, win_counts = list(ref["counts"]), list(profile["counts"])
        if profile["kind"] == "categorical":
            ref_counts, win_counts = [*ref_counts, 0], [*win_counts, profile["unseen"]]
        score = method.score(ref_counts, win_counts, config.drift.noise_quantile)
        scored.append((column, method, score, tiers))
    adjusted = iter(policy.benjamini_hochberg([s.p_value for _, m, s, _ in scored if m.score_kind is ScoreKind.P_VALUE]))
    rows = list(skipped)
    for column, method, score, tiers in scored:
        p_value = next(adjusted) if method.score_kind is ScoreKind.P_VALUE else None
        decisive = p_value if p_value is not None else score.value
        severity = policy.score_severity(method.score_kind, decisive, tiers, score.noise)
        details = {**score.details, "noise": score.noise, "score_kind": method.score_kind.value}
        if p_value is not None:
            details.update(raw_p_value=score.p_value, correction="benjamini_hochberg")
        rows.append(MetricRow(MetricKind.DRIFT, method.name, score.value, window, column=column, p_value=p_value,
                              n=score.n, threshold_warning=tiers.warning, threshold_critical=tiers.critical,
                              severity=severity, details=details))
        if column in config.features.categorical:
            rows.append(new_category_row(config, column, observation.profiles[column], window))
    rows += output_rows(config, reference, observation)
    severities: dict[str, Severity] = {}
    for r in rows:
        if r.column and r.column != config.warehouse.score_column and r.value is not None:
            severities[r.column] = max(severities.get(r.column, Severity.OK), r.severity)
    if severities:
        drifted = sorted(column for column, severity in severities.items() if severity >= Severity.WARNING)
        rows.append(MetricRow(MetricKind.DRIFT, "drift_share", len(drifted) / len(severities), window,
                              n=len(severities), details={"drifted": drifted}))
    return rows


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


def output_rows(config: MonitorConfig, reference: dict[str, Any], observation: Observation) -> list[MetricRow]:
    """Output drift beyond the score's PSI: the predicted-positive share (chi-squared against the
    reference's), and the mean score and low-confidence share, recorded beside their reference values."""
    score = config.warehouse.score_column
    window_output = observation.profiles.get(score, {}).get("output")
    reference_output = reference["columns"][score].get("output")
    if not window_output or not reference_output or not window_output["scored"]:
        return []
    window, n = observation.window, window_output["scored"]
    method, tiers = get_method("chi2"), config.drift.chi2
    result = method.score([reference_output["scored"] - reference_output["positive"], reference_output["positive"]],
                          [n - window_output["positive"], window_output["positive"]], config.drift.noise_quantile)
    share = window_output["positive"] / n
    reference_share = reference_output["positive"] / max(reference_output["scored"], 1)
    return [
        MetricRow(MetricKind.DRIFT, "positive_share", share, window, column=score, p_value=result.p_value, n=n,
                  threshold_warning=tiers.warning, threshold_critical=tiers.critical,
                  severity=policy.score_severity(ScoreKind.P_VALUE, result.p_value, tiers),
                  details={"reference": reference_share, "threshold": config.performance.threshold, "test": "chi2"}),
        MetricRow(MetricKind.DRIFT, "mean_score", window_output["mean"], window, column=score, n=n,
                  details={"reference": reference_output["mean"]}),
        MetricRow(MetricKind.DRIFT, "low_confidence_share", window_output["low_confidence"] / n, window, column=score,
                  n=n, details={"reference": reference_output["low_confidence"] / max(reference_output["scored"], 1),
                                "margin": profiles.LOW_CONFIDENCE_MARGIN}),
    ]


def _skip_reason(profile: dict[str, Any]) -> str:
    if profile["kind"] == "numeric":
        if profile.get("unparseable"):
            return f"{profile['unparseable']} values could not be parsed as numbers (see validation)"
        if sum(profile["counts"]) == 0:
            return "no finite values in the window (all null or infinite)"
    elif sum(profile["counts"]) + profile["unseen"] == 0:
        return "no non-null values in the window"
    return ""


def compute_performance(config: MonitorConfig, reference: dict[str, Any], warehouse_engine: sa.Engine,
                        window: Window) -> list[MetricRow]:
    """Realized performance of the window that closed `labels.delay_hours` before this one,
    using the labels known by this window's end."""
    matured = window.shifted(-timedelta(hours=config.labels.delay_hours))
    try:
        frame = warehouse.fetch_labelled(warehouse_engine, config, matured, known_by=window.end)
    except MissingColumnsError as exc:  # a broken contract is recorded; an unreachable warehouse still fails
        return [MetricRow(MetricKind.PERFORMANCE, "label_coverage", None, matured, details={"skipped": str(exc)})]
    rows = [_coverage_row(matured, frame)]
    rows += _performance_rows(config, reference, matured, frame, "", "")
    if "model_version" in frame.columns:
        for version, part in frame.groupby("model_version", sort=True):
            rows += _performance_rows(config, reference, matured, part, "model_version", str(version))
    return rows


def _coverage_row(window: Window, frame: pd.DataFrame) -> MetricRow:
    labelled = int(frame["label"].notna().sum())
    return MetricRow(MetricKind.PERFORMANCE, "label_coverage", labelled / len(frame) if len(frame) else None,
                     window, n=len(frame), details={"labelled": labelled})


def _performance_rows(config: MonitorConfig, reference: dict[str, Any], window: Window, frame: pd.DataFrame,
                      slice_key: str, slice_value: str) -> list[MetricRow]:
    perf = config.performance
    scores = pd.to_numeric(frame["score"], errors="coerce")
    labelled = frame[frame["label"].notna() & np.isfinite(scores)]  # an unusable score cannot be scored
    n = len(labelled)
    if n < perf.min_labels:
        return [MetricRow(MetricKind.PERFORMANCE, name, None, window, slice_key=slice_key, slice_value=slice_value,
                          n=n, details={"insufficient": f"{n} labels, fewer than min_labels={perf.min_labels}"})
                for name in perf.metrics]
    scores = scores[labelled.index].to_numpy(dtype="float64")
    labels = labelled["label"].to_numpy(dtype=int)
    values = binary_metrics(labels, scores, perf.threshold, perf.metrics)
    # Same window, same resamples: re-runs reproduce the same errors.
    errors = bootstrap_standard_errors(labels, scores, perf.threshold, perf.metrics,
                                       np.random.default_rng(int(window.start.timestamp())))
    rows = []
    for name, value in values.items():
        baseline = reference["baseline"].get(name)
        drop = policy.relative_drop(baseline, value)
        significant = policy.significant_drop(baseline, value, errors[name], PERFORMANCE_Z)
        rows.append(MetricRow(MetricKind.PERFORMANCE, name, value, window, slice_key=slice_key, slice_value=slice_value,
                              n=n, threshold_warning=perf.warning_drop, threshold_critical=perf.critical_drop,
                              severity=policy.drop_severity(drop, perf.warning_drop, perf.critical_drop)
                              if significant else Severity.OK,
                              details={"baseline": baseline, "relative_drop": drop, "standard_error": errors[name],
                                       "significant": significant, "positives": int(labels.sum())}))
    return rows


def write_window(config: MonitorConfig, store_engine: sa.Engine, observation: Observation,
                 metrics: list[MetricRow], dag_run_id: str, started_at: datetime, now: datetime) -> list[Transition]:
    """One transaction: the run record, metrics, validation results, profiles, alert state and outbox."""
    run = store.RunRecord(status=observation.status, status_reason=observation.reason,
                          row_count=observation.row_count, sampled_rows=observation.sampled_rows,
                          reference_id=observation.reference_id, dag_run_id=dag_run_id,
                          started_at=started_at, finished_at=now)
    all_rows = [*observation.metrics, *metrics]
    store.create_tables(store_engine)
    with store_engine.begin() as conn:
        store.replace_window(conn, config.model, observation.window, run, all_rows, observation.validations,
                             observation.profiles)
        return apply_alerts(conn, config, [r for r in all_rows if r.value is not None or r.severity > Severity.OK],
                            now)


def run_window(config: MonitorConfig, warehouse_engine: sa.Engine, store_engine: sa.Engine, window: Window,
               now: datetime, run_id: str = "") -> tuple[Observation, list[Transition]]:
    """Every step for one window, in one process (the CLI's replay and the tests)."""
    from include.monitoring.reference import load_reference

    reference_id, profile = load_reference(config, store_engine)
    observation = observe_window(config, reference_id, profile, warehouse_engine, window)
    rows = [*compute_drift(config, profile, observation),
            *compute_performance(config, profile, warehouse_engine, window)]
    transitions = write_window(config, store_engine, observation, rows, run_id, started_at=now, now=now)
    return observation, transitions


def windows_between(start: datetime, end: datetime, width: timedelta) -> list[Window]:
    """The consecutive windows of `width` that start in [start, end)."""
    windows = []
    moment = start
    while moment < end:
        windows.append(Window(moment, moment + width))
        moment += width
    return windows
