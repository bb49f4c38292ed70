"""Command line for what users do outside the scheduler.

    python -m include.monitoring.cli validate [--dir include/monitors]
    python -m include.monitoring.cli build-reference --monitor include/monitors/credit_default.yaml
    python -m include.monitoring.cli replay --monitor FILE --from 2026-11-20T00:00 --to 2026-11-21T00:00 [--notify]

Connections resolve the Airflow way: `AIRFLOW_CONN_<ID>` environment variables, or Airflow's metadata
database when AIRFLOW_HOME points at one.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from include.monitoring.config import load_all_monitors, load_monitor_config, monitors_dir
from include.monitoring.errors import MonitoringError
from include.monitoring.types import parse_utc


def _validate(args: argparse.Namespace) -> int:
    """Every monitor file, and each model's own expectation suite as GX would build it."""
    from include.monitoring.validation.run import build_expectations
    from include.monitoring.validation.suite import custom_suite_path, load_custom_suite

    configs, errors = load_all_monitors(Path(args.dir))
    broken = 0
    for config in configs:
        suite_path = custom_suite_path(config)
        specs = load_custom_suite(suite_path)
        _, problems = build_expectations(specs)
        own = f", {len(specs)} expectations of its own in {suite_path.name}" if specs else ""
        print(f"{'ERROR ' if problems else 'ok    '} {Path(config.source_file).name}: dag {config.dag_id}, "
              f"{len(config.features.numeric)} numeric and {len(config.features.categorical)} categorical features, "
              f"{config.schedule} windows{own}")
        for spec, problem in problems:
            print(f"       {suite_path.name}: {spec.check} ({spec.type}) is not a valid GX expectation: {problem}")
        broken += bool(problems)
    for error in errors.values():
        print(f"ERROR  {error}")
    if not configs and not errors:
        print(f"no monitor files in {args.dir}")
    return 1 if errors or broken else 0


def _build_reference(args: argparse.Namespace) -> int:
    from include.monitoring.airflow_adapters import engine_for
    from include.monitoring.reference import build_merged_references, build_reference

    config = load_monitor_config(args.monitor)
    store_engine = engine_for(config.store_conn_id)
    reference_id = build_reference(config, engine_for(config.warehouse.conn_id), store_engine, now=datetime.now(UTC))
    print(f"{config.model}: table reference profile {reference_id} stored")
    if config.reference.source != "table":
        now = parse_utc(args.now) if args.now else datetime.now(UTC)
        built = build_merged_references(config, store_engine, now)
        print(f"{config.model}: {config.reference.source} reference merged from stored window profiles before "
              f"{now.isoformat()}: {len(built)} profile(s) stored ({', '.join(f'{k}: {v}' for k, v in built.items())})")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from include.monitoring import pipeline, tasks
    from include.monitoring.airflow_adapters import engine_for
    from include.monitoring.reference import ensure_reference

    config = load_monitor_config(args.monitor)
    width = timedelta(hours=1) if config.schedule == "hourly" else timedelta(days=1)
    windows = pipeline.windows_between(parse_utc(args.start), parse_utc(args.end), width)
    warehouse_engine, store_engine = engine_for(config.warehouse.conn_id), engine_for(config.store_conn_id)
    ensure_reference(config, warehouse_engine, store_engine, now=datetime.now(UTC))
    statuses: dict[str, int] = {}
    opened = 0
    for window in tqdm(windows, desc=config.model, unit="window"):
        observation, transitions = pipeline.run_window(config, warehouse_engine, store_engine, window,
                                                       now=datetime.now(UTC), run_id="cli-replay",
                                                       backfill=not args.notify)
        statuses[observation.status.value] = statuses.get(observation.status.value, 0) + 1
        opened += sum(t.action != "resolve" for t in transitions)
    print(f"{config.model}: {len(windows)} windows replayed ({', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}); "
          f"{opened} alert openings or escalations")
    if args.notify:
        print(tasks.deliver(config))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.monitoring.cli", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check every monitor file")
    validate.add_argument("--dir", default=str(monitors_dir()))
    validate.set_defaults(run=_validate)
    build = commands.add_parser("build-reference", help="fit and store a model's reference profile (and its "
                                "rolling or seasonal reference, when the monitor uses one)")
    build.add_argument("--monitor", required=True, help="path of the monitor file")
    build.add_argument("--now", help="rolling/seasonal: merge the windows before this moment, ISO (default: now)")
    build.set_defaults(run=_build_reference)
    replay = commands.add_parser("replay", help="run the pipeline over past windows without Airflow")
    replay.add_argument("--monitor", required=True, help="path of the monitor file")
    replay.add_argument("--from", dest="start", required=True, help="first window start, ISO (UTC if no offset)")
    replay.add_argument("--to", dest="end", required=True, help="end of the last window, ISO")
    replay.add_argument("--notify", action="store_true", help="deliver the resulting notifications")
    replay.set_defaults(run=_replay)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except MonitoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
