"""The metric store as Prometheus exposition text, served at GET /model-health/metrics.

Every scrape reads the store afresh into a new registry: nothing is kept between scrapes, so a window written a
second ago shows at the next scrape, and two scrapes for users who may read different models share nothing. All
families are gauges (they restate the store's latest values; none counts since the process started), with a
`model` label and, where they apply, `feature`, `slice` ("employment_type=salaried"; empty = the whole window),
`metric` and `method`:

    model_monitoring_drift_level                        {feature, slice}          unitless: 0 none, 1 WARNING, 2 CRITICAL
    model_monitoring_drift_score                        {feature, slice, method}  the method's statistic
    model_monitoring_drift_p_value                      {feature, slice, method}  tests only (ks, chi2)
    model_monitoring_performance                        {metric, slice}           realized, from labels
    model_monitoring_estimated_performance              {metric, slice}           before labels arrive
    model_monitoring_label_coverage_ratio               {slice}
    model_monitoring_volume_rows / _expected_rows                                 expected: seasonal band mean, NaN
                                                                                  without an earlier week
    model_monitoring_latency_seconds                    {quantile}                0.5, 0.95, 0.99
    model_monitoring_error_ratio, model_monitoring_prediction_lag_seconds
    model_monitoring_metric_value                       {kind, metric, feature, slice}  every other store metric
    model_monitoring_quality_failures                   {severity}                failed checks, latest validated window
    model_monitoring_open_alerts                        {severity}
    model_monitoring_last_window_end_timestamp_seconds                           staleness: time() - this

A series holds the value of the latest window that has one (queries.latest_metric_values): a night window that
skipped drift, or a window still awaiting labels, does not blank it; the last-window timestamp says how old the
model's data is. Label values come from data (feature names, slice values); prometheus_client escapes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from include.monitoring.catalogue import DRIFT_LEVEL
from include.monitoring.types import MetricKind, Severity
from include.monitoring.ui import queries

PREFIX = "model_monitoring_"
# Always exported, 0 when there is none: a panel then shows 0 rather than "no data".
SEVERITIES = tuple(severity.name for severity in Severity if severity is not Severity.OK)
LATENCY_QUANTILES = {"latency_p50": "0.5", "latency_p95": "0.95", "latency_p99": "0.99"}

# name (without PREFIX) -> (help, labels besides `model`). The one list of what the endpoint exports.
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "drift_level": ("A feature's drift on one unitless scale: 0 no drift, 1 at the WARNING tier, 2 at the CRITICAL "
                    "tier, whichever method scored it", ("feature", "slice")),
    "drift_score": ("A feature's drift statistic as its method computes it (distance or test statistic)",
                    ("feature", "slice", "method")),
    "drift_p_value": ("The p-value of a feature's drift test", ("feature", "slice", "method")),
    "performance": ("Realized performance of the model from its labels", ("metric", "slice")),
    "estimated_performance": ("Performance estimated from the scores before labels arrive", ("metric", "slice")),
    "label_coverage_ratio": ("Share of the window's predictions whose label has arrived", ("slice",)),
    "volume_rows": ("Predictions in the window", ()),
    "volume_expected_rows": ("Predictions expected in the window from the same hour of earlier weeks (band mean); "
                             "NaN without an earlier week", ()),
    "latency_seconds": ("Serving latency percentile of the window's predictions", ("quantile",)),
    "error_ratio": ("Share of the window's predictions whose status is not ok", ()),
    "prediction_lag_seconds": ("How far the window's newest prediction is behind the window end", ()),
    "metric_value": ("Any other metric the monitor stores, by kind and metric name",
                     ("kind", "metric", "feature", "slice")),
    "quality_failures": ("Failed data-quality checks of the latest validated window", ("severity",)),
    "open_alerts": ("Open alerts", ("severity",)),
    "last_window_end_timestamp_seconds": ("End of the latest window the monitor completed, as a Unix time", ()),
}


def exposition(conn: Any, models: Iterable[str]) -> bytes:
    """The Prometheus text exposition of `models` (names) read through `conn`, a store connection."""
    families = {name: GaugeMetricFamily(PREFIX + name, text, labels=("model", *labels))
                for name, (text, labels) in FAMILIES.items()}

    def add(name: str, model: str, labels: dict[str, str], value: float) -> None:
        families[name].add_metric([model, *(labels[label] for label in FAMILIES[name][1])], value)

    for model in models:
        for row in queries.latest_metric_values(conn, model):
            for name, labels, value in samples(row):
                add(name, model, labels, value)
        failures = {severity.upper(): count for severity, count in queries.latest_quality_failures(conn, model).items()}
        alerts = queries.open_alerts_by_severity(conn, model)
        for severity in sorted({*SEVERITIES, *failures, *alerts}):
            add("quality_failures", model, {"severity": severity}, failures.get(severity, 0))
            add("open_alerts", model, {"severity": severity}, alerts.get(severity, 0))
        last = queries.latest_run(conn, model)
        if last is not None:
            add("last_window_end_timestamp_seconds", model, {}, datetime.fromisoformat(last["window_end"]).timestamp())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(list(families.values())))
    return generate_latest(registry)


def samples(row: dict[str, Any]) -> Iterator[tuple[str, dict[str, str], float]]:
    """(family, labels, value) of one latest_metric_values row."""
    kind, metric, value = row["kind"], row["metric"], row["value"]
    feature, slice_ = row["column"], row["slice"]
    if kind == MetricKind.DRIFT and metric == DRIFT_LEVEL:
        yield "drift_level", {"feature": feature, "slice": slice_}, value
    # Rows about the window as a whole (drift_share, new_category_share, ...) go to the generic family.
    elif kind == MetricKind.DRIFT and metric not in queries.WINDOW_LEVEL_DRIFT:
        labels = {"feature": feature, "slice": slice_, "method": metric}
        yield "drift_score", labels, value
        if row["p_value"] is not None:
            yield "drift_p_value", labels, row["p_value"]
    elif kind == MetricKind.PERFORMANCE and metric == "label_coverage":
        yield "label_coverage_ratio", {"slice": slice_}, value
    elif kind == MetricKind.PERFORMANCE:
        yield "performance", {"metric": metric, "slice": slice_}, value
    elif kind == MetricKind.ESTIMATED_PERFORMANCE:
        yield "estimated_performance", {"metric": metric, "slice": slice_}, value
    elif kind == MetricKind.OPERATIONAL and metric == "volume":
        yield "volume_rows", {}, value
        expected = row["details"].get("mean")
        yield "volume_expected_rows", {}, float(expected) if isinstance(expected, int | float) else math.nan
    elif kind == MetricKind.OPERATIONAL and metric in LATENCY_QUANTILES:
        yield "latency_seconds", {"quantile": LATENCY_QUANTILES[metric]}, value / 1000  # stored in milliseconds
    elif kind == MetricKind.OPERATIONAL and metric == "error_rate":
        yield "error_ratio", {}, value
    elif kind == MetricKind.OPERATIONAL and metric == "prediction_lag_seconds":
        yield "prediction_lag_seconds", {}, value
    else:
        yield "metric_value", {"kind": kind, "metric": metric, "feature": feature, "slice": slice_}, value


class _Snapshot:
    """A collector that returns families already read: the registry only formats them."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families
