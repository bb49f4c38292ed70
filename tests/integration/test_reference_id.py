"""One run, one reference: load_reference resolves the profile a window is compared with, and the run's
observation and performance read that profile by the id they are given, even when a newer one is stored meanwhile."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END, ROOT
from tests.integration.helpers import set_connections

pytestmark = pytest.mark.integration


def test_a_run_reads_the_reference_it_resolved_not_a_newer_one(demo_warehouse_path, tmp_path, monkeypatch):
    from include.monitoring import reference, staging, tasks
    from include.monitoring.config import load_monitor_config
    from include.monitoring.types import MetricKind, Window

    set_connections(monkeypatch, {"conn_type": "sqlite", "host": str(demo_warehouse_path)},
                    {"conn_type": "sqlite", "host": str(tmp_path / "store.db")}, None)
    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    window = Window(DEMO_END - timedelta(hours=2), DEMO_END - timedelta(hours=1))
    resolved = tasks.load_reference(config, window)
    assert resolved == reference.load_reference(config, store, window.start)[0]

    # Someone rebuilds the reference while the run is under way: a newer profile with another baseline.
    resolved_profile = reference.load_profile(store, resolved)
    newer = dataclasses.replace(resolved_profile, baseline={**resolved_profile.baseline, "accuracy": 0.123})
    newer_id = reference.store_profile(store, config, newer, reference.source_description(config),
                                       datetime.now(UTC) + timedelta(hours=1))
    assert newer_id != resolved and reference.load_reference(config, store, window.start)[0] == newer_id

    observation = staging.get(store, tasks.observe_window(config, window, "run", resolved))
    assert observation["reference_id"] == resolved
    for given, accuracy_baseline in ((resolved, lambda b: b != 0.123), (newer_id, lambda b: b == 0.123)):
        performance = staging.get(store, tasks.compute_performance(config, window, f"run-{given}", given))
        baselines = {row["details"]["baseline"] for row in performance
                     if row["kind"] == MetricKind.PERFORMANCE.value and row["metric"] == "accuracy"
                     and not row["slice_key"] and row["value"] is not None}
        assert baselines and all(accuracy_baseline(b) for b in baselines), (given, baselines)
