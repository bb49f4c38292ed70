"""Realized performance as labels arrive: every run re-scores each window of the last `labels.horizon_days` whose
labelled count changed since it was last scored, with the labels known by the run's window end.

One aggregate query on the warehouse gives every window's prediction and label counts; the store says what each
window was last scored with. Only windows whose count moved are read again, so a run where no label arrived
costs two small queries. A window is never re-scored with fewer labels than a later run already used (backfills
and parallel runs of older windows leave newer results alone).

Alerts: a window's rows carry severities once its label coverage reaches `performance.min_coverage`; a window is
judged once, at the run whose labels first make it eligible, and of the windows judged in a run the newest decides
each alert (see `alerting_rows`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from include.monitoring import store, warehouse
from include.monitoring.alerting import policy
from include.monitoring.catalogue import SIGNED_METRICS, TaskType, higher_is_better
from include.monitoring.config import MonitorConfig
from include.monitoring.performance import metrics, significance
from include.monitoring.performance.estimation import ESTIMABLE, calibrate, estimate_binary
from include.monitoring.performance.evaluation import (
    band_at,
    classification,
    evaluate,
    labelled_rows,
    served_classes,
    sufficient_statistics,
)
from include.monitoring.performance.labels import invalid_labels
from include.monitoring.profile_types import ReferenceProfile
from include.monitoring.types import MetricKind, MetricRow, Severity, Window

OTHER = "__other__"  # slice values beyond the top k


def rescore(config: MonitorConfig, reference: ReferenceProfile, warehouse_engine: sa.Engine, store_engine: sa.Engine,
            window: Window, arrivals: warehouse.ArrivalMatch | None = None) -> list[MetricRow]:
    """Performance rows of every window in the horizon whose labels changed, as known at `window.end`. `arrivals`:
    the labels that arrived in `window`, already matched (warehouse.label_arrivals), read again only when needed."""
    known_by = window.end
    horizon = Window(known_by - timedelta(days=config.labels.horizon_days), known_by)
    scored = store.scored_label_counts(store_engine, config.model, horizon)
    only = candidate_windows(config, warehouse_engine, scored, window, arrivals)
    counts = warehouse.label_counts(warehouse_engine, config, horizon, window.width, known_by, only=only)
    due_day = _due_day(config, window)
    if only is not None and due_day and due_day[-1] not in counts:
        # The due window had no predictions: due_coverage_row reads the newest window of the day before that had some.
        counts.update(warehouse.label_counts(warehouse_engine, config, horizon, window.width, known_by, only=due_day))
    changed = [Window(start, start + window.width) for start, (_, labelled) in sorted(counts.items())
               if (previous := scored.get(start)) is None or (previous[0] != labelled and previous[1] < known_by)]
    # skipped: unchanged, or already scored by a later run with at least these labels
    rows: list[MetricRow] = []
    for scored_window, frame in warehouse.fetch_labelled_windows(warehouse_engine, config, changed, known_by,
                                                                 labelled_only=True):
        predictions = counts[scored_window.start][0]
        previous = scored.get(scored_window.start)
        looked = previous is not None and previous[0] >= config.performance.min_coverage * predictions
        rows += window_performance(config, reference, scored_window, frame, known_by, looked_before=looked,
                                   predictions=predictions)
    due = due_coverage_row(config, counts, window)
    return [*rows, *([due] if due is not None else [])]


def candidate_windows(config: MonitorConfig, warehouse_engine: sa.Engine, scored: dict[datetime, tuple[int, datetime]],
                      window: Window, arrivals: warehouse.ArrivalMatch | None = None) -> list[datetime] | None:
    """The starts of the windows a run in order needs counted, or None for every window of the horizon.

    The previous cut-off is the newest label cut-off a window was scored with: every label that arrived before it
    was seen by that run. So the windows whose labels can have changed are those of the labels that arrived since
    (one query over the arrived labels, both tables pruned by time), the windows newer than any scored one (the run's
    own, never scored), and the window that ends at the due hour (due_coverage_row; `rescore` counts the day before it
    only when that window is empty). An unchanged hour reads a few windows, whatever the history. With no cut-off (a
    first run) or one later than this run's (a backfill out of order), the whole horizon is counted. `arrivals`: the
    match of the run's own window, reused when the cut-off is its start (a run in order)."""
    cutoff = max((known for _, known in scored.values()), default=None)
    known_by = window.end
    if cutoff is None or cutoff > known_by:
        return None
    horizon_start = known_by - timedelta(days=config.labels.horizon_days)
    width = window.width
    if cutoff == known_by:
        arrived: tuple[datetime, ...] = ()
    elif arrivals is not None and arrivals.period == Window(cutoff, known_by):
        arrived = tuple(start for start in arrivals.windows if start >= horizon_start)  # its horizon began a window earlier
    else:
        arrived = warehouse.match_arrivals(warehouse_engine, config, Window(cutoff, known_by), horizon_start, width).windows
    # Window starts on the run window's grid (an hourly or a daily one).
    fresh = _grid(window.start, max(scored) + width, known_by, width)
    return sorted({*arrived, *fresh, *_due_day(config, window)[-1:]})


def _due_day(config: MonitorConfig, window: Window) -> list[datetime]:
    """The starts of the windows in the day before the due hour (labels.due_hours before the run's window end), the
    window that ends at it last: due_coverage_row reads the newest of them that holds predictions."""
    due_end = window.end - timedelta(hours=config.labels.due_hours)
    horizon_start = window.end - timedelta(days=config.labels.horizon_days)
    return _grid(window.start, max(due_end - timedelta(days=1), horizon_start), due_end, window.width)


def _grid(anchor: datetime, low: datetime, high: datetime, width: timedelta) -> list[datetime]:
    """The window starts anchor + k x width of the windows inside [low, high)."""
    first = anchor + math.ceil((low - anchor) / width) * width
    return [first + i * width for i in range(max(0, int((high - first) // width)))]


def due_coverage_row(config: MonitorConfig, counts: dict[datetime, tuple[int, int]], window: Window) -> MetricRow | None:
    """The labelled share of the newest window that ended at least labels.due_hours before this run's window end,
    as a quality row of the run's own window (its message names the due window). Lower is worse; a window with
    fewer than min_rows predictions is recorded, not judged."""
    labels = config.labels
    due_end = window.end - timedelta(hours=labels.due_hours)
    due = [start for start in counts if start + window.width <= due_end]
    if not due:
        return None
    due_window = Window(max(due), max(due) + window.width)
    predictions, labelled = counts[due_window.start]
    coverage = labelled / predictions
    judged = predictions >= config.min_rows
    tiers = labels.due_coverage
    return MetricRow(
        MetricKind.QUALITY, "label_coverage", coverage, window, column=labels.label_column, n=predictions,
        threshold_warning=tiers.warning, threshold_critical=tiers.critical,
        severity=policy.floor_severity(coverage, tiers) if judged else Severity.OK,
        details={"expectation": "label_coverage", "due_window": str(due_window),
                 "labelled": labelled, "due_hours": labels.due_hours,
                 "observed": f"{labelled} of {predictions} predictions of window {due_window} "
                             f"have a label in {labels.table!r}, {labels.due_hours} h after it closed",
                 "expected": f"more than {tiers.warning:.0%} labelled by then" if tiers.warning is not None else "",
                 **({} if judged else {"not_judged": f"{predictions} predictions, fewer than min_rows={config.min_rows}"})})


def window_performance(config: MonitorConfig, reference: ReferenceProfile, window: Window, frame: pd.DataFrame,
                       known_by: datetime, looked_before: bool = False, predictions: int | None = None) -> list[MetricRow]:
    """Coverage, metrics and their sufficient statistics for the whole window and each slice. The p-values (a metric
    beyond its band) are corrected together, the whole window's and the slices' apart, so that twenty slices do not
    page twenty times as often. `looked_before`: an earlier run already scored the window with enough labels to
    judge it; its rows then say so (`first_look` false) and judge no alert (see `alerting_rows`). `predictions`: the
    window's prediction count when `frame` holds only its labelled rows (else every row of `frame` is a prediction)."""
    perf = config.performance
    usable = labelled_rows(config.task, frame, config.labels)
    labelled = int(frame["label"].notna().sum())
    total = len(frame) if predictions is None else predictions
    coverage = labelled / total if total else None
    eligible = coverage is not None and coverage >= perf.min_coverage
    stamp = {"labels_known_by": known_by.isoformat(), "coverage": coverage, "first_look": eligible and not looked_before}
    invalid = int(invalid_labels(config.task, frame["label"], config.labels).sum())
    rows = [MetricRow(MetricKind.PERFORMANCE, "label_coverage", coverage, window, n=total,
                      details={**stamp, "labelled": labelled, "usable": len(usable), "invalid_labels": invalid})]
    whole: list[tuple[MetricRow, float | None]] = []
    slices: list[tuple[MetricRow, float | None]] = []
    for slice_key, slice_value, part in _groups(config, usable):
        statistics = sufficient_statistics(config.task, part, perf.threshold)
        classified = _classification(config, reference, part)
        rows.append(MetricRow(MetricKind.PERFORMANCE, "sufficient_statistics", float(len(part)), window,
                              slice_key=slice_key, slice_value=slice_value, n=len(part),
                              details={**stamp, **statistics, **classified}))
        (slices if slice_key else whole).extend(_metric_rows(config, reference, window, part, statistics, slice_key,
                                                             slice_value, stamp, classified))
    awaiting = "" if eligible else f"coverage {coverage or 0:.0%} < {perf.min_coverage:.0%}"
    # Two families: the slices' many tests must not dilute the whole window's power (as for slice drift).
    return [*rows, *_severities(config, whole, eligible, awaiting, "performance"),
            *_severities(config, slices, eligible, awaiting, "performance_slices")]


def _groups(config: MonitorConfig, usable: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """The whole window, then each slice: the top `slice_top_k` values of each slice column (most rows first, ties by
    name), the rest as OTHER."""
    groups = [("", "", usable)]
    for column in _slice_columns(config):
        if column not in usable.columns:
            continue
        values = usable[column].astype("string").fillna("<null>").to_numpy(dtype=object)
        names, codes, counts = np.unique(values, return_inverse=True, return_counts=True)
        top = sorted(range(len(names)), key=lambda i: (-counts[i], names[i]))[:config.performance.slice_top_k]
        named = np.where(np.isin(codes, top), values, OTHER)
        if len(names) > 1:  # one value is the whole window again (all traffic on one model version)
            groups += [(column, str(value), usable.iloc[np.flatnonzero(named == value)])
                       for value in sorted(set(named))]
    return groups


def _slice_columns(config: MonitorConfig) -> list[str]:
    version = config.warehouse.model_version_column
    return list(dict.fromkeys([*([version] if version else []), *config.performance.slices]))


def _classification(config: MonitorConfig, reference: ReferenceProfile, rows: pd.DataFrame) -> dict[str, Any]:
    """Binary models: how the confusion metrics classified `rows` (evaluation.classification), and a note when the
    reference's baseline classified its rows otherwise (served classes against a baseline of score >= threshold,
    or the reverse, is no like-for-like comparison). {} for other tasks."""
    if config.task != TaskType.BINARY_CLASSIFICATION:
        return {}
    found = classification(rows, config.performance.threshold)
    # Profiles fitted before served classes were read have no "classification": they used the threshold.
    fitted = (reference.classification or {}).get("classified_by", "threshold")
    if reference.baseline and fitted != found["classified_by"]:
        found["reference_classified_by"] = fitted
        found["reference_note"] = (f"the reference's baseline classified its rows by {fitted}, this window by "
                                   f"{found['classified_by']}: give the reference table the served class column "
                                   "and rebuild it with cli build-reference")
    return found


def _metric_rows(config: MonitorConfig, reference: ReferenceProfile, window: Window, part: pd.DataFrame,
                 statistics: dict[str, Any], slice_key: str, slice_value: str,
                 stamp: dict[str, Any], classified: dict[str, Any]) -> list[tuple[MetricRow, float | None]]:
    """Each metric of `part` with its drop from the baseline and the p-value of lying below the reference; the
    confusion metrics' details say how the rows were classified (`classified`)."""
    perf, n = config.performance, len(part)
    names = config.performance_metrics
    if n < perf.min_labels:
        return [(MetricRow(MetricKind.PERFORMANCE, name, None, window, slice_key=slice_key, slice_value=slice_value,
                           n=n, details={**stamp, "insufficient": f"{n} labels, fewer than min_labels={perf.min_labels}"}),
                 None) for name in names]
    values = evaluate(config.task, part, perf.threshold, names)
    return [_judged(MetricKind.PERFORMANCE, config, reference, name, value, window, n, slice_key, slice_value,
                    {**stamp, **(classified if name in metrics.CONFUSION_METRICS else {})}, statistics)
            for name, value in values.items()]


def _judged(kind: MetricKind, config: MonitorConfig, reference: ReferenceProfile, name: str, value: float | None,
            window: Window, n: int, slice_key: str, slice_value: str, stamp: dict[str, Any],
            statistics: dict[str, Any] | None = None) -> tuple[MetricRow, float | None]:
    """A metric's row with its drop from the baseline, and the one-sided p-value of lying that far below the
    reference (see performance/significance.py): exact for a proportion whose counts both sides have, else from
    the band at n. Realized rows pass their window's `statistics`; estimates have none."""
    baseline = _baseline(reference, name, slice_key, slice_value)
    higher = higher_is_better(name)
    signed = name in SIGNED_METRICS  # closer to 0 is better: recorded, never alerted on
    drop = None if signed else policy.relative_drop(*((baseline, value) if higher else (value, baseline)))
    details: dict[str, Any] = {**stamp, "baseline": baseline, "relative_drop": drop}
    p = None if signed or value is None else _p_value(config, reference, name, value, n, slice_key, slice_value,
                                                      statistics, details)
    details["raw_p_value"] = p
    return MetricRow(kind, name, value, window, slice_key=slice_key, slice_value=slice_value, n=n, details=details), p


def _p_value(config: MonitorConfig, reference: ReferenceProfile, name: str, value: float, n: int, slice_key: str,
             slice_value: str, statistics: dict[str, Any] | None, details: dict[str, Any]) -> float | None:
    """The one-sided p-value of `value` against the reference; records in `details` which test gave it, or why
    none did."""
    perf = config.performance
    counts = significance.proportion(config.task, name, statistics)
    reference_counts = significance.proportion(config.task, name,
                                               _reference_statistics(reference, slice_key, slice_value))
    if counts and reference_counts:
        details.update(test="fisher_exact", successes=counts[0], trials=sum(counts),
                       reference_successes=reference_counts[0], reference_trials=sum(reference_counts))
        return significance.exact_p_value(counts, reference_counts)
    if counts and reference.baseline_statistics is None:
        details["no_counts"] = ("the reference profile predates the exact test: judged from the band "
                                "(rebuild it with cli build-reference)")
    not_judged = significance.too_few_for_band(config.task, n, statistics, perf.min_band_labels, perf.min_class_labels)
    if not_judged:
        details["not_judged"] = not_judged
        return None
    band = band_at(_band(reference, slice_key, slice_value), name, n)
    details.update(test="band", band_mean=band[0] if band else None, band_std=band[1] if band else None)
    if band is None:
        details["no_band"] = "the reference profile has no band for this metric (rebuild it with cli build-reference)"
    return significance.band_p_value(band, value, higher_is_better(name))


def _severities(config: MonitorConfig, scored: list[tuple[MetricRow, float | None]], eligible: bool,
                awaiting: str, family: str) -> list[MetricRow]:
    """A metric alerts at its drop tier when its corrected p-value is at most performance.significance and the
    window is eligible. Two families, each corrected together (Benjamini-Hochberg): the exact tests, which then spend
    `family`'s share of the window's false-page budget (policy.BUDGET_SHARES) and can page; and the metrics judged
    from the band, whose normal tail read from a hundred reference draws is too light that far out (bench/false_pages.py
    measured their false alerts at several times the nominal rate), so they alert at WARNING at most."""
    perf = config.performance
    tested = {i: p for i, (_row, p) in enumerate(scored) if p is not None}
    exact = [i for i in tested if scored[i][0].details.get("test") == "fisher_exact"]
    band = [i for i in tested if scored[i][0].details.get("test") != "fisher_exact"]
    corrected = dict(zip(exact, policy.spend(policy.benjamini_hochberg([tested[i] for i in exact]), family), strict=True))
    corrected.update(zip(band, policy.benjamini_hochberg([tested[i] for i in band]), strict=True))
    rows = []
    for i, (row, _p) in enumerate(scored):
        details = dict(row.details)
        severity = Severity.OK
        if i in corrected:
            details["p_value_corrected"] = adjusted = corrected[i]
            details["significance"] = perf.significance
            details["significant"] = adjusted <= perf.significance
            if i in exact:
                details["budget_share"] = policy.BUDGET_SHARES[family]
            else:
                details["highest_severity"] = "WARNING (judged from the band)"
            if eligible and adjusted <= perf.significance:
                severity = policy.drop_severity(details["relative_drop"], perf.warning_drop, perf.critical_drop)
                severity = severity if i in exact else min(severity, Severity.WARNING)
        if awaiting:
            details["awaiting_labels"] = awaiting
        rows.append(MetricRow(row.kind, row.metric, row.value, row.window, slice_key=row.slice_key,
                              slice_value=row.slice_value, n=row.n, p_value=details.get("p_value_corrected"),
                              threshold_warning=perf.warning_drop, threshold_critical=perf.critical_drop,
                              severity=severity, details={**details, "eligible": eligible}))
    return rows


def estimated_performance(config: MonitorConfig, reference: ReferenceProfile, scores: pd.Series, window: Window,
                          served: pd.Series | None = None) -> list[MetricRow]:
    """Binary models: the window's performance estimated from its scores, calibrated on the reference. It is
    there as soon as the window closes, beside the realized value that arrives with the labels; it assumes the
    scores stay calibrated, so it follows covariate shift but not a concept change. `served` (the window's
    prediction column, aligned with `scores`) gives the predicted class as for the realized metrics."""
    calibration = reference.score_calibration
    if config.task != TaskType.BINARY_CLASSIFICATION or not config.performance.estimate or not calibration:
        return []
    values = pd.to_numeric(scores, errors="coerce").to_numpy(dtype="float64")
    finite = np.isfinite(values)
    rows = pd.DataFrame({"score": values[finite]})
    if served is not None:
        rows["predicted"] = served.to_numpy()[finite]
        rows["served"] = served_classes(rows["predicted"], config.labels).to_numpy(dtype="float64")
    values = values[finite]
    names = tuple(name for name in config.performance_metrics if name in ESTIMABLE)
    if values.size < config.performance.min_labels or not names:
        return []
    estimates = estimate_binary(calibrate(calibration, values), values, config.performance.threshold, names,
                                rows["served"].to_numpy() if served is not None else None)
    stamp = {"method": "confidence-based, isotonic calibration on the reference"}
    classified = _classification(config, reference, rows)
    scored = [_judged(MetricKind.ESTIMATED_PERFORMANCE, config, reference, name, value, window, int(values.size), "", "",
                      {**stamp, **(classified if name in metrics.CONFUSION_METRICS else {})})
              for name, value in estimates.items()]
    return _severities(config, scored, eligible=True, awaiting="", family="performance")


def _of_slice(reference: ReferenceProfile, section: str, slice_key: str, slice_value: str) -> Any:
    """The reference's own entry in `section` (slice_bands, slice_statistics, slice_baselines) for the slice value,
    or None when the reference had too few of its labelled rows (or none: a new model version, `__other__`)."""
    sections: Any = getattr(reference, section) or {}
    return sections.get(slice_key, {}).get(slice_value)


def _band(reference: ReferenceProfile, slice_key: str, slice_value: str) -> dict[str, Any] | None:
    """The slice value's own band when the reference had enough of its rows to fit one; else the whole reference's."""
    by_slice = _of_slice(reference, "slice_bands", slice_key, slice_value)
    return by_slice if by_slice and by_slice.get("sizes") else reference.performance_bands


def _reference_statistics(reference: ReferenceProfile, slice_key: str, slice_value: str) -> dict[str, Any] | None:
    """The sufficient statistics of the reference's same slice when it had enough labels there; else the whole's."""
    return _of_slice(reference, "slice_statistics", slice_key, slice_value) or reference.baseline_statistics


def _baseline(reference: ReferenceProfile, name: str, slice_key: str, slice_value: str) -> float | None:
    """The reference's own value in the same slice when it had enough labels there; else the whole reference's."""
    by_slice = _of_slice(reference, "slice_baselines", slice_key, slice_value) or {}
    return by_slice.get(name, reference.baseline.get(name))


def alerting_rows(config: MonitorConfig, rows: list[MetricRow]) -> list[MetricRow]:
    """The performance rows that drive alerts: per (metric, slice), the newest window whose coverage made it
    eligible in this run (its first look). A window is judged once: the looks of later runs, as the rest of its labels
    arrive, are recorded but judge nothing, since each look is one more chance of a false page (see the README's
    false-page budget); windows awaiting labels judge nothing either."""
    newest: dict[tuple[str, str, str, str], MetricRow] = {}
    for row in rows:
        judged = row.details.get("eligible") and row.details.get("first_look")  # a metric's row, at its first look
        if row.kind is not MetricKind.PERFORMANCE or not judged or row.value is None:
            continue
        key = (row.metric, row.column, row.slice_key, row.slice_value)
        if key not in newest or row.window.start > newest[key].window.start:
            newest[key] = row
    return list(newest.values())
