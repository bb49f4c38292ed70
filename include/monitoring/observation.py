"""What one window's rows showed, as it travels between the steps (and between Airflow tasks, as XCom)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from include.monitoring.profile_types import (
    ColumnCounts,
    SliceProfiles,
    column_counts_from_json,
    slices_from_json,
    slices_to_json,
)
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
    profiles: dict[str, ColumnCounts] = field(default_factory=dict)
    validations: list[ValidationResult] = field(default_factory=list)
    metrics: list[MetricRow] = field(default_factory=list)
    slices: SliceProfiles = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {"window_start": self.window.start.isoformat(), "window_end": self.window.end.isoformat(),
                "status": self.status.value, "reason": self.reason, "row_count": self.row_count,
                "sampled_rows": self.sampled_rows, "reference_id": self.reference_id,
                "profiles": {column: profile.to_json() for column, profile in self.profiles.items()},
                "validations": [result.to_record() for result in self.validations],
                "metrics": [row.to_record() for row in self.metrics], "slices": slices_to_json(self.slices)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Observation:
        return cls(window=Window.parse(record["window_start"], record["window_end"]),
                   status=RunStatus(record["status"]), reason=record["reason"], row_count=record["row_count"],
                   sampled_rows=record["sampled_rows"], reference_id=record["reference_id"],
                   profiles={column: column_counts_from_json(profile) for column, profile in record["profiles"].items()},
                   validations=[ValidationResult.from_record(r) for r in record["validations"]],
                   metrics=[MetricRow.from_record(r) for r in record["metrics"]],
                   slices=slices_from_json(record.get("slices", {})))
