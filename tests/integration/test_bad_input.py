"""Bad input gets a recorded outcome with a message naming the model, window and column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END, ROOT
from tests.integration.helpers import FEATURE_DRIFT

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)


def _config():
    from include.monitoring.config import load_monitor_config

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


def _warehouse(tmp_path, frames, edit):
    """A copy of the demo warehouse with `edit(predictions_frame)` applied."""
    from include.monitoring.airflow_adapters import engine_from_url

    engine = engine_from_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    predictions = edit(frames["predictions"].copy())
    for name, frame in {**frames, "predictions": predictions}.items():
        frame.to_sql(name, engine, index=False)
    return engine


def _run(config, warehouse, store, hours_before_end):
    from include.monitoring import pipeline, reference
    from include.monitoring.types import Window

    reference.ensure_reference(config, warehouse, store, now=NOW)
    end = DEMO_END - timedelta(hours=hours_before_end)
    return pipeline.run_window(config, warehouse, store, Window(end - timedelta(hours=1), end), now=NOW)


def test_missing_score_column_blocks_the_run_with_the_reason(tmp_path, demo_frames):
    warehouse = _warehouse(tmp_path, demo_frames, lambda f: f.rename(columns={"score": "probability"}))
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    observation, transitions = _run(_config(), warehouse, store, hours_before_end=30)
    assert observation.status.value == "blocked"
    assert "column_missing (expect_column_to_exist) failed on column 'score'" in observation.reason
    assert "['probability'] (renamed?)" in observation.reason
    with store.connect() as conn:
        status = conn.execute(sa.text("select status, status_reason from monitor_runs")).one()
        drift = conn.execute(sa.text("select count(*) from metric_values where kind = 'drift'")).scalar_one()
    assert status[0] == "blocked" and "score" in status[1]
    assert drift == 0  # nothing computed on broken data
    [missing] = [t for t in transitions if "column_missing" in t.message]
    assert missing.severity.name == "CRITICAL" and "`score`" in missing.message


def test_text_in_numeric_column_is_critical_and_skips_only_that_columns_drift(demo_warehouse_path, demo_store):
    from include.monitoring.airflow_adapters import engine_from_url

    warehouse = engine_from_url(f"sqlite:///{demo_warehouse_path}")
    store = demo_store
    observation, transitions = _run(_config(), warehouse, store, hours_before_end=18)  # [09:00, 10:00): "n/a" values
    assert observation.status.value == "ok"
    [wrong_type] = [t for t in transitions if "wrong_type" in t.message]
    assert wrong_type.severity.name == "CRITICAL"
    assert "`months_employed`" in wrong_type.message and ("n/a" in wrong_type.message or "12 months" in wrong_type.message)
    assert "(expect_column_values_to_match_regex)" in wrong_type.message and "expected numbers" in wrong_type.message
    with store.connect() as conn:
        drift = {r.column_name: r for r in conn.execute(sa.text(
            f"select column_name, value, details from metric_values where {FEATURE_DRIFT}"))}
    assert drift["months_employed"].value is None and "could not be parsed" in drift["months_employed"].details
    assert drift["age"].value is not None


def test_missing_predictions_table_fails_with_a_clear_message(tmp_path):
    from include.monitoring import pipeline
    from include.monitoring.errors import WarehouseError
    from include.monitoring.types import Window

    warehouse = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    window = Window(DEMO_END - timedelta(hours=1), DEMO_END)
    with pytest.raises(WarehouseError, match="table 'predictions' does not exist"):
        pipeline.observe_window(_config(), "ref", {"columns": {}}, warehouse, window)


def test_fewer_rows_than_min_rows_is_insufficient_data_with_the_count(demo_warehouse_path, demo_store):
    import dataclasses

    from include.monitoring.airflow_adapters import engine_from_url

    warehouse = engine_from_url(f"sqlite:///{demo_warehouse_path}")
    store = demo_store
    config = dataclasses.replace(_config(), min_rows=100_000)
    observation, transitions = _run(config, warehouse, store, hours_before_end=30)
    assert observation.status.value == "insufficient_data" and observation.row_count > 0
    assert observation.reason == f"{observation.row_count} rows, fewer than min_rows=100000"
    with store.connect() as conn:
        run = conn.execute(sa.text("select status, status_reason, row_count from monitor_runs")).one()
        drift = conn.execute(sa.text("select count(*) from metric_values where kind = 'drift'")).scalar_one()
    assert tuple(run) == ("insufficient_data", observation.reason, observation.row_count)
    assert drift == 0  # no drift judged on too few rows, and no drift alert
    assert not [t for t in transitions if ":drift:" in t.alert_key]
