"""Profiles counted in the warehouse (warehouse_profiles.py) equal the in-memory profiles of the same rows
(window_profiles / slice_profiles): counts exactly, sums and moments within 1e-9 (relative to the values' scale),
on SQLite and PostgreSQL; and a whole run with warehouse.pushdown on writes the drift rows a run with it off does."""

from __future__ import annotations

import dataclasses
import functools
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEMO_END
from tests.integration.helpers import FEATURE_DRIFT, rows

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 21, 10, tzinfo=UTC)
WINDOW_HOURS = 1
MONITOR = """
model: pushdown_model
task: binary_classification
features:
  numeric: [x, y, t]
  categorical: [c, k]
warehouse:
  predictions_table: {table}
  id_column: id
  timestamp_column: ts
  score_column: score
  prediction_column: ""
  model_version_column: segment  # the slice column: a window's read holds it
  pushdown: "on"
min_rows: 1
drift:
  min_slice_rows: 3
"""


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    """An empty warehouse: a SQLite file, or a schema of its own in the session's PostgreSQL database."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
        yield engine
        engine.dispose()
    else:
        yield request.getfixturevalue("postgres_schema")()


def _config(tmp_path, table: str):
    from include.monitoring.config import load_monitor_config

    path = tmp_path / f"{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(MONITOR.format(table=table))
    return load_monitor_config(path)


def _create(engine: sa.Engine, table: str, records: list[dict]) -> None:
    """A predictions table: x float, y integer, t text holding numbers, score float, c text, k integer codes,
    segment text (the slice column)."""
    metadata = sa.MetaData()
    predictions = sa.Table(table, metadata, sa.Column("id", sa.String(32)), sa.Column("ts", sa.DateTime(timezone=True)),
                           sa.Column("x", sa.Float(53)), sa.Column("y", sa.Integer), sa.Column("t", sa.Text),
                           sa.Column("score", sa.Float(53)), sa.Column("c", sa.Text), sa.Column("k", sa.Integer),
                           sa.Column("segment", sa.Text))
    metadata.create_all(engine)
    if records:
        with engine.begin() as conn:
            conn.execute(predictions.insert(), records)


def _record(i: int, x=None, y=None, t=None, score=None, c=None, k=None, segment=None, hours: float = 0.5) -> dict:
    return {"id": f"p{i:05d}", "ts": START + timedelta(hours=hours, seconds=i % 3000), "x": x, "y": y, "t": t,
            "score": score, "c": c, "k": k, "segment": segment}


def _reference(reference_rows: list[dict], slices: dict[str, list[str]]):
    """A reference fitted on `reference_rows` as reference.py fits one (10 bins and the percentile grid, the top 3
    categories, the rest pooled), with the slice values whose windows are sliced."""
    import pandas as pd

    from include.monitoring import profiles
    from include.monitoring.profile_types import ReferenceProfile

    frame = pd.DataFrame(reference_rows)
    columns = {name: profiles.fit_numeric(frame[name], 10) for name in ("x", "y", "t", "score")}
    columns |= {name: profiles.fit_categorical(frame[name], 3) for name in ("c", "k")}
    columns = {name: dataclasses.replace(column, bins_key=profiles.bins_key(column)) for name, column in columns.items()}
    slice_profiles = {"segment": {value: {name: profiles.profile_in_bins(frame[name], columns[name])
                                          for name in features} for value, features in slices.items()}}
    return ReferenceProfile(model="pushdown_model", rows=len(frame), columns=columns, slice_profiles=slice_profiles)


REFERENCE_ROWS = [{"x": float(i % 97) - 20.0, "y": i % 13, "t": str(i % 50), "score": (i % 100) / 100,
                   "c": ["a", "b", "c", "d", "e", "f"][i % 6 if i % 5 else 0], "k": [1, 2, 3, 4, 5][i % 5 if i % 4 else 0]}
                  for i in range(1000)]
SLICES = {"north": ["x", "c", "score"], "south": ["x", "k"], "nowhere": ["x"]}


def _in_memory(engine, config, reference, window):
    from include.monitoring import warehouse
    from include.monitoring.validation.results import validation_frame
    from include.monitoring.window_profiles import slice_profiles, window_profiles

    fetched = warehouse.fetch_window(engine, config, window)
    frame = validation_frame(config, fetched.frame)
    return fetched.row_count, window_profiles(config, reference, frame), slice_profiles(config, reference, frame)


def _pushed(engine, config, reference, window):
    from include.monitoring.warehouse_profiles import PushedProfiles, pushed_profiles

    pushed = pushed_profiles(engine, config, reference, window)
    assert isinstance(pushed, PushedProfiles), pushed
    return pushed


EXACT = {"counts", "grid_counts", "n", "nulls", "unparseable", "infinite", "zeros", "unseen", "unseen_examples",
         "categories", "bins_key", "kind", "scored", "positive", "low_confidence"}


def assert_same_profile(expected, actual, scale: float, where: str = "") -> None:
    """Counts, names and keys equal; sums and moments equal within 1e-9 of `scale` (the largest |value| times the
    rows: sums in another order differ in their last bits, and a sum near 0 has no relative precision)."""
    want, got = expected.to_json(), actual.to_json()
    assert want.keys() == got.keys(), where
    for key, value in want.items():
        if key in EXACT:
            assert got[key] == value, f"{where} {key}: {got[key]} != {value}"
        elif key == "output":
            assert_same_profile_json(value, got[key], scale, f"{where} output")
        else:
            _close(value, got[key], scale, f"{where} {key}")


def assert_same_profile_json(want: dict, got: dict, scale: float, where: str) -> None:
    for key, value in want.items():
        if key in EXACT:
            assert got[key] == value, f"{where} {key}"
        else:
            _close(value, got[key], scale, f"{where} {key}")


def _close(want, got, scale: float, where: str) -> None:
    if isinstance(want, list):
        assert len(want) == len(got), where
        for a, b in zip(want, got, strict=True):
            _close(a, b, scale, where)
    elif want is None or got is None:
        assert want is got, f"{where}: {got} != {want}"
    else:
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * scale), f"{where}: {got} != {want}"


def assert_same_window(engine, config, reference, window, scale: float) -> None:
    row_count, profiles_in_memory, slices_in_memory = _in_memory(engine, config, reference, window)
    pushed = _pushed(engine, config, reference, window)
    assert pushed.row_count == row_count
    assert pushed.profiles.keys() == profiles_in_memory.keys()
    for column, profile in profiles_in_memory.items():
        assert_same_profile(profile, pushed.profiles[column], scale, column)
    assert {c: {v: set(f) for v, f in by_value.items()} for c, by_value in pushed.slices.items()} == {
        c: {v: set(f) for v, f in by_value.items()} for c, by_value in slices_in_memory.items()}
    for column, by_value in slices_in_memory.items():
        for value, features in by_value.items():
            for feature, profile in features.items():
                assert_same_profile(profile, pushed.slices[column][value][feature], scale, f"{column}={value} {feature}")


def _window() -> object:
    from include.monitoring.types import Window

    return Window(START, START + timedelta(hours=WINDOW_HOURS))


def test_pushdown_edge_values_equal_in_memory_profiles(engine, tmp_path):
    """NULL, NaN, +/-inf, values exactly on bin and grid edges, zeros and -0.0, a score on the threshold and at the
    low-confidence margin, text numbers with unparseable text, unseen, pooled and integer-coded categories, a slice
    below the min-rows rule, and rows just outside the window."""
    reference = _reference(REFERENCE_ROWS, SLICES)
    x_ref = reference.columns["x"]
    edges = [*x_ref.edges, *x_ref.grid_edges]
    xs = [None, math.nan, math.inf, -math.inf, 0.0, -0.0, *edges, edges[0] - 1e-9, edges[-1] + 1e9, -1e12]
    scores = [0.5, 0.4, 0.6, 0.4000000001, 0.0, 1.0, None, math.nan, *reference.columns["score"].grid_edges[:5]]
    texts = ["12", "n/a", None, "7", "12 months", "-3", "0"]
    categories = ["a", "b", "zz", "yy", "yy", "zz", None, "e", "f", "a", "q"]  # e, f pooled; zz/yy unseen tied
    codes = [1, 2, None, 9, 4, 5, 2, 2]
    segments = ["north", "north", "south", None, "north", "west"]
    records = [_record(i, x=xs[i % len(xs)], y=[3, None, 0, -4, 12][i % 5], t=texts[i % len(texts)],
                       score=scores[i % len(scores)], c=categories[i % len(categories)], k=codes[i % len(codes)],
                       segment=segments[i % len(segments)]) for i in range(240)]
    records += [_record(1000, x=1.0, segment="south", hours=1.0), _record(1001, x=2.0, segment="south", hours=-0.01)]
    records += [_record(1002 + i, x=5.0, segment="nowhere") for i in range(2)]  # under min_slice_rows
    _create(engine, "edges", records)
    config = _config(tmp_path, "edges")
    assert_same_window(engine, config, reference, _window(), scale=1e12 * 250)


def test_pushdown_categories_and_slice_values_with_separators_equal_in_memory_profiles(engine, tmp_path):
    """Categories and slice values holding ":", digits, "n", "s" or nothing: on PostgreSQL a slice part's category and
    slice value travel as one text (warehouse_profiles._pair), which must read back as they were."""
    reference = _reference(REFERENCE_ROWS, SLICES)
    categories = [":", "1:2", "", "n", "s", None, "a", "3:", "n:s"]
    segments = ["north", "n", "", None, "s:1", "north", "south"]
    records = [_record(i, x=float(i % 11), score=(i % 10) / 10, c=categories[i % len(categories)],
                       k=[1, 2, None][i % 3], segment=segments[i % len(segments)]) for i in range(126)]
    _create(engine, "separators", records)
    assert_same_window(engine, _config(tmp_path, "separators"), reference, _window(), scale=11.0 * 126)


def test_pushdown_empty_window_counts_nothing(engine, tmp_path):
    reference = _reference(REFERENCE_ROWS, SLICES)
    _create(engine, "empty", [_record(1, x=1.0, hours=5)])
    pushed = _pushed(engine, _config(tmp_path, "empty"), reference, _window())
    assert pushed.row_count == 0
    assert pushed.slices == {}
    assert all(profile.n == 0 for profile in pushed.profiles.values())
    assert pushed.profiles["x"].counts == (0,) * (len(reference.columns["x"].edges) + 1)
    assert pushed.profiles["x"].mean is None and pushed.profiles["score"].output.scored == 0


def test_pushdown_all_null_column_equals_in_memory(engine, tmp_path):
    reference = _reference(REFERENCE_ROWS, SLICES)
    _create(engine, "nulls", [_record(i, score=0.3, c="a", segment="north") for i in range(20)])
    assert_same_window(engine, _config(tmp_path, "nulls"), reference, _window(), scale=1.0)


@pytest.mark.parametrize("text", ["1.5e0x", " 12", "Infinity"], ids=["garbage_is_unparseable", "padded_number",
                                                                    "infinity_word"])
def test_pushdown_text_numbers_pandas_reads_differently_fall_back_or_count_unparseable(engine, tmp_path, text):
    """Text the query does not read as a number: counted as unparseable when pandas does not read it either, else
    the window falls back to its rows (the profiles must be pandas')."""
    import pandas as pd

    from include.monitoring.warehouse_profiles import NotPushed, pushed_profiles

    reference = _reference(REFERENCE_ROWS, SLICES)
    _create(engine, "texts", [_record(i, x=1.0, t=value) for i, value in enumerate(["3", text, "4"])])
    config = _config(tmp_path, "texts")
    result = pushed_profiles(engine, config, reference, _window())
    if pd.isna(pd.to_numeric(pd.Series([text], dtype=object), errors="coerce")[0]):
        assert result.profiles["t"].unparseable == 1
        assert_same_window(engine, config, reference, _window(), scale=10.0)
    else:
        assert isinstance(result, NotPushed) and "'t'" in result.reason


def test_pushdown_decimal_text_is_read_in_the_query_on_postgres_and_falls_back_on_sqlite(engine, tmp_path):
    """PostgreSQL reads decimal text as pandas does (both round correctly); SQLite's conversion is not trusted."""
    from include.monitoring.warehouse_profiles import NotPushed, pushed_profiles

    reference = _reference(REFERENCE_ROWS, SLICES)
    _create(engine, "decimals", [_record(i, x=1.0, t=value) for i, value in enumerate(["0.1", "-2.5e3", "7"])])
    config = _config(tmp_path, "decimals")
    result = pushed_profiles(engine, config, reference, _window())
    if engine.dialect.name == "sqlite":
        assert isinstance(result, NotPushed)
    else:
        assert_same_window(engine, config, reference, _window(), scale=1e4)


# Magnitudes whose squares stay finite: where a variance overflows, which overflow happens first depends on the order
# of the sums (then one side may give a std and the other None); the edge values come from sampled_from.
@functools.cache
def _shared_reference():
    return _reference(REFERENCE_ROWS, SLICES)


NUMBERS = st.one_of(st.floats(min_value=-1e150, max_value=1e150), st.sampled_from([math.inf, -math.inf, math.nan]),
                    st.floats(min_value=-30, max_value=90), st.sampled_from([0.0, -20.0, 5.0, 76.0, None]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.tuples(NUMBERS, st.sampled_from(["a", "b", "e", "zz", "yy", None]),
                               st.one_of(st.none(), st.integers(0, 6)), st.floats(0, 1),
                               st.sampled_from(["north", "south", None])), max_size=60))
def test_pushdown_random_rows_equal_in_memory_profiles(engine, tmp_path, data):
    if engine.dialect.name == "sqlite":
        nan_free = [row for row in data if row[0] is None or not math.isnan(row[0])]
        data = nan_free  # SQLite stores NaN as NULL, as pandas then reads it: the same case as None
    table = f"random_{uuid.uuid4().hex[:8]}"
    records = [_record(i, x=x, y=None if k is None else k * 3, c=c, k=k, score=score, segment=segment)
               for i, (x, c, k, score, segment) in enumerate(data)]
    _create(engine, table, records)
    reference = _shared_reference()
    finite = [abs(r["x"]) for r in records if r["x"] is not None and math.isfinite(r["x"])]
    scale = max([1.0, *finite]) * max(1, len(records))
    assert_same_window(engine, _config(tmp_path, table), reference, _window(), scale=scale)


def test_pushdown_sample_is_reproducible_and_the_same_on_sqlite_and_postgres(postgres_schema, tmp_path):
    """The sample read beside pushed profiles: the rows whose ids' md5 sorts lowest, the same rows from either
    database and on every read."""
    from include.monitoring import warehouse

    records = [_record(i, x=float(i)) for i in range(300)]
    samples = []
    for engine in (sa.create_engine(f"sqlite:///{tmp_path / 'sample.db'}"), postgres_schema()):
        _create(engine, "sampled", records)
        config = _config(tmp_path, "sampled")
        config = dataclasses.replace(config, warehouse=dataclasses.replace(config.warehouse, max_rows_per_window=40))
        first = warehouse.fetch_window_sample(engine, config, _window(), row_count=300)
        again = warehouse.fetch_window_sample(engine, config, _window(), row_count=300)
        assert first.frame["id"].tolist() == again.frame["id"].tolist()
        assert first.row_count == 300 and len(first.frame) == 40
        samples.append(first.frame["id"].tolist())
    assert samples[0] == samples[1]
    import hashlib
    assert samples[0] == sorted(sorted((r["id"] for r in records), key=lambda i: hashlib.md5(i.encode()).hexdigest())[:40])


@pytest.fixture(params=["sqlite", "postgres"])
def demo_warehouse(request, demo_warehouse_path):
    """The demo warehouse: the session's SQLite file, or the same data written to a PostgreSQL schema."""
    if request.param == "sqlite":
        return sa.create_engine(f"sqlite:///{demo_warehouse_path}")
    from include.monitoring.demo.generator import write_demo_warehouse
    from tests.conftest import DEMO_DAYS, DEMO_PEAK_ROWS, DEMO_SEED

    engine = request.getfixturevalue("postgres_schema")()
    write_demo_warehouse(engine, end=DEMO_END, days=DEMO_DAYS, peak_rows=DEMO_PEAK_ROWS, seed=DEMO_SEED)
    return engine


@pytest.mark.parametrize("hours_before_end", [9, 19, 16], ids=["zeroed_income", "text_in_months_employed", "quiet"])
def test_run_window_pushdown_on_writes_the_drift_rows_of_pushdown_off(demo_warehouse, demo_reference_store, tmp_path,
                                                                    hours_before_end):
    """The demo's windows (one with zeroed features, one whose numeric text holds "n/a" and "12 months"), run once
    with the profiles counted in memory and once in the warehouse: the same drift rows, values within 1e-9."""
    import shutil

    from include.monitoring.config import load_monitor_config
    from include.monitoring.pipeline import run_window
    from include.monitoring.reference import load_reference
    from include.monitoring.types import Window
    from include.monitoring.warehouse_profiles import PushedProfiles, pushed_profiles
    from tests.conftest import ROOT

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    # slices of a demo hour hold fewer than the default 200 rows: let them be compared too
    config = dataclasses.replace(config, drift=dataclasses.replace(config.drift, min_slice_rows=10))
    window = Window(DEMO_END - timedelta(hours=hours_before_end), DEMO_END - timedelta(hours=hours_before_end - 1))
    drift = {}
    for mode in ("off", "on"):
        shutil.copyfile(demo_reference_store, tmp_path / f"{mode}.db")
        store = sa.create_engine(f"sqlite:///{tmp_path / f'{mode}.db'}")
        moded = dataclasses.replace(config, warehouse=dataclasses.replace(config.warehouse, pushdown=mode))
        observation, _ = run_window(moded, demo_warehouse, store, window, now=window.end + timedelta(minutes=5))
        if mode == "on":  # the window was counted in the warehouse, not profiled from its rows after all
            _, profile = load_reference(moded, store, window.start)
            assert isinstance(pushed_profiles(demo_warehouse, moded, profile, window), PushedProfiles)
        assert observation.row_count == observation.sampled_rows > 0
        drift[mode] = {(r["metric"], r["column_name"], r["slice_key"], r["slice_value"]): r for r in rows(
            store, "select * from metric_values where kind = 'drift'")}  # the store holds this one run
        assert rows(store, f"select count(*) as n from metric_values where {FEATURE_DRIFT}")[0]["n"] > 0
    assert drift["on"].keys() == drift["off"].keys()
    for key, row in drift["off"].items():
        other = drift["on"][key]
        assert other["severity"] == row["severity"], key
        for number in ("value", "p_value"):
            if row[number] is None:
                assert other[number] is None, key
            else:
                assert math.isclose(other[number], row[number], rel_tol=1e-9, abs_tol=1e-12), key
        assert other["n"] == row["n"], key
    if observation.row_count >= 100:  # the night hour of the text incident has too few rows for a slice
        assert any(key[2] for key in drift["off"]), "no slice drift rows: the slices were not compared"


@pytest.mark.parametrize("mode, pushed", [("auto", True), ("off", False)], ids=["auto_above_max_rows", "off"])
def test_observe_window_above_max_rows_counts_every_row_when_pushed_down(engine, tmp_path, mode, pushed):
    """A window of 240 rows with max_rows_per_window 50: pushed down (auto), its profiles count all 240 rows and GX
    sees the 50-row sample; off, the profiles count the sample. row_count and sampled_rows say which."""
    from include.monitoring.pipeline import observe_window

    reference = _reference(REFERENCE_ROWS, SLICES)
    _create(engine, "large", [_record(i, x=float(i % 40), y=i % 7, t=str(i % 9), score=(i % 10) / 10,
                                      c="abcdef"[i % 6], k=i % 5, segment=["north", "south"][i % 2])
                              for i in range(240)])
    config = _config(tmp_path, "large")
    config = dataclasses.replace(config, warehouse=dataclasses.replace(config.warehouse, max_rows_per_window=50,
                                                                       pushdown=mode))
    observation = observe_window(config, "reference", reference, engine, _window())
    assert (observation.row_count, observation.sampled_rows) == (240, 50)
    assert observation.profiles["x"].n == observation.profiles["c"].n == (240 if pushed else 50)
    if pushed:
        assert_same_profile(_in_memory(engine, dataclasses.replace(config, warehouse=dataclasses.replace(
            config.warehouse, max_rows_per_window=1000)), reference, _window())[1]["x"], observation.profiles["x"], 1e4)


def test_the_pushdown_query_alone_is_compiled_by_jit_above_its_cost(postgres_schema):
    """The package's PostgreSQL sessions run without JIT (window-sized queries: compiling costs more than it saves);
    the pushdown query's transaction turns it on above JIT_ABOVE_COST (a third faster at 10 million rows)."""
    from include.monitoring.warehouse_profiles import JIT_ABOVE_COST, _prepare

    engine = postgres_schema()
    with engine.connect() as conn:
        conn.execute(sa.text("SET jit = off"))
        conn.commit()
        with conn.begin():
            _prepare(conn)
            assert conn.execute(sa.text("SHOW jit")).scalar() == "on"
            assert float(conn.execute(sa.text("SHOW jit_above_cost")).scalar()) == JIT_ABOVE_COST
        assert conn.execute(sa.text("SHOW jit")).scalar() == "off"
