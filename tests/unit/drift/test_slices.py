"""Slices judged by the whole window's rule: the method `auto` picks for the slice's own row count (a test below
drift.auto_switch_rows, a distance with its noise band from there), the same tiers, and the slices' p-values
corrected together."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from include.monitoring.config import FeaturesConfig, MonitorConfig, PerformanceConfig, WarehouseConfig
from include.monitoring.drift.engine import compute_drift
from include.monitoring.drift.slice_calibration import IN_PROCESS
from include.monitoring.pipeline import observe_frame
from include.monitoring.reference import fit_reference
from include.monitoring.types import MetricKind, Severity, Window
from include.monitoring.validation.results import validation_frame

WINDOW = Window(datetime(2026, 11, 1, 12, tzinfo=UTC), datetime(2026, 11, 1, 13, tzinfo=UTC))
SEGMENTS = {"a": 0.5, "b": 0.3, "c": 0.2}
CONFIG = MonitorConfig(model="slices", features=FeaturesConfig(numeric=("x", "y"), categorical=("segment",)),
                       warehouse=WarehouseConfig(model_version_column="model_version"),
                       performance=PerformanceConfig(slices=("segment",)))


def traffic(rng: np.random.Generator, sizes: dict[str, int], shift: dict[str, float] | None = None) -> pd.DataFrame:
    """Rows of each segment (x normal, y lognormal; one model version); `shift` moves x by that many standard
    deviations within a segment."""
    parts = []
    for segment, n in sizes.items():
        x = rng.normal(0, 1, n) + (shift or {}).get(segment, 0.0)
        parts.append(pd.DataFrame({"x": x, "y": rng.lognormal(0, 0.5, n), "segment": segment,
                                   "model_version": "v1", "score": rng.beta(2, 5, n)}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(17)
    return fit_reference(CONFIG, traffic(rng, {segment: int(40_000 * share) for segment, share in SEGMENTS.items()}))


def drift_rows(reference, frame: pd.DataFrame) -> list:
    observation = observe_frame(CONFIG, "ref", reference, WINDOW, validation_frame(CONFIG, frame), len(frame), [], [])
    return [row for row in compute_drift(CONFIG, reference, observation)
            if row.kind is MetricKind.DRIFT and row.details.get("alert_rule") == "feature_drift"]


def by_slice(rows: list, column: str) -> dict[str, object]:
    return {f"{row.slice_key}={row.slice_value}" if row.slice_key else "": row for row in rows if row.column == column}


@pytest.mark.parametrize(("rows", "shift", "method", "severity"), [
    (6000, 0.09, "wasserstein", Severity.OK),  # under the 0.1 WARNING tier: a test would call it CRITICAL
    (300, 1.0, "ks", Severity.CRITICAL),
])
def test_a_slice_holding_the_whole_window_is_judged_as_the_window(reference, rows, shift, method, severity):
    rng = np.random.default_rng(rows)
    frame = traffic(rng, {"a": rows}, shift={"a": shift})
    x = by_slice(drift_rows(reference, frame), "x")
    whole, version = x[""], x["model_version=v1"]
    assert whole.metric == version.metric == method
    assert whole.severity is version.severity is severity
    if method == "wasserstein":
        assert version.value == pytest.approx(shift, abs=0.04) and version.details["noise"] > 0
        assert version.p_value is None and "budget_share" not in version.details  # a distance: no correction
        assert version.details["calibration"] == "stored with the reference"  # the window again: the column's band
        assert version.details["noise"] == pytest.approx(whole.details["noise"], rel=0.01)


@pytest.mark.slow
@pytest.mark.parametrize(("slice_rows", "trials"), [(300, 200), (3000, 60), (30_000, 20)])
def test_undrifted_slices_alert_in_at_most_one_percent_of_windows(reference, slice_rows, trials):
    """Segment a holds half of each window; every slice of it is clean. A WARNING or CRITICAL of any slice counts
    (before persistence, which would only lower the rate)."""
    rng = np.random.default_rng(slice_rows)
    sizes = {segment: int(2 * slice_rows * share) for segment, share in SEGMENTS.items()}
    alerting = 0
    methods = set()
    for _ in range(trials):
        rows = [row for row in drift_rows(reference, traffic(rng, sizes)) if row.slice_key]
        methods |= {row.metric for row in rows if row.slice_value == "a"}
        alerting += any(row.severity >= Severity.WARNING for row in rows)
    assert methods == ({"ks", "chi2"} if slice_rows < 2000 else {"wasserstein", "jensen_shannon"})
    assert alerting <= trials // 100, f"{alerting} of {trials} clean windows alerted in a slice"


def test_a_shift_confined_to_one_large_slice_is_caught_there_and_nowhere_else(reference):
    rng = np.random.default_rng(3)
    frame = traffic(rng, {"a": 5000, "b": 3000, "c": 2000}, shift={"a": 0.3})
    x = by_slice(drift_rows(reference, frame), "x")
    assert x["segment=a"].metric == "wasserstein" and x["segment=a"].severity is Severity.CRITICAL  # 0.3 >= 0.2
    assert x["segment=a"].details["calibration"] == IN_PROCESS.source  # its own reference counts' table
    assert x["segment=b"].severity is Severity.OK and x["segment=c"].severity is Severity.OK
    assert x[""].severity is Severity.WARNING  # diluted in the whole window: 0.15 standard deviations
    y = by_slice(drift_rows(reference, frame), "y")
    assert all(row.severity is Severity.OK for row in y.values())


def test_a_configured_method_applies_to_the_slices_too(reference):
    config = dataclasses.replace(CONFIG, drift=dataclasses.replace(CONFIG.drift, numeric_method="psi"))
    frame = traffic(np.random.default_rng(5), {"a": 400, "b": 300})
    observation = observe_frame(config, "ref", reference, WINDOW, validation_frame(config, frame), len(frame), [], [])
    slices = {row.metric for row in compute_drift(config, reference, observation)
              if row.slice_key and row.column == "x" and row.details.get("alert_rule") == "feature_drift"}
    assert slices == {"psi"}
