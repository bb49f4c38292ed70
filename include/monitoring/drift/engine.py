"""A window's drift rows: each feature's score against the reference (whole window and slices), new categories,
the model's output, the drift share and the drift levels. The p-values of a family are corrected together and
spend the family's share of the window's false-page budget (alerting/policy.py)."""

from __future__ import annotations

import dataclasses

from include.monitoring import profiles
from include.monitoring.alerting import policy
from include.monitoring.catalogue import DRIFT_LEVEL, FEATURE_DRIFT
from include.monitoring.config import MonitorConfig, Tiers
from include.monitoring.drift import get_method
from include.monitoring.drift.base import DriftMethod, DriftScore
from include.monitoring.drift.calibration import effective_size
from include.monitoring.drift.scoring import band, banded, score_column, skip_reason, unbanded_score
from include.monitoring.drift.slice_calibration import IN_PROCESS, BandRequest, CalibrationPoints, band_request, slice_bands
from include.monitoring.observation import Observation
from include.monitoring.profile_types import CategoryCounts, ColumnCounts, ReferenceProfile
from include.monitoring.types import MetricKind, MetricRow, RunStatus, ScoreKind, Severity, Window

# Fewer rows than this in never-seen categories do not alert, whatever their share of a tiny window.
NEW_CATEGORY_MIN_ROWS = 3




def compute_drift(config: MonitorConfig, reference: ReferenceProfile, observation: Observation,
                  calibrations: CalibrationPoints | None = None) -> list[MetricRow]:
    """Drift of every profiled column and of the model's output against the reference. All p-values of the
    window (each p-value feature and the positive share) are corrected together, then for the family's share of the
    window's false-page budget (policy.BUDGET_SHARES), so that an undrifted window alerts with at most its share of
    the tier's probability however many features it has. `calibrations` keeps the slices' noise tables between runs
    (slice_drift_rows)."""
    if observation.status is not RunStatus.OK:
        return []
    window = observation.window
    scored: list[tuple[str, DriftMethod, DriftScore]] = []
    rows: list[MetricRow] = []
    levels: list[MetricRow] = []  # one drift_level row per feature_drift row, after the verdicts they restate
    for column, profile in observation.profiles.items():
        method = get_method(config.drift_method(column, observation.row_count))
        ref = reference.columns[column]
        reason = _window_skip_reason(profile) or skip_reason(method, ref)
        if reason:
            skipped = MetricRow(MetricKind.DRIFT, method.name, None, window, column=column, n=profile.n,
                                details={"skipped": reason, "alert_rule": FEATURE_DRIFT})
            rows.append(skipped)
            levels.append(drift_level_row(skipped, method.score_kind, config.drift_tiers(column, method.name), None))
            continue
        scored.append((column, method, score_column(method, ref, profile, config.drift.noise_quantile)))
    output = positive_share_test(config, reference, observation)
    tests = [s for _, m, s in scored if m.score_kind is ScoreKind.P_VALUE]
    if output and output[0].score_kind is ScoreKind.P_VALUE:
        tests.append(output[1])
    raw = [_tested(test) for test in tests]
    corrected = iter(policy.spend(policy.correct_p_values(raw, config.drift.correction), "drift"))
    for column, method, score in scored:
        p_value = next(corrected) if method.score_kind is ScoreKind.P_VALUE else None
        rows.append(feature_drift_row(config, window, column, method, score, p_value, len(raw)))
        levels.append(drift_level_row(rows[-1], method.score_kind, config.drift_tiers(column, method.name), score.noise))
        profile = observation.profiles[column]
        if isinstance(profile, CategoryCounts):
            rows.append(new_category_row(config, column, profile, window))
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
    return [*rows, *levels, *slice_drift_rows(config, reference, observation, calibrations)]


def _tested(score: DriftScore) -> float:
    """The p-value of a test's score (a method whose score kind is a p-value always sets it)."""
    assert score.p_value is not None, "a test's score carries its p-value"
    return score.p_value


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
    return MetricRow(MetricKind.DRIFT, DRIFT_LEVEL, policy.drift_level(kind, judged, tiers, noise),
                     method_row.window, column=method_row.column, slice_key=method_row.slice_key,
                     slice_value=method_row.slice_value, n=method_row.n, threshold_warning=1.0,
                     threshold_critical=2.0, details=details)


def slice_drift_rows(config: MonitorConfig, reference: ReferenceProfile, observation: Observation,
                     calibrations: CalibrationPoints | None = None) -> list[MetricRow]:
    """Each feature's drift within each slice (a model version, a customer segment) against the same slice of the
    reference, by the rule of the whole window: the method `drift_method` picks for the slice's own row count (`auto`:
    a test below auto_switch_rows, a distance from there) and the same tiers. A distance's noise band is read, as a
    whole column's is, from a calibration table at the slice's effective size: a slice that holds the whole window
    reads the column's table stored with the reference; any other slice the table of its own reference counts, which
    `calibrations` keeps between runs (the metric store in a DAG run; this process's memory without one), filled
    on first use (drift/slice_calibration.py). The slices'
    p-values are corrected together (a family apart from the whole window's, whose power it would otherwise dilute),
    then for the slices' share of the window's false-page budget; distances are not p-values and need neither."""
    points = IN_PROCESS if calibrations is None else calibrations
    scored: list[tuple[str, str, str, DriftMethod, DriftScore]] = []
    requests: dict[int, BandRequest] = {}  # by position in `scored`: the distances whose band is the slice's own
    for slice_key, by_value in observation.slices.items():
        for slice_value, features in by_value.items():
            for feature, profile in features.items():
                method = get_method(config.drift_method(feature, profile.n))
                whole = reference.columns[feature]
                # A slice holding every row of the window (the only serving model version) is the window again: the
                # column's stored band serves it; any other slice's band is its own reference counts' (see above).
                restates = profile.n == observation.sampled_rows
                ref = profiles.restricted(whole, (reference.slice_profiles or {})[slice_key][slice_value][feature],
                                          whole.calibration if restates else {})
                if _window_skip_reason(profile) or skip_reason(method, ref):
                    continue
                if restates or method.statistic is None:
                    score = score_column(method, ref, profile, config.drift.noise_quantile)
                else:
                    score, reference_counts, inputs = unbanded_score(method, ref, profile)
                    requests[len(scored)] = band_request(
                        method, reference_counts, inputs, config.drift.noise_quantile,
                        effective_size(score.n, sum(reference_counts)), feature, slice_key, slice_value)
                scored.append((slice_key, slice_value, feature, method, score))
    bands = slice_bands(list(requests.values()), points, observation.reference_id)
    for (position, request), noise in zip(requests.items(), bands, strict=True):
        slice_key, slice_value, feature, method, score = scored[position]
        scored[position] = (slice_key, slice_value, feature, method,
                            banded(score, noise, request.size, points.source, calibration_table=request.table_key))
    tests = [_tested(score) for *_, method, score in scored if method.score_kind is ScoreKind.P_VALUE]
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


def new_category_row(config: MonitorConfig, column: str, profile: CategoryCounts, window: Window) -> MetricRow:
    """The share of the window's non-null values in categories the reference never saw.

    The reference cannot produce such values, so there is no sampling noise to calibrate; but one or
    two odd values are a curiosity, not drift: NEW_CATEGORY_MIN_ROWS rows are needed before it alerts.
    """
    present = sum(profile.counts) + profile.unseen
    share = profile.unseen / present if present else None
    tiers = config.drift.new_category
    noise = (NEW_CATEGORY_MIN_ROWS - 1) / present if present else None
    return MetricRow(MetricKind.DRIFT, "new_category_share", share, window, column=column, n=present,
                     threshold_warning=tiers.warning, threshold_critical=tiers.critical,
                     severity=policy.score_severity(ScoreKind.DISTANCE, share, tiers, noise),
                     details={"unseen_rows": profile.unseen, "examples": dict(profile.unseen_examples), "noise": noise})


def positive_share_test(config: MonitorConfig, reference: ReferenceProfile,
                        observation: Observation) -> tuple[DriftMethod, DriftScore] | None:
    """The window's predicted-class shares against the reference's, scored like a categorical feature
    (auto: chi-squared below auto_switch_rows, Jensen-Shannon with its noise band from there); None without scores."""
    score = config.warehouse.score_column
    window_output = getattr(observation.profiles.get(score), "output", None)
    reference_output = getattr(reference.columns[score], "output", None)
    if not window_output or not reference_output or not window_output.scored:
        return None
    n = window_output.scored
    method = get_method(config.positive_share_method(n))
    reference_counts = [reference_output.scored - reference_output.positive, reference_output.positive]
    result = method.score(reference_counts, [n - window_output.positive, window_output.positive])
    if method.statistic is not None:
        result = dataclasses.replace(result, noise=band(method, reference_counts, n, config.drift.noise_quantile, None)[0])
    return method, result


def output_rows(config: MonitorConfig, reference: ReferenceProfile, observation: Observation,
                test: tuple[DriftMethod, DriftScore], p_value: float | None, tests_in_window: int) -> list[MetricRow]:
    """Output drift beside the score's own drift: the predicted-positive share (a p-value is corrected with
    the window's others), and the mean score and low-confidence share, recorded beside their reference values."""
    score = config.warehouse.score_column
    window_output = getattr(observation.profiles[score], "output", None)
    reference_output = getattr(reference.columns[score], "output", None)
    assert window_output is not None and reference_output is not None  # positive_share_test found both
    window, n = observation.window, window_output.scored
    method, result = test
    tiers = getattr(config.drift, method.name)
    share = window_output.positive / n
    reference_share = reference_output.positive / max(reference_output.scored, 1)
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
        MetricRow(MetricKind.DRIFT, "mean_score", window_output.mean, window, column=score, n=n,
                  details={"reference": reference_output.mean}),
        MetricRow(MetricKind.DRIFT, "low_confidence_share", window_output.low_confidence / n, window, column=score,
                  n=n, details={"reference": reference_output.low_confidence / max(reference_output.scored, 1),
                                "margin": profiles.LOW_CONFIDENCE_MARGIN}),
    ]


def _window_skip_reason(profile: ColumnCounts) -> str:
    if profile.kind == "numeric":
        if profile.unparseable:
            return f"{profile.unparseable} values could not be parsed as numbers (see validation)"
        if sum(profile.counts) == 0:
            return "no finite values in the window (all null or infinite)"
    elif sum(profile.counts) + profile.unseen == 0:
        return "no non-null values in the window"
    return ""
