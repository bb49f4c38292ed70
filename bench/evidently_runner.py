"""Evidently side of the drift benchmark: times DataDriftPreset on the same data as our drift step.

Runs ONLY inside the isolated venv made by bench/evidently_env.sh (stdlib + numpy + pandas + evidently):

    .bench/evidently-venv/bin/python bench/evidently_runner.py --data PATH.npz \
        --sizes 2000,100000,1000000 --repeats 5,3,1

The npz holds ref_num float64 (N,20), ref_cat int64 (N,5) codes 0..9, cur_num float64 (M,20) and
cur_cat int64 (M,5). The reference frame is all N rows; for each size s the current frame is the first
s rows of cur_*. Columns num_0..num_19 are declared numerical and cat_0..cat_4 (strings "level_<code>")
categorical through evidently.DataDefinition.

Timed (time.perf_counter), per repeat: wrapping both frames in evidently.Dataset with that definition
(Evidently copies the frame and collects per-column stats there), report.run(...) and snapshot.dict().
Not timed: loading the npz and building the pandas frames. One untimed warm-up run at the smallest size
goes first. Progress goes to stderr; stdout gets exactly one JSON line:

    {"evidently_version": "x.y.z", "median_ms": {"2000": ...}, "drifted_columns": {"2000": k, ...}}

drifted_columns is DriftedColumnsCount.count from the result. Any error propagates (non-zero exit).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently import __version__ as EVIDENTLY_VERSION
from evidently.presets import DataDriftPreset

N_NUM = 20
N_CAT = 5
NUM_COLUMNS = [f"num_{i}" for i in range(N_NUM)]
CAT_COLUMNS = [f"cat_{j}" for j in range(N_CAT)]
DRIFTED_COUNT_TYPE = "evidently:metric_v2:DriftedColumnsCount"
VALUE_DRIFT_TYPE = "evidently:metric_v2:ValueDrift"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of positive integers, got {text!r}")
    return values


def load_arrays(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in ("ref_num", "ref_cat", "cur_num", "cur_cat")}
    for prefix in ("ref", "cur"):
        num, cat = arrays[f"{prefix}_num"], arrays[f"{prefix}_cat"]
        if num.ndim != 2 or num.shape[1] != N_NUM or num.dtype.kind != "f":
            raise ValueError(f"{prefix}_num: expected float (rows, {N_NUM}), got {num.dtype} {num.shape}")
        if cat.ndim != 2 or cat.shape[1] != N_CAT or cat.dtype.kind not in "iu":
            raise ValueError(f"{prefix}_cat: expected int (rows, {N_CAT}), got {cat.dtype} {cat.shape}")
        if num.shape[0] != cat.shape[0]:
            raise ValueError(f"{prefix}_num has {num.shape[0]} rows but {prefix}_cat has {cat.shape[0]}")
        if cat.size and cat.min() < 0:
            raise ValueError(f"{prefix}_cat holds negative codes")
    return arrays


def build_frame(num: np.ndarray, cat: np.ndarray) -> pd.DataFrame:
    labels = np.array([f"level_{code}" for code in range(int(cat.max()) + 1 if cat.size else 0)], dtype=object)
    columns: dict[str, np.ndarray] = {
        name: np.ascontiguousarray(num[:, i], dtype=np.float64) for i, name in enumerate(NUM_COLUMNS)
    }
    columns.update({name: labels[cat[:, j]] for j, name in enumerate(CAT_COLUMNS)})
    return pd.DataFrame(columns)


def run_once(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[float, float, dict]:
    """One timed report; returns (total seconds, of which Dataset wrapping seconds, result dict)."""
    definition = DataDefinition(numerical_columns=list(NUM_COLUMNS), categorical_columns=list(CAT_COLUMNS))
    report = Report([DataDriftPreset()])
    t0 = time.perf_counter()
    current_ds = Dataset.from_pandas(current, data_definition=definition)
    reference_ds = Dataset.from_pandas(reference, data_definition=definition)
    t1 = time.perf_counter()
    result = report.run(current_ds, reference_ds).dict()
    t2 = time.perf_counter()
    return t2 - t0, t1 - t0, result


def drifted_columns(result: dict) -> int:
    metrics = result["metrics"]
    counts = [m for m in metrics if m["config"]["type"] == DRIFTED_COUNT_TYPE]
    if len(counts) != 1:
        raise RuntimeError(f"expected one DriftedColumnsCount metric in the result, found {len(counts)}")
    per_column = [m for m in metrics if m["config"]["type"] == VALUE_DRIFT_TYPE]
    analysed = sorted(m["config"]["column"] for m in per_column)
    if analysed != sorted(NUM_COLUMNS + CAT_COLUMNS):
        raise RuntimeError(f"Evidently analysed columns {analysed}, expected all {N_NUM + N_CAT}")
    count = float(counts[0]["value"]["count"])
    if not count.is_integer():
        raise RuntimeError(f"DriftedColumnsCount.count is not an integer: {count}")
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="npz with ref_num, ref_cat, cur_num, cur_cat")
    parser.add_argument("--sizes", type=int_list, default=int_list("2000,100000,1000000"))
    parser.add_argument("--repeats", type=int_list, default=int_list("5,3,1"))
    args = parser.parse_args()
    if len(args.sizes) != len(args.repeats):
        parser.error(f"--sizes has {len(args.sizes)} entries but --repeats has {len(args.repeats)}")

    t = time.perf_counter()
    arrays = load_arrays(args.data)
    n_cur = arrays["cur_num"].shape[0]
    too_big = [s for s in args.sizes if s > n_cur]
    if too_big:
        raise ValueError(f"sizes {too_big} exceed the {n_cur} current rows in {args.data}")
    reference = build_frame(arrays["ref_num"], arrays["ref_cat"])
    log(
        f"evidently {EVIDENTLY_VERSION}; reference {len(reference):,} rows, current up to {n_cur:,}; "
        f"loaded in {time.perf_counter() - t:.1f} s"
    )

    smallest = min(args.sizes)
    t = time.perf_counter()
    run_once(reference, build_frame(arrays["cur_num"][:smallest], arrays["cur_cat"][:smallest]))
    log(f"warm-up at {smallest:,} rows: {time.perf_counter() - t:.2f} s (untimed)")

    median_ms: dict[str, float] = {}
    drifted: dict[str, int] = {}
    for size, repeats in zip(args.sizes, args.repeats, strict=True):
        current = build_frame(arrays["cur_num"][:size], arrays["cur_cat"][:size])
        times_ms: list[float] = []
        counts: set[int] = set()
        for i in range(repeats):
            total, wrapping, result = run_once(reference, current)
            times_ms.append(total * 1000.0)
            counts.add(drifted_columns(result))
            log(
                f"  size {size:>9,} run {i + 1}/{repeats}: {total * 1000.0:10.1f} ms "
                f"(Dataset wrapping {wrapping * 1000.0:.1f} ms), drifted {sorted(counts)}"
            )
        if len(counts) != 1:
            raise RuntimeError(f"drifted-column count differed between repeats at size {size}: {sorted(counts)}")
        median_ms[str(size)] = round(statistics.median(times_ms), 1)
        drifted[str(size)] = counts.pop()
        del current

    print(json.dumps({"evidently_version": EVIDENTLY_VERSION, "median_ms": median_ms, "drifted_columns": drifted}))


if __name__ == "__main__":
    main()
