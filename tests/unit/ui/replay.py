"""A metric store filled by the real pipeline: the demo warehouse's incident hours replayed with run_window.

Shared by the UI's unit tests and its API-server test. One category value of one hour is replaced by markup, so
that the pages' escaping is checked on data that went through validation, drift and alerting like any other.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import DEMO_END, ROOT

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)
MODEL, DAG_ID = "credit_default", "monitor_credit_default"
MARKUP = "<script>alert(1)</script>"
# Window ends, in hours before the demo's end (see include/monitoring/demo/generator.py's incident table):
# text in a numeric column (19, 18), the empty hour (13), zeroed income and credit_limit (9, 8), markup (7).
REPLAYED_HOURS = (19, 18, 13, 12, 9, 8, 7)
MARKUP_HOUR = 7
ZEROED_HOUR = 9


def window_end(hours_before_end: int) -> datetime:
    return DEMO_END - timedelta(hours=hours_before_end)


def run_id(hours_before_end: int) -> str:
    """Not `scheduled__...`: Airflow reserves that prefix, and the browser test creates these runs by REST."""
    return f"replayed__{window_end(hours_before_end).isoformat()}"


def with_markup_channel(predictions):
    """Every fifth row of the markup hour comes through a channel named like a script tag."""
    end = window_end(MARKUP_HOUR).replace(tzinfo=None)  # the demo's `ts` column is naive UTC
    times = predictions["ts"]
    in_hour = predictions.index[(times >= end - timedelta(hours=1)) & (times < end)]
    predictions.loc[in_hour[::5], "channel"] = MARKUP
    return predictions


def write_warehouse(frames, path: Path):
    from include.monitoring.airflow_adapters import engine_from_url

    engine = engine_from_url(f"sqlite:///{path}")
    for name, frame in {**frames, "predictions": with_markup_channel(frames["predictions"].copy())}.items():
        frame.to_sql(name, engine, index=False)
    return engine


def replay(warehouse, store) -> None:
    """The reference, then each replayed window in time order, as the hourly DAG would have run them."""
    from include.monitoring import pipeline, reference
    from include.monitoring.config import load_monitor_config
    from include.monitoring.types import Window

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    reference.ensure_reference(config, warehouse, store, now=NOW)
    for hours in REPLAYED_HOURS:
        end = window_end(hours)
        pipeline.run_window(config, warehouse, store, Window(end - timedelta(hours=1), end), now=NOW,
                            run_id=run_id(hours))
