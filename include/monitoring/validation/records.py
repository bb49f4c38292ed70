"""One validation result as the steps pass it on: a typed record, JSON-encoded only where it leaves the process.

`validation/run.py` (GX's results) and `validation/results.py` (the checks GX does not see) build them;
`store.replace_window` writes them to `validation_results` (observed and examples as JSON text there), and
`Observation.to_record` / `from_record` carry them between Airflow tasks.

Stdlib only: `observation.py` and `store.py` import it.
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass
from typing import Any


class CheckSeverity(enum.StrEnum):
    """The severity an expectation carries (GX's `FailureSeverity` names), stored as its value."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One expectation's outcome in a window: a row of `validation_results`.

    `observed` is what the check saw as a JSON value (`json_value`), None when it saw nothing;
    `unexpected_pct` is in percent (0-100), None for checks that do not count rows.
    """

    expectation: str
    column_name: str
    check_name: str
    severity: CheckSeverity
    success: bool
    observed: Any = None
    unexpected_pct: float | None = None
    examples: tuple[str, ...] = ()
    expected: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", CheckSeverity(self.severity))
        object.__setattr__(self, "observed", json_value(self.observed))
        object.__setattr__(self, "examples", tuple(self.examples))

    def to_record(self) -> dict[str, Any]:
        """JSON-safe for XCom. `observed` travels as JSON text: a value GX saw may be NaN, which the staged
        payload (strict JSON) cannot hold."""
        return {"expectation": self.expectation, "column_name": self.column_name, "check_name": self.check_name,
                "severity": self.severity.value, "success": self.success,
                "observed_json": None if self.observed is None else json.dumps(self.observed),
                "unexpected_pct": self.unexpected_pct, "examples": list(self.examples), "expected": self.expected}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ValidationResult:
        if "observed_json" in record:
            observed = None if record["observed_json"] is None else json.loads(record["observed_json"])
            examples = record["examples"]
        else:  # staged by the release before this record existed; drop once no such run is left (staging.STALE_AFTER)
            observed = json.loads(record["observed"]) if record["observed"] else None
            examples = json.loads(record["examples"])
        return cls(expectation=record["expectation"], column_name=record["column_name"],
                   check_name=record["check_name"], severity=CheckSeverity(record["severity"]),
                   success=record["success"], observed=observed, unexpected_pct=record["unexpected_pct"],
                   examples=tuple(examples), expected=record["expected"])


def json_value(value: Any) -> Any:
    """`value` as `json.loads(json.dumps(value, default=str))` gives it back, without encoding: so both
    `json.dumps(value, default=str)` and `json.dumps(json_value(value))` write the same text.

    Tuples become lists, str/int/float subclasses (numpy floats, enums) their plain values, dict keys strings as
    JSON writes them; anything else (numpy integers, timestamps, sets) is `str(value)`, as `default=str` makes it.
    Like `json.dumps`, a key that is not a str, number, bool or None is a TypeError. (A dict whose keys collide once
    written, as {1: ..., "1": ...}, keeps one of them: JSON text would hold both.)
    """
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {_json_key(key): json_value(item) for key, item in value.items()}
    return str(value)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, float):
        number = float(key)
        if math.isnan(number):
            return "NaN"
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(number, repr(number))
    if key is None or key is True or key is False:
        return "null" if key is None else "true" if key else "false"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
