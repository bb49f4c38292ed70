"""Great Expectations validation of one 5,000-row window with the demo model's suite. Prints figures; never fails on time.

    .venv/bin/python bench/validation_bench.py [--repeats 5]

The window is what `pipeline.observe_window` validates: one hour of a 1-day warehouse at 5,000 predictions an hour
(bench/scale_bench.py's tables, in SQLite), read by `warehouse.fetch_window`, split by `split_by_window` and turned
into the validation frame by `validation_frame`; the reference is fitted from the demo reference table. The suite is
the generated one (`expectation_specs`) plus include/expectations/credit_default.json, as `observe_window` builds it.

The GX import is timed once, first. Then `validate_frame` runs once to warm up (timed too: the first call in a
process, which is what an Airflow task validating one window pays) and `--repeats` times, timed; the median is the
figure. Its CPU time is printed beside it: on a shared machine the wall time also holds the waits for a core.
A breakdown follows (medians): the specs, then the steps `validate_frame` reports through `timings=` (GX expectation
objects, context, batch, validate, records); a validate_frame without `timings=` (before 2026-12-05) reports none.
The last line is

    RESULT gx_validate_s=<median> gx_import_s=<seconds>

Measured 2026-12-05 on the shared 2-core machine (load average 4.5-6), the code before 2026-12-05 and after it
alternated three times: median 0.67-1.17 s before (CPU 0.46-0.49 s, first call 0.82-1.63 s), 0.48-0.65 s after
(CPU 0.23-0.26 s, first call 0.54-0.66 s). Once a core was free: 0.206 s after (CPU 0.201 s). The time left is GX's
per-expectation work (it rebuilds each expectation's configuration some 75 times a validation), not the rows.
Those "after" figures include pairing the null checks, since reverted (GX checks every expectation of the suite):
with every expectation in GX, on a quiet machine: median 0.242 s (CPU 0.242 s), first call 0.265 s.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    import great_expectations  # noqa: F401  (timed: the one-off import cost every validating task pays)
    gx_import = time.perf_counter() - started
    print(f"great_expectations import: {gx_import:.2f} s (once per validating task)")

    from scale_bench import END, ROWS_PER_HOUR, build_warehouses

    from include.monitoring import reference, warehouse
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.config import load_monitor_config
    from include.monitoring.config.expectations import custom_suite_path, load_custom_suite
    from include.monitoring.types import Window
    from include.monitoring.validation.results import validation_frame
    from include.monitoring.validation.run import validate_frame
    from include.monitoring.validation.suite import expectation_specs

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    window = Window(END - timedelta(hours=1), END)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse_engine = engine_from_url(f"sqlite:///{tmp}/warehouse.db")
        store_engine = engine_from_url(f"sqlite:///{tmp}/store.db")
        build_warehouses({"sqlite": warehouse_engine}, days=1)
        reference.build_reference(config, warehouse_engine, store_engine, now=window.start)
        _, profile = reference.load_reference(config, store_engine)
        rows = warehouse.fetch_window(warehouse_engine, config, window)
        warehouse_engine.dispose()
        store_engine.dispose()
    frame, _ = warehouse.split_by_window(config, rows.frame, window)
    frame = validation_frame(config, frame)
    assert len(frame) == ROWS_PER_HOUR, len(frame)
    suite_name = f"{config.model}_window"

    def specs() -> list:
        return [*expectation_specs(config, profile, frame), *load_custom_suite(custom_suite_path(config))]

    reports_steps = "timings" in inspect.signature(validate_frame).parameters
    steps: dict[str, list[float]] = {"specs": []}
    totals, cpu = [], []
    t = time.perf_counter()
    results = validate_frame(frame, specs(), suite_name=suite_name)  # warm-up: what a task validating one window pays
    first = time.perf_counter() - t
    for _ in range(args.repeats):
        t = time.perf_counter()
        suite = specs()
        steps["specs"].append(time.perf_counter() - t)
        timings: dict[str, float] = {}
        t, c = time.perf_counter(), time.process_time()
        results = validate_frame(frame, suite, suite_name=suite_name, **({"timings": timings} if reports_steps else {}))
        totals.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        for name, seconds in timings.items():
            steps.setdefault(name, []).append(seconds)
    assert len(results) == len(suite)
    median = statistics.median(totals)
    failed = sorted(f"{r.check_name}:{r.column_name}" for r in results if not r.success)
    print(f"validate_frame: {len(frame):,} rows x {len(suite)} expectations ({len(failed)} failed: {', '.join(failed)}), "
          f"median of {args.repeats} after a warm-up: {median:.3f} s (min {min(totals):.3f}, max {max(totals):.3f}; "
          f"CPU median {statistics.median(cpu):.3f} s); the warm-up (first call in the process) {first:.3f} s")
    print("breakdown (medians): " + ", ".join(f"{name} {statistics.median(values) * 1000:.0f} ms"
                                                for name, values in steps.items())
          + ("" if reports_steps else " (this validate_frame reports no steps)"))
    print(f"RESULT gx_validate_s={median:.3f} gx_import_s={gx_import:.2f}")


if __name__ == "__main__":
    main()
