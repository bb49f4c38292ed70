"""The Airflow home that `make run` prepares describes the installation it runs: a shell with only AIRFLOW_HOME set
(`airflow dags list`, `airflow config get-value`) reads the project's DAGs folder and database, not defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts import standalone

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _value(env: dict[str, str], section: str, key: str) -> str:
    return standalone.run_airflow(["config", "get-value", section, key], env).strip().splitlines()[-1]


def test_the_generated_config_holds_the_settings_airflow_runs_with(tmp_path):
    home = tmp_path / "airflow_home"
    env = standalone.standalone_env(home, 8123, ROOT)
    bare = {name: value for name, value in os.environ.items() if not name.startswith(("AIRFLOW", "_AIRFLOW"))}
    bare.update(AIRFLOW_HOME=str(home), PYTHONPATH=str(ROOT))
    assert _value(bare, "core", "dags_folder") == str(home / "dags")  # Airflow's generated default

    config = standalone.write_config(env)

    assert _value(bare, "core", "dags_folder") == str(ROOT / "dags")
    assert _value(bare, "database", "sql_alchemy_conn") == f"sqlite:///{home / 'airflow.db'}"
    assert _value(bare, "api", "base_url") == "http://localhost:8123"
    assert _value(bare, "core", "load_examples") == "False"
    text = config.read_text()
    assert text.count("dags_folder = ") == 1 and "# " in text  # edited in place, Airflow's comments kept
    assert "%%(asctime)s" in text  # the file's own interpolated values are untouched


def test_several_commands_run_in_one_process_and_a_failure_names_its_command(tmp_path):
    env = standalone.standalone_env(tmp_path / "airflow_home", 8123, ROOT)

    output = standalone.run_airflow_commands([["config", "get-value", "core", "load_examples"],
                                              ["config", "get-value", "api", "base_url"]], env)

    assert output.splitlines() == ["$ airflow config get-value core load_examples", "False",
                                   "$ airflow config get-value api base_url", "http://localhost:8123"]
    with pytest.raises(standalone.AirflowError, match=r"^`airflow config get-value core` failed \(exit 2\)"):
        standalone.run_airflow_commands([["version"], ["config", "get-value", "core"]], env)  # its key is missing
