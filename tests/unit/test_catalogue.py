"""The catalogue of shared names: task types, drift methods and their tiers, metric directions, check and
channel names, and that the modules implementing them agree with it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from include.monitoring.catalogue import (
    CATEGORICAL_DRIFT_METHODS,
    DEFAULT_PERFORMANCE_METRICS,
    DRIFT_METHOD_SPECS,
    GENERATED_CHECKS,
    LOWER_IS_BETTER,
    NUMERIC_DRIFT_METHODS,
    PERFORMANCE_METRICS,
    PIPELINE_CHECKS,
    SIGNED_METRICS,
    TaskType,
    higher_is_better,
)
from include.monitoring.config import NUMERIC_RANGES, DriftConfig, MonitorConfig, Tiers
from include.monitoring.types import ScoreKind

ALL_METRICS = tuple(name for names in PERFORMANCE_METRICS.values() for name in names)


def test_task_type_reads_and_writes_as_its_plain_name():
    assert [task.value for task in TaskType] == ["binary_classification", "multiclass_classification", "regression"]
    assert f"{TaskType.REGRESSION}" == str(TaskType.REGRESSION) == "regression"
    assert json.dumps({"task": TaskType.REGRESSION}) == '{"task": "regression"}'
    assert TaskType("regression") is TaskType.REGRESSION


def test_monitor_config_task_built_from_a_plain_name_is_a_task_type():
    config = MonitorConfig(model="m", task="regression")
    assert config.task is TaskType.REGRESSION
    assert dataclasses.replace(config, owner="x").task is TaskType.REGRESSION


def test_every_task_has_metrics_and_defaults_among_them():
    assert set(PERFORMANCE_METRICS) == set(DEFAULT_PERFORMANCE_METRICS) == set(TaskType)
    for task, defaults in DEFAULT_PERFORMANCE_METRICS.items():
        assert set(defaults) <= set(PERFORMANCE_METRICS[task]), task


@pytest.mark.parametrize("name", sorted(DRIFT_METHOD_SPECS), ids=str)
def test_drift_config_default_tiers_come_from_the_catalogue(name):
    spec = DRIFT_METHOD_SPECS[name]
    assert spec.name == name
    assert getattr(DriftConfig(), name) == Tiers(warning=spec.warning, critical=spec.critical)
    assert str(NUMERIC_RANGES[f"drift.{name}"]) == f"[{spec.tier_bounds[0]}, {spec.tier_bounds[1]}]"


@pytest.mark.parametrize("name", sorted(DRIFT_METHOD_SPECS), ids=str)
def test_drift_default_tiers_ordered_by_the_score_direction(name):
    spec = DRIFT_METHOD_SPECS[name]
    worse_first = spec.critical >= spec.warning if spec.score_kind is ScoreKind.DISTANCE else spec.critical <= spec.warning
    assert worse_first
    assert spec.tier_bounds[0] <= min(spec.warning, spec.critical) <= max(spec.warning, spec.critical) <= spec.tier_bounds[1]


def test_drift_method_lists_name_catalogued_methods_once():
    for names in (NUMERIC_DRIFT_METHODS, CATEGORICAL_DRIFT_METHODS):
        assert len(set(names)) == len(names)
        assert set(names) <= set(DRIFT_METHOD_SPECS)
    assert set(NUMERIC_DRIFT_METHODS) | set(CATEGORICAL_DRIFT_METHODS) == set(DRIFT_METHOD_SPECS)


def test_generated_and_pipeline_check_names_distinct():
    assert not set(GENERATED_CHECKS) & set(PIPELINE_CHECKS)
    assert len(set(GENERATED_CHECKS)) == len(GENERATED_CHECKS)


def test_direction_sets_exact_and_disjoint():
    assert LOWER_IS_BETTER == {"log_loss", "brier", "ece", "mae", "rmse", "mape"}
    assert SIGNED_METRICS == {"mean_error", "residual_p05", "residual_p50", "residual_p95"}
    assert not LOWER_IS_BETTER & SIGNED_METRICS
    assert LOWER_IS_BETTER | SIGNED_METRICS <= set(ALL_METRICS)


@pytest.mark.parametrize("name, expected", [
    ("accuracy", True), ("roc_auc", True), ("pr_auc", True), ("macro_f1", True), ("recall[cat]", True), ("r2", True),
    ("log_loss", False), ("brier", False), ("ece", False), ("mae", False), ("rmse", False), ("mape", False),
    ("mean_error", False), ("residual_p95", False),
])
def test_higher_is_better(name, expected):
    assert higher_is_better(name) is expected


@pytest.mark.parametrize("name", ["auc", "recall[", "label_coverage"])
def test_higher_is_better_unknown_name_raises(name):
    with pytest.raises(ValueError, match="unknown metric"):
        higher_is_better(name)


def test_higher_is_better_every_metric_of_every_task_answered():
    for name in ALL_METRICS:
        assert higher_is_better(name) is (name not in LOWER_IS_BETTER | SIGNED_METRICS)
