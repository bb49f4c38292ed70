"""The Model health queries and pages on a store filled by replaying the demo's incident hours."""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta

import pytest

from tests.unit.ui import replay

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def ref():
    from include.monitoring.ui.queries import ModelRef

    return ModelRef(replay.MODEL, replay.DAG_ID, "roc_auc")


@pytest.fixture(scope="module")
def history(filled_store, ref):
    from include.monitoring.ui import queries

    until = replay.window_end(min(replay.REPLAYED_HOURS))
    with filled_store.connect() as conn:
        return queries.model_history(conn, ref, until - queries.RANGES["24h"], until)


@pytest.fixture(scope="module")
def markup_window(filled_store):
    from include.monitoring.ui import queries

    with filled_store.connect() as conn:
        run = queries.run_by_dag_run_id(conn, replay.MODEL, replay.run_id(replay.MARKUP_HOUR))
        return queries.window_detail(conn, replay.MODEL, run)


def _window_key(hours_before_end: int) -> str:
    return (replay.window_end(hours_before_end) - timedelta(hours=1)).isoformat()


def test_fleet_row_shows_open_critical_alerts_and_the_zeroed_features_as_worst(filled_store, ref):
    from include.monitoring.ui import queries

    with filled_store.connect() as conn:
        [row] = queries.fleet(conn, [ref], now=replay.NOW)

    assert row["last_window"]["window_start"] == _window_key(replay.MARKUP_HOUR)
    assert row["open_alerts"].get("CRITICAL", 0) >= 2
    worst = {feature["feature"]: feature["severity"] for feature in row["worst_features"]}
    assert worst.get("income") == "CRITICAL" and worst.get("credit_limit") == "CRITICAL", row["worst_features"]
    assert row["quality_failures_24h"] > 0
    assert row["volume_24h"]["windows"] == len(replay.REPLAYED_HOURS)


def test_fleet_of_a_stopped_monitor_shows_its_last_day_and_how_long_ago_it_was(filled_store, ref):
    from include.monitoring.ui import queries

    later = replay.NOW + timedelta(days=10)
    with filled_store.connect() as conn:
        [live] = queries.fleet(conn, [ref], now=replay.NOW)
        [stopped] = queries.fleet(conn, [ref], now=later)

    assert stopped["volume_24h"] == live["volume_24h"] and stopped["volume_24h"]["rows"] > 0
    assert stopped["quality_failures_24h"] == live["quality_failures_24h"]
    last_end = datetime.fromisoformat(live["last_window"]["window_end"])
    assert stopped["last_window_age_hours"] == round((later - last_end).total_seconds() / 3600, 1)


def test_expected_volume_is_the_sum_of_the_windows_band_centres(tmp_path):
    import sqlalchemy as sa

    from include.monitoring import store
    from include.monitoring.types import MetricKind, MetricRow, Window
    from include.monitoring.ui import queries

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_tables(engine)
    start = replay.NOW - timedelta(hours=3)
    rows = [MetricRow(MetricKind.OPERATIONAL, "volume", 100.0 + hour, Window(start + timedelta(hours=hour),
                      start + timedelta(hours=hour + 1)), n=100 + hour,
                      details={"mean": 110.0, "low": 80.0, "high": 140.0} if hour else {"skipped": "no earlier week"})
            for hour in range(3)]
    with engine.begin() as conn:
        conn.execute(sa.insert(store.metric_values), [store._metric_record("m", row, replay.NOW) for row in rows])
        found = queries.volume(conn, "m", start, replay.NOW)

    assert found == {"rows": 303, "windows": 3, "expected": 220, "windows_with_expectation": 2}


def test_fleet_lists_the_most_alerting_model_first(filled_store, ref):
    from include.monitoring.ui import queries

    quiet = queries.ModelRef("no_such_model", "monitor_no_such_model", "roc_auc")
    with filled_store.connect() as conn:
        rows = queries.fleet(conn, [quiet, ref], now=replay.NOW)

    assert [row["model"] for row in rows] == [replay.MODEL, "no_such_model"]
    assert rows[1]["last_window"] is None and rows[1]["open_alerts"] == {}


def test_heatmap_marks_income_critical_in_the_zeroed_hour_and_age_ok(history):
    cells = history["drift"]["cells"]
    zeroed = _window_key(replay.ZEROED_HOUR)

    assert cells["income"][zeroed]["severity"] == "CRITICAL"
    assert cells["age"][zeroed]["severity"] == "OK"
    hover = cells["income"][zeroed]
    assert hover["method"] and hover["rows"] > 0 and hover["warning"] is not None
    # a cell is the method row that judged the window, never the drift_level series beside it
    assert {cell["method"] for by_window in cells.values() for cell in by_window.values()} <= {
        "ks", "chi2", "wasserstein", "jensen_shannon"}


def test_model_history_keeps_the_empty_hour_as_a_window_without_drift(history):
    empty = _window_key(13)
    statuses = {run["window_start"]: run["status"] for run in history["windows"]}

    assert statuses[empty] == "no_data"
    assert empty not in history["drift"]["windows"]
    assert len(history["windows"]) == len(replay.REPLAYED_HOURS)


def test_model_history_lists_alerts_with_their_notifications(history):
    by_key = {alert["alert_key"]: alert for alert in history["alerts"]}
    income = [alert for alert in history["alerts"] if alert["column"] == "income" and alert["rule"].startswith("drift")]

    assert income and income[0]["severity"] == "CRITICAL"
    cause = by_key[income[0]["folded_under"]]  # the drift is folded under its failed check, which notified
    assert income[0]["notifications"] == [] and cause["rule"] == "quality:constant_column"
    assert {notification["channel"] for notification in cause["notifications"]} >= {"log"}


def test_model_history_is_json(history):
    assert json.loads(json.dumps(history))["model"] == replay.MODEL


def test_range_without_windows_is_empty(filled_store, ref):
    from include.monitoring.ui import queries

    late = replay.NOW + timedelta(days=60)
    with filled_store.connect() as conn:
        data = queries.model_history(conn, ref, late, late + timedelta(days=1))

    assert data["windows"] == [] and data["drift"]["features"] == [] and data["quality"] == []


def test_window_detail_shows_the_markup_category_as_a_failed_check_example(markup_window):
    failed = [row for row in markup_window["validation"] if not row["success"]]

    assert any(replay.MARKUP in map(str, row["examples"]) for row in failed), failed
    # the store keeps observed values JSON-encoded; the page shows the value, not its quotes
    assert any(row["observed"].endswith("rows unexpected") for row in failed if isinstance(row["observed"], str))
    assert not any(str(row["observed"]).startswith('"') for row in markup_window["validation"])
    assert markup_window["run"]["dag_run_id"] == replay.run_id(replay.MARKUP_HOUR)
    assert {cell["feature"] for cell in markup_window["drift"]} >= {"income", "channel"}


def test_window_of_an_unknown_run_is_none(filled_store):
    from include.monitoring.ui import queries

    with filled_store.connect() as conn:
        assert queries.run_by_dag_run_id(conn, replay.MODEL, "manual__never") is None


def test_pages_render_data_values_as_text(filled_store, ref, history, markup_window):
    from include.monitoring.ui import queries, render

    with filled_store.connect() as conn:
        fleet = queries.fleet(conn, [ref], now=replay.NOW)
    pages = {"window": render.window_page(markup_window),
             "model": render.model_page(history, "/model-health", "24h", queries.RANGES),
             "fleet": render.fleet_page(fleet, "/model-health")}

    assert html.escape(replay.MARKUP) in pages["window"]
    for name, text in pages.items():
        assert "<script" not in text.lower(), name


def test_model_page_colours_the_zeroed_income_cell_critical(history):
    from include.monitoring.ui import queries, render

    text = render.model_page(history, "/model-health", "24h", queries.RANGES)
    zeroed = _window_key(replay.ZEROED_HOUR)

    income_row = text.split("<tr data-feature='income'>")[1].split("</tr>")[0]
    assert f"data-window='{zeroed}' data-severity='CRITICAL' title='income {zeroed} ks=" in income_row
    assert "<svg" in text and "href='/model-health/models/monitor_credit_default?range=7d'" in text
