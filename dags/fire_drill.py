"""`monitoring_fire_drill`: test your alerts. Triggered by hand, it sends a test notification through every route
of every monitor (Slack channels, PagerDuty, the log) and reports, per model, which worked: a task per model,
green when each configured channel answered, red naming the ones that failed."""

from __future__ import annotations

from airflow.sdk import dag, get_current_context, task

from include.monitoring.config import MonitorConfig, load_all_monitors


def drill_task(config: MonitorConfig):
    @task(task_id=f"drill_{config.model}", retries=0)
    def drill() -> dict:
        from urllib.parse import quote

        from include.monitoring import tasks

        run_id = get_current_context()["run_id"]
        return tasks.fire_drill(config, f"{config.alerts.airflow_base_url}/dags/monitoring_fire_drill/runs/{quote(run_id)}")

    return drill()


@dag(dag_id="monitoring_fire_drill", schedule=None, tags=["model-monitoring", "fire-drill"],
     description="Send a test notification through every alert route of every monitor and report which worked")
def monitoring_fire_drill():
    for config in load_all_monitors()[0]:
        drill_task(config)


monitoring_fire_drill()
