"""Monitor files -> frozen config objects: the real file, every kind of error (naming file, key and valid
options), load_all_monitors' partial failure, agreement with the drift registry, and import lightness."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import types
import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from include.monitoring import config as config_module
from include.monitoring.catalogue import TaskType
from include.monitoring.config import (
    CATEGORICAL_DRIFT_METHODS,
    DEFAULT_PERFORMANCE_METRICS,
    MAX_MODEL_NAME_LENGTH,
    MONITORS_DIR,
    NUMERIC_DRIFT_METHODS,
    NUMERIC_RANGES,
    PERFORMANCE_METRICS,
    DriftConfig,
    MonitorConfig,
    Tiers,
    load_all_monitors,
    load_monitor_config,
)
from include.monitoring.errors import ConfigError
from include.monitoring.types import Severity

ROOT = Path(__file__).resolve().parents[2]
REAL_FILE = MONITORS_DIR / "credit_default.yaml"
MINIMAL = "features:\n  numeric: [age, income]\n  categorical: [region]\n"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


# --- the real file ----------------------------------------------------------------------------------------------------


def test_load_monitor_config_real_file_loads_with_its_values():
    config = load_monitor_config(REAL_FILE)
    assert config.model == "credit_default"
    assert config.dag_id == "monitor_credit_default"
    assert config.owner == "risk-ml"
    assert config.cron == "0 * * * *"
    assert config.start_datetime == datetime(2026, 1, 1, tzinfo=UTC)
    assert len(config.features.numeric) == 10 and "income" in config.features.numeric
    assert config.features.categorical == ("region", "employment_type", "channel", "product")
    assert config.warehouse.model_version_column == "model_version"
    assert config.reference.table == "credit_default_reference"
    assert config.drift.psi == Tiers(warning=0.1, critical=0.2)
    assert config.performance.metrics == ("roc_auc", "accuracy", "f1")
    assert config.alerts.runbook_url == "https://wiki.example.com/runbooks/credit-default"
    assert config.source_file == str(REAL_FILE)


def test_load_monitor_config_real_file_unset_keys_take_defaults():
    config = load_monitor_config(REAL_FILE)
    assert config.drift.chi2 == config.drift.ks == Tiers(warning=0.005, critical=0.0001)
    assert config.drift.numeric_method == config.drift.categorical_method == "auto"
    assert config.drift.noise_quantile == 0.999
    assert config.reference.bins == 10
    assert config.validation == config_module.ValidationConfig()


def test_load_monitor_config_result_is_frozen():
    config = load_monitor_config(REAL_FILE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.model = "other"  # type: ignore[misc]
    assert isinstance(config.features.numeric, tuple)


def test_load_all_monitors_default_directory_real_file_no_errors():
    configs, errors = load_all_monitors()
    assert errors == {}
    assert "credit_default" in {c.model for c in configs}


# --- valid variations -------------------------------------------------------------------------------------------------


def test_load_monitor_config_minimal_file_model_from_file_name(tmp_path):
    config = load_monitor_config(write(tmp_path, "fraud_score.yaml", MINIMAL))
    assert config.model == "fraud_score"
    assert config == dataclasses.replace(MonitorConfig(model="fraud_score", features=config.features),
                                         source_file=str(tmp_path / "fraud_score.yaml"))


def test_load_monitor_config_task_is_a_task_type_that_reads_as_its_name(tmp_path):
    config = load_monitor_config(write(tmp_path, "m.yaml", MINIMAL + "task: regression\n"))
    assert config.task is TaskType.REGRESSION
    assert f"a {config.task} model" == "a regression model"  # messages show the plain name


def test_load_monitor_config_unknown_task_message_lists_the_plain_names(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_monitor_config(write(tmp_path, "m.yaml", MINIMAL + "task: ranking\n"))
    assert str(error.value) == ("m.yaml: task: expected one of ['binary_classification', 'multiclass_classification', "
                                "'regression'], got 'ranking'")


def test_load_monitor_config_unquoted_yaml_date_becomes_iso_string(tmp_path):
    config = load_monitor_config(write(tmp_path, "m.yaml", MINIMAL + "start_date: 2026-03-01\n"))
    assert config.start_date == "2026-03-01"
    assert config.start_datetime == datetime(2026, 3, 1, tzinfo=UTC)


def test_load_monitor_config_feature_override_changes_tiers_and_method(tmp_path):
    text = MINIMAL + "drift:\n  features:\n    income: {critical: 0.5}\n    region: {method: chi2, warning: 0.05}\n"
    config = load_monitor_config(write(tmp_path, "m.yaml", text))
    assert config.drift_method("income", 5000) == "wasserstein"
    assert config.drift_tiers("income", "wasserstein") == Tiers(warning=0.1, critical=0.5)
    assert config.drift_method("region", 5000) == "chi2"
    assert config.drift_tiers("region", "chi2") == Tiers(warning=0.05, critical=0.0001)
    assert config.drift_tiers("age", "psi") == Tiers(warning=0.1, critical=0.2)


@pytest.mark.parametrize("column, rows, expected", [("age", 1999, "ks"), ("age", 2000, "wasserstein"),
                                                    ("score", 50, "ks"), ("score", 10**6, "wasserstein"),
                                                    ("region", 1999, "chi2"), ("region", 2000, "jensen_shannon")])
def test_drift_method_auto_picks_test_below_switch_rows_and_distance_from_it(tmp_path, column, rows, expected):
    config = load_monitor_config(write(tmp_path, "m.yaml", MINIMAL))
    assert config.drift.auto_switch_rows == 2000
    assert config.drift_method(column, rows) == expected
    assert config.possible_drift_methods(column) == (("chi2", "jensen_shannon") if column == "region"
                                                     else ("ks", "wasserstein"))


def test_drift_method_explicit_choice_ignores_window_size(tmp_path):
    config = load_monitor_config(write(tmp_path, "m.yaml", MINIMAL + "drift:\n  numeric_method: psi\n"))
    assert config.drift_method("age", 10) == config.drift_method("age", 10**6) == "psi"
    assert config.possible_drift_methods("age") == ("psi",)


def test_load_monitor_config_integer_for_float_key_accepted_as_float(tmp_path):
    config = load_monitor_config(write(tmp_path, "m.yaml", MINIMAL + "drift:\n  psi: {warning: 1, critical: null}\n"))
    assert config.drift.psi == Tiers(warning=1.0, critical=None)
    assert type(config.drift.psi.warning) is float


@pytest.mark.parametrize("severity, expected", [(Severity.CRITICAL, ("slack",)), (Severity.WARNING, ("log",)),
                                                (Severity.INFO, ("log", "slack"))], ids=["critical", "warning", "info"])
def test_channels_for_severity_gives_configured_channels(tmp_path, severity, expected):
    text = MINIMAL + "alerts:\n  critical: [slack]\n  warning: [log]\n  info: [log, slack]\n"
    assert load_monitor_config(write(tmp_path, "m.yaml", text)).channels_for(severity) == expected


@pytest.mark.parametrize("written, expected", [("", "auto"), ("on", "on"), ("off", "off"), ("'on'", "on"),
                                               ("auto", "auto")], ids=["default", "on", "off", "quoted_on", "auto"])
def test_load_monitor_config_pushdown_unquoted_on_off_read_as_written(tmp_path, written, expected):
    text = MINIMAL + (f"warehouse:\n  pushdown: {written}\n" if written else "")
    assert load_monitor_config(write(tmp_path, "m.yaml", text)).warehouse.pushdown == expected


def test_start_datetime_with_offset_is_the_same_instant_in_utc():
    """An ISO start_date with an offset passes validation; it must denote that instant, not the same wall time in UTC."""
    config = MonitorConfig(model="m", start_date="2026-01-01T00:00:00+02:00")
    assert config.start_datetime == datetime(2025, 12, 31, 22, tzinfo=UTC)


# --- errors -----------------------------------------------------------------------------------------------------------

ERROR_CASES = [
    # (id, file text, key the message must name, fragments listing the valid options)
    ("unknown_top_key", MINIMAL + "colour: red\n", "colour", ["valid keys", "'features'", "'drift'"]),
    ("unknown_nested_key", MINIMAL + "drift:\n  thresholds: 1\n", "drift.thresholds", ["'noise_quantile'", "'psi'"]),
    ("wrong_type_text_for_int", MINIMAL + "retries: two\n", "retries", ["an integer"]),
    ("wrong_type_bool_for_int", MINIMAL + "retries: true\n", "retries", ["an integer"]),
    ("wrong_type_text_for_float", MINIMAL + "drift:\n  psi: {warning: high}\n", "drift.psi.warning", ["a number"]),
    ("wrong_type_scalar_for_list", "features:\n  numeric: age\n", "features.numeric", ["a list"]),
    ("wrong_type_scalar_for_section", MINIMAL + "warehouse: foo\n", "warehouse", ["a mapping"]),
    ("unknown_pushdown_choice", MINIMAL + "warehouse:\n  pushdown: always\n", "warehouse.pushdown",
     ["'auto'", "'on'", "'off'", "got 'always'"]),
    ("unknown_drift_method", MINIMAL + "drift:\n  numeric_method: kl\n", "drift.numeric_method",
     ["'auto'", "'ks'", "'wasserstein'", "'psi'"]),
    ("unknown_categorical_method", MINIMAL + "drift:\n  categorical_method: ks\n", "drift.categorical_method",
     ["'auto'", "'chi2'"]),
    ("unknown_feature_method", MINIMAL + "drift:\n  features:\n    region: {method: wasserstein}\n",
     "drift.features.region.method", ["'auto'", "'chi2'"]),
    ("undeclared_feature_override", MINIMAL + "drift:\n  features:\n    zip: {warning: 0.3}\n", "drift.features.zip",
     ["'age'", "'income'", "'region'"]),
    ("unknown_channel", MINIMAL + "alerts:\n  warning: [log, email]\n", "alerts.warning", ["'log'", "'slack'"]),
    ("unknown_metric", MINIMAL + "performance:\n  metrics: [auc]\n", "performance.metrics",
     ["'accuracy'", "'precision'", "'recall'", "'f1'", "'roc_auc'"]),
    ("unknown_schedule", MINIMAL + "schedule: weekly\n", "schedule", ["'hourly'", "'daily'"]),
    ("unknown_task", MINIMAL + "task: ranking\n", "task", ["'binary_classification'", "'regression'"]),
    ("metric_of_another_task", MINIMAL + "task: regression\nperformance:\n  metrics: [roc_auc]\n", "performance.metrics",
     ["for regression", "'mae'"]),
    ("slice_not_categorical", MINIMAL + "performance:\n  slices: [age]\n", "performance.slices",
     ["not a categorical feature"]),
    ("bad_date_quoted", MINIMAL + "start_date: '2026-02-30'\n", "start_date", ["ISO date", "2026-11-01"]),
    ("bad_date_text", MINIMAL + "reference:\n  start: last tuesday\n", "reference.start", ["ISO date", "2026-11-01"]),
    ("bad_date_unquoted", MINIMAL + "start_date: 2026-02-30\n", "start_date", ["2026-11-01"]),
    ("bad_datetime_unquoted", MINIMAL + "reference:\n  end: 2026-11-01 25:00:00\n", "reference.end", ["2026-11-01"]),
    ("model_not_snake_case", MINIMAL + "model: Credit-Default\n", "model", ["lower_snake_case"]),
    ("no_features", "owner: me\n", "features", ["features.numeric", "features.categorical"]),
    ("feature_both_kinds", "features:\n  numeric: [age]\n  categorical: [age]\n", "features", ["both"]),
    ("drops_inverted", MINIMAL + "performance:\n  warning_drop: 0.1\n  critical_drop: 0.05\n", "performance",
     ["warning_drop <= critical_drop"]),
    ("significance_not_a_probability", MINIMAL + "performance:\n  significance: 4\n", "performance.significance",
     ["expected a value in (0, 1)", "got 4.0"]),
    ("band_k_is_gone", MINIMAL + "performance:\n  band_k: 4\n", "performance.band_k", ["'significance'"]),
    ("no_class_floor", MINIMAL + "performance:\n  min_class_labels: 0\n", "performance.min_class_labels",
     ["expected a value in [1, 10_000_000]", "got 0"]),
    ("one_bin", MINIMAL + "reference:\n  bins: 1\n", "reference.bins", ["[2, 1_000]"]),
    ("persistence_pattern_without_kind", MINIMAL + "alerts:\n  persistence:\n    volume: {warning: [2, 3]}\n",
     "alerts.persistence.volume", ["'<kind>:<rule>'", "drift:feature_drift"]),
    ("persistence_n_above_m", MINIMAL + "alerts:\n  persistence:\n    'quality:*': {critical: [3, 2]}\n",
     "alerts.persistence.quality:*.critical", ["1 <= N <= M <= 24"]),
    ("persistence_unknown_tier", MINIMAL + "alerts:\n  persistence:\n    'quality:*': {info: [1, 1]}\n",
     "alerts.persistence.quality:*.info", ["'critical'", "'warning'"]),
    ("persistence_beyond_history", MINIMAL + "alerts:\n  warning_persistence: [2, 48]\n", "alerts.warning_persistence",
     ["alerts.warning_persistence[1]", "expected a value in [1, 24]", "got 48"]),
    ("due_hours_beyond_horizon", MINIMAL + "labels:\n  horizon_days: 2\n  due_hours: 72\n", "labels.due_hours",
     ["1 to 47 hours"]),
    ("non_mapping_top_level", "- age\n- income\n", "top level", ["mapping"]),
    ("empty_file", "", "top level", ["mapping"]),
]


@pytest.mark.parametrize("text, key, options", [case[1:] for case in ERROR_CASES], ids=[case[0] for case in ERROR_CASES])
def test_load_monitor_config_invalid_file_raises_config_error_naming_file_key_options(tmp_path, text, key, options):
    path = tmp_path / "broken_model.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_monitor_config(path)
    message = str(caught.value)
    assert message.startswith("broken_model.yaml: "), message
    assert key in message, message
    for option in options:
        assert option in message, message


def test_load_monitor_config_invalid_yaml_raises_config_error_naming_file_and_line(tmp_path):
    path = write(tmp_path, "broken_model.yaml", "features:\n  numeric: [age\nowner: me\n")
    with pytest.raises(ConfigError) as caught:
        load_monitor_config(path)
    message = str(caught.value)
    assert message.startswith("broken_model.yaml: not valid YAML")
    assert "line " in message


def test_load_monitor_config_missing_file_raises_config_error_with_path(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match="absent.yaml"):
        load_monitor_config(path)


# --- load_all_monitors ------------------------------------------------------------------------------------------------


def test_load_all_monitors_broken_files_reported_valid_kept(tmp_path):
    write(tmp_path, "alpha.yaml", MINIMAL)
    write(tmp_path, "beta.yml", MINIMAL + "schedule: daily\n")
    write(tmp_path, "gamma.yaml", MINIMAL + "colour: red\n")
    write(tmp_path, "delta.yaml", "features: [\n")
    write(tmp_path, "epsilon.yaml", "- a\n")
    write(tmp_path, "notes.txt", "not a monitor")
    configs, errors = load_all_monitors(tmp_path)
    assert [c.model for c in configs] == ["alpha", "beta"]
    assert set(errors) == {"gamma.yaml", "delta.yaml", "epsilon.yaml"}
    assert all(isinstance(e, ConfigError) for e in errors.values())
    assert "colour" in str(errors["gamma.yaml"])


def test_load_all_monitors_unquoted_bad_date_reported_valid_kept(tmp_path):
    """YAML itself rejects 2026-02-30 while building a date; that must become this file's error, not a crash
    that loses every other monitor."""
    write(tmp_path, "alpha.yaml", MINIMAL)
    write(tmp_path, "gamma.yaml", MINIMAL + "start_date: 2026-02-30\n")
    configs, errors = load_all_monitors(tmp_path)
    assert [c.model for c in configs] == ["alpha"]
    assert set(errors) == {"gamma.yaml"}


def test_load_all_monitors_empty_directory_nothing(tmp_path):
    assert load_all_monitors(tmp_path) == ([], {})


# --- agreement with the heavy modules ---------------------------------------------------------------------------------


def test_drift_method_lists_agree_with_registry_supports():
    """config keeps its own method lists (it must stay import-light); they must be what the registry offers."""
    from include.monitoring.drift import DRIFT_METHODS
    from include.monitoring.drift.base import FeatureKind

    numeric = {name for name, method in DRIFT_METHODS.items() if FeatureKind.NUMERIC in method.supports}
    categorical = {name for name, method in DRIFT_METHODS.items() if FeatureKind.CATEGORICAL in method.supports}
    assert set(NUMERIC_DRIFT_METHODS) == numeric
    assert set(CATEGORICAL_DRIFT_METHODS) == categorical


def test_drift_config_method_choices_agree_with_method_lists():
    hints = typing.get_type_hints(DriftConfig)
    assert set(typing.get_args(hints["numeric_method"])) == {"auto", *NUMERIC_DRIFT_METHODS}
    assert set(typing.get_args(hints["categorical_method"])) == {"auto", *CATEGORICAL_DRIFT_METHODS}


def test_drift_config_has_default_tiers_for_every_method():
    """drift_tiers() looks the method's default tiers up by name on DriftConfig."""
    from include.monitoring.drift import DRIFT_METHODS

    for name in DRIFT_METHODS:
        assert isinstance(getattr(DriftConfig(), name), Tiers), name


def test_performance_metrics_agree_with_metric_functions():
    from include.monitoring.performance import metrics

    assert PERFORMANCE_METRICS == {"binary_classification": metrics.BINARY_METRICS,
                                   "multiclass_classification": metrics.MULTICLASS_METRICS,
                                   "regression": metrics.REGRESSION_METRICS}
    for task, defaults in DEFAULT_PERFORMANCE_METRICS.items():
        assert set(defaults) <= set(PERFORMANCE_METRICS[task]), task


def test_import_config_fresh_interpreter_no_heavy_modules():
    heavy = ("pandas", "numpy", "scipy", "sqlalchemy", "great_expectations")
    code = ("import sys; import include.monitoring.config; "
            f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True)
    assert result.stdout.strip() == "", f"heavy modules imported: {result.stdout.strip()}"


def test_import_config_fresh_interpreter_no_validation_or_drift_modules():
    """The config reads names from the catalogue; validation/ and drift/ import the config, never the reverse."""
    code = ("import sys; import include.monitoring.config; "
            "print(','.join(sorted(m for m in sys.modules if m.startswith(('include.monitoring.validation', "
            "'include.monitoring.drift', 'include.monitoring.performance')))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True)
    assert result.stdout.strip() == ""


def test_load_monitor_config_several_problems_reports_the_first_check(tmp_path):
    path = write(tmp_path, "m.yaml", "model: Bad\nfeatures: {}\nalerts: {warning: [teams]}\n")
    with pytest.raises(ConfigError, match=r"^m\.yaml: model: 'Bad' must be lower_snake_case"):
        load_monitor_config(path)


def test_load_monitor_config_partial_tiers_keep_the_other_default_tier(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("model: m\nfeatures: {numeric: [x]}\ndrift: {psi: {warning: 0.15}}\n")
    config = load_monitor_config(path)
    assert (config.drift.psi.warning, config.drift.psi.critical) == (0.15, 0.2)


# --- numeric ranges, model names, start dates -------------------------------------------------------------------------


def _numeric_keys(cls: type = MonitorConfig, prefix: str = "") -> set[str]:
    """Every numeric key the schema declares, as NUMERIC_RANGES spells it ("*" for a name the file chooses; a
    Tiers key for both its tiers)."""
    keys = set()
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        hint, key = hints[field.name], f"{prefix}{field.name}"
        while typing.get_origin(hint) in (tuple, dict, typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(hint) if arg is not type(None) and arg is not Ellipsis]
            key += ".*" if typing.get_origin(hint) is dict else ""
            hint = args[-1]
        if hint is Tiers:
            keys.add(key)
        elif dataclasses.is_dataclass(hint):
            keys |= _numeric_keys(hint, f"{key}.")
        elif hint in (int, float):
            keys.add(key)
    return keys


def test_numeric_ranges_name_every_numeric_key_and_nothing_else():
    assert _numeric_keys() == set(NUMERIC_RANGES)


def test_numeric_ranges_hold_every_default(tmp_path):
    """The defaults, including those of the per-name sections (dynamic thresholds, persistence rules), load."""
    path = write(tmp_path, "m.yaml", MINIMAL + "alerts:\n  dynamic: {'operational:latency_p95': {}}\n"
                                             "  persistence: {'quality:*': {warning: [1, 1]}}\n")
    config = load_monitor_config(path)
    assert config.alerts.dynamic["operational:latency_p95"] == config_module.DynamicThreshold()
    assert config.timeout_minutes in NUMERIC_RANGES["timeout_minutes"]


RANGE_CASES = [
    # (id, file text, key the message must name, fragments: the allowed range and the value)
    ("timeout_overflows_timedelta", MINIMAL + "timeout_minutes: 10000000000000\n", "timeout_minutes",
     ["expected a value in [1, 1_440]", "got 10000000000000"]),
    ("timeout_just_above", MINIMAL + "timeout_minutes: 1441\n", "timeout_minutes", ["[1, 1_440]", "got 1441"]),
    ("horizon_overflows", MINIMAL + "labels: {horizon_days: 1000000000}\n", "labels.horizon_days",
     ["[1, 365]", "got 1000000000"]),
    ("max_rows_negative", MINIMAL + "warehouse: {max_rows_per_window: -1}\n", "warehouse.max_rows_per_window",
     ["[1, 10_000_000]", "got -1"]),
    ("max_rows_zero", MINIMAL + "warehouse: {max_rows_per_window: 0}\n", "warehouse.max_rows_per_window",
     ["[1, 10_000_000]", "got 0"]),
    ("bins_allocate_gigabytes", MINIMAL + "reference: {bins: 1000000000}\n", "reference.bins",
     ["[2, 1_000]", "got 1000000000"]),
    ("mostly_above_one", MINIMAL + "validation: {mostly: 7.5}\n", "validation.mostly", ["(0, 1]", "got 7.5"]),
    ("mostly_zero", MINIMAL + "validation: {mostly: 0}\n", "validation.mostly", ["(0, 1]", "got 0.0"]),
    ("share_nan", MINIMAL + "labels: {max_unmatched_share: .nan}\n", "labels.max_unmatched_share", ["[0, 1]", "nan"]),
    ("tier_infinite", MINIMAL + "drift: {psi: {critical: .inf}}\n", "drift.psi.critical", ["[0, 10]", "got inf"]),
    ("p_value_tier_above_one", MINIMAL + "drift: {ks: {warning: 5}}\n", "drift.ks.warning", ["[0, 1]", "got 5.0"]),
    ("latency_tier_negative", MINIMAL + "application: {latency_p95: {warning: -5}}\n",
     "application.latency_p95.warning", ["[0, 3_600_000]", "got -5.0"]),
    ("dynamic_windows_huge", MINIMAL + "alerts: {dynamic: {'operational:latency_p95': {windows: 100000000}}}\n",
     "alerts.dynamic.operational:latency_p95.windows", ["[2, 8_760]", "got 100000000"]),
    ("persistence_rule_zero", MINIMAL + "alerts: {persistence: {'quality:*': {warning: [0, 3]}}}\n",
     "alerts.persistence.quality:*.warning[0]", ["[1, 24]", "got 0"]),
    ("remind_hours_overflows_timedelta", MINIMAL + "alerts: {remind_hours: 1.0e+300}\n", "alerts.remind_hours",
     ["[0, 8_760]", "got 1e+300"]),
    ("page_within_zero_never_pages", MINIMAL + "alerts: {page_within_hours: 0}\n", "alerts.page_within_hours",
     ["[1, 8_760]", "got 0.0"]),
    ("retries_many", MINIMAL + "retries: 11\n", "retries", ["[0, 10]", "got 11"]),
    ("threshold_one", MINIMAL + "performance: {threshold: 1}\n", "performance.threshold", ["(0, 1)", "got 1.0"]),
    ("feature_tier_beyond_every_method", MINIMAL + "drift: {features: {age: {warning: 1000}}}\n",
     "drift.features.age.warning", ["[0, 100]", "got 1000.0"]),
    ("feature_tier_beyond_its_method", MINIMAL + "drift: {features: {age: {method: ks, warning: 5}}}\n",
     "drift.features.age.warning", ["[0, 1] for method ks", "got 5.0"]),
    ("integer_too_large_for_a_float", MINIMAL + "alerts: {remind_hours: 1" + "0" * 400 + "}\n", "alerts.remind_hours",
     ["a number of at most 1e308"]),
    ("model_name_too_long", MINIMAL + f"model: {'m' * 95}\n", "model", ["95 characters", "at most 94", "tag"]),
    ("start_date_empty", MINIMAL + "start_date: ''\n", "start_date", ["'' is not an ISO date"]),
    ("start_date_offset_overflows", MINIMAL + "start_date: '0001-01-01T00:00+05:00'\n", "start_date",
     ["outside [1970-01-01, 2100-01-01)"]),
    ("start_date_before_1970", MINIMAL + "start_date: 1900-01-01\n", "start_date", ["outside [1970-01-01, 2100-01-01)"]),
    ("number_key_beside_text_keys", MINIMAL + "1: one\ncolour: red\n", "unknown key 1", ["valid keys here"]),
]


@pytest.mark.parametrize("text, key, fragments", [case[1:] for case in RANGE_CASES], ids=[case[0] for case in RANGE_CASES])
def test_load_monitor_config_value_out_of_range_names_file_key_value_and_range(tmp_path, text, key, fragments):
    path = tmp_path / "broken_model.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_monitor_config(path)
    message = str(caught.value)
    assert message.startswith(f"broken_model.yaml: {key}"), message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("inside, outside", [
    (f"model: {'m' * MAX_MODEL_NAME_LENGTH}\n", f"model: {'m' * (MAX_MODEL_NAME_LENGTH + 1)}\n"),
    ("timeout_minutes: 1440\n", "timeout_minutes: 1441\n"),
    ("validation: {mostly: 1}\n", "validation: {mostly: 0}\n"),
    ("start_date: 2099-12-31T23:00\n", "start_date: 2100-01-01\n"),
    ("drift: {features: {age: {method: wasserstein, warning: 50}}}\n",
     "drift: {features: {age: {method: ks, warning: 1.5}}}\n"),
], ids=["model_name", "timeout_minutes", "mostly", "start_date", "feature_tier_per_method"])
def test_load_monitor_config_value_at_the_edge_of_its_range_loads_and_just_beyond_fails(tmp_path, inside, outside):
    load_monitor_config(write(tmp_path, "edge.yaml", MINIMAL + inside))
    with pytest.raises(ConfigError):
        load_monitor_config(write(tmp_path, "edge.yaml", MINIMAL + outside))


def test_model_name_limit_fits_the_store_and_the_airflow_tag():
    from airflow.sdk.definitions.dag import TAG_MAX_LEN

    from include.monitoring.store import metadata

    widths = {table.c.model.type.length for table in metadata.tables.values() if "model" in table.c}
    assert len(f"model:{'m' * MAX_MODEL_NAME_LENGTH}") == TAG_MAX_LEN
    assert MAX_MODEL_NAME_LENGTH <= min(widths)


# --- duplicate models and files that crash the loader -----------------------------------------------------------------


def test_load_all_monitors_same_model_in_two_files_reports_both_naming_each_other(tmp_path):
    write(tmp_path, "alpha.yaml", MINIMAL)
    write(tmp_path, "twin_a.yaml", MINIMAL + "model: twin\n")
    write(tmp_path, "twin_b.yml", MINIMAL + "model: twin\n")
    configs, errors = load_all_monitors(tmp_path)
    assert [c.model for c in configs] == ["alpha"]
    assert set(errors) == {"twin_a.yaml", "twin_b.yml"}
    assert str(errors["twin_a.yaml"]).startswith("twin_a.yaml: model: 'twin' is also the model of twin_b.yml")
    assert str(errors["twin_b.yml"]).startswith("twin_b.yml: model: 'twin' is also the model of twin_a.yaml")


def test_load_all_monitors_copy_naming_anothers_model_is_reported_and_the_file_named_after_it_keeps_it(tmp_path):
    write(tmp_path, "credit.yaml", MINIMAL)
    write(tmp_path, "a_copy.yaml", MINIMAL + "model: credit\nowner: someone-else\n")
    configs, errors = load_all_monitors(tmp_path)
    assert [(c.model, Path(c.source_file).name, c.owner) for c in configs] == [("credit", "credit.yaml", "ml-platform")]
    assert set(errors) == {"a_copy.yaml"}
    message = str(errors["a_copy.yaml"])
    assert "'credit' is already the model of credit.yaml" in message and "own model name" in message


def test_load_all_monitors_file_that_crashes_the_yaml_parser_is_reported_others_kept(tmp_path):
    """PyYAML composes nested lists recursively: thousands of levels raise RecursionError, not a YAMLError."""
    write(tmp_path, "alpha.yaml", MINIMAL)
    write(tmp_path, "deep.yaml", "features: " + "[" * 3000 + "]" * 3000 + "\n")
    configs, errors = load_all_monitors(tmp_path)
    assert [c.model for c in configs] == ["alpha"]
    assert str(errors["deep.yaml"]).startswith("deep.yaml: could not be loaded: RecursionError")
