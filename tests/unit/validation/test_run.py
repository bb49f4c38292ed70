"""validate_frame keeps one GX context per process: a window's records are those a fresh context gives, whatever
was validated before it (another model's columns, the same columns with other values) and on whichever thread."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from include.monitoring.config import FeaturesConfig, MonitorConfig, ValidationConfig, WarehouseConfig
from include.monitoring.config.expectations import ExpectationSpec
from include.monitoring.profile_types import CategoricalReference, NumericReference, ReferenceProfile
from include.monitoring.validation import run
from include.monitoring.validation.results import validation_frame
from include.monitoring.validation.suite import expectation_specs

ROWS = 400


def _numeric(minimum, maximum, nulls=0):
    return NumericReference.from_json({"kind": "numeric", "edges": [], "counts": [100 - nulls], "min": minimum,
                                       "max": maximum, "std": 1.0, "grid_counts": [10] * 10, "nulls": nulls, "n": 100})


def _categorical(*categories):
    return CategoricalReference.from_json({"kind": "categorical", "categories": list(categories),
                                           "counts": [100 // len(categories)] * len(categories), "nulls": 0, "n": 100})


# Two models with no feature in common, their version columns checked against different lists.
LOANS = MonitorConfig(model="loans", features=FeaturesConfig(numeric=("income", "balance"), categorical=("region",)),
                      warehouse=WarehouseConfig(model_version_column="model_version", expected_model_versions=("v1",)))
CHURN = MonitorConfig(model="churn", features=FeaturesConfig(numeric=("tenure",), categorical=("plan", "channel")),
                      warehouse=WarehouseConfig(model_version_column="model_version", expected_model_versions=("c7",)),
                      validation=ValidationConfig(max_null_rate=0.2))
REFERENCES = {
    "loans": ReferenceProfile(model="loans", rows=100, columns={
        "income": _numeric(1000.0, 9000.0), "balance": _numeric(-50.0, 50.0, nulls=10),
        "region": _categorical("east", "west"), "score": _numeric(0.0, 1.0)}),
    "churn": ReferenceProfile(model="churn", rows=100, columns={
        "tenure": _numeric(0.0, 120.0), "plan": _categorical("basic", "pro"),
        "channel": _categorical("web", "app", "store"), "score": _numeric(0.0, 1.0)}),
}


def _loans(seed: int, broken: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "prediction_id": [f"l{i}" for i in range(ROWS)], "score": rng.uniform(0, 1, ROWS),
        "income": rng.uniform(1000, 9000, ROWS), "balance": rng.uniform(-50, 50, ROWS),
        "region": rng.choice(["east", "west"], ROWS), "model_version": "v1"})
    if broken:  # nulls, values out of range, an unseen region, duplicate ids, a new version, income stuck at 0
        frame.loc[::3, "balance"] = np.nan
        frame.loc[::5, "score"] = 1.5
        frame.loc[::7, "region"] = "zürich"
        frame.loc[::11, "prediction_id"] = "l0"
        frame.loc[::13, "model_version"] = "v2"
        frame["income"] = 0.0
    return frame


def _churn(seed: int, broken: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "prediction_id": [f"c{i}" for i in range(ROWS)], "score": rng.uniform(0, 1, ROWS),
        "tenure": rng.uniform(0, 120, ROWS).round().astype(str), "plan": rng.choice(["basic", "pro"], ROWS),
        "channel": rng.choice(["web", "app", "store"], ROWS), "model_version": "c7"})
    if broken:  # tenure as text with words in it, a channel never seen, the score column gone
        frame.loc[::4, "tenure"] = "n/a"
        frame.loc[::6, "channel"] = "fax"
        frame = frame.drop(columns=["score"])
    return frame


def _case(config: MonitorConfig, raw: pd.DataFrame, custom: tuple[ExpectationSpec, ...] = ()):
    frame = validation_frame(config, raw)
    return frame, [*expectation_specs(config, REFERENCES[config.model], frame), *custom], f"{config.model}_window"


# A custom suite of one model: an expectation GX computes quantiles for, and one on a column only this model has.
LOANS_OWN = (ExpectationSpec("expect_column_median_to_be_between", "median_income", "income", "info",
                             {"min_value": 2000, "max_value": 8000}, origin="loans.json"),
             ExpectationSpec("expect_column_values_to_be_in_set", "regions", "region", "warning",
                             {"value_set": ["east"], "mostly": 0.4}, origin="loans.json"))
CASES = {
    "loans clean": _case(LOANS, _loans(1, broken=False), LOANS_OWN),
    "churn broken": _case(CHURN, _churn(2, broken=True)),
    "loans broken": _case(LOANS, _loans(3, broken=True), LOANS_OWN),  # loans' columns again, other values
    "churn clean": _case(CHURN, _churn(4, broken=False)),
    "loans broken again": _case(LOANS, _loans(5, broken=True)),  # the same columns, without the custom suite
}


def _records(case) -> list[str]:
    frame, specs, suite_name = case
    return [json.dumps(record.to_record(), sort_keys=True) for record in run.validate_frame(frame, specs, suite_name)]


@pytest.fixture(scope="module")
def fresh() -> dict[str, list[str]]:
    """Each case's records from a context of its own."""
    records = {}
    for name, case in CASES.items():
        run._forget_context()
        records[name] = _records(case)
    return records


def test_the_cases_fail_different_checks(fresh):
    failed = {name: {(r["check_name"], r["column_name"]) for r in map(json.loads, records) if not r["success"]}
              for name, records in fresh.items()}
    assert failed["loans clean"] == set()
    assert {("constant_column", "income"), ("category_set", "region"), ("duplicate_ids", "prediction_id"),
            ("unexpected_model_version", "model_version"), ("score_range", "score")} <= failed["loans broken"]
    assert {("wrong_type", "tenure"), ("column_missing", "score"), ("category_set", "channel")} <= failed["churn broken"]
    assert failed["churn clean"] == set()


def test_a_reused_context_gives_each_window_the_records_of_a_fresh_one(fresh):
    import great_expectations as gx

    run._forget_context()
    for name, case in CASES.items():  # one context for every window, models alternating
        assert _records(case) == fresh[name], name
    # Another context made current in the process, with a data source and asset of the same names: GX must keep
    # validating through the context the batch definition belongs to.
    other = gx.get_context(mode="ephemeral")
    other.data_sources.add_pandas("window").add_dataframe_asset(run._ASSET).add_batch_definition_whole_dataframe(
        "window").get_batch(batch_parameters={"dataframe": CASES["churn broken"][0]})
    for name, case in reversed(CASES.items()):  # and in the other order
        assert _records(case) == fresh[name], name


def test_threads_validating_at_once_get_the_records_of_a_fresh_context(fresh):
    names = [*CASES, *CASES]
    with ThreadPoolExecutor(max_workers=4) as pool:
        records = list(pool.map(lambda name: _records(CASES[name]), names))
    assert records == [fresh[name] for name in names]


def test_a_validation_leaves_the_shared_engine_without_its_frame_or_metrics():
    """GX keys cached metrics by batch id, the same for every window here: none may outlive its validation."""
    _records(CASES["loans broken"])
    engine = run._process_batch_definition().data_asset.datasource.get_execution_engine()
    assert engine._metric_cache == {}
    assert engine.batch_manager.batch_data_cache == {} and engine.batch_manager.batch_cache == {}
