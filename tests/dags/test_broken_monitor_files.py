"""No monitor file can stop the others from loading: beside a good file, broken files of every kind (bad YAML,
unknown keys, wrong types, numbers out of range, values that used to break the DAG's construction, duplicate
models, a DAG whose construction raises) each become a visible broken DAG, and the good DAG loads whole."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import ROOT
from tests.dags.test_dag_integrity import EXPECTED_TASKS

MINIMAL = "features:\n  numeric: [age]\n"
DEEP_LIST = "[" * 3000 + "]" * 3000  # deeper than PyYAML's recursive composer can go
BROKEN_FILES = {
    # file name: (text, fragments its broken DAG's description must show)
    "bad_syntax.yaml": ("features: [\n", ["bad_syntax.yaml", "not valid YAML", "line "]),
    "unknown_key.yaml": (MINIMAL + "window: hourly\n", ["unknown key window", "schedule"]),
    "wrong_type.yaml": (MINIMAL + "retries: two\n", ["retries", "an integer"]),
    "huge_timeout.yaml": (MINIMAL + "timeout_minutes: 10000000000000\n",
                          ["timeout_minutes", "[1, 1_440]", "10000000000000"]),
    "huge_horizon.yaml": (MINIMAL + "labels: {horizon_days: 1000000000}\n", ["labels.horizon_days", "[1, 365]"]),
    "huge_float.yaml": (MINIMAL + "alerts: {remind_hours: 1" + "0" * 400 + "}\n", ["alerts.remind_hours", "1e308"]),
    "empty_start.yaml": (MINIMAL + "start_date: ''\n", ["start_date", "ISO date"]),
    "offset_start.yaml": (MINIMAL + "start_date: '0001-01-01T00:00+05:00'\n", ["start_date", "[1970-01-01, 2100-01-01)"]),
    "long_name.yaml": (MINIMAL + f"model: {'m' * 100}\n", ["model", "100 characters", "at most 94"]),
    "number_key.yaml": (MINIMAL + "1: one\ncolour: red\n", ["unknown key 1", "valid keys here"]),
    "deep.yaml": (f"features: {DEEP_LIST}\n", ["deep.yaml", "could not be loaded", "RecursionError"]),
    "copy_of_credit.yaml": (MINIMAL + "model: credit_default\n",
                            ["copy_of_credit.yaml", "'credit_default'", "credit_default.yaml", "keeps the DAG"]),
    "twin_a.yaml": (MINIMAL + "model: twin\n", ["twin_a.yaml", "'twin'", "twin_b.yaml"]),
    "twin_b.yaml": (MINIMAL + "model: twin\n", ["twin_b.yaml", "'twin'", "twin_a.yaml"]),
}


@pytest.fixture
def monitors_beside_broken_files(tmp_path, monkeypatch):
    shutil.copy(ROOT / "include" / "monitors" / "credit_default.yaml", tmp_path / "credit_default.yaml")
    for name, (text, _) in BROKEN_FILES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setenv("MONITORING_MONITORS_DIR", str(tmp_path))
    return tmp_path


def _load_dags():
    from airflow.models import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_broken_files_of_every_kind_become_visible_dags_and_the_good_dag_loads(monitors_beside_broken_files,
                                                                                 airflow_db):
    bag = _load_dags()
    assert bag.import_errors == {}
    broken_ids = {f"monitor_{name.removesuffix('.yaml')}" for name in BROKEN_FILES}
    assert set(bag.dag_ids) == {"monitor_credit_default", "monitoring_fire_drill"} | broken_ids
    good = bag.dags["monitor_credit_default"]
    assert "config-error" not in good.tags
    assert {task_id: set(task.downstream_task_ids) for task_id, task in good.task_dict.items()} == EXPECTED_TASKS
    for name, (_, fragments) in BROKEN_FILES.items():
        broken = bag.dags[f"monitor_{name.removesuffix('.yaml')}"]
        assert "config-error" in broken.tags, name
        assert list(broken.task_dict) == ["report_config_error"], name
        for fragment in fragments:
            assert fragment in broken.description, (name, broken.description)


def test_dag_whose_construction_raises_becomes_a_broken_dag_and_others_load(tmp_path, monkeypatch, airflow_db):
    """Validation cannot foresee every failure of the DAG's construction (an Airflow upgrade, a bug of ours); the
    failure is injected through the config's cron property, which only the DAG's construction reads."""
    from include.monitoring.config import SCHEDULES, MonitorConfig

    def cron(config: MonitorConfig) -> str:
        if config.model == "exploding":
            raise RuntimeError("the timetable refused this schedule")
        return SCHEDULES[config.schedule]

    shutil.copy(ROOT / "include" / "monitors" / "credit_default.yaml", tmp_path / "credit_default.yaml")
    (tmp_path / "exploding.yaml").write_text(MINIMAL)
    monkeypatch.setenv("MONITORING_MONITORS_DIR", str(tmp_path))
    monkeypatch.setattr(MonitorConfig, "cron", property(cron))
    bag = _load_dags()
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"monitor_credit_default", "monitor_exploding", "monitoring_fire_drill"}
    assert set(bag.dags["monitor_credit_default"].task_dict) == set(EXPECTED_TASKS)
    broken = bag.dags["monitor_exploding"]
    assert "config-error" in broken.tags
    assert "exploding.yaml: the DAG could not be built: RuntimeError: the timetable refused" in broken.description


def test_broken_files_with_clashing_dag_ids_each_get_their_own_dag(tmp_path, monkeypatch, airflow_db):
    """a.yaml beside a.yml, a-b.yaml beside a_b.yaml, and a broken file named after a working model's DAG id:
    every broken file stays visible and the working DAG stays whole."""
    (tmp_path / "good.yaml").write_text(MINIMAL)
    (tmp_path / "elsewhere.yaml").write_text(MINIMAL + "model: clash\n")
    for name in ("a.yaml", "a.yml", "a-b.yaml", "a_b.yaml", "clash.yaml"):
        (tmp_path / name).write_text(MINIMAL + "colour: red\n")
    monkeypatch.setenv("MONITORING_MONITORS_DIR", str(tmp_path))
    bag = _load_dags()
    assert bag.import_errors == {}
    broken = {dag.description.split(": ")[1]: dag_id for dag_id, dag in bag.dags.items() if "config-error" in dag.tags}
    assert set(broken) == {"a.yaml", "a.yml", "a-b.yaml", "a_b.yaml", "clash.yaml"}
    assert len(set(broken.values())) == 5
    assert "config-error" not in bag.dags["monitor_clash"].tags
    assert "config-error" not in bag.dags["monitor_good"].tags
