"""The values each numeric key of a monitor file accepts."""

from __future__ import annotations

from dataclasses import dataclass

from include.monitoring.catalogue import DRIFT_METHOD_SPECS
from include.monitoring.config.schema import MAX_LOOKBACK_WINDOWS


@dataclass(frozen=True, slots=True)
class Range:
    """The values a numeric key accepts, written as an interval: [low, high], an open end in round brackets."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below  # NaN is neither, so it is outside every range

    def __str__(self) -> str:
        return (f"{'(' if self.low_open else '['}{_readable(self.low)}, "
                f"{_readable(self.high)}{')' if self.high_open else ']'}")


def _readable(number: float) -> str:
    return f"{number:_}" if isinstance(number, int) else f"{number:g}"


SHARE = Range(0, 1)
OPEN_SHARE = Range(0, 1, low_open=True, high_open=True)
ROWS = Range(1, 10_000_000)  # row and label counts: far beyond what one window can hold in memory
LOOKBACK = Range(1, MAX_LOOKBACK_WINDOWS)
# Every numeric key of a monitor file and the values it accepts: the one place the range check and the README read.
# Keys are paths as written in the file; "*" stands for a name the file chooses (a feature, a rule pattern), and a
# Tiers key ({warning, critical}) covers both tiers. Bounds keep values sensible and far from what breaks Python
# or the store: a huge timeout overflows timedelta at parse time, a billion bins allocates gigabytes.
NUMERIC_RANGES: dict[str, Range] = {
    "retries": Range(0, 10),
    "retry_delay_minutes": Range(0, 1440),
    "timeout_minutes": Range(1, 1440),  # per task: a task running longer than a day is stuck
    "min_rows": ROWS,
    "warehouse.max_rows_per_window": ROWS,
    "labels.horizon_days": Range(1, 365),
    "labels.max_unmatched_share": SHARE,
    "labels.due_hours": Range(1, 365 * 24),  # and below labels.horizon_days (checks.py)
    "labels.due_coverage": SHARE,
    "reference.rolling_days": Range(1, 365),
    "reference.seasonal_weeks": Range(1, 52),
    "reference.bins": Range(2, 1000),
    "reference.top_k_categories": Range(1, 1000),
    "drift.auto_switch_rows": ROWS,
    **{f"drift.{name}": Range(*spec.tier_bounds) for name, spec in DRIFT_METHOD_SPECS.items()},
    "drift.new_category": SHARE,
    "drift.noise_quantile": Range(0.5, 1, low_open=True, high_open=True),
    "drift.min_slice_rows": ROWS,
    # The widest of the methods' ranges; the method the feature uses narrows it (checks.py).
    "drift.features.*.warning": Range(0, 100),
    "drift.features.*.critical": Range(0, 100),
    "validation.max_null_rate": SHARE,
    "validation.critical_null_rate": SHARE,
    "validation.range_tolerance": Range(0, 10),  # a share of the reference's span
    "validation.mostly": Range(0, 1, low_open=True),  # 0 would let every row fail
    "validation.volume_weeks": Range(1, 52),
    "validation.volume_k": Range(0, 100, low_open=True),
    "performance.min_labels": ROWS,
    "performance.min_band_labels": ROWS,
    "performance.min_class_labels": ROWS,
    "performance.min_coverage": SHARE,
    "performance.warning_drop": OPEN_SHARE,
    "performance.critical_drop": OPEN_SHARE,
    "performance.significance": OPEN_SHARE,
    "performance.threshold": OPEN_SHARE,  # a cut-off at 0 or 1 puts every prediction in one class
    "performance.slice_top_k": Range(1, 1000),
    "application.latency_p50": Range(0, 3_600_000),  # milliseconds: up to an hour
    "application.latency_p95": Range(0, 3_600_000),
    "application.latency_p99": Range(0, 3_600_000),
    "application.error_rate": SHARE,
    "alerts.warning_persistence": LOOKBACK,  # each of N and M
    "alerts.critical_persistence": LOOKBACK,
    "alerts.persistence.*.warning": LOOKBACK,
    "alerts.persistence.*.critical": LOOKBACK,
    "alerts.resolve_after": LOOKBACK,
    "alerts.remind_hours": Range(0, 365 * 24),  # 0 = never
    "alerts.resolve_unseen_after": Range(1, 90 * 24),  # windows: up to 90 days of hourly runs
    "alerts.reopen_within_hours": Range(0, 30 * 24),
    "alerts.page_within_hours": Range(1, 365 * 24),  # every run starts after its window ended: 0 would never page
    "alerts.dynamic.*.windows": Range(2, 365 * 24),
    "alerts.dynamic.*.min_windows": Range(2, 365 * 24),
    "alerts.dynamic.*.k_warning": Range(0, 100, low_open=True),
    "alerts.dynamic.*.k_critical": Range(0, 100, low_open=True),
}
