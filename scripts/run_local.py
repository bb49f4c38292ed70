"""`make run`: the demo on a local `airflow standalone`, until Ctrl-C.

Builds the demo warehouse (.data/warehouse.db) unless it already covers the last complete hour (and then fits
the demo model's reference), prepares AIRFLOW_HOME in .airflow/, applies airflow_settings.yaml, creates a
backfill of the demo monitor over the last BACKFILL_HOURS hours (default 24), starts standalone and unpauses
the monitors once their data is ready. Environment: PORT (8080),
BACKFILL_HOURS (24). Airflow's run history starts empty every time (see `reset_metadata`); the metric
store in .data/ is kept.

    python scripts/run_local.py [--rebuild]   # --rebuild: write the demo warehouse even if it is current
    python scripts/run_local.py --smoke       # stop after the first successful backfill run; print the time
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `scripts` and `include` live in the project root
    sys.path.insert(0, str(ROOT))

from include.monitoring.ui.views import URL_PREFIX  # noqa: E402
from scripts import standalone  # noqa: E402
from scripts.airflow_settings import SettingsError, connection_env, settings_commands  # noqa: E402

HOME = ROOT / ".airflow"
DATA = ROOT / ".data"
WAREHOUSE = DATA / "warehouse.db"
STORE = DATA / "monitoring.db"
SETTINGS = ROOT / "airflow_settings.yaml"
DEMO_DAG = "monitor_credit_default"
DEMO_MONITOR = ROOT / "include" / "monitors" / "credit_default.yaml"
MONITOR_PREFIX = "monitor_"
FIRE_DRILL_DAG = "monitoring_fire_drill"
PARALLELISM = 4  # LocalExecutor workers; more only adds memory on a laptop
# One at a time, in order. A run re-scores only the windows whose labels arrived since the newest cut-off in the
# store; runs side by side find none yet (or a later one) and each re-score the whole label horizon: measured, three
# first runs together took 30 s each for their performance step on two cores, one alone 11 s.
BACKFILL_MAX_ACTIVE_RUNS = 1
SMOKE_TIMEOUT = 600
WAREHOUSE_BUILD_TIMEOUT = 300

_started = time.monotonic()


class SetupError(RuntimeError):
    """A step of the set-up failed; the message says which and what to do."""


def log(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f} s] {message}", flush=True)


def _interrupt(signum, frame) -> None:
    # SIGTERM (e.g. from a process manager) takes the same clean-up path as Ctrl-C.
    raise KeyboardInterrupt


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SetupError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# --- the demo warehouse ----------------------------------------------------------------------------------------------


def warehouse_end(path: Path) -> datetime | None:
    """The end of the hour of the warehouse's latest prediction, or None if there is no usable warehouse."""
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            latest = conn.execute("SELECT max(ts) FROM predictions").fetchone()[0]
    except sqlite3.Error:
        return None
    if latest is None:
        return None
    moment = datetime.fromisoformat(str(latest))
    return floor_hour(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment) + timedelta(hours=1)


def start_warehouse_build(target: Path, end: datetime) -> subprocess.Popen:
    """Write the demo warehouse, with data up to `end`, in the background (about 12 s) while Airflow is prepared.
    It is written to a temporary file and moved into place when complete, so an interrupted build never looks
    current."""
    building = target.with_suffix(".building.db")
    building.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "include.monitoring.demo", "--url", f"sqlite:///{building}",
               "--days", "14", "--peak-rows", "2000", "--end", end.isoformat()]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_warehouse_build(builder: subprocess.Popen, target: Path) -> None:
    try:
        output, _ = builder.communicate(timeout=WAREHOUSE_BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        builder.kill()
        raise SetupError(f"the demo warehouse was not built within {WAREHOUSE_BUILD_TIMEOUT} s") from None
    if builder.returncode != 0:
        raise SetupError(f"building the demo warehouse failed (exit {builder.returncode}):\n{output.strip()[-3000:]}")
    os.replace(target.with_suffix(".building.db"), target)
    log(f"demo warehouse written to {target.relative_to(ROOT)} ({output.strip()})")


def fit_reference(env: dict[str, str]) -> None:
    """Fit and store the demo model's reference profile (`cli build-reference`) before the monitors run.

    Otherwise the backfill's first run fits it in its load_reference task (7-11 s, measured), and runs that
    start together each fit it, side by side on two cores. Here it is fitted once while Airflow starts. The
    connections come from airflow_settings.yaml."""
    log("fitting the demo model's reference profile ...")
    env = {**env, **connection_env(SETTINGS, ROOT)}
    command = [sys.executable, "-m", "include.monitoring.cli", "build-reference", "--monitor", str(DEMO_MONITOR)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAREHOUSE_BUILD_TIMEOUT)
    if result.returncode != 0:
        raise SetupError(f"fitting the reference failed (exit {result.returncode}):\n"
                         f"{(result.stdout + result.stderr).strip()[-3000:]}")
    log(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "reference profile stored")


# --- Airflow ---------------------------------------------------------------------------------------------------------


def reset_metadata() -> None:
    """Start every session with an empty metadata database (and no task logs of runs it no longer knows).

    Runs left over by an interrupted session (an unfinished backfill, tasks killed mid-way) are resumed by
    the scheduler as soon as it starts; on SQLite that contention made the first REST writes fail (HTTP
    500 on unpause, 503 on the backfill). The backfill recreates the recent history, the metric store in
    .data/ is kept, and connections belong in airflow_settings.yaml, which is applied every time.
    """
    for name in ("airflow.db", "airflow.db-wal", "airflow.db-shm"):
        (HOME / name).unlink(missing_ok=True)
    shutil.rmtree(HOME / "logs", ignore_errors=True)


def connect(proc: subprocess.Popen, base_url: str) -> standalone.RestClient:
    standalone.wait_healthy(base_url, timeout=180, proc=proc)
    client = standalone.RestClient(base_url, "admin", standalone.admin_password(HOME))
    log(f"Airflow is healthy at {base_url}")
    return client


def backfill_window(data_end: datetime, hours: int) -> tuple[datetime, datetime]:
    """The last `hours` complete windows that have data, as [start, end)."""
    end = min(floor_hour(datetime.now(UTC)), data_end)
    return end - timedelta(hours=hours), end


def set_up_airflow(env: dict[str, str], data_end: datetime, hours: int,
                   unpause_monitors: bool = True) -> tuple[datetime, datetime]:
    """Migrate the metadata database, apply airflow_settings.yaml, parse the DAGs into the database, unpause the
    fire drill and (unless `unpause_monitors` is false) the monitors, and create the demo backfill: all through
    the CLI and before any Airflow process runs (on SQLite, creating a backfill while the scheduler writes fails
    with "database is locked" or crashes the scheduler with StaleDataError on dag_run). The commands run in one
    process, which pays Airflow's start-up (2-4 s a command) once; the backfill needs only the warehouse's end,
    not its data, so this runs while the warehouse is built.

    The backfill covers the last `hours` complete windows that have data; a backfill run with logical
    date X covers [X, X + 1 h), so the logical dates are start ... end - 1 h. Returns [start, end)."""
    reset_metadata()
    start, end = backfill_window(data_end, hours)
    log("airflow db migrate, settings, DAGs and the backfill ...")
    with tempfile.TemporaryDirectory(prefix="airflow_settings_") as tmp:
        settings, applied = settings_commands(SETTINGS, ROOT, tmp)
        standalone.run_airflow_commands([
            ["db", "migrate"],
            *settings,
            ["dags", "reserialize"],
            # The fire drill too: a paused DAG's triggered run sits queued, which looks like a drill that never ends.
            ["dags", "unpause", "--treat-dag-id-as-regex", "-y",
             f"^({MONITOR_PREFIX}|{FIRE_DRILL_DAG}$)" if unpause_monitors else f"^{FIRE_DRILL_DAG}$"],
            ["backfill", "create", "--dag-id", DEMO_DAG, "--from-date", start.isoformat(),
             "--to-date", (end - timedelta(hours=1)).isoformat(), "--reprocess-behavior", "none",
             "--max-active-runs", str(BACKFILL_MAX_ACTIVE_RUNS)],
        ], env)
    standalone.write_config(env)  # `airflow ...` in a shell with only AIRFLOW_HOME set sees this installation
    log(f"applied {SETTINGS.name}: " + "; ".join(f"{kind} {', '.join(names)}" for kind, names in applied.items() if names))
    log(f"parsed the DAGs and unpaused {FIRE_DRILL_DAG}" + (f" and the {MONITOR_PREFIX}* monitors" if unpause_monitors
                                                           else f" ({MONITOR_PREFIX}* once their data is ready)"))
    log(f"backfill of {DEMO_DAG}: {hours} hourly windows from {start:%Y-%m-%d %H:%M} "
        f"to {end:%Y-%m-%d %H:%M} UTC, {BACKFILL_MAX_ACTIVE_RUNS} at a time")
    return start, end


def unpause_monitors(client: standalone.RestClient) -> None:
    """Unpause every monitor DAG (set_up_airflow left them paused while their data was being written)."""
    dags = client.get("/api/v2/dags", dag_id_pattern=MONITOR_PREFIX, limit=1000)["dags"]
    monitors = [dag["dag_id"] for dag in dags if dag["dag_id"].startswith(MONITOR_PREFIX)]
    for dag_id in monitors:
        standalone.unpause(client, dag_id)
    log(f"unpaused the {MONITOR_PREFIX}* monitors: {', '.join(monitors)}")


def wait_first_success(client: standalone.RestClient, proc: subprocess.Popen, timeout: float) -> dict:
    """The first successful backfill run of the demo monitor. Failed runs are reported as they appear."""
    deadline = time.monotonic() + timeout
    reported: set[str] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"airflow standalone exited with code {proc.returncode}")
        succeeded = standalone.dag_runs(client, DEMO_DAG, run_type="backfill", state="success", limit=1)
        if succeeded:
            return succeeded[0]
        for run in standalone.dag_runs(client, DEMO_DAG, run_type="backfill", state="failed", limit=100):
            if run["dag_run_id"] not in reported:
                reported.add(run["dag_run_id"])
                tasks = standalone.unsuccessful_tasks(client, DEMO_DAG, run["dag_run_id"])
                log(f"run {run['dag_run_id']} failed: {', '.join(tasks)}")
        time.sleep(2)
    raise SetupError(f"no backfill run of {DEMO_DAG} succeeded within {timeout:.0f} s")


def incidents_in(start: datetime, end: datetime, data_end: datetime) -> list[str]:
    """The demo incidents whose windows overlap [start, end), as lines to print."""
    from include.monitoring.demo.generator import INCIDENTS

    lines = []
    for incident in INCIDENTS:
        onset, until = incident.window(data_end)
        if onset < end and until > start:
            lines.append(f"{'':13}{max(onset, start):%m-%d %H:%M} - {min(until, end):%m-%d %H:%M}  {incident.name}: "
                         f"{incident.description}")
    return lines


def print_banner(base_url: str, password: str, window: tuple[datetime, datetime], data_end: datetime) -> None:
    lines = [
        "",
        f"Airflow UI:  {base_url}    user: admin    password: {password}",
        f"             (the password is also in {(HOME / standalone.PASSWORD_FILE).relative_to(ROOT)})",
        f"Model health: {base_url}{URL_PREFIX}/fleet  (in the Airflow UI: Browse > Model health, and a",
        "             Model health tab on each monitor DAG and each of its runs; signed in as above)",
        "",
        f"Look at:     Dags > {DEMO_DAG} > Runs: the backfill fills the windows {window[0]:%m-%d %H:%M} - "
        f"{window[1]:%m-%d %H:%M} UTC,",
        f"             {BACKFILL_MAX_ACTIVE_RUNS} at a time; each task's logs show what it computed. A run whose window",
        "             had WARNING or CRITICAL findings has a note naming them (the grid marks its bar's corner).",
        f"             The metric store is {STORE.relative_to(ROOT)} (SQLite): tables monitor_runs, metric_values,",
        "             validation_results, alerts, notifications.",
        "             Demo incidents in that period (UTC):",
        *incidents_in(*window, data_end),
        f"Logs:        {(HOME / 'standalone.log').relative_to(ROOT)}",
        "",
        "Press Ctrl-C to stop Airflow.",
    ]
    print("\n".join(lines), flush=True)


# --- main ------------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, started: dict[str, subprocess.Popen]) -> int:
    port, hours = env_int("PORT", 8080), env_int("BACKFILL_HOURS", 24)
    base_url = f"http://localhost:{port}"
    if standalone.port_listening(port):
        raise SetupError(f"port {port} is already in use (another `make run`?); stop it or set PORT=<free port>")
    HOME.mkdir(exist_ok=True)
    DATA.mkdir(exist_ok=True)

    builder = None
    data_end = warehouse_end(WAREHOUSE)
    if args.rebuild or data_end is None or data_end < floor_hour(datetime.now(UTC)):
        data_end = floor_hour(datetime.now(UTC))
        log("building the demo warehouse in the background (14 days, ~12 s) ...")
        builder = started["warehouse build"] = start_warehouse_build(WAREHOUSE, data_end)
    else:
        log(f"demo warehouse {WAREHOUSE.relative_to(ROOT)} is current (data up to {data_end:%Y-%m-%d %H:%M} UTC)")

    # Connections and variables exported in the shell (say, a Slack token) reach Airflow; other Airflow
    # settings of the shell do not.
    env = standalone.standalone_env(HOME, port, ROOT, parallelism=PARALLELISM, inherit=("AIRFLOW_CONN_", "AIRFLOW_VAR_"))
    # The tasks set each run's note (its findings) through the REST API, as the local admin; one exported in
    # the shell wins.
    for name, value in standalone.api_connection_env(base_url, standalone.ensure_admin_password(HOME)).items():
        env.setdefault(name, value)
    # While a new warehouse is written and its reference fitted, the monitors stay paused (their backfill runs
    # wait queued) and Airflow starts meanwhile: its start-up (~20-35 s) no longer waits for them (~20 s).
    window = set_up_airflow(env, data_end, hours, unpause_monitors=builder is None)
    log(f"starting airflow standalone on port {port} (AIRFLOW_HOME={HOME.relative_to(ROOT)}) ...")
    proc = started["airflow"] = standalone.start(env, HOME / "standalone.log")
    if builder is not None:
        finish_warehouse_build(builder, WAREHOUSE)
        # Metrics, alerts and reference profiles of the previous warehouse describe data that is gone.
        STORE.unlink(missing_ok=True)
        if warehouse_end(WAREHOUSE) is None:
            raise SetupError(f"the new demo warehouse {WAREHOUSE} has no predictions")
        fit_reference(env)
    client = connect(proc, base_url)
    if builder is not None:
        unpause_monitors(client)

    if args.smoke:
        first = wait_first_success(client, proc, SMOKE_TIMEOUT)
        log(f"SMOKE OK: first successful backfill run {first['dag_run_id']} "
            f"{time.monotonic() - _started:.1f} s after start")
        return 0

    print_banner(base_url, standalone.admin_password(HOME), window, data_end)
    while proc.poll() is None:
        time.sleep(1)
    raise SetupError(f"airflow standalone exited with code {proc.returncode}; see {HOME / 'standalone.log'}")


def clean_up(started: dict[str, subprocess.Popen]) -> None:
    # A second Ctrl-C must not cut the clean-up short and leave Airflow running.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    builder = started.get("warehouse build")
    if builder is not None and builder.poll() is None:
        builder.kill()
        builder.wait(timeout=10)
    airflow = started.get("airflow")
    if airflow is not None:
        log("stopping Airflow (up to ~30 s when tasks are running) ...")
        try:
            standalone.stop(airflow)
        except standalone.AirflowError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return
        log("Airflow stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the monitoring demo on a local Airflow standalone.")
    parser.add_argument("--rebuild", action="store_true", help="write the demo warehouse even if it is current")
    parser.add_argument("--smoke", action="store_true",
                        help="stop after the first successful backfill run and print the time it took")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    # A shell that starts us in the background sets SIGINT to "ignore", and Python keeps that: restore Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started: dict[str, subprocess.Popen] = {}
    try:
        return run(args, started)
    except KeyboardInterrupt:
        print(flush=True)
        return 130
    except (SetupError, SettingsError, standalone.AirflowError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr, flush=True)
        if "airflow" in started:
            print(f"(Airflow's log: {HOME / 'standalone.log'})", file=sys.stderr)
        return 1
    finally:
        clean_up(started)


if __name__ == "__main__":
    sys.exit(main())
