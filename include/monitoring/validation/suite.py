"""The expectation suite of a window, generated from the reference profile and the monitor config.

Each expectation carries our stable check name in `meta.check` (what `validation.blocking` refers to)
and a GX severity (critical, warning, info) that becomes the alert tier.

| check            | expectation                                   | severity | what it catches                           |
|------------------|-----------------------------------------------|----------|-------------------------------------------|
| column_missing   | expect_column_to_exist                        | critical | a dropped or renamed column               |
| wrong_type       | expect_column_values_to_match_regex (number)  | critical | text in a numeric feature ("n/a")         |
| wrong_type_score | expect_column_values_to_match_regex (number)  | critical | a score that is not a number              |
| null_rate        | expect_column_values_to_not_be_null (mostly)  | warning  | nulls above max(reference rate, limit)    |
| out_of_range     | expect_column_values_to_be_between (mostly)   | warning  | values outside the reference range ± tol. |
| score_range      | expect_column_values_to_be_between 0..1       | critical | scores that are not probabilities         |
| duplicate_ids    | expect_column_values_to_be_unique             | warning  | the same prediction logged twice          |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from include.monitoring.config import MonitorConfig

NUMBER_PATTERN = r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$|^\s*[-+]?inf\s*$"
RAW_SUFFIX = "__raw"  # the text as it arrived, beside the parsed numbers, for the type checks


@dataclass(frozen=True, slots=True)
class ExpectationSpec:
    type: str
    check: str
    column: str
    severity: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def as_gx_dict(self) -> dict[str, Any]:
        return {"type": self.type, "kwargs": {"column": self.column, **self.kwargs}, "severity": self.severity,
                "meta": {"check": self.check, "column": self.column}}


def tolerant_range(low: float, high: float, tolerance: float) -> tuple[float, float]:
    """The reference range widened by `tolerance`: relative to the bound itself when the bound is
    strictly positive (or negative), so a strictly positive feature such as income never admits 0;
    otherwise by that share of the span."""
    span = high - low
    lower = low * (1 - tolerance) if low > 0 else low - tolerance * span
    upper = high * (1 - tolerance) if high < 0 else high + tolerance * span
    return lower, upper


def expectation_specs(config: MonitorConfig, reference: dict[str, Any], present: set[str]) -> list[ExpectationSpec]:
    """The generated suite for a window whose frame has the columns `present`.

    A missing column gets only its existence check, so its absence is reported once, precisely.
    """
    rules = config.validation
    id_column = config.warehouse.id_column
    score_column = config.warehouse.score_column
    specs: list[ExpectationSpec] = []
    for column in (id_column, score_column, *config.features.numeric, *config.features.categorical):
        specs.append(ExpectationSpec("expect_column_to_exist", "column_missing", column, "critical"))
    for column in config.features.numeric:
        if column not in present:
            continue
        profile = reference["columns"][column]
        if f"{column}{RAW_SUFFIX}" in present:
            specs.append(ExpectationSpec("expect_column_values_to_match_regex", "wrong_type",
                                         f"{column}{RAW_SUFFIX}", "critical", {"regex": NUMBER_PATTERN}))
        if profile["min"] is not None and profile["max"] is not None:
            low, high = tolerant_range(profile["min"], profile["max"], rules.range_tolerance)
            specs.append(ExpectationSpec("expect_column_values_to_be_between", "out_of_range", column, "warning",
                                         {"min_value": low, "max_value": high, "mostly": rules.mostly}))
    for column in (*config.features.numeric, *config.features.categorical):
        if column not in present:
            continue
        profile = reference["columns"][column]
        reference_rate = profile["nulls"] / profile["n"] if profile["n"] else 0.0
        allowed = max(rules.max_null_rate, reference_rate * 1.5)
        # On text-typed columns the raw text is checked: an unparseable value is wrong_type, not null.
        target = f"{column}{RAW_SUFFIX}" if f"{column}{RAW_SUFFIX}" in present else column
        specs.append(ExpectationSpec("expect_column_values_to_not_be_null", "null_rate", target, "warning",
                                     {"mostly": round(1.0 - min(allowed, 1.0), 6)}))
    if score_column in present:
        if f"{score_column}{RAW_SUFFIX}" in present:
            specs.append(ExpectationSpec("expect_column_values_to_match_regex", "wrong_type_score",
                                         f"{score_column}{RAW_SUFFIX}", "critical", {"regex": NUMBER_PATTERN}))
        specs.append(ExpectationSpec("expect_column_values_to_be_between", "score_range", score_column, "critical",
                                     {"min_value": 0.0, "max_value": 1.0}))
    if id_column in present:
        specs.append(ExpectationSpec("expect_column_values_to_be_unique", "duplicate_ids", id_column, "warning"))
    return specs
