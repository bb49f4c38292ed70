"""Profiles stored before the typed profiles (profile_types.py) still load: the same JSON, the same id, the same drift.

tests/fixtures/stored_profiles/ was written by the dict-based code (commit e97703b) from the demo's generator and
monitor (include/monitors/credit_default.yaml): a 1200-row reference table, 6 days of traffic peaking at 4000 rows an
hour, seed 11, ending 2026-11-23 04:00 UTC. The windows [14:00, 16:00) of 2026-11-17 (model v1 only) were monitored
and stored; from them a rolling (1 day) and a seasonal (1 week) reference were merged.

- {table,rolling,seasonal}_reference.json: a `reference_profiles` row: reference_id, model, source and the profile
  text exactly as stored.
- stored_windows.json: the `monitor_runs` rows and every `window_profiles` row of those two windows (numeric features,
  months_employed stored as text, categorical features, the score with its output summary), the merged references'
  build time and periods.
- window_drift.json: the observations (the XCom record, without validations and metrics, which drift does not read)
  of [15:00, 16:00) (4028 rows: distances, stored and resampled noise bands) and [09:00, 10:00) (p-values: ks, chi2),
  sliced by model version and employment type, and the drift rows compute_drift gave against each reference. The
  employment_type=salaried rows of [15:00, 16:00) and their drift_level rows were rewritten when a slice's band came
  to be read from its own calibration table (drift/slice_calibration.py) instead of being resampled at its size:
  only their noise (within 9 % of the resampled one) and details.calibration changed.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from include.monitoring import reference, store
from include.monitoring.config import FeaturesConfig, MonitorConfig, load_monitor_config
from include.monitoring.drift.engine import compute_drift
from include.monitoring.observation import Observation
from include.monitoring.profile_types import ReferenceProfile, column_counts_from_json
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "stored_profiles"
KINDS = ("table", "rolling", "seasonal")
CONFIG = ROOT / "include" / "monitors" / "credit_default.yaml"


def _stored(kind: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{kind}_reference.json").read_text())


@pytest.mark.parametrize("kind", KINDS)
def test_a_stored_profile_loads_to_the_same_json_and_the_same_id(kind):
    stored = _stored(kind)
    data = json.loads(stored["profile"])
    profile = ReferenceProfile.from_json(data)
    assert profile.to_json() == data
    assert json.dumps(profile.to_json(), sort_keys=True) == stored["profile"]  # byte for byte, as the store holds it
    assert reference.profile_id(profile) == stored["reference_id"]
    assert (profile.source is None) == (kind == "table")


def test_stored_profiles_load_from_the_store_and_storing_them_again_is_a_no_op(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_tables(engine)
    rows = [_stored(kind) for kind in KINDS]
    created = datetime(2026, 11, 17, 16, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(sa.insert(store.reference_profiles), [{**row, "created_at": created} for row in rows])
    config = load_monitor_config(CONFIG)
    assert reference.load_reference(config, engine)[0] == rows[0]["reference_id"]  # the table reference
    for row in rows:
        profile = reference.load_profile(engine, row["reference_id"])
        assert reference.store_profile(engine, config, profile, row["source"], created) == row["reference_id"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from reference_profiles")).scalar_one() == len(rows)


def _stored_windows() -> dict[str, Any]:
    return json.loads((FIXTURES / "stored_windows.json").read_text())


def test_stored_window_profiles_round_trip():
    rows = _stored_windows()["window_profiles"]
    kinds = {}
    for row in rows:
        data = json.loads(row["profile"])
        counts = column_counts_from_json(data)
        kinds[row["column_name"]] = counts.kind
        assert counts.kind == data["kind"]
        assert counts.to_json() == data
        assert json.dumps(counts.to_json(), sort_keys=True) == row["profile"]  # byte for byte, as the store holds it
    assert kinds["age"] == kinds["months_employed"] == "numeric" and kinds["channel"] == "categorical"
    score = column_counts_from_json(json.loads(next(row["profile"] for row in rows if row["column_name"] == "score")))
    assert score.output is not None and score.output.scored == score.n  # the output summary survives


def test_merging_the_stored_windows_again_gives_the_stored_rolling_and_seasonal_references(tmp_path):
    """The rolling and seasonal references rebuilt from the stored window profiles by today's code are the stored
    ones: the same content, hence the same id (so a rebuild stores nothing new)."""
    windows = _stored_windows()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_tables(engine)
    table = _stored("table")

    def moment(text: str) -> datetime:
        return datetime.fromisoformat(text)

    with engine.begin() as conn:
        conn.execute(sa.insert(store.reference_profiles), [{**table, "created_at": moment(windows["built_at"])}])
        conn.execute(sa.insert(store.monitor_runs), [
            {**run, "window_start": moment(run["window_start"]), "window_end": moment(run["window_end"]),
             "started_at": moment(run["window_end"]), "finished_at": moment(run["window_end"])}
            for run in windows["monitor_runs"]])
        conn.execute(sa.insert(store.window_profiles), [
            {**row, "window_start": moment(row["window_start"])} for row in windows["window_profiles"]])
    config = load_monitor_config(CONFIG)
    now = moment(windows["built_at"])
    rolling = dataclasses.replace(config, reference=dataclasses.replace(
        config.reference, source="rolling", rolling_days=windows["rolling_days"]))
    assert reference.build_merged_references(rolling, engine, now) == {"rolling": _stored("rolling")["reference_id"]}
    seasonal = dataclasses.replace(config, reference=dataclasses.replace(
        config.reference, source="seasonal", seasonal_weeks=windows["seasonal_weeks"]))
    built = reference.build_merged_references(seasonal, engine, now)
    assert _stored("seasonal")["reference_id"] in built.values()
    slot_id, slot = reference.load_reference(seasonal, engine, now - timedelta(hours=1))
    assert slot_id == _stored("seasonal")["reference_id"]
    assert json.dumps(slot.to_json(), sort_keys=True) == _stored("seasonal")["profile"]


def _drift_cases() -> list[tuple[int, str]]:
    windows = json.loads((FIXTURES / "window_drift.json").read_text())["windows"]
    return [(i, kind) for i, window in enumerate(windows) for kind in window["drift"]]


def _close(actual: Any, expected: Any, path: str = "") -> None:
    """`actual` equals `expected`, numbers to 1e-12 (relative or absolute), recursively through dicts and lists."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), path
        for key in expected:
            _close(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _close(a, e, f"{path}[{i}]")
    elif isinstance(expected, float) and not isinstance(actual, bool) and isinstance(actual, int | float):
        assert math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12), (path, actual, expected)
    else:
        assert actual == expected, (path, actual, expected)


@pytest.mark.parametrize(("window", "kind"), _drift_cases())
def test_drift_against_a_stored_profile_is_what_it_was(window, kind):
    fixture = json.loads((FIXTURES / "window_drift.json").read_text())
    case = fixture["windows"][window]
    stored = _stored(kind)
    assert fixture["reference_ids"][kind] == stored["reference_id"]
    profile = ReferenceProfile.from_json(json.loads(stored["profile"]))
    observation = Observation.from_record(case["observation"])
    assert observation.to_record() == case["observation"]  # the XCom record round-trips too
    assert observation.slices  # the slices' drift is part of what is compared
    rows = compute_drift(load_monitor_config(CONFIG), profile, observation)
    actual = [{key: value for key, value in row.to_record().items() if key not in ("kind", "window_start", "window_end")}
              for row in rows]
    expected = case["drift"][kind]
    assert [(r["metric"], r["column"], r["slice_key"], r["slice_value"]) for r in actual] == \
        [(r["metric"], r["column"], r["slice_key"], r["slice_value"]) for r in expected]
    for a, e in zip(actual, expected, strict=True):
        _close(a, e, f"{e['metric']}:{e['column']}:{e['slice_key']}={e['slice_value']}")


# --- fitted profiles of random frames round-trip ----------------------------------------------------------------------

NUMBERS = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, float("inf"), -1.5]))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    """A small reference table: a numeric feature (nulls, infinities, zeros, constant runs), one given as text
    (some unparseable), a categorical one (nulls, many levels), the score, labels and a model version."""
    n = draw(st.integers(1, 60))
    numeric = draw(st.lists(NUMBERS, min_size=n, max_size=n))
    text = draw(st.lists(st.one_of(st.none(), st.sampled_from(["1", "2.5", "n/a", "-3", "1e3"])), min_size=n,
                         max_size=n))
    levels = draw(st.lists(st.one_of(st.none(), st.sampled_from([f"level_{k}" for k in range(8)])), min_size=n,
                           max_size=n))
    scores = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    labels = draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))
    versions = draw(st.lists(st.sampled_from(["v1", "v2"]), min_size=n, max_size=n))
    return pd.DataFrame({"x": pd.Series(numeric, dtype="float64"), "t": pd.Series(text, dtype=object),
                         "c": pd.Series(levels, dtype=object), "score": scores, "label": labels,
                         "model_version": versions})


def _config(top_k: int, labelled: bool) -> MonitorConfig:
    base = MonitorConfig(model="roundtrip", features=FeaturesConfig(numeric=("x", "t"), categorical=("c",)))
    return dataclasses.replace(
        base, reference=dataclasses.replace(base.reference, top_k_categories=top_k,
                                            label_column="label" if labelled else ""),
        warehouse=dataclasses.replace(base.warehouse, model_version_column="model_version"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), top_k=st.integers(1, 10), labelled=st.booleans())
def test_a_fitted_profile_round_trips_through_its_json(frame, top_k, labelled):
    # Slices of a few rows, so that the small frames have slice profiles, baselines and bands too.
    with mock.patch.object(reference, "SLICE_MIN_ROWS", 5), mock.patch.object(reference, "SLICE_MIN_LABELS", 10):
        profile = reference.fit_reference(_config(top_k, labelled), frame)
    data = profile.to_json()
    text = json.dumps(data, sort_keys=True, allow_nan=False)  # JSON-serialisable, and no NaN the store could not read
    assert ReferenceProfile.from_json(data) == profile
    assert ReferenceProfile.from_json(json.loads(text)) == profile  # what the store gives back
    assert reference.profile_id(ReferenceProfile.from_json(json.loads(text))) == reference.profile_id(profile)
