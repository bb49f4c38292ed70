"""Run `airflow standalone` for a local demo (`make run`) or an end-to-end test, and drive it over REST v2.

Facts this relies on (Airflow 3.3, measured; see the reference notes):
- standalone starts scheduler, dag-processor, api-server and triggerer as child processes and stops
  them when it gets SIGINT. Started in its own session, its process group holds all of them.
- Workers reach the execution API through `[api] base_url`, so a non-default port also needs the base URL.
- The simple auth manager writes the generated admin password to a JSON file in AIRFLOW_HOME.
- New DAGs are paused: triggered and backfill runs stay queued until the DAG is unpaused.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
FINAL_RUN_STATES = ("success", "failed")
RETRY_STATUSES = (500, 502, 503, 504)
IDEMPOTENT_METHODS = ("GET", "PUT", "PATCH")
SCHEDULER_IDLE_SLEEP = 0.2  # seconds; see standalone_env
# Inherited settings that would point the subprocesses at another installation or a test mode.
_INHERITED_PREFIXES = ("AIRFLOW_", "_AIRFLOW")


class AirflowError(RuntimeError):
    """Standalone did not come up, or a REST call or a run did not go as expected."""


class ApiError(AirflowError):
    def __init__(self, method: str, path: str, status: int, detail: str):
        super().__init__(f"{method} {path} -> HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


# --- processes -------------------------------------------------------------------------------------------------------


def venv_bin() -> Path:
    """The directory of the running interpreter's `airflow` (not resolved: a venv's python is a symlink)."""
    return Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def standalone_env(home: Path | str, port: int, project_root: Path | str, parallelism: int = 4,
                   log_ports: tuple[int, int] | None = None, inherit: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of `airflow standalone` and of the `airflow` commands that prepare its home.

    Built from the caller's environment minus every Airflow variable, so a test session's or a shell's
    AIRFLOW_HOME, UNIT_TEST_MODE or connections cannot leak in; the result is fully described here.
    `inherit` keeps variables with these prefixes, e.g. ("AIRFLOW_CONN_",) for a developer's own secrets.
    """
    home, root = Path(home).resolve(), Path(project_root).resolve()
    worker_log_port, trigger_log_port = log_ports or (free_port(), free_port())
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(_INHERITED_PREFIXES) or (inherit and name.startswith(inherit))}
    env.update({
        # standalone starts its components as `airflow ...` found on PATH: make that the venv's.
        "PATH": os.pathsep.join([str(venv_bin()), env.get("PATH", "")]),
        "PYTHONPATH": str(root),  # `from include.monitoring import ...`, as Astro Runtime does
        "PYTHONUNBUFFERED": "1",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # LocalExecutor whose task processes start with pandas, SciPy, SQLAlchemy, GX and the task runtime imported
        # (scripts/local_executor.py): they cost every task 1.5-5 s, 8 s for a worker's first task.
        "AIRFLOW__CORE__EXECUTOR": "scripts.local_executor.PreloadingLocalExecutor",
        # The scheduler sleeps this long after a loop that found nothing to do (default 1 s), and a finished task's
        # downstream is queued by the next loop: up to a second per step of a run. The shorter sleep is a few more
        # cheap queries a second on the local SQLite database. Option of Airflow 3.3's [scheduler] section.
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": str(SCHEDULER_IDLE_SLEEP),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        # The default of 32 forks 32 LocalExecutor workers (~4 GB).
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # callers unpause what they want to run
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        # Without it task workers call the execution API on :8080 and fail with "connection refused".
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        # Log servers listen on all interfaces; free ports keep two instances (make run + a test) apart.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_log_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
        # Exactly admin:admin makes standalone generate the password and store it in PASSWORD_FILE.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORD_FILE),
    })
    return env


def write_config(env: Mapping[str, str]) -> Path:
    """Put the `AIRFLOW__<SECTION>__<KEY>` settings of `env` into `$AIRFLOW_HOME/airflow.cfg`.

    Airflow generates that file with its defaults (dags_folder = $AIRFLOW_HOME/dags, ...) the first time a
    command runs; the processes started here override it with environment variables, so a person who opens a
    shell with only AIRFLOW_HOME set (`airflow dags list`) would see another installation. Lines are edited in
    place, keeping Airflow's comments; a key the file lacks is added at the top of its section.
    """
    path = Path(env["AIRFLOW_HOME"]) / "airflow.cfg"
    lines = path.read_text().splitlines() if path.exists() else []
    for (section, key), value in sorted(_settings(env).items()):
        lines = _set_option(lines, section, key, value)
    path.write_text("\n".join(lines) + "\n")
    return path


def _settings(env: Mapping[str, str]) -> dict[tuple[str, str], str]:
    settings = {}
    for name, value in env.items():
        parts = name.split("__")
        if len(parts) == 3 and parts[0] == "AIRFLOW" and parts[1] and parts[2]:
            settings[(parts[1].lower(), parts[2].lower())] = value.replace("%", "%%")  # the file's interpolation
    return settings


def _set_option(lines: list[str], section: str, key: str, value: str) -> list[str]:
    header = f"[{section}]"
    if header not in (line.strip() for line in lines):
        return [*lines, "", header, f"{key} = {value}"]
    start = next(i for i, line in enumerate(lines) if line.strip() == header)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines))
    for i in range(start + 1, end):
        name = lines[i].split("=", 1)[0].strip()
        if "=" in lines[i] and not lines[i].lstrip().startswith(("#", ";")) and name == key:
            return [*lines[:i], f"{key} = {value}", *lines[i + 1:]]
    return [*lines[:start + 1], f"{key} = {value}", *lines[start + 1:]]


def run_airflow(args: list[str], env: Mapping[str, str], timeout: float = 300) -> str:
    """Run one `airflow` command of the venv; its output, or AirflowError with the output's tail."""
    command = [str(venv_bin() / "airflow"), *args]
    try:
        result = subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AirflowError(f"`airflow {' '.join(args)}` did not finish within {timeout:.0f} s") from None
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip()[-3000:]
        raise AirflowError(f"`airflow {' '.join(args)}` failed (exit {result.returncode}):\n{tail}")
    return result.stdout


# Runs `airflow` CLI commands, given as JSON argument lists, one after the other in this one interpreter, as
# `airflow` itself would (airflow/__main__.py: configuration first, the default airflow.cfg written if missing).
_CLI_DRIVER = """
import json, sys
from airflow import configuration  # first, as airflow/__main__.py does
from airflow.cli import cli_parser
from airflow.configuration import write_default_airflow_configuration_if_needed

write_default_airflow_configuration_if_needed()
parser = cli_parser.get_parser()
for argv in json.loads(sys.argv[1]):
    print("$ airflow " + " ".join(argv), flush=True)
    args = parser.parse_args(argv)
    args.func(args)
"""


def run_airflow_commands(commands: list[list[str]], env: Mapping[str, str], timeout: float = 300) -> str:
    """Several `airflow` commands in one process, in order; the output, or AirflowError naming the command that
    failed. Each `airflow` process first spends 2-4 s importing Airflow and building its CLI: `make run`'s seven
    set-up commands cost ~15 s that way."""
    if not commands:
        return ""
    command = [sys.executable, "-c", _CLI_DRIVER, json.dumps(commands)]
    try:
        result = subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AirflowError(f"the airflow commands {commands} did not finish within {timeout:.0f} s") from None
    if result.returncode != 0:
        ran = [line for line in result.stdout.splitlines() if line.startswith("$ airflow ")]
        tail = (result.stdout + result.stderr).strip()[-3000:]
        raise AirflowError(f"`{ran[-1][2:] if ran else 'airflow'}` failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def start(env: Mapping[str, str], log_path: Path | str) -> subprocess.Popen:
    """Start `airflow standalone` in a new session: its process group holds every component, so `stop`
    can reach all of them, and a Ctrl-C in the caller's terminal does not hit them behind its back."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen([str(venv_bin() / "airflow"), "standalone"], env=dict(env), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group. Zombies are skipped: a kill(pgid, 0) probe would
    count them, and a container's init may never reap the orphans."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: fall back to the signal probe
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _wait_group_empty(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_members(pgid):
            return True
        time.sleep(0.2)
    return not _group_members(pgid)


def stop(proc: subprocess.Popen, grace: float = 15, term_grace: float = 10) -> None:
    """Stop standalone and every process it started: SIGINT to standalone (its own shutdown), then SIGTERM
    and finally SIGKILL to whatever is left in its process group. Every wait is bounded (~40 s in all).

    SIGINT goes to the parent only: standalone then SIGTERMs each component, which took 4-6 s when idle.
    SIGINT to the whole group (what a terminal's Ctrl-C does) was measured to hang: after 80 s the
    scheduler and its idle LocalExecutor workers, which had received the SIGINT themselves, were still up.
    With tasks in flight the scheduler waits for them, but the api-server is already gone, so they only
    retry their final state update for ~30 s and fail anyway: waiting longer than `grace` gains nothing.
    """
    pgid = proc.pid  # start_new_session made the child its group's leader
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    # The parent has exited (or hangs); components and task workers may still be finishing.
    if not _wait_group_empty(pgid, 2):
        _signal_group(pgid, signal.SIGTERM)
        if not _wait_group_empty(pgid, term_grace):
            _signal_group(pgid, signal.SIGKILL)
            _wait_group_empty(pgid, 5)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    left = _group_members(pgid)
    if left:
        raise AirflowError(f"processes {left} of the standalone process group survived SIGKILL")


def ensure_admin_password(home: Path | str) -> str:
    """The admin's password, chosen now when the home has none yet. Known before Airflow starts, it can be
    handed to the tasks as the `airflow_api` connection (`api_connection_env`); the simple auth manager keeps
    the passwords it finds in its file and generates only missing ones."""
    import secrets

    path = Path(home) / PASSWORD_FILE
    passwords = json.loads(path.read_text()) if path.exists() and path.read_text().strip() else {}
    if not passwords.get("admin"):
        passwords["admin"] = secrets.token_urlsafe(12)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(passwords) + "\n")
        path.chmod(0o600)
    return passwords["admin"]


def api_connection_env(base_url: str, password: str) -> dict[str, str]:
    """The `airflow_api` connection with which a monitor's last task sets its run's note through the REST API
    (include/monitoring/run_note.py): the local admin, in an environment variable (no database needed)."""
    return {"AIRFLOW_CONN_AIRFLOW_API": json.dumps(
        {"conn_type": "http", "host": base_url, "login": "admin", "password": password})}


# --- REST API --------------------------------------------------------------------------------------------------------


def _http_json(request: urllib.request.Request, timeout: float) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        try:
            detail = json.loads(body).get("detail", body)
        except (ValueError, AttributeError):
            detail = body
        return exc.code, detail


def wait_healthy(base_url: str, timeout: float = 180, proc: subprocess.Popen | None = None,
                 components: tuple[str, ...] = ("metadatabase", "scheduler", "dag_processor")) -> dict[str, Any]:
    """Poll /api/v2/monitor/health until the API answers and `components` report healthy.
    With `proc`, give up at once if standalone exits."""
    url = f"{base_url.rstrip('/')}/api/v2/monitor/health"
    deadline = time.monotonic() + timeout
    last: Any = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AirflowError(f"airflow standalone exited with code {proc.returncode} before it was healthy")
        try:
            status, body = _http_json(urllib.request.Request(url), timeout=5)
        except OSError as exc:  # not listening yet
            status, body = 0, str(exc)
        if status == 200 and all((body.get(name) or {}).get("status") == "healthy" for name in components):
            return body
        last = body
        time.sleep(1)
    raise AirflowError(f"{url} not healthy after {timeout:.0f} s; last answer: {last}")


def admin_password(home: Path | str) -> str:
    path = Path(home) / PASSWORD_FILE
    try:
        return json.loads(path.read_text())["admin"]
    except (OSError, ValueError, KeyError) as exc:
        raise AirflowError(f"cannot read the admin password from {path}: {exc}") from None


class RestClient:
    """JSON over Airflow's REST API v2 with a JWT from POST /auth/token (urllib: no extra dependency)."""

    def __init__(self, base_url: str, user: str, password: str, timeout: float = 30, attempts: int = 5):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self._credentials = {"username": user, "password": password}
        self._token = self._login()

    def _login(self) -> str:
        request = urllib.request.Request(f"{self.base_url}/auth/token", data=json.dumps(self._credentials).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        status, body = _http_json(request, self.timeout)
        if status not in (200, 201):
            raise ApiError("POST", "/auth/token", status, str(body))
        return body["access_token"]

    def request(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        url = f"{self.base_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(url, data=data, method=method, headers={
                "Authorization": f"Bearer {self._token}", "Content-Type": "application/json",
                "Accept": "application/json"})
            try:
                status, answer = _http_json(request, self.timeout)
            except OSError as exc:  # refused, reset or timed out: the api-server is gone or overloaded
                raise AirflowError(f"{method} {path}: {exc}") from None
            if status == 401 and attempt == 1:  # the token expired: log in again once
                self._token = self._login()
                continue
            # On SQLite the api-server answers 500/503 when the scheduler holds the write lock (measured
            # under a busy backfill). Only idempotent calls are repeated: a POST /backfills that answered
            # 503 had already committed the backfill, and its repetition got 409.
            if status in RETRY_STATUSES and method in IDEMPOTENT_METHODS and attempt < self.attempts:
                time.sleep(attempt)
                continue
            if status >= 400:
                raise ApiError(method, path, status, answer if isinstance(answer, str) else json.dumps(answer))
            return answer
        raise AssertionError("unreachable")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def patch(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("PATCH", path, body, params=params)

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, body)


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def wait_for_dag(client: RestClient, dag_id: str, timeout: float = 180) -> dict[str, Any]:
    """The DAG, once the dag-processor has parsed and serialized it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.get(f"/api/v2/dags/{_quote(dag_id)}")
        except ApiError as exc:
            if exc.status != 404:
                raise
        if time.monotonic() >= deadline:
            break
        time.sleep(1)
    errors = client.get("/api/v2/importErrors").get("import_errors", [])
    details = "; ".join(f"{e.get('filename')}: {str(e.get('stack_trace', '')).strip()[-500:]}" for e in errors)
    raise AirflowError(f"DAG {dag_id} did not appear within {timeout:.0f} s" + (f"; import errors: {details}" if details else ""))




def unpause(client: RestClient, dag_id: str) -> None:
    client.patch(f"/api/v2/dags/{_quote(dag_id)}", {"is_paused": False})


def trigger(client: RestClient, dag_id: str, run_id: str, logical_date_iso: str) -> dict[str, Any]:
    """A manual run. Its data interval is the schedule's interval that ends at `logical_date_iso`
    (hourly: [X - 1 h, X)), unlike scheduled and backfill runs whose interval starts there."""
    return client.post(f"/api/v2/dags/{_quote(dag_id)}/dagRuns",
                       {"dag_run_id": run_id, "logical_date": logical_date_iso, "conf": {}})


def dag_runs(client: RestClient, dag_id: str, **filters: Any) -> list[dict[str, Any]]:
    """Runs of a DAG; filters are query parameters such as run_type="backfill", state="success", limit=1."""
    return client.get(f"/api/v2/dags/{_quote(dag_id)}/dagRuns", **filters)["dag_runs"]


def unsuccessful_tasks(client: RestClient, dag_id: str, run_id: str) -> list[str]:
    """`task=state` for the run's tasks that have a state other than success or skipped."""
    answer = client.get(f"/api/v2/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances")
    return [f"{ti['task_id']}={ti['state']}" for ti in answer["task_instances"]
            if ti["state"] not in ("success", "skipped", None)]


def wait_for_run(client: RestClient, dag_id: str, run_id: str, timeout: float = 300) -> str:
    """The run's final state (success or failed); AirflowError if it is still going after `timeout`."""
    deadline = time.monotonic() + timeout
    path = f"/api/v2/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}"
    while True:
        state = client.get(path)["state"]
        if state in FINAL_RUN_STATES:
            return state
        if time.monotonic() >= deadline:
            raise AirflowError(f"run {run_id} of {dag_id} still {state} after {timeout:.0f} s; "
                               f"unfinished tasks: {unsuccessful_tasks(client, dag_id, run_id)}")
        time.sleep(1)
