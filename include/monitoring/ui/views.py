"""Where Airflow's own UI shows the Model health pages: the plugin's external views and the UI addresses of them.

Airflow's UI frames a view's `href` at /plugin/<url_route> (nav), /dags/<dag>/plugin/<url_route> (a DAG tab) and
/dags/<dag>/runs/<run>/plugin/<url_route> (a run tab), in a sandboxed frame: links inside our pages can only
navigate that frame.
"""

from __future__ import annotations

from urllib.parse import quote

URL_PREFIX = "/model-health"
NAV_ROUTE, DAG_TAB_ROUTE, RUN_TAB_ROUTE = "model_health", "model_health_dag", "model_health_run"

EXTERNAL_VIEWS = [
    {"name": "Model health", "href": f"{URL_PREFIX}/fleet", "destination": "nav", "url_route": NAV_ROUTE,
     "category": "browse"},
    {"name": "Model health", "href": f"{URL_PREFIX}/models/{{DAG_ID}}", "destination": "dag",
     "url_route": DAG_TAB_ROUTE},
    {"name": "Model health", "href": f"{URL_PREFIX}/models/{{DAG_ID}}/runs/{{RUN_ID}}", "destination": "dag_run",
     "url_route": RUN_TAB_ROUTE},
]


def _part(value: str) -> str:
    return quote(value, safe="")


def dag_tab(dag_id: str) -> str:
    return f"/dags/{_part(dag_id)}/plugin/{DAG_TAB_ROUTE}"


def run_tab(dag_id: str, run_id: str) -> str:
    return f"/dags/{_part(dag_id)}/runs/{_part(run_id)}/plugin/{RUN_TAB_ROUTE}"
