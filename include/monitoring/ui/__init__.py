"""Model health in the Airflow UI: the pages and JSON endpoints that plugins/model_health.py registers.

`queries` reads the store, `render` turns its results into escaped HTML, `app` is the FastAPI app the Airflow API
server mounts, with access checked by Airflow's own auth manager.
"""
