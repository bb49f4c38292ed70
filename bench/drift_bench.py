"""Benchmark of the drift step against Evidently's DataDriftPreset, on the same data in the same run.
Prints figures; never fails on time.

    .venv/bin/python bench/drift_bench.py [--sizes 2000,100000,1000000] [--no-evidently]

Data: 25 features (20 numeric: standard normals, three of them shifted by 0.25 sd in the windows; 5
categorical with 10 levels), a 100000-row reference and windows of each size cut from one 1000000-row draw.
Ours, timed per window: profiling the window's rows against the stored reference profile (the frozen bins,
grid and categories; from 50000 rows the columns in parallel threads, one per core, and the figure on one
thread is printed too) and the drift step on those profiles (every method, noise band, correction and the
output drift of a score column, which Evidently does not get). Fitting the reference profile happens once,
as in production, and is printed separately. Peak memory: tracemalloc's peak over one window's step.
Evidently, timed per window: Dataset.from_pandas for both frames, report.run and snapshot.dict(), in its
own virtual environment (bench/evidently_env.sh, pandas<3), run by bench/evidently_runner.py on the same
arrays. The last line is `RESULT speedup_2k=<x> speedup_1m=<y> ours_2k_ms=<a> evidently_2k_ms=<b>`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REFERENCE_ROWS = 100_000
LARGEST_WINDOW = 1_000_000
NUMERIC, CATEGORICAL, LEVELS = 20, 5, 10
SHIFTED = (0, 1, 2)  # numeric features moved by 0.25 sd in the windows: something for both tools to find
REPEATS = {2_000: 20, 100_000: 5, 1_000_000: 3}
EVIDENTLY_REPEATS = {2_000: 5, 100_000: 3, 1_000_000: 1}


def arrays(seed: int = 20261125):
    import numpy as np

    rng = np.random.default_rng(seed)
    level_shares = np.linspace(2, 1, LEVELS) / np.linspace(2, 1, LEVELS).sum()
    data = {"ref_num": rng.normal(size=(REFERENCE_ROWS, NUMERIC)),
            "ref_cat": rng.choice(LEVELS, size=(REFERENCE_ROWS, CATEGORICAL), p=level_shares),
            "cur_num": rng.normal(size=(LARGEST_WINDOW, NUMERIC)),
            "cur_cat": rng.choice(LEVELS, size=(LARGEST_WINDOW, CATEGORICAL), p=level_shares)}
    data["cur_num"][:, SHIFTED] += 0.25
    return data


def frame(numeric, categorical, scores):
    import numpy as np
    import pandas as pd

    columns = {f"num_{i}": numeric[:, i] for i in range(NUMERIC)}
    names = np.array([f"level_{k}" for k in range(LEVELS)], dtype=object)
    columns |= {f"cat_{j}": names[categorical[:, j]] for j in range(CATEGORICAL)}
    columns["score"] = scores
    return pd.DataFrame(columns)


def ours(data, sizes):
    import numpy as np

    from include.monitoring import window_profiles as window_profiles_module
    from include.monitoring.config import FeaturesConfig, MonitorConfig
    from include.monitoring.drift.engine import compute_drift
    from include.monitoring.observation import Observation
    from include.monitoring.reference import fit_reference
    from include.monitoring.types import RunStatus, Severity, Window, parse_utc
    from include.monitoring.window_profiles import window_profiles

    config = MonitorConfig(model="bench", features=FeaturesConfig(
        numeric=tuple(f"num_{i}" for i in range(NUMERIC)), categorical=tuple(f"cat_{j}" for j in range(CATEGORICAL))))
    rng = np.random.default_rng(1)
    reference_frame = frame(data["ref_num"], data["ref_cat"], rng.beta(2, 5, REFERENCE_ROWS))
    current = frame(data["cur_num"], data["cur_cat"], rng.beta(2, 5, LARGEST_WINDOW))
    started = time.perf_counter()
    reference = fit_reference(config, reference_frame)
    print(f"ours: reference profile fitted once in {time.perf_counter() - started:.2f} s "
          f"({REFERENCE_ROWS} rows, calibration included)")
    window = Window(parse_utc("2026-11-01T12:00:00Z"), parse_utc("2026-11-01T13:00:00Z"))

    def step(rows):
        observation = Observation(window, RunStatus.OK, "", len(rows), len(rows), "bench",
                                  profiles=window_profiles(config, reference, rows))
        return compute_drift(config, reference, observation)

    medians, peaks = {}, {}
    for size in sizes:
        rows = current.iloc[:size]
        step(rows)  # warm-up: imports, caches
        timings = []
        for _ in range(REPEATS.get(size, 3)):
            started = time.perf_counter()
            result = step(rows)
            timings.append(time.perf_counter() - started)
        tracemalloc.start()
        step(rows)
        peaks[size] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        medians[size] = statistics.median(timings) * 1000
        if size >= window_profiles_module.PARALLEL_PROFILE_ROWS:  # also on one thread, for the record
            single = _one_thread(step, rows)
            print(f"ours: {size:>9} rows  on one thread: median {single:9.1f} ms over 3 runs")
        drifted = sorted({r.column for r in result if r.severity >= Severity.WARNING and r.column != "score"})
        methods = sorted({r.metric for r in result if r.details.get("alert_rule") == "feature_drift"})
        print(f"ours: {size:>9} rows  median {medians[size]:9.1f} ms over {len(timings)} runs  "
              f"peak {peaks[size]:7.1f} MiB  methods {methods}  drifted {drifted}")
    return medians, peaks


def _one_thread(step, rows) -> float:
    """Median ms of `step` with the columns profiled one after another (no threads)."""
    from include.monitoring import window_profiles as window_profiles_module

    saved, window_profiles_module.PARALLEL_PROFILE_ROWS = window_profiles_module.PARALLEL_PROFILE_ROWS, 10**12
    try:
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            step(rows)
            timings.append(time.perf_counter() - started)
        return statistics.median(timings) * 1000
    finally:
        window_profiles_module.PARALLEL_PROFILE_ROWS = saved


def evidently(data, sizes):
    import numpy as np

    venv = ROOT / ".bench" / "evidently-venv"
    subprocess.run(["bash", str(ROOT / "bench" / "evidently_env.sh"), str(venv)], check=True)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "drift_bench.npz"
        np.savez(path, **data)
        repeats = ",".join(str(EVIDENTLY_REPEATS.get(size, 1)) for size in sizes)
        completed = subprocess.run(
            [str(venv / "bin" / "python"), str(ROOT / "bench" / "evidently_runner.py"), "--data", str(path),
             "--sizes", ",".join(map(str, sizes)), "--repeats", repeats],
            check=True, capture_output=True, text=True)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    medians = {int(size): ms for size, ms in result["median_ms"].items()}
    for size in sizes:
        print(f"evidently {result['evidently_version']}: {size:>9} rows  median {medians[size]:9.1f} ms  "
              f"drifted columns {result['drifted_columns'][str(size)]}")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,100000,1000000")
    parser.add_argument("--no-evidently", action="store_true", help="time our side only")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    data = arrays()
    print(f"data: {REFERENCE_ROWS} reference rows, windows {sizes}, {NUMERIC} numeric + {CATEGORICAL} categorical "
          f"features ({LEVELS} levels), features {list(SHIFTED)} shifted by 0.25 sd")
    our_ms, _ = ours(data, sizes)
    if args.no_evidently:
        return
    their_ms = evidently(data, sizes)
    for size in sizes:
        print(f"speedup at {size:>9} rows: {their_ms[size] / our_ms[size]:7.1f}x")
    small, large = min(sizes), max(sizes)
    print(f"RESULT speedup_2k={their_ms[small] / our_ms[small]:.1f} speedup_1m={their_ms[large] / our_ms[large]:.1f} "
          f"ours_2k_ms={our_ms[small]:.1f} evidently_2k_ms={their_ms[small]:.1f}")


if __name__ == "__main__":
    main()
