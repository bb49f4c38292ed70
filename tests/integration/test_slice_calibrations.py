"""The slices' noise tables kept in the metric store (drift/slice_calibration.py, store.slice_calibrations), on SQLite
and PostgreSQL: the first run computes the points its slices' bands are read from and stores them; a later run (a new
process: nothing in memory) reads them, resamples nothing and gets the same bands; a new reference's slices get
tables of their own; and two runs storing the same points at once both succeed."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import sqlalchemy as sa

from include.monitoring import store as store_module
from include.monitoring.drift import slice_calibration
from include.monitoring.drift.engine import compute_drift
from include.monitoring.pipeline import observe_frame
from include.monitoring.profile_types import CalibrationPoint
from include.monitoring.reference import fit_reference
from include.monitoring.validation.results import validation_frame
from tests.unit.drift.test_slices import CONFIG, SEGMENTS, WINDOW, traffic

pytestmark = pytest.mark.integration

# Every segment from auto_switch_rows (2000) rows: judged by distance, each with its own reference counts' band.
WINDOW_SIZES = {"a": 5000, "b": 3000, "c": 2000}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path) -> sa.Engine:
    if request.param == "sqlite":
        return sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    return request.getfixturevalue("postgres_schema")()


@pytest.fixture(scope="module")
def references():
    """Two references of the same traffic fitted from different rows: other slice counts, other tables."""
    return [fit_reference(CONFIG, traffic(np.random.default_rng(seed), {s: int(20_000 * share) for s, share in SEGMENTS.items()}))
            for seed in (17, 18)]


def slice_distances(store: sa.Engine, reference, reference_id: str) -> dict[tuple[str, str], dict]:
    """The details of each slice's distance row, by (slice, column), of one run with a new store reader (as a new
    Airflow task process has)."""
    frame = traffic(np.random.default_rng(1), WINDOW_SIZES)
    observation = observe_frame(CONFIG, reference_id, reference, WINDOW, validation_frame(CONFIG, frame), len(frame), [], [])
    rows = compute_drift(CONFIG, reference, observation, store_module.SliceCalibrations(store))
    return {(f"{r.slice_key}={r.slice_value}", r.column): r.details for r in rows
            if r.slice_key and r.details.get("alert_rule") == "feature_drift" and "calibration_table" in r.details}


def stored_points(store: sa.Engine) -> dict[tuple[str, int], tuple[float, str]]:
    table = store_module.slice_calibrations
    with store.connect() as conn:
        return {(key, size): (noise, reference_id) for key, size, noise, reference_id in conn.execute(
            sa.select(table.c.table_key, table.c.size, table.c.noise, table.c.reference_id))}


def test_the_second_run_reads_the_stored_table_resamples_nothing_and_gets_the_same_bands(store, references, monkeypatch):
    first = slice_distances(store, references[0], "ref-1")
    assert {slice_ for slice_, _ in first} == {"segment=a", "segment=b", "segment=c"}
    assert {column for _, column in first} == {"x", "y", "segment"}
    points = stored_points(store)
    assert {details["calibration_table"] for details in first.values()} == {key for key, _ in points}
    assert len(points) == 2 * len(first)  # each slice's table: the two sizes around its effective size
    assert {reference_id for _, reference_id in points.values()} == {"ref-1"}

    def resampled(*args, **kwargs):
        raise AssertionError("a run resampled a band the store holds")

    monkeypatch.setattr(slice_calibration, "noise_quantiles", resampled)
    second = slice_distances(store, references[0], "ref-1")
    assert {key: details["noise"] for key, details in second.items()} == \
        {key: details["noise"] for key, details in first.items()}
    assert all(details["calibration"] == store_module.SliceCalibrations.source for details in second.values())
    assert stored_points(store) == points


def test_a_new_reference_does_not_read_an_old_references_points(store, references):
    old = slice_distances(store, references[0], "ref-1")
    old_points = stored_points(store)
    new = slice_distances(store, references[1], "ref-2")

    def same_counts(slice_: str, column: str) -> bool:
        key, value = slice_.split("=")
        return len({r.slice_profiles[key][value][column].to_json().__repr__() for r in references}) == 1

    # The segment column within one segment counts that segment only, as many rows in both references: the same
    # distribution, so the same table; every other slice column's counts differ, and so do their tables.
    assert {key: new[key]["calibration_table"] == old[key]["calibration_table"] for key in new} == \
        {key: same_counts(*key) for key in new}
    assert not any(same_counts(slice_, column) for slice_, column in new if column in ("x", "y"))
    points = stored_points(store)
    assert {key: value for key, value in points.items() if key in old_points} == old_points
    assert {reference_id for key, (_, reference_id) in points.items() if key not in old_points} == {"ref-2"}
    new_tables = {d["calibration_table"] for d in new.values()} - {d["calibration_table"] for d in old.values()}
    assert len(points) == len(old_points) + 2 * len(new_tables)


def test_two_runs_storing_the_same_points_at_once_both_succeed(store):
    store_module.create_tables(store)
    points = [CalibrationPoint("k" * 32, size, 0.1 * i, "wasserstein", 0.999, "x", "segment", "a", "ref-1")
              for i, size in enumerate((1_000, 3_000))]
    first_insert = store_module._insert_new(store.dialect.name, store_module.slice_calibrations)
    errors: list[BaseException] = []

    def second_run() -> None:
        try:
            store_module.SliceCalibrations(store).write([*points, CalibrationPoint("j" * 32, 10, 0.5, "psi", 0.999, "x",
                                                                                   "segment", "b", "ref-2")])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    with store.connect() as conn:  # the first run's insert, not yet committed when the second one writes
        with conn.begin():
            conn.execute(first_insert, [{"table_key": p.table_key, "size": p.size, "noise": p.noise, "method": p.method,
                                         "quantile": p.quantile, "column_name": p.column, "slice_key": p.slice_key,
                                         "slice_value": p.slice_value, "reference_id": p.reference_id} for p in points])
            thread = threading.Thread(target=second_run)
            thread.start()
            thread.join(timeout=0.5)  # PostgreSQL: waiting for this transaction's rows; SQLite: for its lock
        thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    assert stored_points(store) == {("k" * 32, 1_000): (0.0, "ref-1"), ("k" * 32, 3_000): (0.1, "ref-1"),
                                    ("j" * 32, 10): (0.5, "ref-2")}
