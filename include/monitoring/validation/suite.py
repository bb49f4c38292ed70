"""The expectation suite of a window: generated from the reference profile, plus the model's own suite.

Each expectation carries our stable check name in `meta.check` (what `validation.blocking` refers to)
and a GX severity (critical, warning, info) that becomes the alert tier.

| check            | expectation                                   | severity | what it catches                                |
|------------------|-----------------------------------------------|----------|------------------------------------------------|
| column_missing   | expect_column_to_exist                        | critical | a dropped or renamed column                    |
| wrong_type       | expect_column_values_to_match_regex (number)  | critical | text in a numeric feature ("n/a")              |
| wrong_type_score | expect_column_values_to_match_regex (number)  | critical | a score that is not a number                   |
| null_rate        | expect_column_values_to_not_be_null (mostly)  | warning  | nulls above max(max_null_rate, 1.5 x reference)|
|                  |                                               |          | in a feature or the score                      |
| mostly_null      | expect_column_values_to_not_be_null (mostly)  | critical | more than critical_null_rate of rows null      |
| out_of_range     | expect_column_values_to_be_between (mostly)   | warning  | values outside the reference range +- tol.     |
| constant_column  | expect_column_stdev_to_be_between (> 0)       | critical | a feature stuck at one value (zeroed pipeline) |
| category_set     | expect_column_values_to_be_in_set (mostly)    | info     | values the reference never saw                 |
| score_range      | expect_column_values_to_be_between 0..1       | critical | scores that are not probabilities              |
| duplicate_ids    | expect_column_values_to_be_unique             | warning  | the same prediction logged twice               |
| unexpected_model_version | expect_column_values_to_be_in_set     | warning  | a version outside expected_model_versions      |

The check names are the catalogue's GENERATED_CHECKS. The model's own suite, GX 1.24 suite JSON in
`include/expectations/<model>.json`, is read by `include/monitoring/config/expectations.py`: the config loader
checks that file's shape at DAG parse time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from include.monitoring.catalogue import TaskType
from include.monitoring.config.expectations import ExpectationSpec
from include.monitoring.profile_types import CategoricalReference, NumericReference, ReferenceProfile

if TYPE_CHECKING:
    import pandas as pd

    from include.monitoring.config import MonitorConfig

NUMBER_PATTERN = r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$|^\s*[-+]?inf\s*$"
RAW_SUFFIX = "__raw"  # the text as it arrived, beside the parsed numbers, for the type checks
FINITE_SUFFIX = "__finite"  # a copy without infinities, where there are some: GX's stdev of [1, inf, -inf] is NaN
# constant_column is generated only where an undrifted window of this size is all one value with a
# probability below this (a feature whose reference is 95 % zeros is often constant in a 24-row hour).
CONSTANT_FALSE_ALARM = 1e-6


def tolerant_range(low: float, high: float, tolerance: float) -> tuple[float, float]:
    """The reference range widened by `tolerance`: relative to the bound itself when the bound is
    strictly positive (or negative), so a strictly positive feature such as income never admits 0;
    otherwise by that share of the span."""
    span = high - low
    lower = low * (1 - tolerance) if low > 0 else low - tolerance * span
    upper = high * (1 - tolerance) if high < 0 else high + tolerance * span
    return lower, upper


def expectation_specs(config: MonitorConfig, reference: ReferenceProfile, frame: pd.DataFrame) -> list[ExpectationSpec]:
    """The generated suite for a window's validation frame.

    A missing column gets only its existence check, so its absence is reported once, precisely.
    """
    rules = config.validation
    id_column = config.warehouse.id_column
    score_column = config.warehouse.score_column
    present = set(frame.columns)
    specs: list[ExpectationSpec] = []

    def add(type_: str, check: str, column: str, severity: str, expected: str, **kwargs: Any) -> None:
        specs.append(ExpectationSpec(type_, check, column, severity, kwargs, expected=expected))

    share = f"in at least {rules.mostly:.0%} of rows"
    for column in (id_column, score_column, *config.features.numeric, *config.features.categorical):
        add("expect_column_to_exist", "column_missing", column, "critical", "the column in the predictions table")
    for column in config.features.numeric:
        if column not in present:
            continue
        numeric = reference.columns[column]
        assert isinstance(numeric, NumericReference)  # the config's numeric features are fitted as numbers
        if f"{column}{RAW_SUFFIX}" in present:
            add("expect_column_values_to_match_regex", "wrong_type", f"{column}{RAW_SUFFIX}", "critical",
                "numbers (or nulls) only", regex=NUMBER_PATTERN)
        if numeric.min is not None and numeric.max is not None:
            low, high = tolerant_range(numeric.min, numeric.max, rules.range_tolerance)
            add("expect_column_values_to_be_between", "out_of_range", column, "warning",
                f"values in [{low:.6g}, {high:.6g}] (the reference range widened by {rules.range_tolerance:.0%}) {share}",
                min_value=low, max_value=high, mostly=rules.mostly)
        finite = f"{column}{FINITE_SUFFIX}" if f"{column}{FINITE_SUFFIX}" in present else column
        if _can_flag_constant(numeric, int(frame[finite].notna().sum())):
            add("expect_column_stdev_to_be_between", "constant_column", finite, "critical",
                f"values that vary (standard deviation above 0; the reference's is {numeric.std:.6g})",
                min_value=0.0, strict_min=True)
    # The score is checked like a feature: a model that stops scoring (all null) is the plainest failure there is.
    for column in dict.fromkeys((*config.features.numeric, *config.features.categorical, score_column)):
        if column not in present or column not in reference.columns:
            continue
        profile = reference.columns[column]
        reference_rate = profile.nulls / profile.n if profile.n else 0.0
        # On text-typed columns the raw text is checked: an unparseable value is wrong_type, not null.
        target = f"{column}{RAW_SUFFIX}" if f"{column}{RAW_SUFFIX}" in present else column
        for check, severity, limit in (("null_rate", "warning", rules.max_null_rate),
                                       ("mostly_null", "critical", rules.critical_null_rate)):
            allowed = max(limit, reference_rate * 1.5)
            if allowed < 1:
                add("expect_column_values_to_not_be_null", check, target, severity,
                    f"at most {allowed:.1%} nulls (the reference had {reference_rate:.1%})", mostly=round(1.0 - allowed, 6))
    for column in config.features.categorical:
        if column in present:
            categorical = reference.columns[column]
            assert isinstance(categorical, CategoricalReference)
            known = sorted({*categorical.categories, *(categorical.pooled or ())} - {"__other__"})
            add("expect_column_values_to_be_in_set", "category_set", column, "info",
                f"the reference's {len(known)} categories {share}", value_set=known, mostly=rules.mostly)
    if score_column in present:
        if f"{score_column}{RAW_SUFFIX}" in present:
            add("expect_column_values_to_match_regex", "wrong_type_score", f"{score_column}{RAW_SUFFIX}", "critical",
                "numbers only", regex=NUMBER_PATTERN)
        if config.task != TaskType.REGRESSION:  # a regression's score column holds the predicted value
            add("expect_column_values_to_be_between", "score_range", score_column, "critical",
                "probabilities in [0, 1]", min_value=0.0, max_value=1.0)
    if id_column in present:
        add("expect_column_values_to_be_unique", "duplicate_ids", id_column, "warning", "each prediction id once")
    versions, version_column = config.warehouse.expected_model_versions, config.warehouse.model_version_column
    if versions and version_column in present:
        add("expect_column_values_to_be_in_set", "unexpected_model_version", version_column, "warning",
            f"only the expected model versions {list(versions)}", value_set=list(versions))
    return specs


def _can_flag_constant(profile: NumericReference, n: int) -> bool:
    """True when the reference varies and an undrifted window of `n` values is very unlikely to be constant.
    The largest grid bin's share bounds the most common value's share from above, so this errs on the quiet side."""
    grid = profile.grid_counts or ()
    total = sum(grid)
    if not total or not profile.std or n < 2:
        return False
    return n * math.log(max(grid) / total) < math.log(CONSTANT_FALSE_ALARM)
