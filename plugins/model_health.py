"""Model health in Airflow's UI: a thin plugin; the pages live in include/monitoring/ui.

The API server mounts the FastAPI app under /model-health; the external views put its pages in Airflow's own UI
(a "Model health" nav entry, a tab on every DAG and on every DAG run; Airflow fills {DAG_ID} and {RUN_ID}).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from include.monitoring.ui.app import URL_PREFIX, create_app


class ModelHealthPlugin(AirflowPlugin):
    name = "model_health"
    fastapi_apps = [{"name": "model_health", "app": create_app(), "url_prefix": URL_PREFIX}]
    external_views = [
        {"name": "Model health", "href": f"{URL_PREFIX}/fleet", "destination": "nav", "url_route": "model_health",
         "category": "browse"},
        {"name": "Model health", "href": f"{URL_PREFIX}/models/{{DAG_ID}}", "destination": "dag",
         "url_route": "model_health_dag"},
        {"name": "Model health", "href": f"{URL_PREFIX}/models/{{DAG_ID}}/runs/{{RUN_ID}}", "destination": "dag_run",
         "url_route": "model_health_run"},
    ]
