"""The LocalExecutor of `make run` and the standalone tests, with the task libraries imported once.

Every LocalExecutor task runs in a process forked from one of the executor's workers, and the workers are forked
from the scheduler when the executor starts (Linux's default `fork` start method; the task SDK's supervisor then
forks the task from the worker with `os.fork`). A task process therefore starts with whatever the scheduler had
imported, and imports the rest itself, every time: measured in `make run`'s backfill, the first task of each worker
spent 7.7 s loading the task runtime, and every monitor task paid pandas, SciPy and SQLAlchemy (~1.5 s), the
validating one Great Expectations too (3.3-4.9 s). Importing them here, before the workers are forked, makes that a
one-off cost of the scheduler's start; the forked workers share the pages.

The project's own modules (include/) are not preloaded: they import in ~0.2 s once these are loaded, and a task
then always runs the code on disk, so an edit needs no restart of Airflow.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import time

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
)
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


class PreloadingLocalExecutor(LocalExecutor):
    """LocalExecutor whose workers (and so every task process) start with PRELOADED_MODULES imported."""

    def start(self) -> None:
        # Only a forked worker inherits the imports; with `spawn` they would cost the scheduler for nothing.
        if multiprocessing.get_start_method() == "fork":
            took = preload()
            self.log.info("preloaded for the task processes in %.1f s: %s", sum(took.values()), ", ".join(took))
        super().start()
