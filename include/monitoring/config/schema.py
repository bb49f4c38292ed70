"""Monitor files (`include/monitors/<model>.yaml`) -> validated, frozen config objects.

Every key has a default documented next to its field, and every numeric key a range in NUMERIC_RANGES; an
unknown key, a wrong type, an unknown choice or a number outside its range raises `ConfigError` naming the file,
the key path and the valid options. Stdlib + PyYAML only,
because DAG files load these at parse time.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml

from include.monitoring.errors import ConfigError
from include.monitoring.types import Severity

MONITORS_DIR = Path(__file__).resolve().parents[2] / "monitors"
EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"

SCHEDULES = {"hourly": "0 * * * *", "daily": "0 0 * * *"}
TASK_TYPES = ("binary_classification", "multiclass_classification", "regression")
# Mirrors the registry in drift/ (which imports numpy, so parse-time code cannot); a test keeps them equal.
NUMERIC_DRIFT_METHODS = ("ks", "wasserstein", "psi", "jensen_shannon", "hellinger", "l_infinity")
CATEGORICAL_DRIFT_METHODS = ("chi2", "jensen_shannon", "psi", "hellinger", "l_infinity")
CHANNELS = ("log", "slack", "pagerduty")
MAX_LOOKBACK_WINDOWS = 24  # persistence and resolve_after look back at most this many windows of an alert's history
# Per task: every metric it may compute, and the default list. Mirrors performance/metrics.py (numpy; a test keeps
# them equal), because config must stay importable at DAG parse time.
PERFORMANCE_METRICS = {
    "binary_classification": ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier", "ece"),
    "multiclass_classification": ("accuracy", "macro_f1", "weighted_f1", "recall_per_class"),
    "regression": ("mae", "rmse", "mape", "r2", "mean_error", "residual_p05", "residual_p50", "residual_p95"),
}
DEFAULT_PERFORMANCE_METRICS = {
    "binary_classification": ("roc_auc", "accuracy", "f1"),
    "multiclass_classification": ("accuracy", "macro_f1"),
    "regression": ("mae", "rmse"),
}


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
    max_rows_per_window: int = 200_000  # larger windows are sampled deterministically by id


@dataclass(frozen=True, slots=True)
class Tiers:
    warning: float | None = None
    critical: float | None = None


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
    numeric_method: Literal["auto", "ks", "wasserstein", "psi", "jensen_shannon", "hellinger", "l_infinity"] = "auto"
    categorical_method: Literal["auto", "chi2", "jensen_shannon", "psi", "hellinger", "l_infinity"] = "auto"
    auto_switch_rows: int = 2000
    correction: Literal["benjamini_hochberg", "bonferroni"] = "benjamini_hochberg"  # across a window's p-value features
    psi: Tiers = Tiers(warning=0.1, critical=0.2)  # distance: higher is worse
    # p-values after the correction across the window: lower is worse. Under no drift the correction keeps the
    # chance that any of the window's tests reaches WARNING at 0.5 % (a feature's drift WARNING also needs 2 of 3
    # windows: alerts.persistence) and CRITICAL at 0.01 %, whatever the number of features. At 720 hourly windows
    # a month, 0.01 % is one false page in about 14 months; 0.1 % would be one in six weeks.
    chi2: Tiers = Tiers(warning=0.005, critical=0.0001)
    ks: Tiers = Tiers(warning=0.005, critical=0.0001)
    wasserstein: Tiers = Tiers(warning=0.1, critical=0.2)  # in reference standard deviations
    # The distances below: higher is worse; tiers are PSI's 0.1 / 0.2 translated (see each method's module).
    jensen_shannon: Tiers = Tiers(warning=0.13, critical=0.19)  # base 2, in [0, 1]
    hellinger: Tiers = Tiers(warning=0.11, critical=0.16)  # in [0, 1]
    l_infinity: Tiers = Tiers(warning=0.07, critical=0.10)  # largest change of one bin's share
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
    task: Literal["binary_classification", "multiclass_classification", "regression"] = "binary_classification"
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
        if method != "auto":
            return method
        small = rows < self.drift.auto_switch_rows
        if categorical:
            return "chi2" if small else "jensen_shannon"
        return "ks" if small else "wasserstein"

    def possible_drift_methods(self, column: str) -> tuple[str, ...]:
        """Every method that may score `column`, whatever the window size (the reference calibrates these)."""
        method = self.configured_drift_method(column)
        if method != "auto":
            return (method,)
        return ("chi2", "jensen_shannon") if column in self.features.categorical else ("ks", "wasserstein")

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
            value = getattr(rules[pattern], name)
            if value and fnmatch.fnmatchcase(rule, pattern):
                return value
        return getattr(self.alerts, f"{name}_persistence")

    def channels_for(self, severity: Severity) -> tuple[str, ...]:
        return {Severity.CRITICAL: self.alerts.critical, Severity.WARNING: self.alerts.warning}.get(
            severity, self.alerts.info
        )


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# The shorter of the two places a model name must fit: the store's `model` columns (128 characters) and the DAG's
# "model:<name>" tag, which Airflow caps at 100 characters.
MAX_MODEL_NAME_LENGTH = 100 - len("model:")
# start_date bounds: far enough apart for any real backfill, and safe from the overflow that an offset at the
# calendar's ends (0001-01-01T00:00+05:00) causes when the DAG converts it to UTC.
EARLIEST_START, LATEST_START = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Range:
    """The values a numeric key accepts, written as an interval: [low, high], an open end in round brackets."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below  # NaN is neither, so it is outside every range

    def __str__(self) -> str:
        return (f"{'(' if self.low_open else '['}{_readable(self.low)}, "
                f"{_readable(self.high)}{')' if self.high_open else ']'}")


def _readable(number: float) -> str:
    return f"{number:_}" if isinstance(number, int) else f"{number:g}"


SHARE = Range(0, 1)
P_VALUE = Range(0, 1)
OPEN_SHARE = Range(0, 1, low_open=True, high_open=True)
ROWS = Range(1, 10_000_000)  # row and label counts: far beyond what one window can hold in memory
LOOKBACK = Range(1, MAX_LOOKBACK_WINDOWS)
# Every numeric key of a monitor file and the values it accepts: the one place `_check_ranges` and the README read.
# Keys are paths as written in the file; "*" stands for a name the file chooses (a feature, a rule pattern), and a
# Tiers key ({warning, critical}) covers both tiers. Bounds keep values sensible and far from what breaks Python
# or the store: a huge timeout overflows timedelta at parse time, a billion bins allocates gigabytes.
NUMERIC_RANGES: dict[str, Range] = {
    "retries": Range(0, 10),
    "retry_delay_minutes": Range(0, 1440),
    "timeout_minutes": Range(1, 1440),  # per task: a task running longer than a day is stuck
    "min_rows": ROWS,
    "warehouse.max_rows_per_window": ROWS,
    "labels.horizon_days": Range(1, 365),
    "labels.max_unmatched_share": SHARE,
    "labels.due_hours": Range(1, 365 * 24),  # and below labels.horizon_days, checked in _check
    "labels.due_coverage": SHARE,
    "reference.rolling_days": Range(1, 365),
    "reference.seasonal_weeks": Range(1, 52),
    "reference.bins": Range(2, 1000),
    "reference.top_k_categories": Range(1, 1000),
    "drift.auto_switch_rows": ROWS,
    "drift.psi": Range(0, 10),
    "drift.chi2": P_VALUE,
    "drift.ks": P_VALUE,
    "drift.wasserstein": Range(0, 100),  # reference standard deviations
    "drift.jensen_shannon": SHARE,
    "drift.hellinger": SHARE,
    "drift.l_infinity": SHARE,
    "drift.new_category": SHARE,
    "drift.noise_quantile": Range(0.5, 1, low_open=True, high_open=True),
    "drift.min_slice_rows": ROWS,
    # The widest of the methods' ranges; the method the feature uses narrows it (_check_feature_tiers).
    "drift.features.*.warning": Range(0, 100),
    "drift.features.*.critical": Range(0, 100),
    "validation.max_null_rate": SHARE,
    "validation.critical_null_rate": SHARE,
    "validation.range_tolerance": Range(0, 10),  # a share of the reference's span
    "validation.mostly": Range(0, 1, low_open=True),  # 0 would let every row fail
    "validation.volume_weeks": Range(1, 52),
    "validation.volume_k": Range(0, 100, low_open=True),
    "performance.min_labels": ROWS,
    "performance.min_band_labels": ROWS,
    "performance.min_class_labels": ROWS,
    "performance.min_coverage": SHARE,
    "performance.warning_drop": OPEN_SHARE,
    "performance.critical_drop": OPEN_SHARE,
    "performance.significance": OPEN_SHARE,
    "performance.threshold": OPEN_SHARE,  # a cut-off at 0 or 1 puts every prediction in one class
    "performance.slice_top_k": Range(1, 1000),
    "application.latency_p50": Range(0, 3_600_000),  # milliseconds: up to an hour
    "application.latency_p95": Range(0, 3_600_000),
    "application.latency_p99": Range(0, 3_600_000),
    "application.error_rate": SHARE,
    "alerts.warning_persistence": LOOKBACK,  # each of N and M
    "alerts.critical_persistence": LOOKBACK,
    "alerts.persistence.*.warning": LOOKBACK,
    "alerts.persistence.*.critical": LOOKBACK,
    "alerts.resolve_after": LOOKBACK,
    "alerts.remind_hours": Range(0, 365 * 24),  # 0 = never
    "alerts.resolve_unseen_after": Range(1, 90 * 24),  # windows: up to 90 days of hourly runs
    "alerts.reopen_within_hours": Range(0, 30 * 24),
    "alerts.page_within_hours": Range(1, 365 * 24),  # every run starts after its window ended: 0 would never page
    "alerts.dynamic.*.windows": Range(2, 365 * 24),
    "alerts.dynamic.*.min_windows": Range(2, 365 * 24),
    "alerts.dynamic.*.k_warning": Range(0, 100, low_open=True),
    "alerts.dynamic.*.k_critical": Range(0, 100, low_open=True),
}


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so an impossible date (2026-02-30) is reported by the
    key check that names it, instead of failing inside the YAML parser."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_monitor_config(path: str | Path) -> MonitorConfig:
    """Read and validate one monitor file."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=_TextDatesLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: expected a mapping of keys at the top level, got {type(raw).__name__}")
    raw.setdefault("model", path.stem)
    config = _build(MonitorConfig, raw, path.name, "")
    config = dataclasses.replace(config, source_file=str(path))
    _check(config, path.name)
    _check_suite(config, path.name)
    return config


def monitors_dir() -> Path:
    """Where the monitor files are: include/monitors, or $MONITORING_MONITORS_DIR when set."""
    return Path(os.environ.get("MONITORING_MONITORS_DIR") or MONITORS_DIR)


def load_all_monitors(directory: Path | None = None) -> tuple[list[MonitorConfig], dict[str, ConfigError]]:
    """Every monitor file in `directory` (default: `monitors_dir()`): the valid configs and, per broken file
    (by file name), its error. No file's content can stop the others from loading."""
    directory = directory or monitors_dir()
    configs: list[MonitorConfig] = []
    errors: dict[str, ConfigError] = {}
    for path in sorted(directory.glob("*.y*ml")):
        try:
            configs.append(load_monitor_config(path))
        except ConfigError as exc:
            errors[path.name] = exc
        except Exception as exc:  # noqa: BLE001 (a bug or a YAML oddity in one file must not cost the other models)
            errors[path.name] = ConfigError(f"{path.name}: could not be loaded: {type(exc).__name__}: {exc}")
    duplicates = _duplicate_models(configs)
    errors |= duplicates
    return [config for config in configs if Path(config.source_file).name not in duplicates], errors


def _duplicate_models(configs: list[MonitorConfig]) -> dict[str, ConfigError]:
    """Files naming a model that another file names too, by file name. The file named <model>.yaml keeps the
    model (a copy that forgot to change `model:` cannot take over or stop its DAG); when no file is named after
    the model, file order would decide, so every file naming it is an error."""
    files_by_model: dict[str, list[str]] = {}
    for config in configs:
        files_by_model.setdefault(config.model, []).append(Path(config.source_file).name)
    errors: dict[str, ConfigError] = {}
    for model, files in files_by_model.items():
        if len(files) < 2:
            continue
        owners = [name for name in files if Path(name).stem == model]
        for name in files:
            others = ", ".join(other for other in files if other != name)
            if len(owners) == 1 and name != owners[0]:
                errors[name] = ConfigError(f"{name}: model: {model!r} is already the model of {others}; "
                                           f"{owners[0]} is named after it and keeps the DAG: give this file its own "
                                           f"model name")
            elif len(owners) != 1:
                errors[name] = ConfigError(f"{name}: model: {model!r} is also the model of {others}; no single file "
                                           f"is named {model}.yaml, so none of them gets the DAG until each model has one file")
    return errors


def _check(config: MonitorConfig, file: str) -> None:
    """Rules that span several keys."""

    def fail(key: str, message: str) -> typing.NoReturn:
        raise ConfigError(f"{file}: {key}: {message}")

    if not _NAME.match(config.model):
        fail("model", f"{config.model!r} must be lower_snake_case (letters, digits, underscores)")
    if len(config.model) > MAX_MODEL_NAME_LENGTH:
        fail("model", f"{len(config.model)} characters, expected at most {MAX_MODEL_NAME_LENGTH} (the DAG's "
                      f"model:<name> tag must fit Airflow's 100 characters)")
    _check_ranges(config, file)
    if not config.features.numeric and not config.features.categorical:
        fail("features", "list at least one feature under features.numeric or features.categorical")
    overlap = set(config.features.numeric) & set(config.features.categorical)
    if overlap:
        fail("features", f"{sorted(overlap)} listed as both numeric and categorical")
    declared = set(config.features.numeric) | set(config.features.categorical)
    for column, override in config.drift.features.items():
        if column not in declared:
            fail(f"drift.features.{column}", f"not a declared feature; valid: {sorted(declared)}")
        if override.method:
            valid = ("auto", *(NUMERIC_DRIFT_METHODS if column in config.features.numeric else CATEGORICAL_DRIFT_METHODS))
            if override.method not in valid:
                fail(f"drift.features.{column}.method", f"unknown method {override.method!r}; valid: {list(valid)}")
    for name in config.performance.metrics:
        if name not in PERFORMANCE_METRICS[config.task]:
            fail("performance.metrics", f"unknown metric {name!r} for {config.task}; "
                                        f"valid: {list(PERFORMANCE_METRICS[config.task])}")
    sliceable = {*config.features.categorical, config.warehouse.model_version_column} - {""}
    for column in config.performance.slices:
        if column not in sliceable:
            fail("performance.slices", f"{column!r} is not a categorical feature or the model version column; "
                                       f"valid: {sorted(sliceable)}")
    if not 1 <= config.labels.due_hours < config.labels.horizon_days * 24:
        fail("labels.due_hours", f"expected 1 to {config.labels.horizon_days * 24 - 1} hours (within labels.horizon_days)")
    persistences = [(f"alerts.{name}", getattr(config.alerts, name))
                    for name in ("warning_persistence", "critical_persistence")]
    for pattern, rule in config.alerts.persistence.items():
        if pattern.count(":") != 1:
            fail(f"alerts.persistence.{pattern}", "expected a '<kind>:<rule>' pattern such as drift:feature_drift or quality:*")
        persistences += [(f"alerts.persistence.{pattern}.{tier}", getattr(rule, tier))
                         for tier in ("warning", "critical") if getattr(rule, tier)]
    for key, value in persistences:
        if len(value) != 2 or not 1 <= value[0] <= value[1] <= MAX_LOOKBACK_WINDOWS:
            fail(key, f"expected [N, M] with 1 <= N <= M <= {MAX_LOOKBACK_WINDOWS} (N breaches in the last M windows), "
                      f"got {list(value)}")
    for key, rule in config.alerts.dynamic.items():
        if ":" not in key or not 2 <= rule.min_windows <= rule.windows or not 0 < rule.k_warning <= rule.k_critical:
            fail(f"alerts.dynamic.{key}", "expected a '<kind>:<metric>' key, 2 <= min_windows <= windows and "
                                          "0 < k_warning <= k_critical")
    digest = config.alerts.info_digest
    if digest and digest not in ("log", "slack") and not digest.startswith("slack:#"):
        fail("alerts.info_digest", f"unknown route {digest!r}; valid: log, slack or slack:#<channel>")
    for i, silence in enumerate(config.alerts.silences):
        if silence.until:
            try:
                datetime.fromisoformat(silence.until)
            except ValueError:
                fail(f"alerts.silences[{i}].until", f"{silence.until!r} is not an ISO date or datetime")
    for severity in ("critical", "warning", "info"):
        for channel in getattr(config.alerts, severity):
            if channel not in CHANNELS and not (channel.startswith("slack:#") and len(channel) > len("slack:#")):
                fail(f"alerts.{severity}", f"unknown channel {channel!r}; valid: {list(CHANNELS)}, or slack:#<channel> "
                                           "for a team's own Slack channel")
    for key, value in (("reference.start", config.reference.start), ("reference.end", config.reference.end),
                       ("start_date", config.start_date)):
        if value or key == "start_date":  # the reference bounds are optional, the DAG's start is not
            try:
                datetime.fromisoformat(value)
            except ValueError:
                fail(key, f"{value!r} is not an ISO date or datetime (for example 2026-11-01)")
    try:
        start_in_range = EARLIEST_START <= config.start_datetime < LATEST_START
    except OverflowError:
        start_in_range = False
    if not start_in_range:
        fail("start_date", f"{config.start_date!r} is outside [{EARLIEST_START.date()}, {LATEST_START.date()})")
    _check_feature_tiers(config, file)
    if not 0 < config.performance.warning_drop <= config.performance.critical_drop < 1:
        fail("performance", "expected 0 < warning_drop <= critical_drop < 1")
    v = config.validation
    if not 0 <= v.max_null_rate <= v.critical_null_rate <= 1:
        fail("validation", "expected 0 <= max_null_rate <= critical_null_rate <= 1")


def _check_ranges(config: MonitorConfig, file: str) -> None:
    """Every number of the file inside its key's range in NUMERIC_RANGES."""
    for key, pattern, value in _numbers(config, "", ""):
        allowed = NUMERIC_RANGES[pattern]
        if value not in allowed:
            raise ConfigError(f"{file}: {key}: expected a value in {allowed}, got {value!r}")


def _numbers(value: Any, key: str, pattern: str) -> typing.Iterator[tuple[str, str, int | float]]:
    """(key as written in the file, its NUMERIC_RANGES pattern, value) for every number inside `value`."""
    def inside(path: str, name: str) -> str:
        return f"{path}.{name}" if path else name

    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield key, pattern, value
    elif isinstance(value, Tiers):  # one range covers both tiers
        for tier in ("warning", "critical"):
            yield from _numbers(getattr(value, tier), inside(key, tier), pattern)
    elif dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            yield from _numbers(getattr(value, item.name), inside(key, item.name), inside(pattern, item.name))
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _numbers(item, inside(key, name), inside(pattern, "*"))
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _numbers(item, f"{key}[{i}]", pattern)


def _check_feature_tiers(config: MonitorConfig, file: str) -> None:
    """A feature's own tiers lie in the range of each method that may score it: a p-value tier of 5 never fires."""
    for column, override in config.drift.features.items():
        for method in config.possible_drift_methods(column):
            allowed = NUMERIC_RANGES[f"drift.{method}"]
            for tier in ("warning", "critical"):
                value = getattr(override, tier)
                if value is not None and value not in allowed:
                    raise ConfigError(f"{file}: drift.features.{column}.{tier}: expected a value in {allowed} for "
                                      f"method {method}, got {value!r}")


def _check_suite(config: MonitorConfig, file: str) -> None:
    """The custom suite's shape, and blocking checks that name a check that exists."""
    from include.monitoring.validation.suite import GENERATED_CHECKS, custom_suite_path, load_custom_suite

    custom = {spec.check for spec in load_custom_suite(custom_suite_path(config))}
    valid = {*GENERATED_CHECKS, *custom}
    for name in config.validation.blocking:
        if name not in valid:
            raise ConfigError(f"{file}: validation.blocking: unknown check {name!r}; valid: {sorted(valid)}")


def _build(cls: type[Any], raw: Any, file: str, prefix: str, default: Any = None) -> Any:
    """`cls` from the mapping `raw`; keys it omits keep the values of `default` (the section's default),
    so `psi: {warning: 0.15}` keeps PSI's default CRITICAL tier instead of dropping it."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: {prefix.rstrip('.') or 'top level'}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source_file"]
    unknown = sorted(set(raw) - set(names), key=str)  # YAML keys may be numbers: `1: x` beside `owner: me`
    if unknown:
        raise ConfigError(f"{file}: unknown key {prefix}{unknown[0]}; valid keys here: {sorted(names)}")
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    values = {name: _coerce(hints[name], raw[name], file, f"{prefix}{name}", defaults[name])
              for name in names if name in raw}
    if default is not None:
        values = {name: getattr(default, name) for name in names} | values
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{file}: {prefix.rstrip('.') or 'top level'}: {exc}") from exc


def _coerce(hint: Any, value: Any, file: str, key: str, default: Any = None) -> Any:
    origin, args = get_origin(hint), get_args(hint)

    def fail(expected: str) -> typing.NoReturn:
        raise ConfigError(f"{file}: {key}: expected {expected}, got {value!r}")

    if origin is Literal:
        if value not in args:
            fail(f"one of {list(args)}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _coerce(next(a for a in args if a is not type(None)), value, file, key)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, file, f"{key}.", default if dataclasses.is_dataclass(default) else None)
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, list):
            fail("a list")
        return tuple(_coerce(args[0], item, file, f"{key}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            fail("a mapping")
        return {str(k): _coerce(args[1], v, file, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            fail("true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail("an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail("a number")
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            fail("a number of at most 1e308")
    if hint is str:
        if not isinstance(value, str):
            fail("a string")
        return value
    raise ConfigError(f"{file}: {key}: unsupported type {hint!r}")  # a bug in this module, not in the file
