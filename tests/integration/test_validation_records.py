"""Validation results are typed records until the store: `validation_results` holds their observed value and
examples as the JSON text `json.dumps` writes for them, for GX's checks and the pipeline's own, whether the
observation went straight to the store or through XCom (staged as strict JSON)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END, ROOT

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)
BUSY = 36  # hours before DEMO_END: the afternoon peak [2026-11-21 15:00, 16:00)
MIDNIGHT = 28  # [2026-11-21 23:00, 2026-11-22 00:00)


def _config():
    from include.monitoring.config import load_monitor_config

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


def _window(hours_before_end: int):
    from include.monitoring.types import Window

    end = DEMO_END - timedelta(hours=hours_before_end)
    return Window(end - timedelta(hours=1), end)


def _warehouse(path: Path, frames: dict[str, pd.DataFrame], predictions: pd.DataFrame) -> sa.Engine:
    from include.monitoring.airflow_adapters import engine_from_url

    engine = engine_from_url(f"sqlite:///{path}")
    for name, frame in {**frames, "predictions": predictions}.items():
        frame.to_sql(name, engine, index=False)
    return engine


@pytest.fixture(scope="module")
def broken_warehouse(tmp_path_factory, demo_frames) -> sa.Engine:
    """Every fifth age "n/a" (wrong_type, with examples), every seventh region "zürich" (category_set, non-ASCII
    examples) and an extra column (extra_columns, a check of the pipeline's own)."""
    predictions = demo_frames["predictions"].copy()
    every = np.arange(len(predictions))
    age = predictions["age"].map(lambda v: f"{v:.0f}").astype(object)
    age[every % 5 == 0] = "n/a"
    predictions = predictions.assign(age=age, region=np.where(every % 7 == 0, "zürich", predictions["region"]),
                                     debug_payload='{"trace": 1}')
    return _warehouse(tmp_path_factory.mktemp("broken") / "warehouse.db", demo_frames, predictions)


@pytest.fixture(scope="module")
def offset_warehouse(tmp_path_factory, demo_frames) -> sa.Engine:
    """Timestamps as +02:00 text in a DATETIME column: the window's rows are left out (timestamp_outside_window)."""
    engine = _warehouse(tmp_path_factory.mktemp("offset") / "warehouse.db", demo_frames, demo_frames["predictions"])
    with engine.begin() as conn:
        conn.exec_driver_sql("update predictions set ts = strftime('%Y-%m-%dT%H:%M:%f', ts, '+2 hours') || '+02:00'")
    return engine


def _stored(store: sa.Engine) -> dict[tuple[str, str], dict]:
    with store.connect() as conn:
        rows = conn.execute(sa.text("select * from validation_results")).mappings().all()
    return {(row["check_name"], row["column_name"]): dict(row) for row in rows}


def _assert_stored_as_json_of(stored: dict[tuple[str, str], dict], validations) -> None:
    """Each stored row is its result, observed and examples as `json.dumps` writes them ("" for no observed value)."""
    assert len(stored) == len(validations)
    for result in validations:
        row = stored[(result.check_name, result.column_name)]
        observed = "" if result.observed is None else json.dumps(result.observed)
        assert (row["observed"], row["examples"]) == (observed, json.dumps(list(result.examples))), row
        assert row["observed"] == ("" if not row["observed"] else json.dumps(json.loads(row["observed"])))
        assert row["examples"] == json.dumps(json.loads(row["examples"]))
        assert (row["expectation"], row["severity"], bool(row["success"]), row["unexpected_pct"], row["expected"]) \
            == (result.expectation, result.severity.value, result.success, result.unexpected_pct, result.expected)


def test_stored_observed_and_examples_are_the_json_text_of_the_results(broken_warehouse, demo_store):
    from include.monitoring import pipeline

    observation, _ = pipeline.run_window(_config(), broken_warehouse, demo_store, _window(BUSY), now=NOW)
    stored = _stored(demo_store)
    _assert_stored_as_json_of(stored, observation.validations)

    wrong_type = stored[("wrong_type", "age")]  # a failed GX check with examples
    assert not wrong_type["success"] and "n/a" in json.loads(wrong_type["examples"])
    assert json.loads(wrong_type["observed"]).endswith("rows unexpected")
    category = stored[("category_set", "region")]  # examples written as JSON writes them (ASCII escapes)
    assert "zürich" in json.loads(category["examples"]) and "z\\u00fcrich" in category["examples"]
    exists = stored[("column_missing", "age")]  # a check that observes no value
    assert exists["success"] and (exists["observed"], exists["examples"], exists["unexpected_pct"]) == ("", "[]", None)
    extra = stored[("extra_columns", "")]  # the pipeline's own check
    assert extra["examples"] == '["debug_payload"]' and extra["severity"] == "info"
    assert extra["observed"].startswith('"table \'predictions\' has columns the monitor file does not name')


def test_a_pipeline_check_of_a_window_with_no_rows_is_stored_as_json_text(offset_warehouse, demo_store):
    from include.monitoring import pipeline

    observation, _ = pipeline.run_window(_config(), offset_warehouse, demo_store, _window(MIDNIGHT), now=NOW)
    stored = _stored(demo_store)
    _assert_stored_as_json_of(stored, observation.validations)
    outside = stored[("timestamp_outside_window", "ts")]
    examples = json.loads(outside["examples"])
    assert not outside["success"] and examples and all("+02:00" in example for example in examples)
    assert "rows have timestamps outside" in json.loads(outside["observed"])


def test_results_through_xcom_are_stored_as_the_direct_ones(broken_warehouse, demo_store, tmp_path):
    """The observation staged between tasks (strict JSON, as staging.put writes it) stores the same rows."""
    from include.monitoring import pipeline, reference
    from include.monitoring.observation import Observation

    config, window = _config(), _window(BUSY)
    through_xcom = tmp_path / "xcom.db"
    shutil.copyfile(demo_store.url.database, through_xcom)
    xcom_store = sa.create_engine(f"sqlite:///{through_xcom}")
    reference_id, profile = reference.load_reference(config, demo_store, window.start)
    observation = pipeline.observe_window(config, reference_id, profile, broken_warehouse, window)
    staged = Observation.from_record(json.loads(json.dumps(observation.to_record(), allow_nan=False)))
    assert staged.validations == observation.validations
    pipeline.write_window(config, demo_store, observation, [], "direct", NOW, NOW)
    pipeline.write_window(config, xcom_store, staged, [], "direct", NOW, NOW)
    assert _stored(xcom_store) == _stored(demo_store)
