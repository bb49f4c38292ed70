"""What one window's rows showed, as it travels between the steps (and between Airflow tasks, as XCom)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from include.monitoring.types import MetricRow, RunStatus, Window
from include.monitoring.validation.records import ValidationResult


@dataclass(frozen=True, slots=True)
class Observation:
    """What one window's rows showed; JSON-safe through `to_record` for XCom."""

    window: Window
    status: RunStatus
    reason: str
    row_count: int
    sampled_rows: int
    reference_id: str
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    validations: list[ValidationResult] = field(default_factory=list)
    metrics: list[MetricRow] = field(default_factory=list)
    slices: dict[str, Any] = field(default_factory=dict)  # {slice column: {value: {feature: profile}}}

    def to_record(self) -> dict[str, Any]:
        return {"window_start": self.window.start.isoformat(), "window_end": self.window.end.isoformat(),
                "status": self.status.value, "reason": self.reason, "row_count": self.row_count,
                "sampled_rows": self.sampled_rows, "reference_id": self.reference_id, "profiles": self.profiles,
                "validations": [result.to_record() for result in self.validations],
                "metrics": [row.to_record() for row in self.metrics], "slices": self.slices}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Observation:
        return cls(window=Window.parse(record["window_start"], record["window_end"]),
                   status=RunStatus(record["status"]), reason=record["reason"], row_count=record["row_count"],
                   sampled_rows=record["sampled_rows"], reference_id=record["reference_id"],
                   profiles=record["profiles"],
                   validations=[ValidationResult.from_record(r) for r in record["validations"]],
                   metrics=[MetricRow.from_record(r) for r in record["metrics"]], slices=record.get("slices", {}))
