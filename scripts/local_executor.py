"""The LocalExecutor of `make run` and the standalone tests, with the task libraries imported once.

Every LocalExecutor task runs in a process forked from one of the executor's workers, and the workers are forked
from the scheduler when the executor starts (Linux's default `fork` start method; the task SDK's supervisor then
forks the task from the worker with `os.fork`). A task process therefore starts with whatever the scheduler had
imported, and imports the rest itself, every time: measured in `make run`'s backfill, the first task of each worker
spent 7.7 s loading the task runtime, and every monitor task paid pandas, SciPy and SQLAlchemy (~1.5 s), the
validating one Great Expectations too (3.3-4.9 s). Importing them here, before the workers are forked, makes that a
one-off cost of the scheduler's start; the forked workers share the pages.

The project's own modules (include/) are not preloaded: they import in ~0.2 s once these are loaded, and a task
then always runs the code on disk, so an edit needs no restart of Airflow. They are byte-compiled here instead
(`compile_project`): with PYTHONDONTWRITEBYTECODE set, as container images often do, no task process ever writes a
module's .pyc, so every task compiled the ~70 modules it imports and the DAG file from source (0.1-0.2 s a task).
Python checks a .pyc against its source's mtime and size on import, so an edited module is still read from its
source; the next start of the scheduler compiles it again.
"""

from __future__ import annotations

import compileall
import importlib
import logging
import multiprocessing
import time
from collections.abc import Iterable
from pathlib import Path

from airflow.executors.local_executor import LocalExecutor

# What every monitor task imports and nothing in the scheduler needs. Third-party only (see above).
PRELOADED_MODULES = (
    "airflow.sdk.execution_time.supervisor",  # what a worker runs for every task
    "airflow.sdk.execution_time.task_runner",  # what the forked task process runs
    "numpy",
    "pandas",
    "scipy.stats",
    "sqlalchemy",
    "great_expectations",
    "slack_sdk",  # every task imports the notifiers (include/monitoring/airflow_adapters.py): 36 modules
    "slack_sdk.http_retry",
    "slack_sdk.web",
    "slack_sdk.webhook",
    "statistics",
)
# The project's code a task process imports: the package and the DAG files (the dags folder is added at start).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMPILED_DIRECTORIES = (PROJECT_ROOT / "include",)
# GX logs one INFO line per API function it registers at import: hundreds of lines in the scheduler's log.
_QUIET_WHILE_IMPORTING = ("great_expectations",)


def preload(modules: tuple[str, ...] = PRELOADED_MODULES) -> dict[str, float]:
    """Import `modules`; seconds each took. A module that fails to import is left to the task that needs it,
    whose log then shows the error where the user looks."""
    quiet = {name: logging.getLogger(name).level for name in _QUIET_WHILE_IMPORTING}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    took = {}
    try:
        for module in modules:
            started = time.perf_counter()
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 (an optimisation must not stop the scheduler)
                continue
            took[module] = time.perf_counter() - started
    finally:
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    return took


def compile_project(directories: Iterable[Path]) -> bool:
    """Byte-compile the modules under `directories` into their __pycache__ (only those whose .pyc is missing or older
    than the source); False when one could not be compiled or written (a read-only checkout: its tasks compile it
    themselves, as before)."""
    ok = True
    for directory in directories:
        try:
            ok = bool(compileall.compile_dir(directory, quiet=2)) and ok
        except OSError:
            ok = False
    return ok


class PreloadingLocalExecutor(LocalExecutor):
    """LocalExecutor whose workers (and so every task process) start with PRELOADED_MODULES imported, and whose task
    processes read the project's modules byte-compiled."""

    def start(self) -> None:
        # Only a forked worker inherits the imports; with `spawn` they would cost the scheduler for nothing.
        if multiprocessing.get_start_method() == "fork":
            took = preload()
            self.log.info("preloaded for the task processes in %.1f s: %s", sum(took.values()), ", ".join(took))
        from airflow.configuration import conf

        started = time.perf_counter()
        compiled = compile_project([*COMPILED_DIRECTORIES, Path(conf.get("core", "dags_folder"))])
        self.log.info("byte-compiled the project's modules in %.1f s%s", time.perf_counter() - started,
                      "" if compiled else " (some could not be compiled or written: their tasks compile them)")
        super().start()
