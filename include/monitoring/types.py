"""Value types shared by every step: windows, severities, statuses and metric rows.

Stdlib only: DAG files import this module at parse time.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any


class Severity(enum.IntEnum):
    """Ordered alert tiers; OK means "no alert"."""

    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @classmethod
    def parse(cls, name: str) -> Severity:
        return cls[name.upper()]


class RunStatus(enum.StrEnum):
    """Outcome of one window's run, recorded in `monitor_runs.status`."""

    OK = "ok"
    NO_DATA = "no_data"
    INSUFFICIENT_DATA = "insufficient_data"
    BLOCKED = "blocked"  # a blocking validation failed: drift and performance were not computed
    FAILED = "failed"


class ScoreKind(enum.StrEnum):
    """How a drift score reads: which direction is worse."""

    DISTANCE = "distance"  # higher is worse
    P_VALUE = "p_value"  # lower is worse


class MetricKind(enum.StrEnum):
    DRIFT = "drift"
    QUALITY = "quality"
    PERFORMANCE = "performance"  # realized: computed from labels
    ESTIMATED_PERFORMANCE = "estimated_performance"  # from reference-calibrated scores, before labels arrive
    OPERATIONAL = "operational"


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time window [start, end) in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"window bounds must be timezone-aware, got {self.start!r}, {self.end!r}")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} is not after its start {self.start.isoformat()}")
        object.__setattr__(self, "start", _plain_utc(self.start))
        object.__setattr__(self, "end", _plain_utc(self.end))

    @classmethod
    def parse(cls, start: str | datetime, end: str | datetime) -> Window:
        return cls(parse_utc(start), parse_utc(end))

    @property
    def width(self) -> timedelta:
        return self.end - self.start

    def shifted(self, delta: timedelta) -> Window:
        return Window(self.start + delta, self.end + delta)

    def __str__(self) -> str:
        return f"[{self.start:%Y-%m-%d %H:%M}, {self.end:%Y-%m-%d %H:%M}) UTC"


def _plain_utc(moment: datetime) -> datetime:
    """A stdlib datetime in UTC. Airflow hands out pendulum DateTimes, whose arithmetic after
    `astimezone(datetime.UTC)` drops the time zone; stdlib datetimes keep it."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                    moment.microsecond, tzinfo=UTC)


def parse_utc(value: str | datetime) -> datetime:
    """An ISO string or datetime as an aware UTC datetime; naive values are taken to be UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def finite_or_none(value: float | None) -> float | None:
    """NaN and infinities become None: XCom (JSON) and SQL NUMERIC columns reject them."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float inside it replaced by None."""
    if isinstance(value, float):
        return finite_or_none(value)
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One value in the long `metric_values` table.

    `column` is "" for table-level metrics, and `slice_key`/`slice_value` are "" for the whole window,
    so that the idempotency key (model, window_start, kind, column, slice, metric) never holds NULLs.
    """

    kind: MetricKind
    metric: str
    value: float | None
    window: Window
    column: str = ""
    slice_key: str = ""
    slice_value: str = ""
    p_value: float | None = None
    n: int | None = None
    threshold_warning: float | None = None
    threshold_critical: float | None = None
    severity: Severity = Severity.OK
    details: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """A JSON-safe dict (for XCom); `from_record` inverts it."""
        # The fields as they are: `asdict` would deep-copy details only for them to be replaced below (a fifth of the
        # compute_performance task went to copying its ~600 rows' details).
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        record.update(
            kind=self.kind.value,
            severity=self.severity.name,
            window_start=self.window.start.isoformat(),
            window_end=self.window.end.isoformat(),
            value=finite_or_none(self.value),
            p_value=finite_or_none(self.p_value),
            threshold_warning=finite_or_none(self.threshold_warning),
            threshold_critical=finite_or_none(self.threshold_critical),
            details=json_safe(self.details),
        )
        del record["window"]
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> MetricRow:
        data = dict(record)
        window = Window.parse(data.pop("window_start"), data.pop("window_end"))
        return cls(
            **{**data, "kind": MetricKind(data["kind"]), "severity": Severity.parse(data["severity"])},
            window=window,
        )
