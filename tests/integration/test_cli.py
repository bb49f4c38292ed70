"""The command line: validate, build-reference and replay, with connections from AIRFLOW_CONN_* variables."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

MONITOR = str(ROOT / "include" / "monitors" / "credit_default.yaml")


@pytest.fixture
def connections(monkeypatch, demo_warehouse_path, tmp_path):
    store = tmp_path / "store.db"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(demo_warehouse_path)}))
    monkeypatch.setenv("AIRFLOW_CONN_MONITORING_STORE", json.dumps({"conn_type": "sqlite", "host": str(store)}))
    monkeypatch.delenv("AIRFLOW_CONN_SLACK_ALERTS", raising=False)
    return sa.create_engine(f"sqlite:///{store}")


def test_validate_reports_each_file_and_fails_on_a_broken_one(tmp_path, capsys):
    from include.monitoring.cli import main

    (tmp_path / "good.yaml").write_text("model: good\nfeatures: {numeric: [x]}\n")
    assert main(["validate", "--dir", str(tmp_path)]) == 0
    assert "ok     good.yaml: dag monitor_good" in capsys.readouterr().out
    (tmp_path / "bad.yaml").write_text("model: bad\nfeatures: {numeric: [x]}\ndrift: {numeric_method: kl}\n")
    assert main(["validate", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR  bad.yaml: drift.numeric_method: expected one of ['auto', 'ks', 'wasserstein', 'psi', " in out
    assert "got 'kl'" in out


def test_validate_builds_each_custom_expectation_with_gx_and_names_the_broken_one(tmp_path, capsys):
    from include.monitoring.cli import main

    (tmp_path / "monitors").mkdir()
    (tmp_path / "expectations").mkdir()
    (tmp_path / "monitors" / "good.yaml").write_text("model: good\nfeatures: {numeric: [x]}\n")
    suite = {"name": "good", "expectations": [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": 0}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"colum": "x", "min_value": 0},
         "meta": {"check": "x_positive"}}]}
    (tmp_path / "expectations" / "good.json").write_text(json.dumps(suite))
    assert main(["validate", "--dir", str(tmp_path / "monitors")]) == 1
    out = capsys.readouterr().out
    assert "ERROR  good.yaml: dag monitor_good" in out and "2 expectations of its own in good.json" in out
    assert "good.json: x_positive (expect_column_values_to_be_between) is not a valid GX expectation" in out
    assert "colum" in out


def test_build_reference_stores_one_profile_and_is_idempotent(connections, capsys):
    from include.monitoring.cli import main

    assert main(["build-reference", "--monitor", MONITOR]) == 0
    assert main(["build-reference", "--monitor", MONITOR]) == 0
    with connections.connect() as conn:
        assert conn.execute(sa.text("select count(*) from reference_profiles")).scalar_one() == 1
    assert "credit_default: table reference profile" in capsys.readouterr().out


def test_build_reference_rolling_merges_the_replayed_windows(connections, capsys, tmp_path):
    from include.monitoring.cli import main

    text = open(MONITOR).read().replace("reference:\n", "reference:\n  source: rolling\n  rolling_days: 1\n", 1)
    monitor = tmp_path / "credit_default.yaml"
    monitor.write_text(text)
    assert main(["replay", "--monitor", str(monitor), "--from", "2026-11-22T10:00", "--to", "2026-11-22T13:00"]) == 0
    assert main(["build-reference", "--monitor", str(monitor), "--now", "2026-11-22T13:00"]) == 0
    assert "rolling reference merged from stored window profiles before 2026-11-22T13:00:00+00:00: 1 profile(s)" \
        in capsys.readouterr().out
    with connections.connect() as conn:
        profiles = [json.loads(p) for (p,) in conn.execute(sa.text("select profile from reference_profiles"))]
    [rolling] = [p for p in profiles if "source" in p]
    assert rolling["source"]["windows"] == 3


def test_replay_writes_every_window_of_the_range(connections, capsys):
    from include.monitoring.cli import main

    assert main(["replay", "--monitor", MONITOR, "--from", "2026-11-22T12:00", "--to", "2026-11-22T16:00"]) == 0
    with connections.connect() as conn:
        runs = conn.execute(sa.text("select window_start, status from monitor_runs order by window_start")).fetchall()
    assert [str(r[0])[:16] for r in runs] == ["2026-11-22 12:00", "2026-11-22 13:00", "2026-11-22 14:00", "2026-11-22 15:00"]
    assert [r[1] for r in runs][2] == "no_data"  # 14:00 is the demo's empty hour
    assert "4 windows replayed" in capsys.readouterr().out


def test_missing_connection_is_a_clear_error_not_a_traceback(monkeypatch, capsys):
    from include.monitoring.cli import main

    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_MONITORING_STORE", json.dumps({"conn_type": "sqlite", "host": "/nonexistent/x.db"}))
    assert main(["build-reference", "--monitor", MONITOR]) == 2
    assert "Airflow connection 'warehouse' is not defined" in capsys.readouterr().err
