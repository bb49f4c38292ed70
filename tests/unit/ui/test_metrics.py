"""The Prometheus exposition of the store (include/monitoring/ui/metrics.py), read back with prometheus_client's
own parser, as Prometheus would read it."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.ui import replay

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def parsed(text: bytes) -> dict[str, list]:
    """{family name: [samples]} of an exposition, through prometheus_client's parser (which rejects invalid text)."""
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family.samples for family in text_string_to_metric_families(text.decode())}


def value_of(families: dict[str, list], name: str, **labels: str) -> float:
    [sample] = [sample for sample in families[name] if sample.labels == {"model": replay.MODEL, **labels}]
    return sample.value


@pytest.fixture(scope="module")
def families(filled_store):
    from include.monitoring.ui.metrics import exposition

    with filled_store.connect() as conn:
        return parsed(exposition(conn, [replay.MODEL]))


def test_zeroed_income_drift_is_the_latest_windows_row_by_hand(families, filled_store):
    """income is zeroed in [18:00, 22:00); the last replayed window [20:00, 21:00) scored it with ks (0.99, every
    zero outside the reference's range) and restated that as a drift level beyond the CRITICAL tier (2)."""
    import sqlalchemy as sa

    from include.monitoring.store import metric_values

    m = metric_values.c
    last_window = replay.window_end(min(replay.REPLAYED_HOURS)) - timedelta(hours=1)
    with filled_store.connect() as conn:
        stored = dict(conn.execute(sa.select(m.metric, m.value).where(
            m.model == replay.MODEL, m.window_start == last_window, m.kind == "drift", m.column_name == "income",
            m.slice_key == "")).all())

    assert set(stored) == {"ks", "drift_level"}
    assert value_of(families, "model_monitoring_drift_level", feature="income", slice="") == stored["drift_level"]
    assert value_of(families, "model_monitoring_drift_level", feature="income", slice="") > 2
    assert value_of(families, "model_monitoring_drift_score", feature="income", slice="", method="ks") == pytest.approx(0.99)


def test_every_drift_and_performance_sample_is_its_series_latest_stored_value(families, filled_store):
    import sqlalchemy as sa

    from include.monitoring.store import metric_values

    m = metric_values.c
    latest: dict[tuple, tuple] = {}
    with filled_store.connect() as conn:
        for row in conn.execute(sa.select(m.window_start, m.kind, m.column_name, m.slice_key, m.slice_value, m.metric,
                                          m.value).where(m.model == replay.MODEL, m.value.is_not(None))):
            key = (row.kind, row.column_name, f"{row.slice_key}={row.slice_value}" if row.slice_key else "", row.metric)
            if key not in latest or row.window_start > latest[key][0]:
                latest[key] = (row.window_start, row.value)
    expected = {"model_monitoring_drift_level": {(feature, slice_): value for (kind, feature, slice_, metric), (_, value)
                                                  in latest.items() if kind == "drift" and metric == "drift_level"},
                "model_monitoring_performance": {(metric, slice_): value for (kind, _, slice_, metric), (_, value)
                                                  in latest.items() if kind == "performance"
                                                  and metric not in ("label_coverage", "sufficient_statistics")},
                "model_monitoring_estimated_performance": {
                    (metric, slice_): value for (kind, _, slice_, metric), (_, value) in latest.items()
                    if kind == "estimated_performance"}}
    exported = {
        "model_monitoring_drift_level": {(s.labels["feature"], s.labels["slice"]): s.value
                                         for s in families["model_monitoring_drift_level"]},
        "model_monitoring_performance": {(s.labels["metric"], s.labels["slice"]): s.value
                                         for s in families["model_monitoring_performance"]},
        "model_monitoring_estimated_performance": {(s.labels["metric"], s.labels["slice"]): s.value
                                                   for s in families["model_monitoring_estimated_performance"]}}

    assert exported == expected
    assert ("income", "") in exported["model_monitoring_drift_level"]
    assert ("roc_auc", "employment_type=salaried") in exported["model_monitoring_performance"]


def test_alerts_quality_and_last_window_equal_the_store(families, filled_store):
    import sqlalchemy as sa

    from include.monitoring.store import alerts, validation_results

    with filled_store.connect() as conn:
        open_alerts = dict(conn.execute(sa.select(alerts.c.severity, sa.func.count()).where(
            alerts.c.status == "open").group_by(alerts.c.severity)).all())
        last_validated = conn.execute(sa.select(sa.func.max(validation_results.c.window_start))).scalar()
        failures = defaultdict(int, {severity.upper(): count for severity, count in conn.execute(
            sa.select(validation_results.c.severity, sa.func.count()).where(
                validation_results.c.window_start == last_validated, validation_results.c.success.is_(False))
            .group_by(validation_results.c.severity))})

    assert open_alerts["CRITICAL"] >= 2
    for severity in ("INFO", "WARNING", "CRITICAL"):
        assert value_of(families, "model_monitoring_open_alerts", severity=severity) == open_alerts.get(severity, 0)
        assert value_of(families, "model_monitoring_quality_failures", severity=severity) == failures[severity]
    last_end = replay.window_end(min(replay.REPLAYED_HOURS))
    assert value_of(families, "model_monitoring_last_window_end_timestamp_seconds") == last_end.timestamp()


def test_operational_series_are_in_base_units(families, filled_store):
    import sqlalchemy as sa

    from include.monitoring.store import metric_values

    m = metric_values.c
    last_window = replay.window_end(min(replay.REPLAYED_HOURS)) - timedelta(hours=1)
    with filled_store.connect() as conn:
        stored = dict(conn.execute(sa.select(m.metric, m.value).where(
            m.model == replay.MODEL, m.window_start == last_window, m.kind == "operational")).all())

    assert value_of(families, "model_monitoring_latency_seconds", quantile="0.95") == pytest.approx(
        stored["latency_p95"] / 1000)
    assert value_of(families, "model_monitoring_error_ratio") == stored["error_rate"]
    assert value_of(families, "model_monitoring_volume_rows") == stored["volume"]
    # The replay has no earlier week of traffic, so no expectation: NaN, not a made-up number
    assert math.isnan(value_of(families, "model_monitoring_volume_expected_rows"))


def test_sufficient_statistics_are_not_exported(families):
    assert not any(sample.labels.get("metric") == "sufficient_statistics"
                   for samples in families.values() for sample in samples)


@pytest.fixture
def empty_store(tmp_path):
    import sqlalchemy as sa

    from include.monitoring.store import create_tables

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_tables(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("models", [[], [replay.MODEL]], ids=["no_model_readable", "model_without_data"])
def test_an_empty_store_gives_valid_exposition_with_zero_alerts(empty_store, models):
    from include.monitoring.ui.metrics import FAMILIES, PREFIX, exposition

    with empty_store.connect() as conn:
        families = parsed(exposition(conn, models))

    assert set(families) == {PREFIX + name for name in FAMILIES}
    with_samples = {name for name, samples in families.items() if samples}
    assert with_samples == ({PREFIX + "open_alerts", PREFIX + "quality_failures"} if models else set())
    assert all(sample.value == 0 for name in with_samples for sample in families[name])


HOSTILE = 'a"b\\c\n<script>alert(1)</script>}{,='


def test_label_values_from_data_round_trip_through_the_parser(empty_store):
    """A feature or slice value with quotes, backslashes, a newline and markup reaches Prometheus unchanged."""
    from include.monitoring.store import metric_values
    from include.monitoring.ui.metrics import exposition

    start = datetime(2026, 11, 22, 20, tzinfo=UTC)
    row = {"model": replay.MODEL, "window_start": start, "window_end": start + timedelta(hours=1), "kind": "drift",
           "column_name": HOSTILE, "slice_key": "channel", "slice_value": HOSTILE, "metric": "drift_level",
           "value": 1.5, "severity": "WARNING", "details": "{}", "computed_at": start}
    with empty_store.begin() as conn:
        conn.execute(metric_values.insert(), [row])
    with empty_store.connect() as conn:
        families = parsed(exposition(conn, [replay.MODEL]))

    [sample] = families["model_monitoring_drift_level"]
    assert sample.labels == {"model": replay.MODEL, "feature": HOSTILE, "slice": f"channel={HOSTILE}"}
    assert sample.value == 1.5


def test_the_grafana_dashboard_queries_only_exported_families_through_its_variables():
    """The dashboard's queries run against a real Prometheus in tests/e2e/model_health/test_prometheus.py; this
    checks, without one, that they name families the endpoint exports and filter by the `model` variable."""
    import json
    import re

    from include.monitoring.ui.metrics import FAMILIES, PREFIX
    from tests.conftest import ROOT

    dashboard = json.loads((ROOT / "dashboards" / "grafana" / "model_health.json").read_text())
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    targets = [target for panel in dashboard["panels"] for target in panel["targets"]]

    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["model"]["definition"].startswith("label_values(model_monitoring_")
    assert all(panel["datasource"]["uid"] == "${datasource}" for panel in dashboard["panels"])
    for target in targets:
        assert 'model="$model"' in target["expr"], target
        assert set(re.findall(r"\bmodel_monitoring_\w+", target["expr"])) <= {PREFIX + name for name in FAMILIES}


def test_expected_volume_is_the_seasonal_band_mean(empty_store):
    from include.monitoring.store import metric_values
    from include.monitoring.ui.metrics import exposition

    start = datetime(2026, 11, 22, 20, tzinfo=UTC)
    row = {"model": replay.MODEL, "window_start": start, "window_end": start + timedelta(hours=1),
           "kind": "operational", "column_name": "", "slice_key": "", "slice_value": "", "metric": "volume",
           "value": 90.0, "severity": "OK", "computed_at": start,
           "details": '{"history": [110, 130], "k": 3.0, "mean": 120.0, "std": 14.1, "low": 68.2, "high": 171.8}'}
    with empty_store.begin() as conn:
        conn.execute(metric_values.insert(), [row])
    with empty_store.connect() as conn:
        families = parsed(exposition(conn, [replay.MODEL]))

    assert value_of(families, "model_monitoring_volume_rows") == 90
    assert value_of(families, "model_monitoring_volume_expected_rows") == 120
