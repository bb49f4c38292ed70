"""Command line for what users do outside the scheduler.

    python -m include.monitoring.cli validate [--dir include/monitors]
    python -m include.monitoring.cli build-reference --monitor include/monitors/credit_default.yaml
    python -m include.monitoring.cli replay --monitor FILE --from 2026-11-20T00:00 --to 2026-11-21T00:00 [--notify]

Connections resolve the Airflow way: `AIRFLOW_CONN_<ID>` environment variables, or Airflow's metadata
database when AIRFLOW_HOME points at one. Any failure prints one line, `error: <what failed>`, and exits 2;
`--debug` (before the command) prints the traceback above that line.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from include.monitoring.config import load_all_monitors, load_monitor_config, monitors_dir
from include.monitoring.errors import MonitoringError
from include.monitoring.types import parse_utc

if TYPE_CHECKING:
    import sqlalchemy as sa

    from include.monitoring.config import MonitorConfig

ISO_FORMAT_HINT = "an ISO date and time such as 2026-11-20T00:00 (UTC unless it has an offset, e.g. +02:00)"


def iso_moment(value: str) -> datetime:
    """argparse's type for --from, --to and --now: a bad value is a usage error naming the option."""
    try:
        return parse_utc(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {ISO_FORMAT_HINT}, got {value!r}") from None


def _engines(config: MonitorConfig) -> tuple[sa.Engine, sa.Engine]:
    """The monitor's warehouse and store engines, each checked to connect: a database that is down, dropped or
    mistyped is one clear error before any work starts."""
    from include.monitoring.airflow_adapters import check_connects, engine_for, warehouse_engine_for

    warehouse = warehouse_engine_for(config.warehouse.conn_id)
    store = engine_for(config.store_conn_id)
    check_connects(warehouse, config.warehouse.conn_id, "prediction warehouse")
    check_connects(store, config.store_conn_id, "metric store")
    return warehouse, store


def _validate(args: argparse.Namespace) -> int:
    """Every monitor file, and each model's own expectation suite as GX would build it."""
    from include.monitoring.config.expectations import custom_suite_path, load_custom_suite
    from include.monitoring.validation.run import build_expectations

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
    from include.monitoring.reference import build_merged_references, build_reference

    config = load_monitor_config(args.monitor)
    warehouse_engine, store_engine = _engines(config)
    reference_id = build_reference(config, warehouse_engine, store_engine, now=datetime.now(UTC))
    print(f"{config.model}: table reference profile {reference_id} stored")
    if config.reference.source != "table":
        now = args.now or datetime.now(UTC)
        built = build_merged_references(config, store_engine, now)
        print(f"{config.model}: {config.reference.source} reference merged from stored window profiles before "
              f"{now.isoformat()}: {len(built)} profile(s) stored ({', '.join(f'{k}: {v}' for k, v in built.items())})")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from include.monitoring import pipeline, tasks
    from include.monitoring.reference import ensure_reference

    config = load_monitor_config(args.monitor)
    width = timedelta(hours=1) if config.schedule == "hourly" else timedelta(days=1)
    windows = pipeline.windows_between(args.start, args.end, width)
    warehouse_engine, store_engine = _engines(config)
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
    parser.add_argument("--debug", action="store_true", help="print the traceback of a failure")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check every monitor file")
    validate.add_argument("--dir", default=str(monitors_dir()))
    validate.set_defaults(run=_validate)
    build = commands.add_parser("build-reference", help="fit and store a model's reference profile (and its "
                                "rolling or seasonal reference, when the monitor uses one)")
    build.add_argument("--monitor", required=True, help="path of the monitor file")
    build.add_argument("--now", type=iso_moment,
                       help="rolling/seasonal: merge the windows before this moment, ISO (default: now)")
    build.set_defaults(run=_build_reference)
    replay = commands.add_parser("replay", help="run the pipeline over past windows without Airflow")
    replay.add_argument("--monitor", required=True, help="path of the monitor file")
    replay.add_argument("--from", dest="start", required=True, type=iso_moment,
                        help="first window start, ISO (UTC if no offset)")
    replay.add_argument("--to", dest="end", required=True, type=iso_moment, help="end of the last window, ISO")
    replay.add_argument("--notify", action="store_true", help="deliver the resulting notifications")
    replay.set_defaults(run=_replay)
    args = parser.parse_args(argv)
    if args.command == "replay" and args.end <= args.start:
        replay.error(f"argument --to: must be after --from ({args.start.isoformat()}), got {args.end.isoformat()}")
    try:
        return int(args.run(args))
    except Exception as exc:  # any failure, ours or a library's: one line, never a traceback with SQL and values
        if args.debug:
            traceback.print_exc()
        print(f"error: {failure_line(exc)}", file=sys.stderr)
        return 2


def failure_line(exc: Exception) -> str:
    """What failed, on one line. Our errors say it themselves. A database error gives its driver's first line
    when it names a schema problem (a missing table or column), and only its kind when it may quote a data value
    (a bad value, a duplicate key); never SQLAlchemy's text, which appends the SQL and its parameters."""
    import sqlalchemy as sa

    from include.monitoring.airflow_adapters import driver_message

    if isinstance(exc, MonitoringError):
        return str(exc)
    if isinstance(exc, sa.exc.OperationalError | sa.exc.ProgrammingError):
        return f"the database refused a statement: {driver_message(exc)} (--debug shows the statement)"
    if isinstance(exc, sa.exc.DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        return (f"the database refused a statement: {type(exc.orig).__name__}"
                + (f" (SQLSTATE {state})" if state else "") + "; --debug shows the statement and the value")
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first_line} (--debug shows the traceback)"


if __name__ == "__main__":
    sys.exit(main())
