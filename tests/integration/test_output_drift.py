"""Output drift: the predicted-positive share, mean score and low-confidence share of a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END, ROOT

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)


def test_output_summary_counts_positives_and_low_confidence_by_hand():
    """Scores 0.1, 0.45, 0.55, 0.9 and a null at threshold 0.5 with margin 0.1: 4 scored, 2 at or above
    0.5 (0.55, 0.9), 2 within 0.1 of it (0.45, 0.55), mean (0.1 + 0.45 + 0.55 + 0.9) / 4 = 0.5."""
    from include.monitoring.profiles import output_summary

    summary = output_summary(pd.Series([0.1, 0.45, 0.55, 0.9, None]), threshold=0.5)
    assert summary.to_json() == {"scored": 4, "positive": 2, "low_confidence": 2, "mean": pytest.approx(0.5)}


def _run(config, warehouse, store, window):
    from include.monitoring import pipeline, reference

    reference.ensure_reference(config, warehouse, store, now=NOW)
    pipeline.run_window(config, warehouse, store, window, now=NOW)
    with store.connect() as conn:
        return {r.metric: r for r in conn.execute(sa.text(
            "select metric, value, severity, details from metric_values where kind = 'drift' and column_name = 'score'"))}


def _config():
    from include.monitoring.config import load_monitor_config

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


def test_positive_share_alerts_late_in_the_gradual_shift(demo_warehouse_path, demo_store):
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.types import Window

    warehouse = engine_from_url(f"sqlite:///{demo_warehouse_path}")
    end = DEMO_END - timedelta(hours=8)
    rows = _run(_config(), warehouse, demo_store, Window(end - timedelta(hours=1), end))
    assert {"positive_share", "mean_score", "low_confidence_share"} <= set(rows)
    assert {"ks", "wasserstein"} & set(rows)  # the score's own drift, by the auto choice
    assert '"reference"' in rows["mean_score"].details
    assert rows["positive_share"].severity != "OK"


def test_positive_share_is_quiet_on_a_window_drawn_from_the_reference(demo_frames, tmp_path):
    """The window's rows are 1500 of the reference rows themselves: nothing may alert on the output."""
    from include.monitoring.types import Window

    window = Window(datetime(2026, 11, 20, 12, tzinfo=UTC), datetime(2026, 11, 20, 13, tzinfo=UTC))
    predictions = demo_frames["credit_default_reference"].head(1500).drop(columns=["label"]).copy()
    predictions["ts"] = pd.Timestamp("2026-11-20 12:30:00")
    warehouse = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    predictions.to_sql("predictions", warehouse, index=False)
    demo_frames["labels"].head(0).to_sql("labels", warehouse, index=False)
    demo_frames["credit_default_reference"].to_sql("credit_default_reference", warehouse, index=False)
    rows = _run(_config(), warehouse, sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}"), window)
    assert rows["positive_share"].severity == "OK"
    assert rows["ks"].severity == "OK"  # 1500 rows: auto picks ks


@pytest.mark.parametrize("unseen, n, expected", [(0, 1000, "OK"), (2, 40, "OK"), (3, 40, "CRITICAL"), (15, 1000, "WARNING"),
                                                 (50, 1000, "CRITICAL")],
                         ids=["none", "two_rows_in_tiny_window", "three_rows_in_tiny_window", "1.5_percent", "5_percent"])
def test_new_category_share_tiers_and_minimum_rows(unseen, n, expected):
    from include.monitoring.drift.engine import new_category_row
    from include.monitoring.profile_types import CategoryCounts
    from include.monitoring.types import Window

    profile = CategoryCounts.from_json({"kind": "categorical", "counts": [n - unseen], "n": n, "nulls": 0, "unseen": unseen,
                                        "unseen_examples": {"voice_assistant": unseen} if unseen else {}})
    window = Window(datetime(2026, 11, 20, 12, tzinfo=UTC), datetime(2026, 11, 20, 13, tzinfo=UTC))
    row = new_category_row(_config(), "channel", profile, window)
    assert row.value == pytest.approx(unseen / n)
    assert row.severity.name == expected


def test_demo_new_category_is_caught_in_a_quiet_evening_hour(demo_warehouse_path, demo_store):
    """[20:00, 21:00) on 2026-11-22 is a quiet evening hour (109 rows), 11 of them through the new channel."""
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.types import Window

    warehouse = engine_from_url(f"sqlite:///{demo_warehouse_path}")
    store = demo_store
    end = DEMO_END - timedelta(hours=7)
    from include.monitoring import pipeline, reference

    reference.ensure_reference(_config(), warehouse, store, now=NOW)
    pipeline.run_window(_config(), warehouse, store, Window(end - timedelta(hours=1), end), now=NOW)
    with store.connect() as conn:
        row = conn.execute(sa.text("select value, severity, details, n from metric_values "
                                   "where metric = 'new_category_share' and column_name = 'channel'")).one()
    assert row.n == 109
    assert row.severity in ("WARNING", "CRITICAL") and "voice_assistant" in row.details, row
