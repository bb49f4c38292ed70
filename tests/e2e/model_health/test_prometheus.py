"""A real Prometheus scrapes /model-health/metrics of the shared Airflow API server with the scrape token, and
every query of the Grafana dashboard (dashboards/grafana/model_health.json) returns data from it."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from scripts import standalone
from tests.conftest import ROOT, required_program
from tests.e2e.model_health.conftest import PREFIX, bearer, get, roleless_token
from tests.unit.ui import replay

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

METRICS = f"{PREFIX}/metrics"
DASHBOARD = ROOT / "dashboards" / "grafana" / "model_health.json"
JOB = "model_health"
STARTUP_SECONDS = 60
FIRST_SCRAPE_SECONDS = 90  # scrapes every second; the first few may time out while the API server warms up
# A scrape that fails (a slow CI machine, the 1 s timeout) marks the target's series stale until the next success,
# so a query that finds nothing is asked again for up to this long before the test fails.
QUERY_SECONDS = 30


def dashboard_targets() -> list[tuple[str, str]]:
    """(panel title / refId, PromQL with $model filled in) of every panel target of the dashboard."""
    dashboard = json.loads(DASHBOARD.read_text())
    return [(f"{panel['title']} / {target['refId']}", target["expr"].replace("$model", replay.MODEL))
            for panel in dashboard["panels"] for target in panel.get("targets", [])]


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """The first truthy result of `condition`, polled twice a second for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"gave up after {timeout} s waiting for {what}")


def prometheus_query(base_url: str, expr: str) -> list[dict[str, Any]]:
    """The result vector of an instant query through Prometheus's HTTP API."""
    url = f"{base_url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def data_of(base_url: str, expr: str) -> list[dict[str, Any]]:
    """The non-empty result of `expr`, waiting for it at most QUERY_SECONDS."""
    return wait_for(lambda: prometheus_query(base_url, expr), QUERY_SECONDS, f"data for {expr}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def prometheus(server, tmp_path_factory) -> str:
    """The base URL of a Prometheus on 127.0.0.1 that scrapes the shared server every second with the scrape
    token; stopped by its pid after this module's last test."""
    binary = required_program("prometheus", "REQUIRE_PROMETHEUS")
    directory = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{
            "job_name": JOB,
            "metrics_path": METRICS,
            "static_configs": [{"targets": [f"127.0.0.1:{server.port}"]}],
            "authorization": {"type": "Bearer", "credentials": server.scrape_token},
        }],
    }
    (directory / "prometheus.yml").write_text(json.dumps(config, indent=2))  # JSON is YAML
    port = standalone.free_port()
    base_url = f"http://127.0.0.1:{port}"
    with open(directory / "prometheus.log", "wb") as log:
        proc = subprocess.Popen([binary, f"--config.file={directory / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: proc.poll() is not None or answers(f"{base_url}/-/ready"), STARTUP_SECONDS,
                 "Prometheus to be ready")
        assert proc.poll() is None, (directory / "prometheus.log").read_text()[-3000:]
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def scraped(prometheus) -> str:
    """The Prometheus base URL once it has scraped the endpoint successfully and holds the model's series."""
    def arrived() -> bool:
        up = prometheus_query(prometheus, f'up{{job="{JOB}"}}')
        series = prometheus_query(prometheus, f'model_monitoring_drift_level{{model="{replay.MODEL}"}}')
        return bool(up) and up[0]["value"][1] == "1" and bool(series)

    wait_for(arrived, FIRST_SCRAPE_SECONDS, "a successful scrape with the model's series")
    return prometheus


def only_value(result: list[dict[str, Any]]) -> float:
    [sample] = result
    return float(sample["value"][1])


def test_prometheus_holds_the_zeroed_income_drift_and_the_open_critical_alerts(scraped):
    income = f'model_monitoring_drift_level{{model="{replay.MODEL}", feature="income", slice=""}}'
    critical = f'model_monitoring_open_alerts{{model="{replay.MODEL}", severity="CRITICAL"}}'
    last_end = f'model_monitoring_last_window_end_timestamp_seconds{{model="{replay.MODEL}"}}'

    assert only_value(data_of(scraped, income)) > 2  # beyond the CRITICAL tier: income is all zeros
    assert only_value(data_of(scraped, critical)) >= 2
    assert only_value(data_of(scraped, last_end)) == replay.window_end(min(replay.REPLAYED_HOURS)).timestamp()


@pytest.mark.parametrize(("target", "expr"), dashboard_targets(), ids=[name for name, _ in dashboard_targets()])
def test_every_dashboard_query_returns_data(scraped, target, expr):
    assert data_of(scraped, expr), target


def test_metrics_need_credentials(server):
    assert get(server.base_url, METRICS)[0] == 401


@pytest.mark.parametrize("kind", ["unknown_token", "forged_jwt"])
def test_a_wrong_token_is_403(server, kind):
    header, payload, _signature = server.token.split(".")
    token = {"unknown_token": server.scrape_token[::-1], "forged_jwt": f"{header}.{payload}.forged"}[kind]

    assert get(server.base_url, METRICS, bearer(token))[0] == 403


def test_the_scrape_token_and_an_admin_token_read_the_model(server):
    for token in (server.scrape_token, server.token):
        status, body = get(server.base_url, METRICS, bearer(token))
        assert status == 200
        assert f'model_monitoring_open_alerts{{model="{replay.MODEL}",severity="CRITICAL"}}' in body


def test_a_user_without_access_to_the_dag_sees_no_model(server):
    status, body = get(server.base_url, METRICS, bearer(roleless_token(server.env)))

    assert status == 200
    assert "# TYPE model_monitoring_open_alerts gauge" in body and replay.MODEL not in body
