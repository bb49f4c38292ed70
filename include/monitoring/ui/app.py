"""The FastAPI app of the Model health pages, mounted by the Airflow API server under URL_PREFIX.

Pages (HTML, shown inside Airflow's UI as external views) and the JSON endpoints behind them:

    GET /model-health/fleet                         GET /model-health/api/fleet
    GET /model-health/models/{dag_id}?range=7d      GET /model-health/api/models/{dag_id}?range=7d
    GET /model-health/models/{dag_id}/runs/{run_id} GET /model-health/api/models/{dag_id}/runs/{run_id}

Who may read: the Airflow user of the request (a bearer token, or the UI's session cookie), resolved and
authorized by the API server's auth manager: a model's pages need read access to its monitor DAG, the fleet lists
only the models whose DAG the user may read. No token: 401; an invalid one or no access: 403.

    GET /model-health/metrics                       Prometheus exposition (metrics.py)

is read with a user's token like the fleet (only the models whose DAG the user may read), or with the scrape token,
the password of the `model_health_scrape` connection, which reads every model: Airflow's own tokens expire (after a
day by default, [api_auth] jwt_expiration_time), and a Prometheus scrape config holds one credential for good.

The store is the `monitoring_store` Airflow connection, as for the tasks. Airflow, SQLAlchemy and the store are
imported inside the handlers: the plugin that imports this module is loaded by the scheduler too.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

STORE_CONN_ID = "monitoring_store"
DEFAULT_RANGE = "24h"


def create_app(store_engine: Any = None) -> FastAPI:
    """`store_engine` (a SQLAlchemy engine) replaces the `monitoring_store` connection, for tests and benchmarks."""
    app = FastAPI(title="Model health", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store_engine = store_engine
    app.add_exception_handler(HTTPException, _error_answer)
    _add_routes(app)
    return app


async def _error_answer(request: Request, exc: Exception) -> Any:
    """JSON for the endpoints; for the pages, a short HTML page with the same status, since Airflow shows them in
    a frame (the Model tab appears on every DAG, including those that are no monitor)."""
    from fastapi.exception_handlers import http_exception_handler

    from include.monitoring.ui import render

    # Starlette types every handler as taking any Exception; this one is registered for HTTPException only.
    assert isinstance(exc, HTTPException)
    if "/api/" in request.url.path:
        return await http_exception_handler(request, exc)
    return HTMLResponse(render.page("Model health", f"<p>{render.text(exc.detail)}</p>"), status_code=exc.status_code,
                        headers=exc.headers)


@functools.cache
def _engine_of_connection() -> Any:
    from include.monitoring.airflow_adapters import engine_for

    return engine_for(STORE_CONN_ID)


def store(request: Request) -> Any:
    return request.app.state.store_engine or _engine_of_connection()


async def current_user(request: Request) -> Any:
    """The request's Airflow user, through the API server's own resolution (bearer token first, then the UI's
    JWT cookie); raises 401 without credentials and 403 for an invalid token."""
    from airflow.api_fastapi.core_api import security

    credentials = await security.bearer_scheme(request)
    return await security.get_user(request, None, credentials)


def may_read_dag(user: Any, dag_id: str, runs: bool = False) -> bool:
    """The auth manager's answer for reading the DAG (its runs, with `runs`), given the DAG's team as the REST
    API gives it, so multi-team deployments decide the same for these pages as for the DAG's own."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.models.dag import DagModel

    details = DagDetails(id=dag_id, team_name=DagModel.get_team_name(dag_id))
    return get_auth_manager().is_authorized_dag(method="GET", user=user, details=details,
                                                access_entity=DagAccessEntity.RUN if runs else None)


def monitored_models() -> dict[str, Any]:
    """{dag_id: ModelRef} of every valid monitor file, read at each request so a new file shows without a restart."""
    from include.monitoring.config import load_all_monitors
    from include.monitoring.ui.queries import ModelRef

    configs, _errors = load_all_monitors()
    return {config.dag_id: ModelRef(config.model, config.dag_id, config.performance_metrics[0])
            for config in configs}


def readable_model(request: Request, dag_id: str, user: Any = Depends(current_user)) -> Any:
    """The ModelRef of a monitor DAG the user may read; 403 before revealing whether the DAG is a monitor."""
    if not may_read_dag(user, dag_id, runs="run_id" in request.path_params):
        raise HTTPException(status_code=403, detail=f"no read access to DAG {dag_id!r}")
    ref = monitored_models().get(dag_id)
    if ref is None:
        raise HTTPException(status_code=404, detail=f"{dag_id!r} is not a model monitor DAG")
    return ref


def fleet_data(request: Request, user: Any = Depends(current_user)) -> list[dict[str, Any]]:
    from include.monitoring.ui import queries

    refs = [ref for dag_id, ref in monitored_models().items() if may_read_dag(user, dag_id)]
    with store(request).connect() as conn:
        return queries.fleet(conn, refs, now=datetime.now(UTC))


def model_data(request: Request, ref: Any = Depends(readable_model),
               range_name: str = Query(DEFAULT_RANGE, alias="range", pattern="^(24h|7d|30d)$")) -> dict[str, Any]:
    from include.monitoring.ui import queries

    until = _latest_window_end(request, ref.model) or datetime.now(UTC)
    with store(request).connect() as conn:
        return queries.model_history(conn, ref, until - queries.RANGES[range_name], until)


def _latest_window_end(request: Request, model: str) -> datetime | None:
    """Ranges end at the model's last window, so a replayed or paused monitor still shows its data."""
    from include.monitoring.ui import queries

    with store(request).connect() as conn:
        last = queries.latest_run(conn, model)
    return datetime.fromisoformat(last["window_end"]) if last else None


def window_data(request: Request, run_id: str, ref: Any = Depends(readable_model)) -> dict[str, Any]:
    from include.monitoring.ui import queries

    with store(request).connect() as conn:
        run = queries.run_by_dag_run_id(conn, ref.model, run_id)
        if run is None:
            raise HTTPException(status_code=404, detail=f"DAG run {run_id!r} wrote no window of {ref.model!r}")
        return queries.window_detail(conn, ref.model, run)


SCRAPE_CONN_ID = "model_health_scrape"
SCRAPER = object()  # the caller of /metrics that presented the scrape token: reads every model


async def metrics_caller(request: Request) -> Any:
    """SCRAPER when the bearer token is the scrape token; otherwise the request's Airflow user (401, 403 as for
    the pages)."""
    from starlette.concurrency import run_in_threadpool

    if await run_in_threadpool(_is_scrape_token, request):  # the connection lookup may read the metadata database
        return SCRAPER
    return await current_user(request)


def _is_scrape_token(request: Request) -> bool:
    import hmac

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = _scrape_token()
    if not expected:
        return False
    # compare_digest: the time taken does not tell how much of a guess was right
    return scheme.lower() == "bearer" and bool(token) and hmac.compare_digest(token.encode(), expected.encode())


def _scrape_token() -> str | None:
    """The password of the scrape connection; None when the connection (or its password) is not set, and then
    only user tokens are accepted."""
    from include.monitoring.airflow_adapters import get_connection
    from include.monitoring.errors import ConnectionConfigError

    try:
        return get_connection(SCRAPE_CONN_ID).password or None
    except ConnectionConfigError:
        return None


def metrics_text(request: Request, caller: Any = Depends(metrics_caller)) -> bytes:
    from include.monitoring.ui import metrics

    models = [ref.model for dag_id, ref in monitored_models().items()
              if caller is SCRAPER or may_read_dag(caller, dag_id)]
    with store(request).connect() as conn:
        return metrics.exposition(conn, models)


def _add_routes(app: FastAPI) -> None:
    from include.monitoring.ui import render

    def prefix(request: Request) -> str:
        root_path: str = request.scope.get("root_path", "")
        return root_path

    @app.get("/api/fleet")
    def fleet_json(data: list[dict[str, Any]] = Depends(fleet_data)) -> list[dict[str, Any]]:
        return data

    @app.get("/api/models/{dag_id}")
    def model_json(data: dict[str, Any] = Depends(model_data)) -> dict[str, Any]:
        return data

    @app.get("/api/models/{dag_id}/runs/{run_id}")
    def window_json(data: dict[str, Any] = Depends(window_data)) -> dict[str, Any]:
        return data

    @app.get("/fleet", response_class=HTMLResponse)
    def fleet_html(request: Request, data: list[dict[str, Any]] = Depends(fleet_data)) -> str:
        return render.fleet_page(data, prefix(request))

    @app.get("/models/{dag_id}", response_class=HTMLResponse)
    def model_html(request: Request, data: dict[str, Any] = Depends(model_data),
                   range_name: str = Query(DEFAULT_RANGE, alias="range")) -> str:
        from include.monitoring.ui.queries import RANGES

        return render.model_page(data, prefix(request), range_name, RANGES)

    @app.get("/models/{dag_id}/runs/{run_id}", response_class=HTMLResponse)
    def window_html(data: dict[str, Any] = Depends(window_data)) -> str:
        return render.window_page(data)

    @app.get("/metrics")
    def prometheus_metrics(text: bytes = Depends(metrics_text)) -> Response:
        from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

        # Every name here is a classic one, so the text is the 0.0.4 format that all Prometheus versions parse; it
        # says so rather than announce CONTENT_TYPE_LATEST's 1.0.0 (UTF-8 names), which it does not use.
        return Response(text, media_type=CONTENT_TYPE_PLAIN_0_0_4)
