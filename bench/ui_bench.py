"""How fast the Model health model page's data answers for 30 days x 25 features, on SQLite and PostgreSQL.

The store is written directly with a month of hourly windows shaped like the pipeline's rows (drift per feature,
performance with slices and coverage, estimates, operational series, validation results, alerts with their
history and notifications), then the page's read (queries.model_history for the 30d range) and its HTML
(render.model_page) are timed, and the fleet page. Target: the model page's median under 1 s.

    .venv/bin/python bench/ui_bench.py [--repeats 7] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from include.monitoring import store  # noqa: E402
from include.monitoring.ui import queries, render  # noqa: E402

MODEL, DAG_ID = "bench_model", "monitor_bench_model"
DAYS, FEATURES = 30, 25
END = datetime(2026, 11, 23, tzinfo=UTC)
SLICES = ("a", "b", "c", "d", "e")
CHECKS = 30
METRICS = ("roc_auc", "accuracy", "f1")


def _metric(start: datetime, kind: str, metric: str, value: float, column: str = "", slice_value: str = "",
            severity: str = "OK", details: dict | None = None) -> dict:
    return {"model": MODEL, "window_start": start, "kind": kind, "column_name": column,
            "slice_key": "segment" if slice_value else "", "slice_value": slice_value, "metric": metric,
            "window_end": start + timedelta(hours=1), "value": value, "p_value": None, "n": 400,
            "threshold_warning": 0.1, "threshold_critical": 0.25, "severity": severity,
            "details": json.dumps(details or {}), "computed_at": start + timedelta(hours=1)}


def _window_rows(start: datetime, rng: random.Random) -> dict[sa.Table, list[dict]]:
    drift = [_metric(start, "drift", "psi", rng.random() * 0.3, column=f"feature_{i:02d}",
                     severity=rng.choice(("OK",) * 8 + ("WARNING", "CRITICAL")), details={"noise": 0.02})
             for i in range(FEATURES)]
    performance = [_metric(start, "performance", metric, 0.8 + rng.random() / 10, slice_value=part,
                           details={"baseline": 0.84, "labels_known_by": (start + timedelta(hours=2)).isoformat()})
                   for metric in METRICS for part in ("", *SLICES)]
    performance.append(_metric(start, "performance", "label_coverage", rng.random()))
    estimated = [_metric(start, "estimated_performance", metric, 0.83, details={"baseline": 0.84}) for metric in METRICS]
    operational = [_metric(start, "operational", metric, rng.random() * 400)
                   for metric in ("volume", "latency_p95", "error_rate", "latency_p50", "row_count")]
    validation = [{"model": MODEL, "window_start": start, "check_name": f"check_{i:02d}", "column_name": "",
                   "expectation": "expect_x", "severity": "WARNING", "success": rng.random() > 0.05,
                   "observed": "", "unexpected_pct": None, "examples": "[]", "expected": ""} for i in range(CHECKS)]
    run = {"model": MODEL, "window_start": start, "window_end": start + timedelta(hours=1), "status": "ok",
           "status_reason": "", "row_count": 400, "sampled_rows": 400, "reference_id": "r", "dag_run_id":
           f"scheduled__{start.isoformat()}", "started_at": start, "finished_at": start}
    return {store.metric_values: drift + performance + estimated + operational,
            store.validation_results: validation, store.monitor_runs: [run]}


def _alerts(windows: list[datetime], rng: random.Random) -> tuple[list[dict], list[dict]]:
    alerts, sent = [], []
    for i in range(60):
        opened = rng.choice(windows)
        key = f"{MODEL}:drift:feature_drift:feature_{i % FEATURES:02d}:{i}"
        history = {(opened + timedelta(hours=h)).isoformat(): "WARNING" for h in range(24)}
        alerts.append({"alert_key": key, "model": MODEL, "rule": "drift:feature_drift", "column_name": "f",
                       "slice": "", "severity": "WARNING", "status": "resolved", "opened_at": opened,
                       "last_seen_at": opened + timedelta(hours=23), "resolved_at": opened + timedelta(hours=24),
                       "value": 0.2, "threshold": 0.1, "message": "drift", "clean_windows": 0,
                       "history": json.dumps(history), "last_notified_at": opened})
        sent += [{"alert_key": key, "model": MODEL, "window_start": opened, "channel": channel, "action": "trigger",
                  "severity": "WARNING", "message": "drift", "status": "sent", "attempts": 1, "last_error": "",
                  "created_at": opened, "sent_at": opened, "reference": ""} for channel in ("log", "slack")]
    return alerts, sent


def fill(engine: sa.Engine) -> int:
    store.create_tables(engine)
    rng = random.Random(7)
    windows = [END - timedelta(hours=h) for h in range(DAYS * 24, 0, -1)]
    rows = 0
    with engine.begin() as conn:
        for start in windows:
            for table, records in _window_rows(start, rng).items():
                conn.execute(table.insert(), records)
                rows += len(records)
        alerts, sent = _alerts(windows, rng)
        conn.execute(store.alerts.insert(), alerts)
        conn.execute(store.notifications.insert(), sent)
    return rows + len(alerts) + len(sent)


def time_model_page(engine: sa.Engine, repeats: int) -> tuple[list[float], list[float]]:
    ref = queries.ModelRef(MODEL, DAG_ID, "roc_auc")
    data_times, page_times = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        with engine.connect() as conn:
            data = queries.model_history(conn, ref, END - queries.RANGES["30d"], END)
        data_times.append(time.perf_counter() - started)
        render.model_page(data, "/model-health", "30d", queries.RANGES)
        page_times.append(time.perf_counter() - started)
    assert len(data["drift"]["features"]) == FEATURES and len(data["windows"]) == DAYS * 24
    return data_times, page_times


def time_fleet(engine: sa.Engine, repeats: int) -> list[float]:
    ref = queries.ModelRef(MODEL, DAG_ID, "roc_auc")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with engine.connect() as conn:
            render.fleet_page(queries.fleet(conn, [ref], now=END), "/model-health")
        times.append(time.perf_counter() - started)
    return times


def report(name: str, engine: sa.Engine, repeats: int) -> None:
    started = time.perf_counter()
    rows = fill(engine)
    print(f"{name}: {rows} rows written in {time.perf_counter() - started:.1f} s")
    data_times, page_times = time_model_page(engine, repeats)
    print(f"{name}: model page 30d x {FEATURES} features, median of {repeats}: data {statistics.median(data_times):.3f} s, "
          f"data + HTML {statistics.median(page_times):.3f} s (max {max(page_times):.3f} s)")
    print(f"{name}: fleet page (one model), median of {repeats}: {statistics.median(time_fleet(engine, repeats)):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a server URL; the benchmark creates and drops its own database there ('' to skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = sa.create_engine(f"sqlite:///{directory}/store.db")
        report("sqlite", engine, args.repeats)
        engine.dispose()
    if args.postgres:
        with_postgres_database(args.postgres, lambda engine: report("postgresql", engine, args.repeats))


def with_postgres_database(server_url: str, run) -> None:
    name = f"ui_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(sa.make_url(server_url).set(database=name), connect_args={"options": "-c timezone=UTC"})
    try:
        run(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
