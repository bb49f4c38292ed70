"""Ground-truth labels as each task scores them, and what a label column may hold.

| task                      | a label is                                                        | otherwise        |
|---------------------------|-------------------------------------------------------------------|------------------|
| binary_classification     | 1/0, true/false, yes/no (any case; numbers, booleans or text),    | left out, counted|
|                           | or labels.positive_label / labels.negative_label                  |                  |
| multiclass_classification | any non-empty value, as a class name (2 and 2.0 are one class)    | left out, counted|
| regression                | a finite number (text that reads as one is accepted)              | left out, counted|

A value outside its task's domain (a 2 or "maybe" in a binary model, "n/a" in a regression) is neither a
positive nor a negative: scoring it would invent a class. It is left out of every metric, and the run's
`label_values` check reports the labels that arrived in its window with examples (see `label_values_row`).
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.monitoring.alerting import policy
from include.monitoring.catalogue import TaskType
from include.monitoring.config import LabelsConfig, MonitorConfig
from include.monitoring.types import MetricKind, MetricRow, Severity, Window

if TYPE_CHECKING:
    from include.monitoring.warehouse import RepeatedLabels

BINARY_WORDS = {"1": 1, "true": 1, "yes": 1, "0": 0, "false": 0, "no": 0}
# More than this share of a window's arriving labels unusable: performance is effectively unmonitored (CRITICAL),
# once at least MIN_CRITICAL_LABELS are (one odd label in a quiet hour is a WARNING, not a page).
CRITICAL_INVALID_SHARE = 0.5
MIN_CRITICAL_LABELS = 3
MAX_EXAMPLES = 5


def binary_label(value: Any, labels: LabelsConfig) -> float:
    """1.0 or 0.0 for a binary label, NaN for a missing or out-of-domain one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, numbers.Real):  # bool, int, float and numpy's numbers (a numpy bool reads as text)
        return float(value) if value in (0, 1) else math.nan
    text = str(value).strip()
    if labels.positive_label and text == labels.positive_label:
        return 1.0
    if labels.negative_label and text == labels.negative_label:
        return 0.0
    word = text.lower()
    try:
        number = float(word)
    except ValueError:
        return float(BINARY_WORDS[word]) if word in BINARY_WORDS else math.nan
    return number if number in (0.0, 1.0) else math.nan


def class_label(value: Any) -> str | None:
    """A multiclass label as a class name: 2, 2.0 and "2" are class "2"; None for a missing or empty one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def parse_labels(task: TaskType, raw: pd.Series, labels: LabelsConfig) -> pd.Series:
    """`raw` as the task scores it: floats 0/1 (binary), floats (regression) or class names (multiclass), with
    NaN or None where a value is missing or outside the task's domain. The index is kept."""
    if task == TaskType.REGRESSION:
        numbers = pd.to_numeric(raw, errors="coerce").astype("float64")
        return numbers.where(numbers.abs() != math.inf)
    if task == TaskType.MULTICLASS_CLASSIFICATION:
        return pd.Series([class_label(value) for value in raw], index=raw.index, dtype=object)
    if pd.api.types.is_numeric_dtype(raw):  # the usual 0/1 column: no per-value Python call on every re-score
        numbers = raw.astype("float64")
        return numbers.where(numbers.isin((0.0, 1.0)))
    return raw.map(lambda value: binary_label(value, labels)).astype("float64")


def invalid_labels(task: TaskType, raw: pd.Series, labels: LabelsConfig) -> pd.Series:
    """True where a label is present but cannot be scored."""
    return raw.notna() & parse_labels(task, raw, labels).isna()


def domain(config: MonitorConfig) -> str:
    """What the label column may hold, for messages."""
    if config.task == TaskType.REGRESSION:
        return "finite numbers"
    if config.task == TaskType.MULTICLASS_CLASSIFICATION:
        return "non-empty class names"
    named = [f"{config.labels.positive_label!r} (positive)" if config.labels.positive_label else "",
             f"{config.labels.negative_label!r} (negative)" if config.labels.negative_label else ""]
    return "1/0, true/false or yes/no" + "".join(f", {name}" for name in named if name)


def label_values_row(config: MonitorConfig, values: list[tuple[Any, int]], window: Window) -> MetricRow:
    """The share of the labels that arrived in the window which cannot be scored, from the arrived labels'
    distinct values and their counts. WARNING when any is unusable (they are left out of performance), CRITICAL
    when more than half are (and at least MIN_CRITICAL_LABELS)."""
    raw = pd.Series([value for value, _ in values], dtype=object)
    counts = [count for _, count in values]
    bad = invalid_labels(config.task, raw, config.labels).tolist()
    arrived = sum(count for value, count in values if value is not None and value == value)
    invalid = sum(count for count, is_bad in zip(counts, bad, strict=True) if is_bad)
    share = invalid / arrived if arrived else 0.0
    severity = Severity.OK
    if invalid:
        critical = share > CRITICAL_INVALID_SHARE and invalid >= MIN_CRITICAL_LABELS
        severity = Severity.CRITICAL if critical else Severity.WARNING
    examples = [str(value) for value, is_bad in zip(raw, bad, strict=True) if is_bad][:MAX_EXAMPLES]
    column, table = config.labels.label_column, config.labels.table
    return MetricRow(MetricKind.QUALITY, "label_values", share, window, column=column, n=arrived,
                     threshold_warning=0.0, threshold_critical=CRITICAL_INVALID_SHARE, severity=severity,
                     details={"expectation": "label_values", "examples": examples, "invalid": invalid,
                              "observed": f"{invalid} of {arrived} labels that arrived in the window in {table!r} are "
                                          f"not usable by a {config.task} model; they are left out of performance",
                              "expected": f"labels in `{column}` that are {domain(config)}"})


def duplicate_labels_row(config: MonitorConfig, repeated: RepeatedLabels, window: Window) -> MetricRow:
    """Labels that arrived in the window for predictions that already had one (or got two in it). Performance uses
    the latest label of each prediction, so a label sent twice is harmless (INFO); labels that disagree once parsed
    ("1" and "yes" agree) mean the label pipeline changed its mind or mixes sources (WARNING: the earlier one was
    dropped)."""
    frame = pd.DataFrame(list(repeated.labels), columns=["id", "label"], dtype=object)
    parsed = parse_labels(config.task, frame["label"], config.labels)
    meaning = parsed.astype(object).where(parsed.notna(), frame["label"].astype(str))  # an invalid one: its text
    values = meaning.groupby(frame["id"]).nunique()
    ids, conflicting = len(values), int((values > 1).sum())
    examples = [*values.index[values > 1], *values.index[values == 1]][:MAX_EXAMPLES]
    share = ids / repeated.arrived if repeated.arrived else 0.0
    severity = Severity.WARNING if conflicting else Severity.INFO if ids else Severity.OK
    column = config.labels.id_column
    return MetricRow(MetricKind.QUALITY, "duplicate_labels", share, window, column=column, n=repeated.arrived,
                     severity=severity,
                     details={"expectation": "duplicate_labels", "examples": [str(i) for i in examples],
                              "duplicated_ids": ids, "conflicting_ids": conflicting,
                              "observed": f"{ids} predictions labelled in the window have more than one label in "
                                          f"{config.labels.table!r} ({conflicting} with labels that disagree); "
                                          "the latest to arrive is used",
                              "expected": f"one label per `{column}`"})


def unmatched_labels_row(config: MonitorConfig, arrived: int, unmatched: int, examples: list[str],
                         window: Window) -> MetricRow:
    """Labels that arrived during the window and match no prediction id: a few are predictions older than the
    log keeps; many mean the id columns disagree (a type or format change), and then no performance is ever computed."""
    share = unmatched / arrived if arrived else 0.0
    limit = config.labels.max_unmatched_share
    return MetricRow(MetricKind.QUALITY, "unmatched_labels", share, window, column=config.labels.id_column, n=arrived,
                     threshold_warning=limit, severity=policy.share_severity(share, limit),
                     details={"expectation": "unmatched_labels", "examples": examples,
                              "observed": f"{unmatched} of {arrived} labels that arrived in the window match no "
                                          f"prediction in {config.warehouse.predictions_table!r}",
                              "expected": f"at most {limit:.0%} of arriving labels without a prediction"})
