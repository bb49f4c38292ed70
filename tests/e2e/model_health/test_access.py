"""The Model health plugin in a real Airflow API server: access control, escaping, and its external views."""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest

from tests.e2e.model_health.conftest import ENDPOINTS, PAGES, PREFIX, bearer, get, roleless_token
from tests.unit.ui import replay

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("path", PAGES + ENDPOINTS)
def test_no_credentials_is_401(server, path):
    base_url = server.base_url

    assert get(base_url, path)[0] == 401


@pytest.mark.parametrize("path", PAGES + ENDPOINTS)
def test_a_forged_token_is_403(server, path):
    base_url, token = server.base_url, server.token
    header, payload, _signature = token.split(".")

    assert get(base_url, path, bearer(f"{header}.{payload}.forged"))[0] == 403


def test_endpoints_answer_an_admin_token(server):
    base_url, token = server.base_url, server.token
    answers = {path: get(base_url, path, bearer(token)) for path in ENDPOINTS}

    assert {path: status for path, (status, _body) in answers.items()} == dict.fromkeys(ENDPOINTS, 200)
    fleet, model, window = (json.loads(body) for _status, body in answers.values())
    assert [row["model"] for row in fleet] == [replay.MODEL] and fleet[0]["open_alerts"].get("CRITICAL", 0) >= 2
    zeroed = replay.window_end(replay.ZEROED_HOUR) - timedelta(hours=1)
    assert model["drift"]["cells"]["income"][zeroed.isoformat()]["severity"] == "CRITICAL"
    assert window["run"]["dag_run_id"] == replay.run_id(replay.MARKUP_HOUR)


def test_pages_answer_the_ui_session_cookie_and_escape_data(server):
    """Inside Airflow's UI the pages load in a frame that sends the UI's JWT cookie, not a bearer header."""
    base_url, token = server.base_url, server.token
    answers = {path: get(base_url, path, {"Cookie": f"_token={token}"}) for path in PAGES}

    assert {path: status for path, (status, _body) in answers.items()} == dict.fromkeys(PAGES, 200)
    window_page = answers[PAGES[2]][1]
    assert html.escape(replay.MARKUP) in window_page
    assert all("<script" not in body.lower() for _status, body in answers.values())


def test_a_dag_that_is_no_monitor_is_404_with_a_readable_page(server):
    base_url, token = server.base_url, server.token
    status, body = get(base_url, f"{PREFIX}/models/monitoring_fire_drill", bearer(token))

    assert get(base_url, f"{PREFIX}/api/models/monitoring_fire_drill", bearer(token))[0] == 404
    assert status == 404 and "is not a model monitor DAG" in body and body.startswith("<!doctype html>")


def test_rest_api_lists_the_plugin_and_its_external_views(server):
    base_url, token = server.base_url, server.token
    status, body = get(base_url, "/api/v2/plugins", bearer(token))

    assert status == 200
    [plugin] = [plugin for plugin in json.loads(body)["plugins"] if plugin["name"] == "model_health"]
    views = {view["destination"]: view["href"] for view in plugin["external_views"]}
    assert views == {"nav": f"{PREFIX}/fleet", "dag": f"{PREFIX}/models/{{DAG_ID}}",
                     "dag_run": f"{PREFIX}/models/{{DAG_ID}}/runs/{{RUN_ID}}"}
    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == [PREFIX]


def test_a_user_without_access_to_the_dag_gets_403_and_an_empty_fleet(server):
    base_url, env = server.base_url, server.env
    outsider = bearer(roleless_token(env))

    assert get(base_url, "/api/v2/dags", outsider)[0] == 403  # Airflow's own API agrees: no DAG is readable
    for path in PAGES[1:] + ENDPOINTS[1:]:
        assert get(base_url, path, outsider)[0] == 403, path
    assert get(base_url, f"{PREFIX}/api/fleet", outsider) == (200, "[]")
    assert "No monitored model you may read" in get(base_url, f"{PREFIX}/fleet", outsider)[1]
