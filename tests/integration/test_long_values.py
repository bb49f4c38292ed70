"""Values longer than a store column holds (a 300-character category value as a slice): the same outcome on SQLite
and on PostgreSQL, which rejects them where SQLite keeps them. Each is stored shortened with a marker and a digest
(two values sharing a head stay two rows and two alerts), the whole value stays in the row's details, and the
alert found again by the next window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 5, tzinfo=UTC)
SHARED_HEAD = "self-employed, " + "x" * 241  # 256 characters, the column's limit
LONG_VALUES = (SHARED_HEAD + "a" * 44, SHARED_HEAD + "b" * 44, "y" * 700)  # the last one makes an alert key > 512


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path) -> sa.Engine:
    if request.param == "sqlite":
        return sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    return request.getfixturevalue("postgres_schema")()


def _config():
    from include.monitoring.config import load_monitor_config

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


def _observation(window_start: datetime):
    """A window whose category `employment_type` drifts in each slice of LONG_VALUES (CRITICAL: alerts open)."""
    from include.monitoring.observation import Observation
    from include.monitoring.types import MetricKind, MetricRow, RunStatus, Severity, Window

    window = Window(window_start, window_start + timedelta(hours=1))
    rows = [MetricRow(MetricKind.DRIFT, "jensen_shannon", 0.5, window, column="employment_type",
                      slice_key="employment_type", slice_value=value, n=300, threshold_warning=0.1,
                      threshold_critical=0.2, severity=Severity.CRITICAL) for value in LONG_VALUES]
    return Observation(window=window, status=RunStatus.OK, reason="", row_count=300, sampled_rows=300,
                       reference_id="r", metrics=rows)


def _write(store: sa.Engine, window_start: datetime) -> None:
    from include.monitoring import pipeline

    pipeline.write_window(_config(), store, _observation(window_start), [], "run", started_at=NOW, now=NOW)


def _rows(store: sa.Engine, query: str) -> list[dict]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(query))]


def test_long_slice_values_are_stored_shortened_with_a_marker_and_the_whole_value_in_details(store):
    from include.monitoring.store import TRUNCATION_MARKER

    first = datetime(2026, 11, 22, 15, tzinfo=UTC)
    _write(store, first)
    _write(store, first)  # a re-run rewrites the same shortened keys
    found = _rows(store, "select slice_value, details from metric_values where kind = 'drift'")
    assert len(found) == len(LONG_VALUES)
    assert all(len(r["slice_value"]) == 256 and TRUNCATION_MARKER in r["slice_value"] for r in found)
    assert len({r["slice_value"] for r in found}) == len(LONG_VALUES)  # the shared head does not merge two values
    whole = sorted(json.loads(r["details"])["truncated"]["slice_value"] for r in found)
    assert whole == sorted(LONG_VALUES)


def test_alerts_of_long_slice_values_are_found_again_by_the_next_window(store):
    first = datetime(2026, 11, 22, 15, tzinfo=UTC)
    _write(store, first)
    _write(store, first + timedelta(hours=1))
    alerts = _rows(store, "select alert_key, slice, status, last_seen_at from alerts")
    assert len(alerts) == len(LONG_VALUES), alerts  # one per slice: the second window updated, not duplicated them
    assert all(a["status"] == "open" and len(a["alert_key"]) <= 512 and len(a["slice"]) <= 256 for a in alerts)
    assert {str(a["last_seen_at"])[:16] for a in alerts} == {"2026-11-22 16:00"}
    triggers = _rows(store, "select alert_key, message from notifications where action = 'trigger'")
    # One incident: its notifications carry the key of one of its alerts, found as stored (shortened) in `alerts`.
    assert len({t["alert_key"] for t in triggers}) == 1 and triggers[0]["alert_key"] in {a["alert_key"] for a in alerts}
    assert triggers[0]["message"].startswith(f"[CRITICAL] credit_default: {len(LONG_VALUES)} findings")
