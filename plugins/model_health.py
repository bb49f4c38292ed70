"""Model health in Airflow's UI: a thin plugin; the pages live in include/monitoring/ui.

The API server mounts the FastAPI app under /model-health; the external views put its pages in Airflow's own UI
(a "Model health" nav entry, a tab on every DAG and on every DAG run; Airflow fills {DAG_ID} and {RUN_ID}).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from include.monitoring.ui.app import create_app
from include.monitoring.ui.views import EXTERNAL_VIEWS, URL_PREFIX


class ModelHealthPlugin(AirflowPlugin):
    name = "model_health"
    fastapi_apps = [{"name": "model_health", "app": create_app(), "url_prefix": URL_PREFIX}]
    external_views = EXTERNAL_VIEWS
