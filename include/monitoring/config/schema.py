"""The monitor file's schema: one frozen dataclass per section, every key with its default documented beside it.

`loader.py` builds these from YAML; `checks.py` holds the rules that span keys; `ranges.py` the values each numeric
key accepts. Names shared with the rest of the package (tasks, drift methods, metrics, channels) come from
`include/monitoring/catalogue.py`. Stdlib only: DAG files import this at parse time.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from include.monitoring.catalogue import (
    AUTO,
    AUTO_CATEGORICAL_METHODS,
    AUTO_NUMERIC_METHODS,
    CATEGORICAL_DRIFT_METHODS,
    DEFAULT_PERFORMANCE_METRICS,
    DRIFT_METHOD_SPECS,
    NUMERIC_DRIFT_METHODS,
    TaskType,
)
from include.monitoring.types import Severity

SCHEDULES = {"hourly": "0 * * * *", "daily": "0 0 * * *"}
MAX_LOOKBACK_WINDOWS = 24  # persistence and resolve_after look back at most this many windows of an alert's history

if TYPE_CHECKING:
    NumericMethodName = str
    CategoricalMethodName = str
else:  # the choices the loader accepts, from the catalogue (a type checker cannot read a Literal built at run time)
    NumericMethodName = Literal[(AUTO, *NUMERIC_DRIFT_METHODS)]
    CategoricalMethodName = Literal[(AUTO, *CATEGORICAL_DRIFT_METHODS)]


@dataclass(frozen=True, slots=True)
class WarehouseConfig:
    conn_id: str = "warehouse"  # Airflow connection of the prediction warehouse
    predictions_table: str = "predictions"
    id_column: str = "prediction_id"
    timestamp_column: str = "ts"  # UTC timestamps; windows are [start, end)
    # "" = the column holds timestamps (a timestamp type, or ISO-8601 text); "s" or "ms" = numbers, epoch seconds or
    # milliseconds (UTC), compared as numbers in the query so an index on them still serves
    timestamp_unit: Literal["", "s", "ms"] = ""
    score_column: str = "score"  # probability of the positive class
    # The class the model served. Multiclass: required. Binary: read when the table has this column (values as labels
    # are: 1/0, true/false, yes/no, labels.positive_label / negative_label); accuracy, precision, recall, f1 and their
    # estimates are then of the served class, and performance.threshold classifies only rows where it is null or
    # unreadable. "" = never read it (binary models then always classify by performance.threshold).
    prediction_column: str = "predicted_class"
    model_version_column: str = ""  # "" when the log has none
    expected_model_versions: tuple[str, ...] = ()  # a version outside this list is a WARNING; () = any version
    max_rows_per_window: int = 200_000  # larger windows are sampled by a hash of the id (warehouse.sample_by_id)
    # Where a window's profiles are counted: "on" = in the warehouse, one aggregate query over every row
    # (warehouse_profiles.py), with validation on a sample; "off" = in memory from the rows read (sampled above
    # max_rows_per_window); "auto" = in the warehouse when the window has more rows than max_rows_per_window.
    pushdown: Literal["auto", "on", "off"] = "auto"


@dataclass(frozen=True, slots=True)
class Tiers:
    warning: float | None = None
    critical: float | None = None


def _default_tiers(method: str) -> Tiers:
    spec = DRIFT_METHOD_SPECS[method]
    return Tiers(warning=spec.warning, critical=spec.critical)


@dataclass(frozen=True, slots=True)
class LabelsConfig:
    table: str = "labels"
    id_column: str = "prediction_id"  # joins to warehouse.id_column
    label_column: str = "label"
    arrived_at_column: str = "labeled_at"  # when the label became known; runs only see labels known by their window end
    horizon_days: int = 30  # every run re-scores the windows this recent whose labels changed since they were scored
    max_unmatched_share: float = 0.05  # labels arriving in a window that match no prediction: WARNING above this
    # Label coverage: each run judges the window that became `due_hours` old (by then its labels should be in);
    # a labelled share below a tier alerts (lower is worse). A stalled label pipeline shows here, days before
    # performance would have been judged on too few labels.
    due_hours: int = 72
    due_coverage: Tiers = Tiers(warning=0.5)
    # Binary labels read 1/0, true/false and yes/no (any case, as numbers, booleans or text), plus these two
    # values when the label column names its classes ("default" / "repaid"); any other value is left out of
    # scoring and reported by the label_values check.
    positive_label: str = ""
    negative_label: str = ""


@dataclass(frozen=True, slots=True)
class FeaturesConfig:
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReferenceConfig:
    # "table": fitted from `table` (and start/end). "rolling": the last rolling_days of monitored windows,
    # "seasonal": the same hour of the week over the last seasonal_weeks; both merged from stored window
    # profiles in the table reference's bins, rebuilt by `cli build-reference`, never by a monitor run.
    source: Literal["table", "rolling", "seasonal"] = "table"
    rolling_days: int = 14
    seasonal_weeks: int = 4
    table: str = ""  # table of scored reference rows (same columns as predictions, plus the label); "" = predictions table
    start: str = ""  # optional ISO bounds on the timestamp column of `table`
    end: str = ""
    label_column: str = ""  # label column in `table`, for the baseline performance; "" = no baseline
    bins: int = 10  # numeric features: bins at reference quantiles, frozen with the profile
    top_k_categories: int = 20  # categorical features: the rest is pooled into one "other" bucket


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    method: str = ""  # "" = drift.numeric_method or drift.categorical_method
    warning: float | None = None  # None = the method's default tier
    critical: float | None = None


@dataclass(frozen=True, slots=True)
class DriftConfig:
    # "auto": windows of fewer than auto_switch_rows rows use the test (ks, chi2), larger ones the distance
    # (wasserstein, jensen_shannon); see the README. The score column follows numeric_method.
    numeric_method: NumericMethodName = AUTO
    categorical_method: CategoricalMethodName = AUTO
    auto_switch_rows: int = 2000
    correction: Literal["benjamini_hochberg", "bonferroni"] = "benjamini_hochberg"  # across a window's p-value features
    # Each method's tiers, keyed by its name; the defaults, units and directions are in the catalogue.
    psi: Tiers = _default_tiers("psi")
    chi2: Tiers = _default_tiers("chi2")
    ks: Tiers = _default_tiers("ks")
    wasserstein: Tiers = _default_tiers("wasserstein")
    jensen_shannon: Tiers = _default_tiers("jensen_shannon")
    hellinger: Tiers = _default_tiers("hellinger")
    l_infinity: Tiers = _default_tiers("l_infinity")
    new_category: Tiers = Tiers(warning=0.01, critical=0.05)  # share of a window in never-seen categories
    noise_quantile: float = 0.999  # a score inside this quantile of its no-drift distribution at the window's size is noise
    # A slice of a window (a model version, a segment) is tested for drift from this many rows: a 40-row slice of a
    # night hour tests little but adds tests to the slices' correction.
    min_slice_rows: int = 200
    features: dict[str, FeatureDrift] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    max_null_rate: float = 0.05  # per feature, unless the reference already had more
    range_tolerance: float = 0.1  # numeric ranges: reference [min, max] widened by this share of its span
    critical_null_rate: float = 0.5  # more nulls than this (or 1.5 x the reference rate) is CRITICAL
    mostly: float = 0.99  # share of rows that must pass a range or category expectation
    # Failures that stop the run after validation (no drift computed on broken data): generated check names
    # (see the README) or the meta.check names of include/expectations/<model>.json.
    blocking: tuple[str, ...] = ("column_missing", "wrong_type_score")
    volume_weeks: int = 4  # row count compared with the same hour of the week in up to this many earlier weeks
    volume_k: float = 3.0  # alert outside mean +- k x std of those weeks (a prediction interval)


@dataclass(frozen=True, slots=True)
class ApplicationConfig:
    # The serving side, read from the same prediction log when it has these columns ("" = not recorded).
    latency_column: str = ""  # milliseconds per prediction
    status_column: str = ""  # a row whose status is not in ok_statuses counts as an error (so does a null)
    ok_statuses: tuple[str, ...] = ("ok", "success", "200")
    latency_p50: Tiers = Tiers()  # milliseconds: higher is worse; no tiers = recorded only
    latency_p95: Tiers = Tiers()
    latency_p99: Tiers = Tiers()
    error_rate: Tiers = Tiers(warning=0.01, critical=0.05)


@dataclass(frozen=True, slots=True)
class PerformanceConfig:
    metrics: tuple[str, ...] = ()  # () = the task's defaults (see the README); names checked per task
    min_labels: int = 50  # fewer labelled rows: recorded as insufficient, not as a value
    # Metrics without an exact test (all but the proportions: accuracy, precision, recall) are judged from the
    # band from this many labels, binary ones once each class has min_class_labels: AUC or F1 on a few dozen
    # positives, or an RMSE on 50 skewed residuals, has tails far heavier than the normal.
    min_band_labels: int = 100
    min_class_labels: int = 50
    min_coverage: float = 0.5  # performance alerts wait until this share of a window's predictions is labelled
    warning_drop: float = 0.02  # relative drop from the reference baseline (a rise, for errors such as log_loss)
    critical_drop: float = 0.05
    # ... and its one-sided p-value of lying that far below the reference, corrected across the window's metrics
    # (whole window and slices apart), is at most this: as drift's CRITICAL tier, about one false page a year
    # per family at 720 windows a month (see performance/significance.py for the two tests).
    significance: float = 1e-4
    # Binary: the score cut-off of the positive class. The confusion metrics (accuracy, precision, recall, f1) and
    # their estimates use it only for rows without a served class (no warehouse.prediction_column in the table, or a
    # null or unreadable value there); the output's positive_share and low_confidence_share always use it.
    threshold: float = 0.5
    slices: tuple[str, ...] = ()  # categorical columns whose top values each get their own performance rows
    slice_top_k: int = 10  # values per slice column; the rest are pooled as "__other__"
    estimate: bool = True  # binary: estimated performance of unlabelled windows from reference-calibrated scores


@dataclass(frozen=True, slots=True)
class DynamicThreshold:
    windows: int = 168  # the last N windows of the same metric, column and slice (a week of hours)
    min_windows: int = 24  # fewer earlier windows: no judgement yet
    k_warning: float = 3.0  # |value - mean| >= k x std
    k_critical: float = 5.0


@dataclass(frozen=True, slots=True)
class Persistence:
    """[N, M] per tier for the rules a key of alerts.persistence matches; () = the global alerts.<tier>_persistence."""

    warning: tuple[int, ...] = ()
    critical: tuple[int, ...] = ()


# Rules whose WARNING needs 2 breaches in 3 windows unless the file says otherwise. The drift tests of a window (the
# features' and the predicted classes') and the volume band each breach about once in 200 quiet hours by chance,
# i.e. 3 to 4 false WARNINGs a month; a real shift or outage lasts, so waiting one window costs an hour and removes
# nearly all of them. Their CRITICAL tiers fire at once.
DEFAULT_PERSISTENCE = {rule: Persistence(warning=(2, 3))
                       for rule in ("drift:feature_drift", "drift:positive_share", "operational:volume")}


@dataclass(frozen=True, slots=True)
class Silence:
    match: str = "*"
    until: str = ""  # ISO time; "" = until removed
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    # Routes per severity: log, slack (to slack_channel), slack:#<channel> (a team's own channel, same connection),
    # pagerduty. A route without its connection is skipped (recorded with the reason).
    critical: tuple[str, ...] = ("log", "slack", "pagerduty")
    warning: tuple[str, ...] = ("log", "slack")
    info: tuple[str, ...] = ("log",)
    slack_conn_id: str = "slack_alerts"  # Slack API (bot token) or incoming-webhook connection
    slack_channel: str = "#ml-alerts"  # used by Slack API connections; webhooks post to their own channel
    pagerduty_conn_id: str = "pagerduty_alerts"  # Events API v2: routing key in the password, events URL optional
    runbook_url: str = ""
    airflow_base_url: str = "http://localhost:8080"  # for links to the run in notifications
    # Persistence: [N, M] = a tier fires only after N breaches at that tier or above in the last M windows.
    warning_persistence: tuple[int, ...] = (1, 1)
    critical_persistence: tuple[int, ...] = (1, 1)
    # Per rule, by a glob on "<kind>:<rule>" (the alert key's second and third parts, e.g. "drift:feature_drift",
    # "quality:*"): {warning: [N, M], critical: [N, M]}. Merged over DEFAULT_PERSISTENCE; the most specific
    # (longest) matching pattern wins.
    persistence: dict[str, Persistence] = field(default_factory=dict)
    resolve_after: int = 2  # an open alert resolves after this many consecutive clean windows (hysteresis)
    # An open alert whose rule this many runs in a row could not evaluate (a slice too small, a feature skipped, no
    # labels due) resolves as no longer seen; a folded alert resolves with its cause instead.
    resolve_unseen_after: int = 24
    # An incident whose root alerts all resolved stays quiet this long: a root that reopens, or a new one caused by
    # its alerts, rejoins it (a reply in its Slack thread, no new page), and PagerDuty gets the resolve only after
    # it. 0 = resolve PagerDuty with the last root.
    reopen_within_hours: float = 24.0
    remind_hours: float = 24.0  # an alert still breaching is notified again after this long; 0 = never
    page_within_hours: float = 24.0  # windows that ended longer ago (backfills) write metrics but do not notify
    page_backfills: bool = False  # true: notify for old windows too
    # Silences: [{match: "drift:*", until: "2026-12-01T00:00", reason: "..."}]; `match` is a glob on the alert key
    # without the model ("<kind>:<rule>:<column>:<slice>"). The Airflow variable `monitoring_silences` adds more,
    # as a JSON list of the same objects with a "model" key. Silenced alerts are recorded, notifications suppressed.
    silences: tuple[Silence, ...] = ()
    info_digest: str = ""  # a route (slack, slack:#<channel>) for the daily digest of INFO findings; "" = none
    # Dynamic thresholds by "<kind>:<metric>", e.g. {"operational:latency_p95": {windows: 168, k_warning: 3}}.
    dynamic: dict[str, DynamicThreshold] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    model: str
    owner: str = "ml-platform"
    description: str = ""
    # binary: the score is the positive class's probability; multiclass: prediction_column holds the class;
    # regression: the score column holds the predicted value.
    task: TaskType = TaskType.BINARY_CLASSIFICATION
    schedule: Literal["hourly", "daily"] = "hourly"  # the window width
    start_date: str = "2026-01-01"  # first window backfills may ask for
    retries: int = 2
    retry_delay_minutes: int = 2
    timeout_minutes: int = 30  # per task
    min_rows: int = 30  # fewer rows: status insufficient_data, no drift computed
    store_conn_id: str = "monitoring_store"  # Airflow connection of the metric store
    warehouse: WarehouseConfig = WarehouseConfig()
    labels: LabelsConfig = LabelsConfig()
    features: FeaturesConfig = FeaturesConfig()
    reference: ReferenceConfig = ReferenceConfig()
    drift: DriftConfig = DriftConfig()
    validation: ValidationConfig = ValidationConfig()
    performance: PerformanceConfig = PerformanceConfig()
    application: ApplicationConfig = ApplicationConfig()
    alerts: AlertsConfig = AlertsConfig()
    source_file: str = ""  # set by the loader

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", TaskType(self.task))  # also when built in code from the plain name

    @property
    def dag_id(self) -> str:
        return f"monitor_{self.model}"

    @property
    def performance_metrics(self) -> tuple[str, ...]:
        return self.performance.metrics or DEFAULT_PERFORMANCE_METRICS[self.task]

    @property
    def cron(self) -> str:
        return SCHEDULES[self.schedule]

    @property
    def start_datetime(self) -> datetime:
        moment = datetime.fromisoformat(self.start_date)
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    def configured_drift_method(self, column: str) -> str:
        """The method named for the column (a feature or the score column), possibly "auto"."""
        override = self.drift.features.get(column)
        if override and override.method:
            return override.method
        return self.drift.categorical_method if column in self.features.categorical else self.drift.numeric_method

    def drift_method(self, column: str, rows: int) -> str:
        """The method that scores `column` in a window of `rows` rows ("auto" resolved by the row count)."""
        return self._resolve(self.configured_drift_method(column), column in self.features.categorical, rows)

    def positive_share_method(self, rows: int) -> str:
        """The predicted classes are a categorical distribution: categorical_method scores their shares."""
        return self._resolve(self.drift.categorical_method, True, rows)

    def _resolve(self, method: str, categorical: bool, rows: int) -> str:
        if method != AUTO:
            return method
        test, distance = AUTO_CATEGORICAL_METHODS if categorical else AUTO_NUMERIC_METHODS
        return test if rows < self.drift.auto_switch_rows else distance

    def possible_drift_methods(self, column: str) -> tuple[str, ...]:
        """Every method that may score `column`, whatever the window size (the reference calibrates these)."""
        method = self.configured_drift_method(column)
        if method != AUTO:
            return (method,)
        return AUTO_CATEGORICAL_METHODS if column in self.features.categorical else AUTO_NUMERIC_METHODS

    def drift_tiers(self, column: str, method: str) -> Tiers:
        default: Tiers = getattr(self.drift, method)
        override = self.drift.features.get(column)
        if override is None:
            return default
        return Tiers(
            warning=override.warning if override.warning is not None else default.warning,
            critical=override.critical if override.critical is not None else default.critical,
        )

    def persistence(self, rule: str, tier: Severity) -> tuple[int, ...]:
        """[N, M] of `tier` for `rule` ("<kind>:<rule>"): the longest matching alerts.persistence pattern that sets
        the tier (the file's entries over DEFAULT_PERSISTENCE), else the global alerts.<tier>_persistence."""
        name = "critical" if tier is Severity.CRITICAL else "warning"
        rules = {**DEFAULT_PERSISTENCE, **self.alerts.persistence}
        for pattern in sorted(rules, key=len, reverse=True):
            value: tuple[int, ...] = getattr(rules[pattern], name)
            if value and fnmatch.fnmatchcase(rule, pattern):
                return value
        default: tuple[int, ...] = getattr(self.alerts, f"{name}_persistence")
        return default

    def channels_for(self, severity: Severity) -> tuple[str, ...]:
        return {Severity.CRITICAL: self.alerts.critical, Severity.WARNING: self.alerts.warning}.get(
            severity, self.alerts.info
        )
