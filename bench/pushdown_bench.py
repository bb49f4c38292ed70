"""A window's profiles counted in PostgreSQL (warehouse.pushdown) against the physical floor of reading its rows.
Prints figures; never fails on time.

    .venv/bin/python bench/pushdown_bench.py [--rows 10000000] [--repeats 3] [--explain]
                                             [--postgres postgresql+psycopg://postgres@127.0.0.1:5432]

A database of its own (dropped at the end) gets a predictions table of `--rows` rows, generated in the server
(generate_series and random(), seeded): six numeric features and the score (float8) and three categorical
features (text), the demo's names, a few nulls, all in one hourly window. The reference is 100,000 rows drawn
in numpy from the same distributions, fitted as reference.py fits a table reference (10 bins, the percentile
grid, the top 20 categories, calibration).

Measured `--repeats` times, side by side (the machine is shared; medians and their ratio are the figures):

    scan      the physical floor: one `SELECT sum(x), ..., sum(length(c))` over every monitored column of the
              window's rows, with the same time filter
    pushdown  warehouse_profiles.pushed_profiles: the aggregate query and building the typed profiles, in a fresh
              Python process each time, which reports its own peak RSS (ru_maxrss; target < 300 MB)

Equality: the first min(--rows, 1,000,000) rows (by id, a table of their own) are profiled both ways, pushed down
and in memory (fetch_window, validation_frame, window_profiles), and drift.engine.compute_drift of each must give
the same rows (values and p-values within 1e-9 relative, severities equal). The last line is

    RESULT pushdown_over_scan=<x> peak_rss_mb=<m> equal=<0|1>

Target: pushdown_over_scan <= 3, not reached. `--rows 10000000 --repeats 3` on a quiet 2-core machine (92 s):

    repeat 1: scan 1.27 s, pushdown 15.09 s (ratio 11.90), child peak RSS 204 MB
    repeat 2: scan 1.27 s, pushdown 14.67 s (ratio 11.55), child peak RSS 204 MB
    repeat 3: scan 1.27 s, pushdown 14.66 s (ratio 11.57), child peak RSS 204 MB
    RESULT pushdown_over_scan=11.56 peak_rss_mb=204 equal=1

(on a machine another job shared, the same code: pushdown 18.8 s against a scan of 1.4 s, 13.84; before the
parallel workers grouped their own tuples: pushdown 65.6 s against a scan of 3.0 s, 21.84; the scan's time varies
between runs, 1.4 to 3.1 s). A hash table lookup per row and column, some 100 ns, is the floor of every
plan measured (warehouse_profiles._query lists them), where the scan spends about 0.2 microseconds a row.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WINDOW_START = datetime(2026, 11, 22, 10, tzinfo=UTC)
REFERENCE_ROWS = 100_000
EQUALITY_ROWS = 1_000_000
NUMERIC = ("age", "income", "credit_limit", "loan_amount", "debt_to_income", "utilization")
CATEGORICAL = ("region", "employment_type", "channel")
REGIONS = ("north", "south", "east", "west", "central", "islands")
EMPLOYMENT = ("salaried", "self_employed", "contractor", "retired", "unemployed")
CHANNELS = ("web", "branch", "partner", "phone")
MONITOR = """
model: pushdown_bench
task: binary_classification
features:
  numeric: [{numeric}]
  categorical: [{categorical}]
warehouse:
  predictions_table: {table}
  id_column: prediction_id
  timestamp_column: ts
  score_column: score
  prediction_column: ""
  max_rows_per_window: {max_rows}
  pushdown: "on"
"""


def _normal() -> str:
    """A standard normal draw in SQL (PostgreSQL 15 has no random_normal): Box-Muller."""
    return "sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"


def _pick(values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"(ARRAY[{listed}])[1 + floor(random() * {len(values)})::int]"


def _with_nulls(expression: str, share: float = 0.01) -> str:
    return f"CASE WHEN random() < {share} THEN NULL ELSE {expression} END"


GENERATED = {
    "age": _with_nulls("18 + 60 * random()"),
    "income": _with_nulls(f"exp(10.8 + 0.5 * {_normal()})"),
    "credit_limit": f"round((exp(9.5 + 0.7 * {_normal()}))::numeric, 0)::float8",
    "loan_amount": f"exp(9.3 + 0.8 * {_normal()})",
    "debt_to_income": _with_nulls("power(random(), 2)"),
    "utilization": "random()",
    "score": "1 / (1 + exp(-(-1.2 + 1.5 * " + _normal() + ")))",
    "region": _with_nulls(_pick(REGIONS)),
    "employment_type": _pick(EMPLOYMENT),
    "channel": _with_nulls(_pick(CHANNELS), 0.02),
}


def _reference_frame(rng: np.random.Generator) -> pd.DataFrame:
    """The reference drawn from the distributions GENERATED draws in SQL."""
    n = REFERENCE_ROWS

    def nulls(values: np.ndarray, share: float = 0.01) -> np.ndarray:
        values = values.astype(object)
        values[rng.random(n) < share] = None
        return values

    frame = pd.DataFrame({
        "age": nulls(18 + 60 * rng.random(n)).astype(float),
        "income": nulls(np.exp(10.8 + 0.5 * rng.standard_normal(n))).astype(float),
        "credit_limit": np.round(np.exp(9.5 + 0.7 * rng.standard_normal(n))),
        "loan_amount": np.exp(9.3 + 0.8 * rng.standard_normal(n)),
        "debt_to_income": nulls(rng.random(n) ** 2).astype(float),
        "utilization": rng.random(n),
        "score": 1 / (1 + np.exp(-(-1.2 + 1.5 * rng.standard_normal(n)))),
        "region": nulls(rng.choice(REGIONS, n)),
        "employment_type": rng.choice(EMPLOYMENT, n).astype(object),
        "channel": nulls(rng.choice(CHANNELS, n), 0.02),
    })
    return frame


def _load(engine: sa.Engine, rows: int) -> None:
    columns = ", ".join(f"{name} {'text' if name in CATEGORICAL else 'float8'}" for name in GENERATED)
    values = ", ".join(f"{expression} AS {name}" for name, expression in GENERATED.items())
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE predictions (prediction_id bigint, ts timestamptz, {columns})"))
        conn.execute(sa.text("SELECT setseed(0.42)"))
        conn.execute(sa.text(
            f"INSERT INTO predictions SELECT i, :start + (i - 1) * (interval '3600 seconds' / :rows), {values} "
            "FROM generate_series(1, :rows) AS i"), {"start": WINDOW_START, "rows": rows})
        conn.execute(sa.text("CREATE TABLE predictions_subset AS SELECT * FROM predictions "
                             "WHERE prediction_id <= :n"), {"n": EQUALITY_ROWS})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE predictions"))
        conn.execute(sa.text("VACUUM ANALYZE predictions_subset"))


def _config(directory: Path, table: str, max_rows: int):
    from include.monitoring.config import load_monitor_config

    path = directory / f"{table}.yaml"
    path.write_text(MONITOR.format(numeric=", ".join(NUMERIC), categorical=", ".join(CATEGORICAL), table=table,
                                   max_rows=max_rows))
    return load_monitor_config(path)


def _window():
    from include.monitoring.types import Window

    return Window(WINDOW_START, WINDOW_START + timedelta(hours=1))


def _scan_seconds(engine: sa.Engine, config) -> float:
    """The floor: every monitored column of the window's rows read once, summed."""
    from include.monitoring.warehouse import _in, _reflect

    table = _reflect(engine, "predictions")
    w = config.warehouse
    sums = [sa.func.sum(table.c[c]) for c in (*NUMERIC, "score")]
    sums += [sa.func.sum(sa.func.length(table.c[c])) for c in CATEGORICAL]
    query = sa.select(*sums).where(_in(engine, table.c[w.timestamp_column], _window().start, _window().end))
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(query).fetchall()
    return time.perf_counter() - started


def _child(url: str, config_path: str, reference_path: str) -> None:
    """One pushdown in this fresh process: its wall time and this process's peak RSS, as JSON on stdout."""
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.config import load_monitor_config
    from include.monitoring.profile_types import ReferenceProfile
    from include.monitoring.warehouse_profiles import PushedProfiles, pushed_profiles

    config = load_monitor_config(config_path)
    reference = ReferenceProfile.from_json(json.loads(Path(reference_path).read_text()))
    engine = engine_from_url(url)
    started = time.perf_counter()
    pushed = pushed_profiles(engine, config, reference, _window())
    seconds = time.perf_counter() - started
    assert isinstance(pushed, PushedProfiles), pushed
    print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rows": pushed.row_count}))


def _pushdown_in_child(url: str, config_path: Path, reference_path: Path) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", url, str(config_path), str(reference_path)],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _drift_equal(engine: sa.Engine, directory: Path, reference) -> tuple[bool, int, int]:
    """compute_drift from the pushed and from the in-memory profiles of the subset table: the same rows?"""
    from include.monitoring import warehouse
    from include.monitoring.drift.engine import compute_drift
    from include.monitoring.observation import Observation
    from include.monitoring.types import RunStatus
    from include.monitoring.validation.results import validation_frame
    from include.monitoring.warehouse_profiles import PushedProfiles, pushed_profiles
    from include.monitoring.window_profiles import window_profiles

    config = _config(directory, "predictions_subset", max_rows=EQUALITY_ROWS)
    pushed = pushed_profiles(engine, config, reference, _window())
    assert isinstance(pushed, PushedProfiles), pushed
    rows = warehouse.fetch_window(engine, config, _window())
    in_memory = window_profiles(config, reference, validation_frame(config, rows.frame))
    drift = [compute_drift(config, reference, Observation(_window(), RunStatus.OK, "", count, count, "bench",
                                                          profiles=profiles))
             for count, profiles in ((pushed.row_count, pushed.profiles), (rows.row_count, in_memory))]
    keyed = [{(r.metric, r.column, r.slice_key, r.slice_value): r for r in rows} for rows in drift]
    equal = keyed[0].keys() == keyed[1].keys() and pushed.row_count == rows.row_count
    for key, row in keyed[1].items():
        other = keyed[0].get(key)
        if other is None or other.severity != row.severity:
            equal = False
            continue
        for a, b in ((other.value, row.value), (other.p_value, row.p_value)):
            if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)):
                print(f"  differs: {key}: {a} vs {b}")
                equal = False
    return equal, len(keyed[1]), rows.row_count


def _explain(engine: sa.Engine, config, reference) -> None:
    from include.monitoring import warehouse_profiles
    from include.monitoring.warehouse import _reflect

    table = _reflect(engine, "predictions")
    parts = warehouse_profiles._parts(config, reference, table)
    query = warehouse_profiles._query(engine, config, table, parts, _window())
    compiled = query.compile(engine)
    with engine.connect() as conn:
        warehouse_profiles._prepare(conn)
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", compiled.params).fetchall()
    print("\n".join(row[0] for row in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the pushdown query")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--child", nargs=3, metavar=("URL", "CONFIG", "REFERENCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.reference import fit_reference

    name = f"pushdown_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{args.postgres}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"{args.postgres}/{name}"
    engine = engine_from_url(url)
    try:
        with tempfile.TemporaryDirectory(prefix="pushdown_bench_") as temporary:
            directory = Path(temporary)
            started = time.perf_counter()
            _load(engine, args.rows)
            print(f"loaded {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
            config = _config(directory, "predictions", max_rows=200_000)
            started = time.perf_counter()
            reference = fit_reference(config, _reference_frame(np.random.default_rng(7)))
            print(f"reference fitted in {time.perf_counter() - started:.1f} s")
            reference_path = directory / "reference.json"
            reference_path.write_text(json.dumps(reference.to_json()))
            config_path = Path(config.source_file)

            scans, pushes, rss = [], [], []
            for repeat in range(args.repeats):
                scans.append(_scan_seconds(engine, config))
                child = _pushdown_in_child(url, config_path, reference_path)
                assert child["rows"] == args.rows, child
                pushes.append(child["seconds"])
                rss.append(child["rss_mb"])
                print(f"repeat {repeat + 1}: scan {scans[-1]:.2f} s, pushdown {pushes[-1]:.2f} s "
                      f"(ratio {pushes[-1] / scans[-1]:.2f}), child peak RSS {rss[-1]:.0f} MB")
            if args.explain:
                _explain(engine, config, reference)
            equal, compared, subset_rows = _drift_equal(engine, directory, reference)
            scan, push = statistics.median(scans), statistics.median(pushes)
            print(f"median of {args.repeats}: scan {scan:.2f} s, pushdown {push:.2f} s; "
                  f"{args.rows / push / 1e6:.1f} M rows/s pushed down")
            print(f"drift of the first {subset_rows:,} rows, pushed down vs in memory: {compared} rows, "
                  f"{'equal' if equal else 'DIFFERENT'}")
            print(f"RESULT pushdown_over_scan={push / scan:.2f} peak_rss_mb={max(rss):.0f} equal={int(equal)}")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
