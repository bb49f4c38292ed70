"""The bad-input matrix (README, "Bad input: what happens"): one test per kind of broken input, each checking
the outcome the store records for it (run status, validation row, alert, drift, performance)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END, ROOT
from tests.integration.helpers import FEATURE_DRIFT

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)
BUSY = 36  # hours before DEMO_END: the window [2026-11-21 15:00, 16:00), the afternoon peak (about 400 rows)
# [2026-11-22 15:00, 16:00): the window it matures (48 h earlier, [2026-11-20 15:00, 16:00)) has predictions.
LABELLED = 12
MIDNIGHT = 28  # [2026-11-21 23:00, 2026-11-22 00:00): the window that crosses a UTC date


# --- helpers ------------------------------------------------------------------------------------------------------


@cache
def _config():
    from include.monitoring.config import load_monitor_config

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


def _window(hours_before_end: int):
    from include.monitoring.types import Window

    end = DEMO_END - timedelta(hours=hours_before_end)
    return Window(end - timedelta(hours=1), end)


def _inside(frame: pd.DataFrame, hours_before_end: int, column: str = "ts") -> pd.Series:
    """Rows of `frame` whose naive-UTC `column` lies in the window."""
    window = _window(hours_before_end)
    start, end = (pd.Timestamp(moment).tz_localize(None) for moment in (window.start, window.end))
    return (frame[column] >= start) & (frame[column] < end)


def _warehouse(directory: Path, frames: dict[str, pd.DataFrame], drop: tuple[str, ...] = (),
               **replaced: pd.DataFrame) -> sa.Engine:
    """A SQLite copy of the demo warehouse with some tables replaced (`predictions=...`) or left out."""
    from include.monitoring.airflow_adapters import engine_from_url

    engine = engine_from_url(f"sqlite:///{directory / 'warehouse.db'}")
    for name, frame in {**frames, **replaced}.items():
        if name not in drop:
            frame.to_sql(name, engine, index=False)
    return engine


def _predictions(frames: dict[str, pd.DataFrame], edit) -> pd.DataFrame:
    return edit(frames["predictions"].copy())


def _store(tmp_path: Path, reference_store: Path) -> sa.Engine:
    """A store holding only the reference profile (a copy of the one fitted once for this module)."""
    path = tmp_path / "store.db"
    shutil.copyfile(reference_store, path)
    return sa.create_engine(f"sqlite:///{path}")


def _run(warehouse: sa.Engine, store: sa.Engine, hours_before_end: int = BUSY, config=None):
    from include.monitoring import pipeline

    return pipeline.run_window(config or _config(), warehouse, store, _window(hours_before_end), now=NOW)


def _rows(store: sa.Engine, query: str, **params) -> list[dict]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(query), params)]


def _monitor_run(store: sa.Engine, hours_before_end: int = BUSY) -> dict:
    from include.monitoring.store import monitor_runs

    with store.connect() as conn:
        [run] = conn.execute(sa.select(monitor_runs.c.status, monitor_runs.c.status_reason, monitor_runs.c.row_count)
                             .where(monitor_runs.c.window_start == _window(hours_before_end).start)).all()
    return dict(run._mapping)


def _validation(store: sa.Engine, check: str, column: str) -> dict | None:
    found = _rows(store, "select * from validation_results where check_name = :check and column_name = :column",
                  check=check, column=column)
    assert len(found) <= 1
    return {**found[0], "examples": json.loads(found[0]["examples"])} if found else None


def _failed_validations(store: sa.Engine) -> list[dict]:
    return _rows(store, "select check_name, column_name, severity, examples from validation_results where not success")


def _metrics(store: sa.Engine, where: str, **params) -> dict[str, dict]:
    """Metric rows by column name (or by metric where the column is empty), details parsed."""
    found = _rows(store, f"select * from metric_values where {where}", **params)
    return {r["column_name"] or r["metric"]: {**r, "details": json.loads(r["details"])} for r in found}


def _transition(transitions, check: str, column: str):
    """The one alert transition whose message names the check and the column (in backticks)."""
    [found] = [t for t in transitions if check in t.message and f"`{column}`" in t.message]
    return found


def _window_ids(warehouse_engine: sa.Engine, hours_before_end: int) -> set[str]:
    """The prediction ids the window's query returns."""
    from include.monitoring import warehouse

    rows = warehouse.fetch_window(warehouse_engine, _config(), _window(hours_before_end))
    return set(rows.frame[_config().warehouse.id_column])


def _run_rows(store: sa.Engine) -> int:
    if not sa.inspect(store).has_table("monitor_runs"):
        return 0
    return _rows(store, "select count(*) as n from monitor_runs")[0]["n"]


def _every(frame: pd.DataFrame, n: int, offset: int = 0) -> np.ndarray:
    """A deterministic 1/n of the rows."""
    return np.arange(len(frame)) % n == offset


# --- shared fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_warehouse(tmp_path_factory, demo_frames) -> sa.Engine:
    return _warehouse(tmp_path_factory.mktemp("clean"), demo_frames)


@pytest.fixture(scope="module")
def reference_store(tmp_path_factory, clean_warehouse) -> Path:
    """The reference profile, fitted once from the demo reference table; each test runs on a copy."""
    from include.monitoring import reference

    path = tmp_path_factory.mktemp("reference") / "store.db"
    reference.ensure_reference(_config(), clean_warehouse, sa.create_engine(f"sqlite:///{path}"), now=NOW)
    return path


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, clean_warehouse, reference_store):
    """The busy window of the unedited demo warehouse, run once."""
    store = _store(tmp_path_factory.mktemp("clean_run"), reference_store)
    observation, transitions = _run(clean_warehouse, store)
    return observation, transitions, store


@pytest.fixture(scope="module")
def offset_frames(demo_frames) -> dict[str, pd.DataFrame]:
    """The predictions with `ts` as text at +02:00 ("2026-11-21T17:30:00.123456+02:00"): the same instants."""
    predictions = demo_frames["predictions"].copy()
    local = predictions["ts"].dt.tz_localize("UTC").dt.tz_convert("+02:00")
    predictions["ts"] = pd.Series([moment.isoformat() for moment in local], index=predictions.index, dtype=object)
    return {**demo_frames, "predictions": predictions}


@pytest.fixture(scope="module")
def offset_warehouse(tmp_path_factory, offset_frames) -> sa.Engine:
    return _warehouse(tmp_path_factory.mktemp("offset"), offset_frames)


def _offset_text(warehouse: sa.Engine) -> None:
    """Rewrite the DATETIME `ts` column's values as +02:00 local text ("2026-11-21T17:30:00.123+02:00"):
    SQLite keeps whatever text a writer puts in a DATETIME column."""
    with warehouse.begin() as conn:
        conn.exec_driver_sql("update predictions set ts = strftime('%Y-%m-%dT%H:%M:%f', ts, '+2 hours') || '+02:00'")


# --- the matrix ---------------------------------------------------------------------------------------------------


def test_clean_window_fails_no_check_but_info_ones(clean_run):
    """A clean window: no failed validation row except extra_columns / category_set at info; failed_expectations recorded."""
    observation, _, store = clean_run
    assert observation.status.value == "ok"
    failed = _failed_validations(store)
    if failed:
        print("failed info checks in the clean window:", failed)
    # The demo's model_rollout (v2, outside expected_model_versions) is under way in every window of the 3-day demo.
    assert all((r["check_name"] in ("extra_columns", "category_set") and r["severity"] == "info")
               or r["check_name"] == "unexpected_model_version" for r in failed), failed
    summary = _metrics(store, "kind = 'quality' and metric = 'failed_expectations'")["failed_expectations"]
    assert summary["value"] == len(failed) and summary["details"]["evaluated"] > 50


def test_1_missing_column_blocks_the_run(tmp_path, demo_frames, reference_store):
    """A dropped numeric feature: status blocked, column_missing CRITICAL on it, a CRITICAL alert, no drift."""
    warehouse = _warehouse(tmp_path, demo_frames, predictions=_predictions(demo_frames, lambda f: f.drop(columns="age")))
    store = _store(tmp_path, reference_store)
    observation, transitions = _run(warehouse, store)
    assert observation.status.value == "blocked" and _monitor_run(store)["status"] == "blocked"
    missing = _validation(store, "column_missing", "age")
    assert missing["severity"] == "critical" and not missing["success"]
    alert = _transition(transitions, "column_missing", "age")
    assert alert.severity.name == "CRITICAL"
    assert _metrics(store, "kind = 'drift'") == {}


def test_2_renamed_column_blocks_and_names_the_new_name(tmp_path, demo_frames, reference_store):
    """income renamed income_usd: blocked, the reason says income_usd (renamed?), extra_columns INFO lists it."""
    predictions = _predictions(demo_frames, lambda f: f.rename(columns={"income": "income_usd"}))
    warehouse = _warehouse(tmp_path, demo_frames, predictions=predictions)
    store = _store(tmp_path, reference_store)
    _run(warehouse, store)
    run = _monitor_run(store)
    assert run["status"] == "blocked"
    assert "'income'" in run["status_reason"] and "['income_usd'] (renamed?)" in run["status_reason"]
    missing = _validation(store, "column_missing", "income")
    assert "income_usd" in missing["observed"] and "renamed?" in missing["observed"]
    extra = _validation(store, "extra_columns", "")
    assert extra["severity"] == "info" and not extra["success"] and extra["examples"] == ["income_usd"]


def test_3_text_in_a_numeric_feature_is_wrong_type_and_skips_its_drift(tmp_path, demo_frames, reference_store):
    """age as text with "n/a": wrong_type CRITICAL with "n/a" in the examples; age's drift skipped, others computed."""
    def as_text(frame):
        text = frame["age"].map(lambda v: f"{v:.0f}").astype(object)
        text[_every(frame, 5)] = "n/a"
        return frame.assign(age=text)

    warehouse = _warehouse(tmp_path, demo_frames, predictions=_predictions(demo_frames, as_text))
    store = _store(tmp_path, reference_store)
    observation, transitions = _run(warehouse, store)
    assert observation.status.value == "ok" and _monitor_run(store)["status"] == "ok"
    wrong = _validation(store, "wrong_type", "age")
    assert wrong["severity"] == "critical" and not wrong["success"] and "n/a" in wrong["examples"]
    assert _transition(transitions, "wrong_type", "age").severity.name == "CRITICAL"
    drift = _metrics(store, FEATURE_DRIFT)
    assert drift["age"]["value"] is None and "could not be parsed" in drift["age"]["details"]["skipped"]
    assert all(drift[c]["value"] is not None for c in ("income", "loan_amount", "region")), drift


def test_4_all_null_feature_is_mostly_null_and_skips_its_drift(tmp_path, demo_frames, reference_store):
    """loan_amount all null: null_rate WARNING and mostly_null CRITICAL fail, CRITICAL alert, drift skipped."""
    warehouse = _warehouse(tmp_path, demo_frames,
                           predictions=_predictions(demo_frames, lambda f: f.assign(loan_amount=None)))
    store = _store(tmp_path, reference_store)
    _, transitions = _run(warehouse, store)
    null_rate, mostly_null = (_validation(store, check, "loan_amount") for check in ("null_rate", "mostly_null"))
    assert null_rate["severity"] == "warning" and not null_rate["success"]
    assert mostly_null["severity"] == "critical" and not mostly_null["success"]
    assert _transition(transitions, "mostly_null", "loan_amount").severity.name == "CRITICAL"
    drift = _metrics(store, FEATURE_DRIFT)["loan_amount"]
    assert drift["value"] is None and "no finite values" in drift["details"]["skipped"]


def test_5_nan_and_infinities_fail_out_of_range_but_keep_drift(tmp_path, demo_frames, reference_store):
    """debt_to_income with NaN and +-inf: out_of_range fails with inf examples; drift computed on the finite values."""
    def broken(frame):
        values = frame["debt_to_income"].to_numpy(copy=True)
        values[_every(frame, 10, 0)] = np.nan
        values[_every(frame, 20, 1)] = np.inf
        values[_every(frame, 20, 11)] = -np.inf
        return frame.assign(debt_to_income=values)

    predictions = _predictions(demo_frames, broken)
    window_values = predictions.loc[_inside(predictions, BUSY), "debt_to_income"].to_numpy()
    warehouse = _warehouse(tmp_path, demo_frames, predictions=predictions)
    store = _store(tmp_path, reference_store)
    observation, _ = _run(warehouse, store)
    assert observation.status.value == "ok" and _monitor_run(store)["status"] == "ok"
    out = _validation(store, "out_of_range", "debt_to_income")
    assert not out["success"] and any("inf" in example for example in out["examples"]), out
    constant = _validation(store, "constant_column", "debt_to_income")
    assert constant["success"], constant  # its finite values vary: infinities do not make it "constant"
    drift = _metrics(store, FEATURE_DRIFT)["debt_to_income"]
    assert drift["value"] is not None
    [profile] = _rows(store, "select profile from window_profiles where column_name = 'debt_to_income'")
    profile = json.loads(profile["profile"])
    assert profile["infinite"] == np.isinf(window_values).sum() > 0
    assert sum(profile["counts"]) == np.isfinite(window_values).sum()  # infinities left out of the counts


def test_6_out_of_range_values_warn_with_examples(tmp_path, demo_frames, reference_store):
    """age = 500 in 20 % of rows: out_of_range WARNING on age with 500 in the examples; a WARNING alert names `age`."""
    def old(frame):
        return frame.assign(age=np.where(_every(frame, 5), 500.0, frame["age"]))

    warehouse = _warehouse(tmp_path, demo_frames, predictions=_predictions(demo_frames, old))
    store = _store(tmp_path, reference_store)
    _, transitions = _run(warehouse, store)
    out = _validation(store, "out_of_range", "age")
    assert out["severity"] == "warning" and not out["success"] and any("500" in e for e in out["examples"]), out
    assert _transition(transitions, "out_of_range", "age").severity.name == "WARNING"


def test_7_scores_outside_0_1_are_score_range_critical(tmp_path, demo_frames, reference_store):
    """score 1.7 and -0.2 in some rows: score_range CRITICAL on score, and a CRITICAL alert."""
    def bad_scores(frame):
        score = np.where(_every(frame, 10, 0), 1.7, np.where(_every(frame, 10, 1), -0.2, frame["score"]))
        return frame.assign(score=score)

    warehouse = _warehouse(tmp_path, demo_frames, predictions=_predictions(demo_frames, bad_scores))
    store = _store(tmp_path, reference_store)
    _, transitions = _run(warehouse, store)
    score_range = _validation(store, "score_range", "score")
    assert score_range["severity"] == "critical" and not score_range["success"]
    assert {"1.7", "-0.2"} <= set(score_range["examples"]), score_range
    assert _transition(transitions, "score_range", "score").severity.name == "CRITICAL"


def test_8_duplicate_prediction_ids_warn_with_the_ids(tmp_path, demo_frames, reference_store):
    """Four rows logged twice: duplicate_ids WARNING on prediction_id with the duplicated ids as examples."""
    predictions = demo_frames["predictions"]
    twice = predictions[_inside(predictions, BUSY)].iloc[[3, 50, 100, 200]]
    warehouse = _warehouse(tmp_path, demo_frames, predictions=pd.concat([predictions, twice], ignore_index=True))
    store = _store(tmp_path, reference_store)
    _, transitions = _run(warehouse, store)
    duplicates = _validation(store, "duplicate_ids", "prediction_id")
    assert duplicates["severity"] == "warning" and not duplicates["success"]
    assert set(twice["prediction_id"]) <= set(duplicates["examples"]), duplicates
    assert _transition(transitions, "duplicate_ids", "prediction_id").severity.name == "WARNING"


def test_9_naive_timestamps_are_read_as_utc(clean_run, demo_frames):
    """Naive timestamps (the demo): exactly the rows whose naive UTC time is in [start, end); no timestamp check fails."""
    observation, _, store = clean_run
    expected = int(_inside(demo_frames["predictions"], BUSY).sum())
    assert expected > 300
    assert observation.row_count == _monitor_run(store)["row_count"] == expected
    assert _validation(store, "timestamp_outside_window", "ts") is None


@pytest.mark.parametrize("hours_before_end", [BUSY, MIDNIGHT])
def test_10_text_timestamps_with_an_offset_compare_as_utc_instants(tmp_path, offset_warehouse, reference_store,
                                                                   demo_frames, hours_before_end):
    """+02:00 text timestamps in a text column: normalised to UTC in SQL, so the window holds exactly its instants."""
    store = _store(tmp_path, reference_store)
    observation, _ = _run(offset_warehouse, store, hours_before_end)
    inside = int(_inside(demo_frames["predictions"], hours_before_end).sum())
    assert inside > 0
    assert observation.row_count == _monitor_run(store, hours_before_end)["row_count"] == inside
    assert _validation(store, "timestamp_outside_window", "ts") is None


def test_10_offset_text_in_a_datetime_column_is_caught_and_left_out(tmp_path, demo_frames, reference_store):
    """+02:00 text in a DATETIME column compares as text (across midnight it lets other hours in):
    timestamp_outside_window CRITICAL with the offending values, those rows left out of the window."""
    warehouse = _warehouse(tmp_path, demo_frames)
    _offset_text(warehouse)
    store = _store(tmp_path, reference_store)
    observation, transitions = _run(warehouse, store, MIDNIGHT)
    check = _validation(store, "timestamp_outside_window", "ts")
    assert check is not None and check["severity"] == "critical" and not check["success"]
    assert check["examples"] and all("+02:00" in example for example in check["examples"])
    inside = int(_inside(demo_frames["predictions"], MIDNIGHT).sum())
    assert _monitor_run(store, MIDNIGHT)["row_count"] == observation.row_count <= inside
    assert "rows have timestamps outside" in check["observed"]
    assert _transition(transitions, "timestamp_outside_window", "ts").severity.name == "CRITICAL"


def test_11_a_row_at_the_window_end_belongs_to_the_next_window(tmp_path, demo_frames, reference_store):
    """Rows at exactly start and exactly end: the start row counts in this window, the end row in the next."""
    predictions = demo_frames["predictions"]
    window = _window(BUSY)
    edges = predictions.iloc[[0, 1]].assign(
        prediction_id=["edge-start", "edge-end"],
        ts=[pd.Timestamp(window.start).tz_localize(None), pd.Timestamp(window.end).tz_localize(None)])
    warehouse = _warehouse(tmp_path, demo_frames, predictions=pd.concat([predictions, edges], ignore_index=True))
    store = _store(tmp_path, reference_store)
    this, _ = _run(warehouse, store, BUSY)
    following, _ = _run(warehouse, store, BUSY - 1)
    assert this.row_count == _monitor_run(store, BUSY)["row_count"] == int(_inside(predictions, BUSY).sum()) + 1
    assert following.row_count == _monitor_run(store, BUSY - 1)["row_count"] == int(
        _inside(predictions, BUSY - 1).sum()) + 1
    assert not _rows(store, "select * from validation_results where check_name = 'timestamp_outside_window'")
    assert _window_ids(warehouse, BUSY) & {"edge-start", "edge-end"} == {"edge-start"}
    assert _window_ids(warehouse, BUSY - 1) & {"edge-start", "edge-end"} == {"edge-end"}


def test_12_unseen_category_is_category_set_info_and_new_category_drift(tmp_path, demo_frames, reference_store):
    """region "atlantis" in 20 % of rows: category_set INFO with the value, new_category_share WARNING or CRITICAL."""
    def atlantis(frame):
        return frame.assign(region=np.where(_every(frame, 5), "atlantis", frame["region"]))

    warehouse = _warehouse(tmp_path, demo_frames, predictions=_predictions(demo_frames, atlantis))
    store = _store(tmp_path, reference_store)
    _run(warehouse, store)
    category = _validation(store, "category_set", "region")
    assert category["severity"] == "info" and not category["success"] and "atlantis" in category["examples"]
    new = _metrics(store, "kind = 'drift' and metric = 'new_category_share'")["region"]
    assert new["severity"] in ("WARNING", "CRITICAL") and new["value"] == pytest.approx(0.2, abs=0.02)
    assert "atlantis" in new["details"]["examples"]


def test_13_extra_columns_are_reported_at_info_and_never_block(tmp_path, demo_frames, reference_store):
    """An extra column debug_payload: status ok, extra_columns INFO lists it, nothing blocked."""
    predictions = _predictions(demo_frames, lambda f: f.assign(debug_payload='{"trace": 1}'))
    warehouse = _warehouse(tmp_path, demo_frames, predictions=predictions)
    store = _store(tmp_path, reference_store)
    observation, _ = _run(warehouse, store)
    run = _monitor_run(store)
    assert observation.status.value == run["status"] == "ok" and run["status_reason"] == ""
    extra = _validation(store, "extra_columns", "")
    assert extra["severity"] == "info" and not extra["success"] and extra["examples"] == ["debug_payload"]
    assert "debug_payload" in extra["observed"]


def test_14_labels_for_unknown_predictions_are_unmatched_labels(tmp_path, demo_frames, reference_store):
    """Labels arriving in the window for unknown ids: unmatched_labels = their share, WARNING above 5 %, with examples."""
    labels = demo_frames["labels"]
    arrived = int(_inside(labels, BUSY, "labeled_at").sum())
    start = pd.Timestamp(_window(BUSY).start).tz_localize(None)
    ghosts = pd.DataFrame({"prediction_id": [f"ghost{i:03d}" for i in range(20)], "label": [0, 1] * 10,
                           "labeled_at": [start + timedelta(minutes=2 * i) for i in range(20)]})
    warehouse = _warehouse(tmp_path, demo_frames, labels=pd.concat([labels, ghosts], ignore_index=True))
    store = _store(tmp_path, reference_store)
    _run(warehouse, store)
    row = _metrics(store, "kind = 'quality' and metric = 'unmatched_labels'")["prediction_id"]
    assert row["value"] == pytest.approx(20 / (arrived + 20)) and row["value"] > 0.05 and row["n"] == arrived + 20
    assert row["severity"] == "WARNING"
    assert row["details"]["examples"] and set(row["details"]["examples"]) <= set(ghosts["prediction_id"])


def test_15_empty_labels_table_records_zero_coverage_and_insufficient_performance(tmp_path, demo_frames,
                                                                                  reference_store):
    """A labels table with no rows: label_coverage 0, performance metrics NULL with "insufficient"; no exception."""
    warehouse = _warehouse(tmp_path, demo_frames, labels=demo_frames["labels"].iloc[0:0])
    store = _store(tmp_path, reference_store)
    _run(warehouse, store, LABELLED)
    assert _monitor_run(store, LABELLED)["status"] == "ok"
    older = LABELLED + 48  # a window two days older, which would have its labels by now
    start = f"{_window(older).start:%Y-%m-%d %H:%M:%S}.000000"
    performance = _metrics(store, "kind = 'performance' and slice_key = '' and window_start = :w", w=start)
    predicted = int(_inside(demo_frames["predictions"], older).sum())
    assert predicted > 100
    assert performance["label_coverage"]["value"] == 0 and performance["label_coverage"]["n"] == predicted
    for metric in _config().performance_metrics:
        assert performance[metric]["value"] is None and "insufficient" in performance[metric]["details"], metric
    coverages = _rows(store, "select value from metric_values where metric = 'label_coverage'")
    assert len(coverages) > 48 and {r["value"] for r in coverages} == {0.0}  # every window of the horizon, no label


def test_16_missing_labels_table_is_recorded_and_the_run_completes(tmp_path, demo_frames, reference_store):
    """No labels table: status ok; label_coverage NULL with "does not exist" in the details."""
    warehouse = _warehouse(tmp_path, demo_frames, drop=("labels",))
    store = _store(tmp_path, reference_store)
    observation, _ = _run(warehouse, store, LABELLED)
    assert observation.status.value == _monitor_run(store, LABELLED)["status"] == "ok"
    coverage = _metrics(store, "kind = 'performance' and metric = 'label_coverage'")["label_coverage"]
    assert coverage["value"] is None and "does not exist" in coverage["details"]["skipped"]
    assert "'labels'" in coverage["details"]["skipped"]


def test_17_missing_predictions_table_raises_and_writes_nothing(tmp_path, demo_frames, reference_store):
    """No predictions table: observe_window raises MissingTableError naming the table; the store gets no run."""
    from include.monitoring import pipeline, reference
    from include.monitoring.errors import MissingTableError, WarehouseError

    warehouse = _warehouse(tmp_path, demo_frames, drop=("predictions",))
    store = _store(tmp_path, reference_store)
    reference_id, profile = reference.load_reference(_config(), store)
    with pytest.raises(MissingTableError, match="table 'predictions' does not exist") as raised:
        pipeline.observe_window(_config(), reference_id, profile, warehouse, _window(BUSY))
    assert isinstance(raised.value, WarehouseError)
    with pytest.raises(MissingTableError, match="'predictions'"):
        _run(warehouse, store)
    assert _run_rows(store) == 0


def test_18_a_warehouse_that_does_not_answer_fails_fast_and_writes_nothing(tmp_path, reference_store):
    """Nothing listens on the warehouse port: run_window raises WarehouseError "did not answer" within seconds."""
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.errors import WarehouseError

    warehouse = engine_from_url("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    store = _store(tmp_path, reference_store)  # a fresh file: only the reference a run needs before it reads
    started = time.monotonic()
    with pytest.raises(WarehouseError, match="did not answer"):
        _run(warehouse, store)
    assert time.monotonic() - started < 10
    assert _run_rows(store) == 0
    assert not _rows(store, "select * from metric_values") and not _rows(store, "select * from alerts")


# --- freshness and volume -----------------------------------------------------------------------------------------


def _with_earlier_weeks(frames: dict[str, pd.DataFrame], weeks: int, keep_share: float = 1.0) -> pd.DataFrame:
    """The predictions plus copies of the busy window's rows 1..`weeks` weeks earlier (same count every week);
    then only `keep_share` of the busy window's own rows."""
    predictions = frames["predictions"]
    window_rows = predictions[_inside(predictions, BUSY)]
    copies = [window_rows.assign(ts=window_rows["ts"] - pd.Timedelta(weeks=week),
                                 prediction_id=window_rows["prediction_id"] + f"-w{week}")
              for week in range(1, weeks + 1)]
    drop = window_rows.index[int(len(window_rows) * keep_share):]
    return pd.concat([predictions.drop(index=drop), *copies], ignore_index=True)


def test_volume_in_line_with_earlier_weeks_is_ok(tmp_path, demo_frames, reference_store):
    """Two earlier weeks with the same count: volume recorded with its band, no alert."""
    warehouse = _warehouse(tmp_path, demo_frames, predictions=_with_earlier_weeks(demo_frames, 2))
    store = _store(tmp_path, reference_store)
    observation, _ = _run(warehouse, store)
    volume = _metrics(store, "metric = 'volume'")["volume"]
    assert volume["details"]["history"] == [observation.row_count] * 2
    assert volume["details"]["low"] < observation.row_count < volume["details"]["high"]
    assert volume["severity"] == "OK"


@pytest.mark.parametrize("keep_share", [0.4, None])
def test_too_few_or_too_many_rows_for_the_hour_of_the_week_warn(tmp_path, demo_frames, reference_store, keep_share):
    """40 % of the usual rows, or twice as many: volume WARNING naming the expected range and the history. By
    default the alert waits for a second such window in 3 (alerts.persistence); set to [1, 1] it opens at once."""
    from include.monitoring.config import Persistence

    predictions = _with_earlier_weeks(demo_frames, 3, keep_share or 1.0)
    if keep_share is None:  # twice as many: the window's rows once more, with new ids
        extra = predictions[_inside(predictions, BUSY)]
        predictions = pd.concat([predictions, extra.assign(prediction_id=extra["prediction_id"] + "-again")],
                                ignore_index=True)
    warehouse = _warehouse(tmp_path, demo_frames, predictions=predictions)
    store = _store(tmp_path, reference_store)
    _, transitions = _run(warehouse, store)
    assert not [t for t in transitions if ":operational:volume:" in t.alert_key]
    assert _rows(store, "select status from alerts where rule = 'operational:volume'") == [{"status": "watching"}]
    config = _config()
    at_once = dataclasses.replace(config, alerts=dataclasses.replace(
        config.alerts, persistence={"operational:volume": Persistence(warning=(1, 1))}))
    (tmp_path / "at_once").mkdir()
    store = _store(tmp_path / "at_once", reference_store)
    observation, transitions = _run(warehouse, store, config=at_once)
    volume = _metrics(store, "metric = 'volume'")["volume"]
    usual = volume["details"]["history"][0]
    assert volume["details"]["history"] == [usual] * 3 and volume["severity"] == "WARNING"
    assert observation.row_count == (int(usual * 0.4) if keep_share else 2 * usual)
    [alert] = [t for t in transitions if ":operational:volume:" in t.alert_key]
    assert alert.severity.name == "WARNING" and f"{observation.row_count} predictions in the window" in alert.message
    assert f"over 3 earlier week(s): {[usual] * 3}" in alert.message


def test_an_empty_hour_is_a_critical_data_delay_with_the_lag_of_the_latest_prediction(tmp_path, demo_frames,
                                                                                      reference_store):
    """No rows: row_count CRITICAL (data delay) naming the latest prediction; the lag is recorded; volume does not
    raise a second alert for the same breach."""
    predictions = _with_earlier_weeks(demo_frames, 1)
    inside = _inside(predictions, BUSY)
    latest = predictions.loc[predictions["ts"] < predictions.loc[inside, "ts"].min(), "ts"].max()
    warehouse = _warehouse(tmp_path, demo_frames, predictions=predictions[~inside])
    store = _store(tmp_path, reference_store)
    observation, transitions = _run(warehouse, store)
    assert observation.status.value == _monitor_run(store)["status"] == "no_data"
    rows = _metrics(store, "kind = 'operational'")
    assert rows["row_count"]["severity"] == "CRITICAL" and rows["volume"]["severity"] == "OK"
    lag = (pd.Timestamp(_window(BUSY).end).tz_localize(None) - latest).total_seconds()
    assert rows["prediction_lag_seconds"]["value"] == pytest.approx(lag, abs=1e-3)
    [delay] = [t for t in transitions if ":operational:data_delay:" in t.alert_key]
    assert delay.severity.name == "CRITICAL" and "no predictions arrived" in delay.message
    assert latest.isoformat()[:19] in delay.message


def test_latency_and_error_rate_are_recorded_from_the_log(clean_run):
    """The demo log's latency_ms and status: p50 < p95 < p99 recorded, error rate small and no alert."""
    _, _, store = clean_run
    latency = {r["metric"]: r for r in _rows(store, "select * from metric_values where metric like 'latency_p%'")}
    assert latency["latency_p50"]["value"] < latency["latency_p95"]["value"] < latency["latency_p99"]["value"]
    assert 30 < latency["latency_p50"]["value"] < 55  # the demo's median is 40 ms
    assert latency["latency_p95"]["threshold_warning"] == 250 and latency["latency_p95"]["severity"] == "OK"
    [errors] = _rows(store, "select * from metric_values where metric = 'error_rate'")
    assert errors["column_name"] == "status" and errors["value"] < 0.01 and errors["severity"] == "OK"
    assert {r["column_name"] for r in latency.values()} == {"latency_ms"}


# --- labels and timestamps that used to take a window down (issue: one bad value) ---------------------------------


def _performance(store: sa.Engine) -> dict[tuple, float | None]:
    """Every realized performance value by (window, metric, slice) except the coverage, which counts raw labels."""
    found = _rows(store, "select window_start, metric, slice_key, slice_value, value, n from metric_values "
                         "where kind = 'performance' and metric not in ('label_coverage', 'sufficient_statistics')")
    return {(r["window_start"], r["metric"], r["slice_key"], r["slice_value"]): (r["value"], r["n"]) for r in found}


def _labels_arrived_in(frames: dict[str, pd.DataFrame], hours_before_end: int) -> pd.Series:
    return _inside(frames["labels"], hours_before_end, "labeled_at")


def test_19_labels_outside_the_binary_domain_are_left_out_counted_and_reported(tmp_path, demo_frames, reference_store):
    """Labels as yes/no/true/FALSE text parse as 1/0; "maybe" and 2 are left out of scoring: the run succeeds, the
    label_values check reports them with examples, and every performance value equals the run on a warehouse
    holding the same labels as 0/1 without the bad ones."""
    labels = demo_frames["labels"].copy()
    rescored = labels["labeled_at"] < pd.Timestamp(_window(BUSY).end).tz_localize(None)
    arrived = _labels_arrived_in(demo_frames, BUSY)
    bad = np.flatnonzero(rescored.to_numpy())[::7]  # one in seven labels the run can see, some arriving in its window
    words = labels["label"].map({1: "yes", 0: "no"}).astype(object)
    words[labels.index % 3 == 1] = labels["label"].map({1: "TRUE", 0: "false"})
    words[labels.index % 3 == 2] = labels["label"].astype(str)
    text = words.copy()
    text.iloc[bad[::2]] = "maybe"
    text.iloc[bad[1::2]] = "2"
    broken = _warehouse(tmp_path, demo_frames, labels=labels.assign(label=text))
    (tmp_path / "clean").mkdir()
    kept = labels.drop(index=labels.index[bad])
    clean = _warehouse(tmp_path / "clean", demo_frames, labels=kept)

    store = _store(tmp_path, reference_store)
    observation, transitions = _run(broken, store)
    clean_store = _store(tmp_path / "clean", reference_store)
    _run(clean, clean_store)

    assert observation.status.value == _monitor_run(store)["status"] == "ok"
    assert not _rows(store, "select * from metric_values where metric = 'run_failed' and value > 0")
    row = _metrics(store, "metric = 'label_values'")["label"]
    invalid_now = int((arrived.to_numpy() & np.isin(np.arange(len(labels)), bad)).sum())
    assert invalid_now > 0 and row["details"]["invalid"] == invalid_now and row["n"] == int(arrived.sum())
    assert row["severity"] == "WARNING" and {"maybe", "2"} <= set(row["details"]["examples"])
    assert "finite" not in row["details"]["expected"] and "yes/no" in row["details"]["expected"]
    [alert] = [t for t in transitions if "label_values" in t.alert_key]
    assert alert.severity.name == "WARNING"
    performance = _performance(store)
    assert len(performance) > 100 and performance == _performance(clean_store)
    coverage = _rows(store, "select details from metric_values where metric = 'label_coverage' and kind = 'performance'")
    assert sum(json.loads(r["details"])["invalid_labels"] for r in coverage) > 0


def test_19_a_positive_and_negative_label_named_in_the_config_are_read(tmp_path, demo_frames, reference_store):
    """labels.positive_label: default, negative_label: repaid: the same performance as 1/0 labels."""
    from include.monitoring.config import LabelsConfig

    labels = demo_frames["labels"]
    named = _warehouse(tmp_path, demo_frames,
                       labels=labels.assign(label=labels["label"].map({1: "default", 0: "repaid"})))
    config = _config()
    config = dataclasses.replace(config, labels=dataclasses.replace(config.labels, positive_label="default",
                                                                    negative_label="repaid"))
    assert isinstance(config.labels, LabelsConfig)
    store = _store(tmp_path, reference_store)
    _run(named, store, config=config)
    (tmp_path / "numbers").mkdir()
    numbers_store = _store(tmp_path / "numbers", reference_store)
    _run(_warehouse(tmp_path / "numbers", demo_frames), numbers_store)
    assert _metrics(store, "metric = 'label_values'")["label"]["value"] == 0
    assert len(_performance(store)) > 100 and _performance(store) == _performance(numbers_store)


def _iso_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """`ts` as text in four ISO-8601 forms, one per row in turn: naive with and without fractions, "Z", and +05:30."""
    moments = frame["ts"].dt.tz_localize("UTC")
    forms = [lambda m: m.strftime("%Y-%m-%dT%H:%M:%S"), lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%f"),
             lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
             lambda m: m.tz_convert("+05:30").isoformat()]
    text = [forms[i % 4](moment) for i, moment in enumerate(moments)]
    return frame.assign(ts=pd.Series(text, index=frame.index, dtype=object))


@pytest.mark.parametrize("hours_before_end", [BUSY, MIDNIGHT])
def test_20_text_timestamps_in_mixed_iso_forms_all_parse(tmp_path, demo_frames, reference_store, hours_before_end):
    """Naive, fractional, Z and +05:30 text mixed in one column: the window holds exactly its instants, status ok."""
    warehouse = _warehouse(tmp_path, demo_frames, predictions=_predictions(demo_frames, _iso_variants))
    store = _store(tmp_path, reference_store)
    observation, _ = _run(warehouse, store, hours_before_end)
    inside = int(_inside(demo_frames["predictions"], hours_before_end).sum())
    assert observation.status.value == ("ok" if inside >= _config().min_rows else "insufficient_data")
    assert observation.row_count == _monitor_run(store, hours_before_end)["row_count"] == inside
    assert not _failed_validations(store) or all(r["check_name"] not in ("timestamp_outside_window",
                                                                          "timestamp_unparseable")
                                                 for r in _failed_validations(store))


def test_21_unparseable_text_timestamps_are_counted_and_critical(tmp_path, demo_frames, reference_store):
    """One row in four with "21/11/2026 15:07" or "soon" as its timestamp: the window holds the others, and
    timestamp_unparseable CRITICAL counts every such row of the table, with examples."""
    def garbled(frame):
        text = _iso_variants(frame)["ts"]
        text[_every(frame, 8, 0)] = "soon"
        text[_every(frame, 8, 4)] = frame.loc[_every(frame, 8, 4), "ts"].dt.strftime("%d/%m/%Y %H:%M")
        return frame.assign(ts=text)

    predictions = demo_frames["predictions"]
    warehouse = _warehouse(tmp_path, demo_frames, predictions=_predictions(demo_frames, garbled))
    store = _store(tmp_path, reference_store)
    observation, transitions = _run(warehouse, store)
    unreadable = _every(predictions, 4, 0)
    assert observation.status.value == "ok"
    assert observation.row_count == int((_inside(predictions, BUSY) & ~unreadable).sum())
    check = _validation(store, "timestamp_unparseable", "ts")
    assert check["severity"] == "critical" and not check["success"]
    assert f"{int(unreadable.sum())} rows of 'predictions'" in check["observed"]
    assert "soon" in check["examples"] and any("/" in example for example in check["examples"])
    assert _transition(transitions, "timestamp_unparseable", "ts").severity.name == "CRITICAL"


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_22_epoch_timestamps_work_with_timestamp_unit(tmp_path, demo_frames, reference_store, unit):
    """ts as integer epoch seconds or milliseconds with warehouse.timestamp_unit: the window, the freshness lag
    and the earlier weeks' counts are those of the timestamp column; no data delay."""
    scale = {"s": 1, "ms": 1000}[unit]
    predictions = _with_earlier_weeks(demo_frames, 1)
    epoch = (predictions["ts"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1) * scale
    warehouse = _warehouse(tmp_path, demo_frames, predictions=predictions.assign(ts=epoch.astype("int64")))
    config = _config()
    config = dataclasses.replace(config, warehouse=dataclasses.replace(config.warehouse, timestamp_unit=unit))
    store = _store(tmp_path, reference_store)
    observation, transitions = _run(warehouse, store, config=config)
    assert observation.status.value == "ok"
    inside = int(_inside(predictions, BUSY).sum())
    assert observation.row_count == _monitor_run(store)["row_count"] == inside
    rows = _metrics(store, "kind = 'operational'")
    assert rows["volume"]["details"]["history"] == [inside] and rows["row_count"]["severity"] == "OK"
    assert 0 <= rows["prediction_lag_seconds"]["value"] < 600
    assert not [t for t in transitions if ":operational:data_delay:" in t.alert_key]
    assert _validation(store, "timestamp_unparseable", "ts") is None


def test_22_epoch_timestamps_without_a_unit_fail_naming_the_key_to_set(tmp_path, demo_frames, reference_store):
    """Integer timestamps and no warehouse.timestamp_unit: the run fails with a message that says what to set."""
    from include.monitoring.errors import WarehouseError

    predictions = demo_frames["predictions"]
    epoch = (predictions["ts"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    warehouse = _warehouse(tmp_path, demo_frames, predictions=predictions.assign(ts=epoch.astype("int64")))
    store = _store(tmp_path, reference_store)
    with pytest.raises(WarehouseError, match=r"'ts' holds numbers .*set warehouse.timestamp_unit to s .* or ms"):
        _run(warehouse, store)
    assert _run_rows(store) == 0


@pytest.mark.parametrize("null_share", [0.4, 1.0])
def test_23_null_scores_are_null_rate_and_mostly_null_on_the_score(tmp_path, demo_frames, reference_store, null_share):
    """40 % of scores null: null_rate WARNING on score. All null: mostly_null CRITICAL too, and the score's drift
    row says why it was skipped."""
    def unscored(frame):
        score = frame["score"].astype("float64").copy()
        score[np.arange(len(frame)) % 10 < null_share * 10] = np.nan
        return frame.assign(score=score)

    warehouse = _warehouse(tmp_path, demo_frames, predictions=_predictions(demo_frames, unscored))
    store = _store(tmp_path, reference_store)
    observation, transitions = _run(warehouse, store)
    assert observation.status.value == "ok"
    null_rate, mostly_null = (_validation(store, check, "score") for check in ("null_rate", "mostly_null"))
    assert null_rate["severity"] == "warning" and not null_rate["success"]
    assert bool(mostly_null["success"]) is (null_share < 0.5)
    drift = _metrics(store, "kind = 'drift' and column_name = 'score' and metric in ('ks', 'wasserstein')")["score"]
    if null_share == 1.0:
        assert _transition(transitions, "mostly_null", "score").severity.name == "CRITICAL"
        assert drift["value"] is None and "no finite values" in drift["details"]["skipped"]
    else:
        assert _transition(transitions, "null_rate", "score").severity.name == "WARNING"
        assert drift["value"] is not None and drift["n"] == pytest.approx(0.6 * observation.sampled_rows, abs=10)


def test_24_labels_sent_twice_count_once(tmp_path, demo_frames, reference_store):
    """Every label sent twice, the copy a minute later: n and every performance value as with one label each;
    duplicate_labels INFO counts the window's ids."""
    labels = demo_frames["labels"]
    twice = pd.concat([labels, labels.assign(labeled_at=labels["labeled_at"] + pd.Timedelta(minutes=1))],
                      ignore_index=True)
    warehouse = _warehouse(tmp_path, demo_frames, labels=twice)
    store = _store(tmp_path, reference_store)
    _run(warehouse, store)
    (tmp_path / "once").mkdir()
    once_store = _store(tmp_path / "once", reference_store)
    _run(_warehouse(tmp_path / "once", demo_frames), once_store)
    assert len(_performance(store)) > 100 and _performance(store) == _performance(once_store)
    row = _metrics(store, "metric = 'duplicate_labels'")["prediction_id"]
    arrived = int(_inside(twice, BUSY, "labeled_at").sum())
    assert row["severity"] == "INFO" and row["details"]["conflicting_ids"] == 0
    assert row["details"]["duplicated_ids"] > arrived / 2 - 5 and row["details"]["examples"]


def test_24_a_corrected_label_replaces_the_first_and_warns(tmp_path, demo_frames, reference_store):
    """A second, flipped label for one prediction in five: the latest label is scored (the same values as a warehouse
    holding only the corrected labels), and duplicate_labels WARNING counts the conflicting ids."""
    labels = demo_frames["labels"]
    end = pd.Timestamp(_window(BUSY).end).tz_localize(None)
    # not a label whose correction arrives after the run's cut-off: there the two warehouses rightly differ
    chosen = _every(labels, 5) & ~labels["labeled_at"].between(end - pd.Timedelta(minutes=1), end).to_numpy()
    flipped = labels[chosen].assign(label=lambda f: 1 - f["label"],
                                               labeled_at=lambda f: f["labeled_at"] + pd.Timedelta(minutes=1))
    warehouse = _warehouse(tmp_path, demo_frames, labels=pd.concat([labels, flipped], ignore_index=True))
    corrected = labels.assign(label=np.where(chosen, 1 - labels["label"], labels["label"]),
                              labeled_at=np.where(chosen, labels["labeled_at"] + pd.Timedelta(minutes=1),
                                                  labels["labeled_at"]))
    store = _store(tmp_path, reference_store)
    _run(warehouse, store)
    (tmp_path / "corrected").mkdir()
    corrected_store = _store(tmp_path / "corrected", reference_store)
    _run(_warehouse(tmp_path / "corrected", demo_frames, labels=corrected), corrected_store)
    assert len(_performance(store)) > 100 and _performance(store) == _performance(corrected_store)
    row = _metrics(store, "metric = 'duplicate_labels'")["prediction_id"]
    assert row["severity"] == "WARNING" and row["details"]["conflicting_ids"] > 0
    assert row["details"]["conflicting_ids"] == row["details"]["duplicated_ids"]


def test_21_junk_and_null_in_a_datetime_column_are_counted_and_never_fail_the_window(tmp_path, demo_frames,
                                                                                     reference_store):
    """SQLite keeps any text in a DATETIME column: "soon", NULL, "<in the window> junk" and "<date> 15" rows.
    The window is read (no datetime parser fails on them), the rows no window can place are counted by
    timestamp_unparseable, and the re-scored label counts skip them."""
    warehouse = _warehouse(tmp_path, demo_frames)
    start = f"{_window(BUSY).start:%Y-%m-%d %H}"
    with warehouse.begin() as conn:
        conn.exec_driver_sql("update predictions set ts = 'soon' where rowid % 50 = 0")
        conn.exec_driver_sql("update predictions set ts = null where rowid % 50 = 1")
        conn.exec_driver_sql(f"update predictions set ts = '{start}:30:00 junk' where rowid % 50 = 2")
        conn.exec_driver_sql(f"update predictions set ts = '{start}' where rowid % 50 = 3")
        lost = conn.exec_driver_sql("select count(*) from predictions where rowid % 50 < 4").scalar_one()
    store = _store(tmp_path, reference_store)
    observation, transitions = _run(warehouse, store)
    assert observation.status.value == "ok" and _monitor_run(store)["status"] == "ok"
    check = _validation(store, "timestamp_unparseable", "ts")
    assert check["severity"] == "critical" and f"{lost} rows of 'predictions'" in check["observed"]
    assert {"soon", "null"} <= set(check["examples"])
    assert _transition(transitions, "timestamp_unparseable", "ts").severity.name == "CRITICAL"
    assert _metrics(store, "kind = 'performance' and metric = 'label_coverage' and slice_key = ''")


def test_21_the_table_wide_count_is_made_in_each_days_first_window_and_carried_through_the_day(tmp_path, demo_frames,
                                                                                                reference_store):
    """timestamp_unparseable reads every timestamp of the table: the day's first window (00:00 UTC) counts it, and the
    day's later windows restate that count, naming the window that counted, without reading the table again. A
    window whose day's first window has no completed run counts itself; the next day's first window counts anew."""
    warehouse = _warehouse(tmp_path, demo_frames)
    with warehouse.begin() as conn:
        conn.exec_driver_sql("update predictions set ts = 'soon' where rowid % 50 = 0")
        soon = conn.exec_driver_sql("select count(*) from predictions where rowid % 50 = 0").scalar_one()
    store = _store(tmp_path, reference_store)

    def counted(hours_before_end: int) -> str:
        from include.monitoring.store import validation_results as v

        with store.connect() as conn:
            [observed] = conn.execute(sa.select(v.c.observed).where(
                v.c.check_name == "timestamp_unparseable", v.c.window_start == _window(hours_before_end).start)).scalars()
        return json.loads(observed)

    first_of_day, later = 27, 25  # [2026-11-22 00:00, 01:00) and [2026-11-22 02:00, 03:00)
    assert _window(first_of_day).start.hour == 0
    _run(warehouse, store, later)  # the day's first window has not run: this one counts
    assert counted(later).startswith(f"{soon} rows of 'predictions'") and "counted in window" not in counted(later)
    _run(warehouse, store, first_of_day)
    with warehouse.begin() as conn:
        conn.exec_driver_sql("update predictions set ts = null where rowid % 50 = 1")
        null = conn.exec_driver_sql("select count(*) from predictions where rowid % 50 = 1").scalar_one()
    _run(warehouse, store, later)  # carried: the new nulls are not counted before the next day
    assert counted(later).startswith(f"{soon} rows of 'predictions'")
    assert f"(counted in window {_window(first_of_day)}: the whole table is counted once a day" in counted(later)
    [alert] = _rows(store, "select status, severity from alerts where alert_key like '%timestamp_unparseable%'")
    assert alert == {"status": "open", "severity": "CRITICAL"}  # the carried result keeps the alert open
    next_day = 3  # [2026-11-23 00:00, 01:00)
    assert _window(next_day).start.hour == 0
    _run(warehouse, store, next_day)
    assert counted(next_day).startswith(f"{soon + null} rows of 'predictions'")


def test_11_whole_second_timestamps_without_a_fraction_belong_to_their_own_window(tmp_path, demo_frames,
                                                                                 reference_store):
    """Python's sqlite3 writes "16:00:00" when the microseconds are 0 and "16:00:00.250000" otherwise: a row at
    exactly the window start without a fraction is in that window, not the one before (and no timestamp check fails)."""
    window = _window(BUSY)
    warehouse = _warehouse(tmp_path, demo_frames)
    with warehouse.begin() as conn:
        conn.exec_driver_sql("update predictions set ts = ? where rowid in (1, 2, 3)", (f"{window.start:%Y-%m-%d %H:%M:%S}",))
    store = _store(tmp_path, reference_store)
    before, _ = _run(warehouse, store, BUSY + 1)
    this, _ = _run(warehouse, store, BUSY)
    predictions = demo_frames["predictions"]
    moved_from = _inside(predictions.iloc[:3], BUSY + 1).sum() + _inside(predictions.iloc[:3], BUSY).sum()
    assert before.row_count == int(_inside(predictions, BUSY + 1).sum()) - int(_inside(predictions.iloc[:3], BUSY + 1).sum())
    assert this.row_count == int(_inside(predictions, BUSY).sum()) - int(_inside(predictions.iloc[:3], BUSY).sum()) + 3
    assert moved_from <= 3
    assert not _rows(store, "select * from validation_results where check_name like 'timestamp%'")


def test_22_timestamp_unit_leaves_timestamp_columns_as_they_are(tmp_path, demo_frames, reference_store):
    """warehouse.timestamp_unit applies to number columns only: with predictions in a DATETIME column and labels
    arriving as epoch seconds, one setting serves both."""
    labels = demo_frames["labels"]
    arrived = (labels["labeled_at"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    warehouse = _warehouse(tmp_path, demo_frames, labels=labels.assign(labeled_at=arrived.astype("int64")))
    config = _config()
    config = dataclasses.replace(config, warehouse=dataclasses.replace(config.warehouse, timestamp_unit="s"))
    store = _store(tmp_path, reference_store)
    observation, _ = _run(warehouse, store, config=config)
    assert observation.status.value == "ok" and observation.row_count == int(_inside(demo_frames["predictions"], BUSY).sum())
    (tmp_path / "plain").mkdir()
    plain_store = _store(tmp_path / "plain", reference_store)
    _run(_warehouse(tmp_path / "plain", demo_frames), plain_store)
    assert len(_performance(store)) > 100 and _performance(store) == _performance(plain_store)
