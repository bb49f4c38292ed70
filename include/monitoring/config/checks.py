"""Rules that span several keys of a monitor file, one function per concern.

Each check yields (key, message) for what is wrong; `check_monitor` raises the first as
`ConfigError("<file>: <key>: <message>")`, running the checks in the order of CHECKS.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from include.monitoring.catalogue import (
    AUTO,
    CATEGORICAL_DRIFT_METHODS,
    CHANNELS,
    DIGEST_CHANNELS,
    GENERATED_CHECKS,
    NUMERIC_DRIFT_METHODS,
    PERFORMANCE_METRICS,
    Route,
    RouteError,
)
from include.monitoring.config.expectations import custom_suite_path, load_custom_suite
from include.monitoring.config.ranges import NUMERIC_RANGES
from include.monitoring.config.schema import MAX_LOOKBACK_WINDOWS, MonitorConfig, Tiers
from include.monitoring.errors import ConfigError

Problems = Iterator[tuple[str, str]]  # (key as written in the file, what is wrong with it)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# The shorter of the two places a model name must fit: the store's `model` columns (128 characters) and the DAG's
# "model:<name>" tag, which Airflow caps at 100 characters.
MAX_MODEL_NAME_LENGTH = 100 - len("model:")
# start_date bounds: far enough apart for any real backfill, and safe from the overflow that an offset at the
# calendar's ends (0001-01-01T00:00+05:00) causes when the DAG converts it to UTC.
EARLIEST_START, LATEST_START = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def check_monitor(config: MonitorConfig, file: str) -> None:
    """Raise ConfigError for the first problem any check finds."""
    for check in CHECKS:
        for key, message in check(config):
            raise ConfigError(f"{file}: {key}: {message}")


def model_name(config: MonitorConfig) -> Problems:
    if not _NAME.match(config.model):
        yield "model", f"{config.model!r} must be lower_snake_case (letters, digits, underscores)"
    if len(config.model) > MAX_MODEL_NAME_LENGTH:
        yield "model", (f"{len(config.model)} characters, expected at most {MAX_MODEL_NAME_LENGTH} (the DAG's "
                        f"model:<name> tag must fit Airflow's 100 characters)")


def numeric_ranges(config: MonitorConfig) -> Problems:
    """Every number of the file inside its key's range in NUMERIC_RANGES."""
    for key, pattern, value in _numbers(config, "", ""):
        allowed = NUMERIC_RANGES[pattern]
        if value not in allowed:
            yield key, f"expected a value in {allowed}, got {value!r}"


def _numbers(value: Any, key: str, pattern: str) -> Iterator[tuple[str, str, int | float]]:
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


def features(config: MonitorConfig) -> Problems:
    if not config.features.numeric and not config.features.categorical:
        yield "features", "list at least one feature under features.numeric or features.categorical"
    overlap = set(config.features.numeric) & set(config.features.categorical)
    if overlap:
        yield "features", f"{sorted(overlap)} listed as both numeric and categorical"


def feature_drift_methods(config: MonitorConfig) -> Problems:
    """drift.features names declared features, each with a method for its kind."""
    declared = set(config.features.numeric) | set(config.features.categorical)
    for column, override in config.drift.features.items():
        if column not in declared:
            yield f"drift.features.{column}", f"not a declared feature; valid: {sorted(declared)}"
        if override.method:
            valid = (AUTO, *(NUMERIC_DRIFT_METHODS if column in config.features.numeric else CATEGORICAL_DRIFT_METHODS))
            if override.method not in valid:
                yield f"drift.features.{column}.method", f"unknown method {override.method!r}; valid: {list(valid)}"


def performance_metrics(config: MonitorConfig) -> Problems:
    valid = PERFORMANCE_METRICS[config.task]
    for name in config.performance.metrics:
        if name not in valid:
            yield "performance.metrics", f"unknown metric {name!r} for {config.task}; valid: {list(valid)}"


def performance_slices(config: MonitorConfig) -> Problems:
    sliceable = {*config.features.categorical, config.warehouse.model_version_column} - {""}
    for column in config.performance.slices:
        if column not in sliceable:
            yield "performance.slices", (f"{column!r} is not a categorical feature or the model version column; "
                                         f"valid: {sorted(sliceable)}")


def label_due_hours(config: MonitorConfig) -> Problems:
    if not 1 <= config.labels.due_hours < config.labels.horizon_days * 24:
        yield "labels.due_hours", f"expected 1 to {config.labels.horizon_days * 24 - 1} hours (within labels.horizon_days)"


def persistence(config: MonitorConfig) -> Problems:
    """Rule patterns of the form <kind>:<rule>, then every [N, M] (the global ones first)."""
    persistences = [(f"alerts.{name}", getattr(config.alerts, name))
                    for name in ("warning_persistence", "critical_persistence")]
    for pattern, rule in config.alerts.persistence.items():
        if pattern.count(":") != 1:
            yield (f"alerts.persistence.{pattern}",
                   "expected a '<kind>:<rule>' pattern such as drift:feature_drift or quality:*")
        persistences += [(f"alerts.persistence.{pattern}.{tier}", getattr(rule, tier))
                         for tier in ("warning", "critical") if getattr(rule, tier)]
    for key, value in persistences:
        if len(value) != 2 or not 1 <= value[0] <= value[1] <= MAX_LOOKBACK_WINDOWS:
            yield key, (f"expected [N, M] with 1 <= N <= M <= {MAX_LOOKBACK_WINDOWS} (N breaches in the last M windows), "
                        f"got {list(value)}")


def dynamic_thresholds(config: MonitorConfig) -> Problems:
    for key, rule in config.alerts.dynamic.items():
        if ":" not in key or not 2 <= rule.min_windows <= rule.windows or not 0 < rule.k_warning <= rule.k_critical:
            yield f"alerts.dynamic.{key}", ("expected a '<kind>:<metric>' key, 2 <= min_windows <= windows and "
                                            "0 < k_warning <= k_critical")


def info_digest(config: MonitorConfig) -> Problems:
    digest = config.alerts.info_digest
    if digest and not _is_route(digest, DIGEST_CHANNELS):
        yield "alerts.info_digest", f"unknown route {digest!r}; valid: log, slack or slack:#<channel>"


def silences(config: MonitorConfig) -> Problems:
    for i, silence in enumerate(config.alerts.silences):
        if silence.until and not _is_iso(silence.until):
            yield f"alerts.silences[{i}].until", f"{silence.until!r} is not an ISO date or datetime"


def channels(config: MonitorConfig) -> Problems:
    for severity in ("critical", "warning", "info"):
        for channel in getattr(config.alerts, severity):
            if not _is_route(channel, CHANNELS):
                yield f"alerts.{severity}", (f"unknown channel {channel!r}; valid: {list(CHANNELS)}, or slack:#<channel> "
                                             "for a team's own Slack channel")


def _is_route(text: str, kinds: tuple[str, ...]) -> bool:
    try:
        return Route.parse(text).kind in kinds
    except RouteError:
        return False


def dates(config: MonitorConfig) -> Problems:
    for key, value in (("reference.start", config.reference.start), ("reference.end", config.reference.end),
                       ("start_date", config.start_date)):
        if (value or key == "start_date") and not _is_iso(value):  # the reference bounds are optional, the start is not
            yield key, f"{value!r} is not an ISO date or datetime (for example 2026-11-01)"


def start_date_range(config: MonitorConfig) -> Problems:
    try:
        start_in_range = EARLIEST_START <= config.start_datetime < LATEST_START
    except OverflowError:
        start_in_range = False
    if not start_in_range:
        yield "start_date", f"{config.start_date!r} is outside [{EARLIEST_START.date()}, {LATEST_START.date()})"


def feature_tiers(config: MonitorConfig) -> Problems:
    """A feature's own tiers lie in the range of each method that may score it: a p-value tier of 5 never fires."""
    for column, override in config.drift.features.items():
        for method in config.possible_drift_methods(column):
            allowed = NUMERIC_RANGES[f"drift.{method}"]
            for tier in ("warning", "critical"):
                value = getattr(override, tier)
                if value is not None and value not in allowed:
                    yield (f"drift.features.{column}.{tier}",
                           f"expected a value in {allowed} for method {method}, got {value!r}")


def performance_drops(config: MonitorConfig) -> Problems:
    if not 0 < config.performance.warning_drop <= config.performance.critical_drop < 1:
        yield "performance", "expected 0 < warning_drop <= critical_drop < 1"


def null_rates(config: MonitorConfig) -> Problems:
    v = config.validation
    if not 0 <= v.max_null_rate <= v.critical_null_rate <= 1:
        yield "validation", "expected 0 <= max_null_rate <= critical_null_rate <= 1"


def blocking_checks(config: MonitorConfig) -> Problems:
    """The custom suite's shape (load_custom_suite raises), and blocking checks that name a check that exists."""
    custom = {spec.check for spec in load_custom_suite(custom_suite_path(config))}
    valid = {*GENERATED_CHECKS, *custom}
    for name in config.validation.blocking:
        if name not in valid:
            yield "validation.blocking", f"unknown check {name!r}; valid: {sorted(valid)}"


def _is_iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


CHECKS: tuple[Callable[[MonitorConfig], Problems], ...] = (
    model_name, numeric_ranges, features, feature_drift_methods, performance_metrics, performance_slices,
    label_due_hours, persistence, dynamic_thresholds, info_digest, silences, channels, dates, start_date_range,
    feature_tiers, performance_drops, null_rates, blocking_checks,
)


def duplicate_models(configs: list[MonitorConfig]) -> dict[str, ConfigError]:
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
