"""Benchmark of one window's pipeline steps on the demo warehouse (SQLite). Prints figures; never fails on time.

    .venv/bin/python bench/pipeline_bench.py [--repeats 7]

Builds a 14-day demo warehouse (peak 2000 rows an hour) in a temporary directory, fits the reference,
then times each step for a busy hour and a quiet night hour, `--repeats` times, and prints medians.
Then times Great Expectations validation alone on 10,000 rows: 30 expectations of the generated suite, and
the demo model's whole suite (generated plus include/expectations/credit_default.json). Last, on a 31-day demo
warehouse, the performance step's re-scoring over the 30-day horizon: the first run (every window scored), the
next hour's run (the windows whose labels arrived in that hour), and that run repeated (nothing changed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    import great_expectations  # noqa: F401  (timed: the one-off import cost every validating task pays)
    gx_import = time.perf_counter() - started

    from include.monitoring import pipeline, reference
    from include.monitoring import warehouse as warehouse_sql
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.config import load_monitor_config
    from include.monitoring.demo.generator import write_demo_warehouse
    from include.monitoring.drift.engine import compute_drift
    from include.monitoring.types import Window

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    end = datetime(2026, 11, 23, 4, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = engine_from_url(f"sqlite:///{tmp}/warehouse.db")
        store = engine_from_url(f"sqlite:///{tmp}/store.db")
        t = time.perf_counter()
        counts = write_demo_warehouse(warehouse, end=end, days=14, peak_rows=2000, seed=3)
        print(f"demo warehouse: {counts['predictions']:,} predictions written in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        reference_id = reference.build_reference(config, warehouse, store, now=end)
        print(f"reference fit ({counts['credit_default_reference']:,} rows): {time.perf_counter() - t:.2f} s")
        _, profile = reference.load_reference(config, store)
        totals: dict[str, float] = {}
        print(f"great_expectations import: {gx_import:.2f} s (once per validating task)")

        # Warm the store as the previous runs would have: every window of the horizon scored once. The timed
        # steps are then those of a steady hourly run (re-scoring cost is measured on its own below).
        warm = Window(datetime(2026, 11, 21, 3, tzinfo=UTC), datetime(2026, 11, 21, 4, tzinfo=UTC))
        pipeline.write_window(config, store, pipeline.observe_window(config, reference_id, profile, warehouse, warm),
                              pipeline.compute_performance(config, profile, warehouse, store, warm), "bench", end, end)
        for label, window_end in (("busy hour 15:00", datetime(2026, 11, 21, 16, tzinfo=UTC)),
                                  ("quiet hour 03:00", datetime(2026, 11, 21, 4, tzinfo=UTC))):
            window = Window(window_end - timedelta(hours=1), window_end)
            steps: dict[str, list[float]] = {"observe": [], "drift": [], "performance": [], "write": [], "total": []}
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                observation = pipeline.observe_window(config, reference_id, profile, warehouse, window)
                t1 = time.perf_counter()
                drift = compute_drift(config, profile, observation)
                t2 = time.perf_counter()
                performance = pipeline.compute_performance(config, profile, warehouse, store, window)
                t3 = time.perf_counter()
                pipeline.write_window(config, store, observation, [*drift, *performance], "bench", end, end)
                t4 = time.perf_counter()
                for name, seconds in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
                    steps[name].append(seconds)
            medians = {name: statistics.median(values) * 1000 for name, values in steps.items()}
            print(f"{label} ({observation.row_count} rows), median of {args.repeats}: "
                  + ", ".join(f"{name} {ms:.0f} ms" for name, ms in medians.items()))
            totals[label.split()[0]] = medians["total"]
        validation = _validation_bench(config, profile, warehouse, args.repeats, pipeline, warehouse_sql)
        rescoring = _rescoring_bench(config, Path(tmp), args.repeats)
    print(f"RESULT busy_window_ms={totals['busy']:.0f} quiet_window_ms={totals['quiet']:.0f} gx_import_s={gx_import:.2f} "
          f"validate_10k_30_ms={validation[30]:.0f} validate_10k_full_ms={validation['full']:.0f} "
          f"rescore_first_s={rescoring['first']:.1f} rescore_hourly_ms={rescoring['hourly']:.0f} "
          f"rescore_unchanged_ms={rescoring['unchanged']:.0f}")


def _rescoring_bench(config, directory: Path, repeats: int) -> dict:
    """Seconds and milliseconds of `compute_performance` over the 30-day horizon of a 31-day demo warehouse."""
    from include.monitoring import reference
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.demo.generator import write_demo_warehouse

    end = datetime(2026, 11, 23, 4, tzinfo=UTC)
    warehouse = engine_from_url(f"sqlite:///{directory}/warehouse31.db")
    counts = write_demo_warehouse(warehouse, end=end, days=31, peak_rows=2000, seed=5)
    times: dict[str, list[float]] = {"first": [], "hourly": [], "unchanged": []}
    windows: dict[str, int] = {}
    for repeat in range(repeats):
        store = engine_from_url(f"sqlite:///{directory}/rescore_{repeat}.db")
        reference.ensure_reference(config, warehouse, store, now=end)
        _, profile = reference.load_reference(config, store)
        # The first run scores every window of the horizon; the next hour's run only those whose labels arrived
        # in that hour; the same run repeated finds nothing to do.
        for label, run_end in (("first", end - timedelta(hours=1)), ("hourly", end), ("unchanged", end)):
            t = time.perf_counter()
            windows[label] = _performance_run(config, profile, warehouse, store, run_end)
            times[label].append(time.perf_counter() - t)
    medians = {label: statistics.median(values) for label, values in times.items()}
    print(f"re-scoring over a 30-day horizon ({counts['predictions']:,} predictions in 31 days), median of {repeats}: "
          f"first run {medians['first']:.1f} s ({windows['first']} windows), next hour {medians['hourly'] * 1000:.0f} ms "
          f"({windows['hourly']} windows whose labels changed), repeated {medians['unchanged'] * 1000:.0f} ms "
          f"({windows['unchanged']} windows)")
    return {"first": medians["first"], "hourly": medians["hourly"] * 1000, "unchanged": medians["unchanged"] * 1000}


def _performance_run(config, profile, warehouse, store, run_end: datetime) -> int:
    """One run's performance step and its write; returns how many windows it re-scored."""
    from include.monitoring import pipeline
    from include.monitoring.observation import Observation
    from include.monitoring.types import RunStatus, Window

    window = Window(run_end - timedelta(hours=1), run_end)
    rows = pipeline.compute_performance(config, profile, warehouse, store, window)
    observation = Observation(window, RunStatus.OK, "", 0, 0, "bench")
    pipeline.write_window(config, store, observation, rows, "bench", run_end, run_end)
    return sum(row.metric == "label_coverage" for row in rows)


def _validation_bench(config, profile, warehouse, repeats, pipeline, warehouse_sql) -> dict:
    """Median validation time of 10,000 rows (an afternoon's rows) against 30 expectations and the full suite."""
    from include.monitoring.config.expectations import custom_suite_path, load_custom_suite
    from include.monitoring.types import Window
    from include.monitoring.validation.results import validation_frame
    from include.monitoring.validation.run import validate_frame
    from include.monitoring.validation.suite import expectation_specs

    afternoon = Window(datetime(2026, 11, 21, 12, tzinfo=UTC), datetime(2026, 11, 21, 20, tzinfo=UTC))
    rows = warehouse_sql.fetch_window(warehouse, config, afternoon).frame.head(10_000)
    frame = validation_frame(config, rows)
    suite = [*expectation_specs(config, profile, frame), *load_custom_suite(custom_suite_path(config))]
    # The first 30 that do work on the rows (existence checks are nearly free and would flatter the figure).
    thirty = [spec for spec in suite if spec.check != "column_missing"][:30]
    medians = {}
    for key, specs in ((30, thirty), ("full", suite)):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            results = validate_frame(frame, specs, suite_name="bench")
            times.append(time.perf_counter() - t)
        assert len(results) == len(specs)
        medians[key] = statistics.median(times) * 1000
        print(f"validation of {len(frame):,} rows x {len(specs)} expectations, median of {repeats}: {medians[key]:.0f} ms")
    return medians


if __name__ == "__main__":
    main()
