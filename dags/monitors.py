"""One monitoring DAG per file in include/monitors/: wiring only.

Parsing stays cheap: this file imports Airflow, the stdlib-only config loader and nothing heavy.
Everything else is imported inside the task bodies. A broken monitor file becomes a DAG that shows
the error (in its description and docs) and fails with it, so the other models keep loading.
"""

from __future__ import annotations

import re
from datetime import timedelta

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
    )
    def monitor():
        @task(on_failure_callback=record_failure)
        def load_reference() -> str:
            from include.monitoring import tasks

            return tasks.load_reference(config)

        @task(pool="warehouse_pool", on_failure_callback=record_failure)
        def observe_window(reference_id: str) -> dict:
            from include.monitoring import tasks

            return tasks.observe_window(config, _window())

        @task(on_failure_callback=record_failure)
        def compute_drift(observation: dict) -> list:
            from include.monitoring import tasks

            return tasks.compute_drift(config, observation)

        @task(pool="warehouse_pool", on_failure_callback=record_failure)
        def compute_performance(reference_id: str) -> list:
            from include.monitoring import tasks

            return tasks.compute_performance(config, _window())

        @task(on_failure_callback=record_failure)
        def write_metrics(observation: dict, drift: list, performance: list) -> dict:
            from include.monitoring import tasks

            context = get_current_context()
            backfill = str(context["dag_run"].run_type) in ("backfill", "DagRunType.BACKFILL_JOB")
            return tasks.write_metrics(config, observation, drift, performance, context["run_id"],
                                       context["dag_run"].start_date, backfill=backfill)

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
        summary = write_metrics(observation, compute_drift(observation), compute_performance(reference_id))
        summary >> send_notifications()

    return monitor()


def build_broken_dag(model: str, error: ConfigError):
    message = str(error)

    @dag(
        dag_id=f"monitor_{model}",
        schedule=None,
        tags=[*TAGS, "config-error"],
        description=f"CONFIG ERROR: {message}"[:1000],
        doc_md=f"**This monitor's configuration is invalid.**\n\n```\n{message}\n```\n\nFix the file and the DAG reloads.",
    )
    def broken():
        @task
        def report_config_error() -> None:
            raise ConfigError(message)

        report_config_error()

    return broken()


_configs, _errors = load_all_monitors()
for _config in _configs:
    globals()[_config.dag_id] = build_monitor_dag(_config)
for _stem, _error in _errors.items():
    _model = re.sub(r"[^A-Za-z0-9_]", "_", _stem)
    globals()[f"monitor_{_model}"] = build_broken_dag(_model, _error)
