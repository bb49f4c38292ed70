"""The generated suite: which expectations a window gets, with which bounds, from the reference profile."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from include.monitoring.catalogue import GENERATED_CHECKS
from include.monitoring.config import FeaturesConfig, MonitorConfig, ValidationConfig
from include.monitoring.profile_types import CategoricalReference, NumericReference, ReferenceProfile
from include.monitoring.validation.suite import (
    CONSTANT_FALSE_ALARM,
    FINITE_SUFFIX,
    RAW_SUFFIX,
    _can_flag_constant,
    expectation_specs,
    tolerant_range,
)

CONFIG = MonitorConfig(model="m", features=FeaturesConfig(numeric=("income", "balance"), categorical=("region",)))


def _numeric(minimum, maximum, std=1.0, grid=(10,) * 10, nulls=0, n=100):
    return NumericReference.from_json({"kind": "numeric", "edges": [], "counts": [n - nulls], "min": minimum,
                                       "max": maximum, "std": std, "grid_counts": list(grid), "nulls": nulls, "n": n})


REFERENCE = ReferenceProfile(model="m", rows=100, columns={
    "income": _numeric(1000.0, 9000.0),
    "balance": _numeric(-50.0, 50.0, nulls=30),  # 30 % nulls in the reference
    "region": CategoricalReference.from_json({"kind": "categorical", "categories": ["east", "west", "__other__"],
                                              "counts": [40, 40, 20], "pooled": ["north"], "nulls": 0, "n": 100}),
})


def _specs(frame, config=CONFIG):
    return {(s.check, s.column): s for s in expectation_specs(config, REFERENCE, frame)}


def _frame(**extra):
    columns = {"prediction_id": ["a", "b"], "score": [0.1, 0.9], "income": [2000.0, 3000.0], "balance": [1.0, -1.0],
               "region": ["east", "west"]}
    return pd.DataFrame({**columns, **extra})


def test_tolerant_range_is_relative_for_one_signed_bounds_and_by_span_otherwise():
    # the bound nearer 0 moves by 10 % of itself (0 stays out of range for income), the other by 10 % of the span
    assert tolerant_range(1000, 9000, 0.1) == pytest.approx((900, 9800))
    assert tolerant_range(-50, 50, 0.1) == pytest.approx((-60, 60))  # 10 % of the span of 100
    assert tolerant_range(-9000, -1000, 0.1) == pytest.approx((-9800, -900))


def test_each_feature_gets_its_checks_with_bounds_from_the_reference():
    specs = _specs(_frame())
    assert specs[("out_of_range", "income")].kwargs == pytest.approx({"min_value": 900, "max_value": 9800, "mostly": 0.99})
    # null_rate: max(5 %, 1.5 x 30 %) = 45 % allowed for balance; mostly_null: max(50 %, 45 %)
    assert specs[("null_rate", "balance")].kwargs["mostly"] == pytest.approx(0.55)
    assert specs[("mostly_null", "balance")].kwargs["mostly"] == pytest.approx(0.5)
    assert specs[("null_rate", "income")].kwargs["mostly"] == pytest.approx(0.95)
    assert specs[("category_set", "region")].kwargs["value_set"] == ["east", "north", "west"]  # pooled ones count
    assert specs[("category_set", "region")].severity == "info"
    assert specs[("score_range", "score")].kwargs == {"min_value": 0.0, "max_value": 1.0}
    assert specs[("duplicate_ids", "prediction_id")].severity == "warning"
    assert {check for check, _ in specs} <= set(GENERATED_CHECKS)
    for spec in specs.values():
        assert spec.expected, spec  # every check says what a passing window looks like


def test_a_missing_column_gets_only_its_existence_check():
    specs = _specs(_frame().drop(columns=["income"]))
    assert [check for check, column in specs if column == "income"] == ["column_missing"]


def test_text_columns_are_type_checked_on_their_raw_text_and_nulls_counted_there():
    frame = _frame(**{f"income{RAW_SUFFIX}": ["2000", "n/a"]})
    specs = _specs(frame)
    assert specs[("wrong_type", f"income{RAW_SUFFIX}")].severity == "critical"
    assert ("null_rate", f"income{RAW_SUFFIX}") in specs and ("null_rate", "income") not in specs


def test_a_column_with_infinities_is_checked_for_constancy_on_its_finite_copy():
    frame = _frame(**{f"income{FINITE_SUFFIX}": [2000.0, None]})
    specs = _specs(pd.concat([frame] * 20, ignore_index=True))
    assert ("constant_column", f"income{FINITE_SUFFIX}") in specs and ("constant_column", "income") not in specs


def test_null_checks_are_left_out_when_the_reference_is_mostly_null():
    reference = dataclasses.replace(REFERENCE, columns={**REFERENCE.columns, "balance": _numeric(-50.0, 50.0, nulls=70)})
    specs = {(s.check, s.column) for s in expectation_specs(CONFIG, reference, _frame())}
    assert ("null_rate", "balance") not in specs and ("mostly_null", "balance") not in specs  # 1.5 x 70 % >= 100 %


def test_constant_column_only_where_a_constant_window_is_rare_enough():
    uniform = _numeric(0, 10)  # most common grid bin holds 10 % of the values
    # 0.1 ** n < 1e-6 from n = 7
    assert not _can_flag_constant(uniform, 6) and _can_flag_constant(uniform, 7)
    skewed = _numeric(0, 10, grid=(95, 5))  # 95 % in one bin: constant in 20 rows with probability 0.36
    needed = math.ceil(math.log(CONSTANT_FALSE_ALARM) / math.log(0.95))
    assert not _can_flag_constant(skewed, 20) and not _can_flag_constant(skewed, needed - 1)
    assert _can_flag_constant(skewed, needed + 1)
    assert not _can_flag_constant(_numeric(5, 5, std=0.0), 10_000)  # a constant reference: nothing to compare
    assert not _can_flag_constant(_numeric(0, 10), 1)


def test_critical_null_rate_is_configurable():
    config = MonitorConfig(model="m", features=CONFIG.features, validation=ValidationConfig(critical_null_rate=0.2))
    specs = _specs(_frame(), config)
    assert specs[("mostly_null", "income")].kwargs["mostly"] == pytest.approx(0.8)


def test_expected_model_versions_give_a_warning_check_on_the_version_column():
    from include.monitoring.config import WarehouseConfig

    config = dataclasses.replace(CONFIG, warehouse=WarehouseConfig(model_version_column="model_version",
                                                                   expected_model_versions=("v1", "v2")))
    specs = _specs(_frame(model_version=["v1", "v3"]), config)
    check = specs[("unexpected_model_version", "model_version")]
    assert check.severity == "warning" and check.kwargs == {"value_set": ["v1", "v2"]}
    assert ("unexpected_model_version", "model_version") not in _specs(_frame(model_version=["v1", "v3"]))
