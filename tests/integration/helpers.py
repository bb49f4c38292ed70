"""Shared by the integration tests: running the demo DAG with dag.test() and reading the metric store."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

DAG_ID = "monitor_credit_default"


def set_connections(monkeypatch, warehouse: dict, store: dict, slack_base_url: str | None) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(warehouse))
    monkeypatch.setenv("AIRFLOW_CONN_MONITORING_STORE", json.dumps(store))
    if slack_base_url:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_ALERTS", json.dumps(
            {"conn_type": "slack", "password": "xoxb-test-token", "extra": {"base_url": slack_base_url}}))


def run_dag(dagbag, window_end: datetime):
    """dag.test() of the demo monitor for the window that ends at `window_end` (a manual run with
    logical date X covers [X - 1 h, X))."""
    from airflow.utils.state import DagRunState

    run = dagbag.dags[DAG_ID].test(logical_date=window_end)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.SUCCESS, states
    return run


def rows(engine: sa.Engine, query: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(query), params)]


# A feature's own drift row, whichever method scored it (ks, wasserstein, chi2, ... under `auto`).
FEATURE_DRIFT = ("kind = 'drift' and metric in ('ks', 'wasserstein', 'psi', 'chi2', 'jensen_shannon', 'hellinger', "
                 "'l_infinity')")


def reference_store_factory(config, warehouse: sa.Engine, new_store, now: datetime):
    """A factory of new stores (from `new_store()`) each holding the warehouse's reference profile, fitted once."""
    from include.monitoring import reference

    fitted_in = new_store()
    reference.ensure_reference(config, warehouse, fitted_in, now=now)
    _, profile = reference.load_reference(config, fitted_in)

    def fresh_store() -> sa.Engine:
        store = new_store()
        reference.store_profile(store, config, profile, reference.source_description(config), now)
        return store

    return fresh_store
