"""Freshness, volume and the serving side of a window, read from the prediction log.

    row_count               CRITICAL when the window has no rows: a data delay or an outage upstream
    volume                  the row count against the same hour of the week in earlier weeks (WARNING outside
                            mean +- k x std, too few or too many)
    prediction_lag_seconds  how far the newest prediction is behind the window end (recorded)
    latency_p50/p95/p99     when the log has a latency column, with tiers like any other metric
    error_rate              when the log has a status column: the share of rows whose status is not ok
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from include.monitoring import warehouse
from include.monitoring.alerting import policy
from include.monitoring.config import MonitorConfig, Tiers
from include.monitoring.types import MetricKind, MetricRow, ScoreKind, Severity, Window

DATA_DELAY = "data_delay"  # the alert rule of an empty window
# The volume band never gets narrower than Poisson noise or this share of the mean: traffic varies from week to
# week by more than counting noise, and one or two weeks of history would otherwise give a band of zero width.
VOLUME_MIN_RELATIVE_STD = 0.05
# An error rate above its tier alerts only with at least this many failed rows: one error in a 20-row night hour is 5 %.
MIN_ERROR_ROWS = 3


def freshness_rows(config: MonitorConfig, engine: sa.Engine, window: Window, row_count: int,
                   latest_in_window: datetime | None) -> list[MetricRow]:
    """The data-delay and volume rows of a window, and the lag of its newest prediction."""
    latest = latest_in_window or warehouse.latest_timestamp(engine, config, window.end)
    lag = (window.end - latest).total_seconds() if latest else None
    delay = MetricRow(MetricKind.OPERATIONAL, "row_count", float(row_count), window, n=row_count,
                      threshold_critical=0.0, severity=policy.empty_window_severity(row_count),
                      details={"alert_rule": DATA_DELAY, "latest_prediction": latest.isoformat() if latest else None})
    lag_row = MetricRow(MetricKind.OPERATIONAL, "prediction_lag_seconds", lag, window,
                        details={"latest_prediction": latest.isoformat() if latest else None})
    return [delay, volume_row(config, engine, window, row_count), lag_row]


def volume_row(config: MonitorConfig, engine: sa.Engine, window: Window, row_count: int) -> MetricRow:
    """The row count against the same hour of the week in up to `validation.volume_weeks` earlier weeks."""
    rules = config.validation
    earlier = [window.shifted(-timedelta(weeks=week)) for week in range(1, rules.volume_weeks + 1)]
    return volume_verdict(config, window, row_count, warehouse.count_windows(engine, config, earlier))


def volume_verdict(config: MonitorConfig, window: Window, row_count: int, earlier_counts: list[int]) -> MetricRow:
    """The volume row of a window given the row counts of the same hour in the earlier weeks. Weeks without a
    single row (before launch, or an outage) are not normal traffic and are left out."""
    rules = config.validation
    history = [count for count in earlier_counts if count > 0]
    band = volume_band(history, rules.volume_k)
    details: dict[str, Any] = {"history": history, "k": rules.volume_k}
    severity = Severity.OK
    if band is None:
        details["skipped"] = "no earlier week with rows in this hour of the week"
    else:
        mean, std, low, high = band
        details.update(mean=mean, std=std, low=low, high=high)
        severity = policy.volume_severity(row_count, low, high)
    return MetricRow(MetricKind.OPERATIONAL, "volume", float(row_count), window, n=row_count, severity=severity,
                     details=details)


def volume_band(history: list[int], k: float) -> tuple[float, float, float, float] | None:
    """(mean, std, low, high) of the prediction interval mean +- k x std x sqrt(1 + 1/weeks): a new week
    varies around the true mean, and the mean itself is estimated from few weeks."""
    if not history:
        return None
    counts = np.asarray(history, dtype="float64")
    mean = float(counts.mean())
    spread = float(counts.std(ddof=1)) if counts.size > 1 else 0.0
    std = max(spread, math.sqrt(mean), VOLUME_MIN_RELATIVE_STD * mean)
    half = k * std * math.sqrt(1 + 1 / counts.size)
    return mean, std, max(mean - half, 0.0), mean + half


def serving_rows(config: MonitorConfig, frame: pd.DataFrame, window: Window) -> list[MetricRow]:
    """Latency percentiles and the error rate, when the log carries the columns named in `application`."""
    app = config.application
    rows: list[MetricRow] = []
    if app.latency_column and app.latency_column in frame.columns:
        latency = pd.to_numeric(frame[app.latency_column], errors="coerce").to_numpy(dtype="float64")
        latency = latency[np.isfinite(latency)]
        for name, q in (("latency_p50", 50), ("latency_p95", 95), ("latency_p99", 99)):
            value = float(np.percentile(latency, q)) if latency.size else None
            rows.append(_tiered(name, value, getattr(app, name), window, app.latency_column, latency.size, None, {}))
    if app.status_column and app.status_column in frame.columns:
        status = frame[app.status_column]
        failed = ~status.astype("string").isin(app.ok_statuses).fillna(False)  # a null status is not a success
        errors, n = int(failed.sum()), len(status)
        rate = errors / n if n else None
        examples = status[failed].astype("string").fillna("<null>").value_counts().head(5)
        rows.append(_tiered("error_rate", rate, app.error_rate, window, app.status_column, n,
                            (MIN_ERROR_ROWS - 1) / n if n else None,
                            {"errors": errors, "statuses": {str(k): int(v) for k, v in examples.items()}}))
    return rows


def _tiered(name: str, value: float | None, tiers: Tiers, window: Window, column: str, n: int,
            noise: float | None, details: dict[str, Any]) -> MetricRow:
    return MetricRow(MetricKind.OPERATIONAL, name, value, window, column=column, n=n,
                     threshold_warning=tiers.warning, threshold_critical=tiers.critical,
                     severity=policy.score_severity(ScoreKind.DISTANCE, value, tiers, noise), details=details)
