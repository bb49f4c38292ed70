"""The command line: validate, build-reference and replay, with connections from AIRFLOW_CONN_* variables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid

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


# --- failures: one line on stderr, exit 2, no traceback, no SQL, no secret -----------------------------------------


def run_cli(*args: str, log_level: str = "INFO", **connections: dict) -> subprocess.CompletedProcess:
    """The real command line in a fresh interpreter, with AIRFLOW_CONN_<ID> variables for `connections`."""
    env = {**os.environ, "AIRFLOW__LOGGING__LOGGING_LEVEL": log_level,
           **{f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in connections.items()}}
    return subprocess.run([sys.executable, "-m", "include.monitoring.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def assert_one_error_line(result: subprocess.CompletedProcess, *expected: str) -> str:
    """Exit 2 and a last stderr line `error: ...` (argparse puts the program and command before a usage error)
    holding `expected`; nothing of a traceback or SQL anywhere."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    for leak in ("Traceback", "[SQL:", "[parameters:", "SELECT", "sqlalche.me"):
        assert leak not in output
    line = result.stderr.strip().splitlines()[-1]
    assert re.match(r"(python -m include\.monitoring\.cli [\w-]+: )?error: ", line), line
    assert all(text in line for text in expected), line
    return line


@pytest.fixture
def warehouse(demo_warehouse_path) -> dict:
    return {"conn_type": "sqlite", "host": str(demo_warehouse_path)}


def test_a_store_that_is_down_is_one_line_naming_it_without_its_password(warehouse):
    store = {"conn_type": "postgres", "host": "127.0.0.1", "port": 1, "login": "monitor", "password": "pw-s3cret",
             "schema": "metrics"}
    result = run_cli("build-reference", "--monitor", MONITOR, warehouse=warehouse, monitoring_store=store)
    line = assert_one_error_line(result, "cannot connect to the metric store (Airflow connection 'monitoring_store', "
                                         "postgresql+psycopg://monitor:***@127.0.0.1:1/metrics)", "refused")
    assert "pw-s3cret" not in result.stdout + result.stderr, line


@pytest.fixture
def dropped_database(postgres_database):
    """The connection of a PostgreSQL database that existed and was dropped, on the session's server
    (postgres_database: a missing server fails under REQUIRE_POSTGRES=1, as CI sets)."""
    db = postgres_database
    name = f"monitoring_dropped_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"postgresql+psycopg://{db['login']}@{db['host']}:{db['port']}/postgres",
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        yield {**db, "schema": name}
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_a_dropped_store_database_is_one_line_naming_it(warehouse, dropped_database):
    name = dropped_database["schema"]
    result = run_cli("replay", "--monitor", MONITOR, "--from", "2026-11-22T12:00", "--to", "2026-11-22T13:00",
                     warehouse=warehouse, monitoring_store=dropped_database)
    assert_one_error_line(result, "cannot connect to the metric store", f'database "{name}" does not exist')


@pytest.mark.parametrize(("option", "value"), [("--from", "yesterday"), ("--to", "2026-11-32T00:00")])
def test_an_unreadable_replay_date_is_a_usage_error_naming_the_option_and_the_format(option, value):
    dates = {"--from": "2026-11-22T12:00", "--to": "2026-11-22T13:00", option: value}
    result = run_cli("replay", "--monitor", MONITOR, *[part for pair in dates.items() for part in pair])
    line = assert_one_error_line(result, f"argument {option}: expected an ISO date and time such as 2026-11-20T00:00",
                                 f"got {value!r}")
    assert line.startswith("python -m include.monitoring.cli replay: error: ") and "usage:" in result.stderr


def test_a_replay_range_that_ends_before_it_starts_is_a_usage_error():
    result = run_cli("replay", "--monitor", MONITOR, "--from", "2026-11-22T13:00", "--to", "2026-11-22T12:00")
    assert_one_error_line(result, "argument --to: must be after --from (2026-11-22T13:00:00+00:00)")


def test_a_mistyped_sqlite_warehouse_path_is_an_error_and_creates_no_file(tmp_path):
    typo = tmp_path / "warehose.db"
    result = run_cli("build-reference", "--monitor", MONITOR, warehouse={"conn_type": "sqlite", "host": str(typo)},
                     monitoring_store={"conn_type": "sqlite", "host": str(tmp_path / "store.db")})
    assert_one_error_line(result, f"no such SQLite file: {typo} (Airflow connection 'warehouse'")
    assert not typo.exists()


def test_a_missing_sqlite_store_is_created_as_the_store_is_ours(warehouse, tmp_path):
    store = tmp_path / "new" / "store.db"
    store.parent.mkdir()
    result = run_cli("build-reference", "--monitor", MONITOR, warehouse=warehouse,
                     monitoring_store={"conn_type": "sqlite", "host": str(store)})
    assert result.returncode == 0, result.stderr
    assert store.is_file()


SECRET_PATH = "/services/T0CLISECRET/B0CLISECRET/cliWebhookTokenS3cret"


def test_a_failing_slack_webhook_leaves_its_url_in_no_output_of_the_cli_even_at_debug_level(warehouse, tmp_path):
    from tests.slack_server import SlackServer

    with SlackServer() as slack:
        slack.fail_next(100, 500)
        result = run_cli(
            "--debug", "replay", "--monitor", MONITOR, "--from", "2026-11-22T18:00", "--to", "2026-11-22T19:00",
            "--notify", log_level="DEBUG", warehouse=warehouse,
            monitoring_store={"conn_type": "sqlite", "host": str(tmp_path / "s.db")},
            slack_alerts={"conn_type": "slackwebhook", "password": f"{slack.origin}{SECRET_PATH}"})
        assert slack.requests >= 3  # the webhook was tried, and retried
    output = result.stdout + result.stderr
    assert result.returncode == 2 and "notification(s) failed and stay pending" in output
    assert "<redacted>" in output  # slack_sdk logged its requests, without the URL
    for secret in (SECRET_PATH, SECRET_PATH.rsplit("/", 1)[1]):
        assert secret not in output
