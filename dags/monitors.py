"""One monitoring DAG per file in include/monitors/: wiring only.

Parsing stays cheap: this file imports Airflow, the stdlib-only config loader and nothing heavy.
Everything else is imported inside the task bodies. A broken monitor file (invalid, or one whose DAG cannot be
built for any reason) becomes a DAG that shows the error (in its description and docs) and fails with it, so the
other models keep loading.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task

from include.monitoring.config import MonitorConfig, load_all_monitors
from include.monitoring.errors import ConfigError

TAGS = ["model-monitoring"]


def _window(context=None):
    from include.monitoring.types import Window

    context = context or get_current_context()
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:  # a run triggered with no logical date has no interval
        raise ConfigError("this run has no data interval; trigger it with a logical date (the window's end)")
    return Window(start, end)


def build_monitor_dag(config: MonitorConfig):
    def record_failure(context) -> None:
        """A task failed its last try: record the window as failed and open a CRITICAL alert, which
        send_notifications (it runs whatever happened upstream) delivers."""
        from include.monitoring import tasks

        tasks.record_failure(config, _window(context), context["task_instance"].task_id, context.get("exception"),
                             context["run_id"])

    default_args = {
        "owner": config.owner,
        "retries": config.retries,
        "retry_delay": timedelta(minutes=config.retry_delay_minutes),
        "execution_timeout": timedelta(minutes=config.timeout_minutes),
    }

    @dag(
        dag_id=config.dag_id,
        schedule=CronDataIntervalTimetable(config.cron, timezone="UTC"),
        start_date=config.start_datetime,
        catchup=False,
        max_active_runs=4,
        default_args=default_args,
        tags=[*TAGS, f"model:{config.model}"],
        description=config.description or f"Monitoring of {config.model}",
        doc_md=f"Monitor of model `{config.model}`, configured in `{config.source_file}`.",
        # Airflow finds the DAGs in this module's globals (build_all_dags). Auto-registration would also hand it a
        # DAG whose body raised half-way, beside the broken DAG that reports the error.
        auto_register=False,
    )
    def monitor():
        @task(on_failure_callback=record_failure)
        def load_reference() -> str:
            from include.monitoring import tasks

            return tasks.load_reference(config, _window())

        # These return a key of their data in the store and a summary; the tasks log what they did in words.
        # observe_window also computes the window's drift: a task of its own for ~40 ms of work cost more in task
        # start-up and scheduling than the work (bench/dag_overhead.py).
        @task(pool="warehouse_pool", on_failure_callback=record_failure, show_return_value_in_logs=False)
        def observe_window(reference_id: str) -> dict:
            from include.monitoring import tasks

            return tasks.observe_window(config, _window(), get_current_context()["run_id"], reference_id)

        @task(pool="warehouse_pool", on_failure_callback=record_failure, show_return_value_in_logs=False)
        def compute_performance(reference_id: str) -> dict:
            from include.monitoring import tasks

            return tasks.compute_performance(config, _window(), get_current_context()["run_id"], reference_id)

        @task(on_failure_callback=record_failure)
        def write_metrics(observation: dict, performance: dict) -> dict:
            from include.monitoring import tasks

            context = get_current_context()
            backfill = str(context["dag_run"].run_type) in ("backfill", "DagRunType.BACKFILL_JOB")
            started_at = context["dag_run"].start_date
            assert started_at is not None  # a running DAG run has started
            return tasks.write_metrics(config, observation, performance, context["run_id"], started_at,
                                       backfill=backfill)

        # All done: also after a failure, whose alert is in the outbox. One at a time per DAG: two deliveries
        # running side by side could both send a row that one of them is still sending.
        @task(trigger_rule="all_done", max_active_tis_per_dag=1)
        def send_notifications() -> dict:
            from urllib.parse import quote

            from airflow.sdk.exceptions import AirflowFailException

            from include.monitoring import tasks
            from include.monitoring.errors import WindowNotMonitoredError

            run_id = get_current_context()["run_id"]
            run_url = f"{config.alerts.airflow_base_url}/dags/{config.dag_id}/runs/{quote(run_id)}"
            try:
                return tasks.send_notifications(config, _window(), run_id, run_url)
            except WindowNotMonitoredError as exc:
                raise AirflowFailException(str(exc)) from exc  # no retry: the failure is recorded and alerted

        reference_id = load_reference()
        observation = observe_window(reference_id)
        summary = write_metrics(observation, compute_performance(reference_id))
        summary >> send_notifications()

    return monitor()


def build_broken_dag(dag_id: str, message: str):
    """A DAG that shows a file's error where users look (description, docs, tag config-error) and fails with it."""

    @dag(
        dag_id=dag_id,
        schedule=None,
        tags=[*TAGS, "config-error"],
        description=f"CONFIG ERROR: {message}"[:1000],
        doc_md=f"**This monitor's configuration is invalid.**\n\n```\n{message}\n```\n\nFix the file and the DAG reloads.",
        auto_register=False,
    )
    def broken():
        @task
        def report_config_error() -> None:
            raise ConfigError(message)

        report_config_error()

    return broken()


def broken_dag_id(file_name: str, taken: set[str]) -> str:
    """monitor_<file stem> as a valid, unused DAG id: a broken file never replaces a working DAG or another
    broken file's DAG (a.yaml beside a.yml, a-b.yaml beside a_b.yaml)."""
    stem = Path(file_name).stem
    base = "monitor_" + re.sub(r"[^A-Za-z0-9_]", "_", stem)[:200]  # DAG ids are limited to 250 characters
    dag_id, copy = base, 1
    while dag_id in taken:
        copy += 1
        dag_id = f"{base}_{copy}"
    return dag_id


def build_all_dags(directory: Path | None = None) -> dict[str, object]:
    """One DAG per monitor file, by DAG id. A file whose config is invalid, or whose DAG cannot be built for any
    other reason, becomes a broken DAG showing why; nothing in one file can stop the others from loading."""
    configs, errors = load_all_monitors(directory)
    messages = {file_name: str(error) for file_name, error in errors.items()}
    dags: dict[str, object] = {}
    for config in configs:
        try:
            dags[config.dag_id] = build_monitor_dag(config)
        except Exception as exc:  # noqa: BLE001 (one model's DAG must not cost the others theirs)
            file_name = Path(config.source_file).name
            messages[file_name] = f"{file_name}: the DAG could not be built: {type(exc).__name__}: {exc}"
    for file_name, message in sorted(messages.items()):
        dag_id = broken_dag_id(file_name, set(dags))
        dags[dag_id] = build_broken_dag(dag_id, message)
    return dags


globals().update(build_all_dags())
