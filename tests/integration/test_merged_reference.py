"""Rolling and seasonal references: merged from stored window profiles (no raw rows), in the table
reference's bins, versioned, used by later runs, and never rebuilt by a monitor run."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from include.monitoring import pipeline, reference
from include.monitoring.errors import ReferenceMissingError
from include.monitoring.observation import Observation
from include.monitoring.types import RunStatus, Window
from include.monitoring.window_profiles import window_profiles
from tests.unit.drift import synthetic

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday, 00:00 UTC


def _config(source: str, **keys):
    base = synthetic.config()
    return dataclasses.replace(base, reference=dataclasses.replace(base.reference, source=source, **keys))


@pytest.fixture(scope="module")
def table_profile():
    """The table reference of 5000 synthetic rows, fitted once: fitting (its noise tables) took most of each test."""
    frame = synthetic.frame(np.random.default_rng(1), 5000)
    return reference.fit_reference(_config("table"), frame)


@pytest.fixture
def store(tmp_path, table_profile):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    table_config = _config("table")
    base_id = reference.store_profile(engine, table_config, table_profile,
                                      reference.source_description(table_config), MONDAY)
    return engine, base_id


def _monitor(engine, config, start: datetime, rows: int, seed: int) -> Observation:
    """Profile and write one window of `rows` synthetic rows against the reference the run would load."""
    window = Window(start, start + timedelta(hours=1))
    reference_id, profile = reference.load_reference(config, engine, window.start)
    observation = Observation(window, RunStatus.OK, "", rows, rows, reference_id, profiles=window_profiles(
        config, profile, synthetic.frame(np.random.default_rng(seed), rows)))
    pipeline.write_window(config, engine, observation, pipeline.compute_drift(config, profile, observation), "test",
                          started_at=start, now=start)
    return observation


def _reference_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from reference_profiles")).scalar_one()


def test_rolling_reference_is_the_sum_of_the_windows_in_its_period(store):
    engine, base_id = store
    config = _config("rolling", rolling_days=1)
    observations = [_monitor(engine, config, MONDAY + timedelta(hours=h), rows=100 + 10 * h, seed=h) for h in range(30)]
    assert {o.reference_id for o in observations} == {base_id}  # not built yet: the table reference, recorded

    now = MONDAY + timedelta(hours=30)
    built = reference.build_merged_references(config, engine, now)
    rolling_id, rolling = reference.load_reference(config, engine)
    assert built == {"rolling": rolling_id} and rolling_id != base_id
    assert reference.reference_id(config, engine) == rolling_id  # the id alone, as the load_reference task reads it
    in_period = [o for o in observations if o.window.start >= now - timedelta(days=1)]  # hours 6..29
    assert rolling.source == {"kind": "rolling", "base": base_id, "from": "2026-11-02T06:00:00+00:00",
                              "to": "2026-11-03T06:00:00+00:00", "windows": 24}
    assert rolling.rows == sum(o.row_count for o in in_period)
    for column in ("num_0", "cat_0", "score"):
        expected = np.sum([o.profiles[column].counts for o in in_period], axis=0)
        assert list(rolling.columns[column].counts) == list(expected)
        base = reference.load_profile(engine, base_id).columns[column]
        assert rolling.columns[column].bins_key == base.bins_key
        assert rolling.columns[column].calibration == base.calibration
    assert rolling.columns["score"].output.scored == rolling.rows

    later = _monitor(engine, config, now, rows=300, seed=99)
    assert later.reference_id == rolling_id  # the run records the version it compared with
    count = _reference_count(engine)
    _monitor(engine, config, now + timedelta(hours=1), rows=300, seed=100)
    assert _reference_count(engine) == count  # a monitor run never rebuilds a reference


def test_seasonal_reference_merges_the_same_hour_of_the_week(store):
    engine, base_id = store
    table = _config("table")
    starts = [MONDAY + timedelta(weeks=w, hours=10) for w in range(3)] + [MONDAY + timedelta(weeks=2, hours=11)]
    observations = {start: _monitor(engine, table, start, rows=200, seed=i) for i, start in enumerate(starts)}

    config = _config("seasonal", seasonal_weeks=2)
    now = MONDAY + timedelta(weeks=2, hours=12)  # the last 2 weeks: Mondays 10:00 of weeks 1 and 2, and 11:00
    built = reference.build_merged_references(config, engine, now)
    assert set(built) == {"slot 10", "slot 11"}

    next_monday_ten = MONDAY + timedelta(weeks=3, hours=10)
    slot_id, slot = reference.load_reference(config, engine, next_monday_ten)
    assert slot_id == built["slot 10"] and slot.source["windows"] == 2
    expected = np.sum([observations[s].profiles["num_3"].grid_counts for s in starts[1:3]], axis=0)
    assert list(slot.columns["num_3"].grid_counts) == list(expected)
    assert reference.load_reference(config, engine, next_monday_ten + timedelta(hours=1))[0] == built["slot 11"]
    assert reference.load_reference(config, engine, next_monday_ten + timedelta(hours=5))[0] == base_id  # no slot yet
    assert [reference.reference_id(config, engine, next_monday_ten + timedelta(hours=h)) for h in (0, 1, 5)] == \
        [built["slot 10"], built["slot 11"], base_id]  # the id alone, as the load_reference task reads it


def test_merged_reference_leaves_out_windows_counted_in_other_bins(store):
    engine, base_id = store
    config = _config("rolling", rolling_days=7)
    observation = _monitor(engine, config, MONDAY, rows=200, seed=3)
    profile = dataclasses.replace(observation.profiles["num_0"], bins_key="bins-of-an-older-reference")
    merged = reference.merge_windows(base_id, reference.load_profile(engine, base_id),
                                     [(MONDAY, 200, {**observation.profiles, "num_0": profile})], "rolling",
                                     MONDAY, MONDAY + timedelta(hours=1))
    assert sum(merged.columns["num_0"].counts) == 0
    assert merged.columns["num_1"].counts == observation.profiles["num_1"].counts


def test_merged_reference_without_stored_windows_is_a_clear_error(store):
    engine, _ = store
    with pytest.raises(ReferenceMissingError, match="no monitored windows stored in"):
        reference.build_merged_references(_config("rolling"), engine, MONDAY)
