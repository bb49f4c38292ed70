"""dag.test() of the demo monitor over incident hours: metric rows, alert severities, Slack delivery."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import DEMO_END
from tests.slack_server import SlackServer

pytestmark = pytest.mark.integration

DAG_ID = "monitor_credit_default"


def test_smoke(monkeypatch, demo_warehouse_path, tmp_path, airflow_db):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(demo_warehouse_path)}))
    monkeypatch.setenv("AIRFLOW_CONN_MONITORING_STORE", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "store.db")}))
    from airflow.models import DagBag
    bag = DagBag(dag_folder="dags")
    dag = bag.dags[DAG_ID]
    with SlackServer() as slack:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_ALERTS", json.dumps({"conn_type": "slack", "password": "xoxb-test", "extra": {"base_url": slack.base_url}}))
        dr = dag.test(logical_date=DEMO_END - timedelta(hours=6))
        print(dr.state, slack.messages)
    assert 0
