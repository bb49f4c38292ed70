"""Labels matched with their predictions by time ranges only (no index on ids): the predictions of the last
labels.due_hours first, the rest of the label horizon only for the labels not found there; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def _config():
    from include.monitoring.config import load_monitor_config

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


def _warehouse(engine: sa.Engine) -> None:
    """Predictions at 1 h, 10 h, 5 days and 40 days before NOW; labels arriving in the hour before NOW for each of
    them, one sent twice, and one for an id that was never predicted. Indexed on the time columns only."""
    hours = {"recent": 1, "morning": 10, "last_week": 5 * 24, "too_old": 40 * 24}
    with engine.begin() as conn:
        conn.execute(sa.text("create table predictions (prediction_id text, ts timestamp, score float)"))
        conn.execute(sa.text("create table labels (prediction_id text, label integer, labeled_at timestamp)"))
        conn.execute(sa.text("create index predictions_ts on predictions (ts)"))
        conn.execute(sa.text("create index labels_at on labels (labeled_at)"))
        conn.execute(sa.text("insert into predictions values (:id, :ts, 0.5)"),
                     [{"id": name, "ts": (NOW - timedelta(hours=h, minutes=-5)).replace(tzinfo=None)}
                      for name, h in hours.items()])
        arrived = (NOW - timedelta(minutes=30)).replace(tzinfo=None)
        conn.execute(sa.text("insert into labels values (:id, 1, :at)"),
                     [{"id": name, "at": arrived} for name in [*hours, "recent", "never_predicted"]])


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_labels_are_matched_first_in_the_due_hours_then_in_the_horizon(dialect, tmp_path, request):
    from include.monitoring import warehouse
    from include.monitoring.types import Window

    engine = (sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}") if dialect == "sqlite"
              else request.getfixturevalue("postgres_schema")())
    _warehouse(engine)
    config = _config()
    hour = Window(NOW - timedelta(hours=1), NOW)
    match = warehouse.match_arrivals(engine, config, hour, NOW - timedelta(days=30), timedelta(hours=1))
    assert match.arrived == 6
    # found in the last 72 h: recent, morning; in the rest of the 30-day horizon: last_week; beyond it: too_old
    assert match.windows == (NOW - timedelta(days=5), NOW - timedelta(hours=10), NOW - timedelta(hours=1))
    assert set(match.unmatched) == {"too_old", "never_predicted"} and match.unmatched_rows == 2
    assert warehouse.label_arrivals(engine, config, hour) == match


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_repeated_labels_look_back_to_the_oldest_prediction_of_the_arrived_labels(dialect, tmp_path, request):
    """Earlier labels of the predictions labelled in the hour arrived after those predictions: looking back to the
    oldest of them finds what the whole horizon finds, and a lookback that starts later misses the earlier label."""
    from include.monitoring import warehouse
    from include.monitoring.types import Window

    engine = (sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}") if dialect == "sqlite"
              else request.getfixturevalue("postgres_schema")())
    _warehouse(engine)
    with engine.begin() as conn:  # a first label for last_week's prediction, 4 days ago
        conn.execute(sa.text("insert into labels values ('last_week', 0, :at)"),
                     {"at": (NOW - timedelta(days=4)).replace(tzinfo=None)})
    config = _config()
    hour = Window(NOW - timedelta(hours=1), NOW)
    oldest = min(warehouse.label_arrivals(engine, config, hour).windows)
    assert oldest == NOW - timedelta(days=5)
    bounded = warehouse.repeated_labels(engine, config, hour, oldest)
    assert bounded == warehouse.repeated_labels(engine, config, hour)  # the whole horizon
    assert {i for i, _ in bounded.labels} == {"last_week", "recent"} and bounded.arrived == 6  # recent: twice this hour
    later = warehouse.repeated_labels(engine, config, hour, NOW - timedelta(days=3))
    assert {i for i, _ in later.labels} == {"recent"}
