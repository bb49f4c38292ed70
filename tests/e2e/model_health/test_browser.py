"""The Model health views as a person sees them: headless Chromium logs in to Airflow's own UI and opens the nav
entry, the DAG tab and the run tab, where Airflow shows our pages in a frame.

Chromium is Debian's (`apt-get install -y chromium`), driven by Playwright through `executable_path`; without it
the tests skip, and with REQUIRE_BROWSER=1 (CI) they fail. With MODEL_HEALTH_SCREENSHOTS=<folder> the views'
screenshots are written there too (`make screenshots` refreshes the README's).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from include.monitoring.ui import views
from scripts import standalone
from tests.conftest import required_program
from tests.e2e.model_health.conftest import PREFIX, get
from tests.unit.ui import replay

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VIEWPORT = {"width": 1440, "height": 1000}
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = required_program("chromium", "REQUIRE_BROWSER")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def replayed_runs(server):
    """Airflow's metadata gets the DAG runs whose windows the store holds (queued: the DAG is paused), so their
    run pages and tabs exist in the UI as they would after the hourly runs."""
    client = server.client()
    standalone.wait_for_dag(client, replay.DAG_ID)
    for hours in replay.REPLAYED_HOURS:
        standalone.trigger(client, replay.DAG_ID, replay.run_id(hours), replay.window_end(hours).isoformat())
    return client


@pytest.fixture(scope="module")
def page(browser, server, replayed_runs):
    """A page of a user logged in through Airflow's login form."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.base_url}/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    yield page
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> list[Path]:
    """Where screenshots go: always the test's own folder, and MODEL_HEALTH_SCREENSHOTS when set."""
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("MODEL_HEALTH_SCREENSHOTS"):
        folders.append(Path(os.environ["MODEL_HEALTH_SCREENSHOTS"]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {', '.join(map(str, folders))}")
    return folders


def _screenshot(page, shots: list[Path], name: str) -> None:
    for folder in shots:
        page.screenshot(path=str(folder / f"{name}.png"))


def _view(page, url: str):
    """The frame in which Airflow's UI shows our page, once its content has loaded."""
    page.goto(url)
    frame = page.frame_locator("iframe")
    frame.locator("h1").first.wait_for()
    return frame


def test_the_fleet_view_in_airflows_nav_lists_the_model_with_its_critical_alerts(page, server, shots):
    page.goto(f"{server.base_url}/")
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Model health").click()
    page.wait_for_url("**/plugin/model_health**")  # Airflow may append the framed page's path once it loads
    frame = page.frame_locator("iframe")
    row = frame.locator("tr", has_text=replay.DAG_ID)

    assert "CRITICAL" in row.inner_text()
    _screenshot(page, shots, "fleet")
    row.get_by_role("link", name=replay.MODEL, exact=True).click()  # the model's page, in the same frame
    frame.locator("h2", has_text="Drift").wait_for()


def test_the_dag_tab_shows_income_critical_in_the_zeroed_hour(page, server, shots):
    frame = _view(page, f"{server.base_url}{views.dag_tab(replay.DAG_ID)}")
    zeroed = (replay.window_end(replay.ZEROED_HOUR) - timedelta(hours=1)).isoformat()
    cell = frame.locator(f'tr[data-feature="income"] td[data-window="{zeroed}"]')

    assert cell.get_attribute("data-severity") == "CRITICAL"
    assert "income" in cell.get_attribute("title")
    _screenshot(page, shots, "model")


def test_the_run_tab_shows_the_windows_findings_and_escapes_data(page, server, shots):
    frame = _view(page, f"{server.base_url}{views.run_tab(replay.DAG_ID, replay.run_id(replay.ZEROED_HOUR))}")
    text = frame.locator("body").inner_text()

    assert "income" in text and "constant_column" in text and "CRITICAL" in text
    _screenshot(page, shots, "window")

    frame = _view(page, f"{server.base_url}{views.run_tab(replay.DAG_ID, replay.run_id(replay.MARKUP_HOUR))}")
    assert replay.MARKUP in frame.locator("body").inner_text()  # shown as text, so never run as a script
    assert frame.locator("script").count() == 0


def test_a_page_without_login_is_refused(browser, server):
    context = browser.new_context()
    try:
        answer = context.new_page().goto(f"{server.base_url}{PREFIX}/fleet")
        assert answer.status == 401
    finally:
        context.close()
    assert get(server.base_url, f"{PREFIX}/fleet")[0] == 401
