"""The DAG files load, give one DAG per monitor file, and carry the settings every monitor needs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.conftest import ROOT

MONITOR_FILES = sorted((ROOT / "include" / "monitors").glob("*.yaml"))
EXPECTED_TASKS = {
    "load_reference": {"observe_window", "compute_performance"},
    "observe_window": {"write_metrics"},  # it computes the window's drift too
    "compute_performance": {"write_metrics"},
    "write_metrics": {"send_notifications"},
    "send_notifications": set(),
}


def test_dagbag_has_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_dagbag_has_one_dag_per_monitor_file(dagbag):
    assert MONITOR_FILES, "the demo monitor file is missing"
    assert set(dagbag.dag_ids) == {f"monitor_{path.stem}" for path in MONITOR_FILES} | {"monitoring_fire_drill"}


@pytest.mark.parametrize("path", MONITOR_FILES, ids=lambda p: p.stem)
def test_monitor_dag_has_owner_retries_tags_timeouts_and_hourly_windows(dagbag, path):
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.dags[f"monitor_{path.stem}"]
    assert "model-monitoring" in dag.tags and f"model:{path.stem}" in dag.tags
    assert dag.catchup is False
    assert dag.max_active_runs == 4  # a backfill runs windows side by side; the store serialises their writes
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 * * * *"
    for task in dag.tasks:
        assert task.owner and task.owner != "airflow"
        assert task.retries >= 1
        assert task.retry_delay >= timedelta(minutes=1)
        assert task.execution_timeout is not None


@pytest.mark.parametrize("path", MONITOR_FILES, ids=lambda p: p.stem)
def test_monitor_dag_structure_is_the_pipeline(dagbag, path):
    dag = dagbag.dags[f"monitor_{path.stem}"]
    assert {task_id: set(task.downstream_task_ids) for task_id, task in dag.task_dict.items()} == EXPECTED_TASKS


def test_broken_monitor_file_becomes_a_visible_failing_dag_and_others_still_load(tmp_path, monkeypatch, airflow_db):
    from airflow.models import DagBag

    shutil.copy(ROOT / "include" / "monitors" / "credit_default.yaml", tmp_path / "credit_default.yaml")
    (tmp_path / "fraud_score.yaml").write_text("model: fraud_score\nfeatures:\n  numeric: [amount]\nwindow: hourly\n")
    monkeypatch.setenv("MONITORING_MONITORS_DIR", str(tmp_path))
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"monitor_credit_default", "monitor_fraud_score", "monitoring_fire_drill"}
    broken = bag.dags["monitor_fraud_score"]
    assert "config-error" in broken.tags
    assert "fraud_score.yaml" in broken.description and "window" in broken.description
    assert "valid keys here" in broken.description and "schedule" in broken.description
    assert list(broken.task_dict) == ["report_config_error"]


def test_importing_dag_file_loads_no_heavy_library(tmp_path):
    """In a fresh interpreter, importing the DAG file adds none of the heavy libraries."""
    code = (
        "import sys, json, runpy; runpy.run_path('dags/monitors.py'); runpy.run_path('dags/fire_drill.py');"
        "print(json.dumps(sorted(m for m in ('pandas','numpy','scipy','great_expectations','sqlalchemy','slack_sdk')"
        " if m in sys.modules)))"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__UNIT_TEST_MODE": "True"}
    baseline = subprocess.run([sys.executable, "-c", "import airflow.sdk, sys, json; print(json.dumps(sorted(m for m in "
                               "('pandas','numpy','scipy','great_expectations','sqlalchemy','slack_sdk') if m in sys.modules)))"],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    added = set(json.loads(result.stdout.strip().splitlines()[-1])) - set(json.loads(baseline.stdout.strip().splitlines()[-1]))
    assert added == set(), f"the DAG file imports {sorted(added)} at parse time"


def test_daily_schedule_gives_daily_data_intervals(tmp_path, monkeypatch, airflow_db):
    from airflow.models import DagBag

    (tmp_path / "low_traffic.yaml").write_text("model: low_traffic\nschedule: daily\nfeatures: {numeric: [x]}\n")
    monkeypatch.setenv("MONITORING_MONITORS_DIR", str(tmp_path))
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["monitor_low_traffic"]
    assert dag.timetable.expression == "0 0 * * *"
