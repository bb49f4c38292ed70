"""Labels as each task scores them (performance/labels.py): what is read, what is left out and reported."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from include.monitoring.config import LabelsConfig, MonitorConfig
from include.monitoring.performance.labels import invalid_labels, label_values_row, parse_labels
from include.monitoring.types import Window
from tests.conftest import ROOT

BINARY = "binary_classification"


@pytest.mark.parametrize(("value", "expected"), [
    (1, 1.0), (0, 0.0), (1.0, 1.0), (np.int64(0), 0.0), (True, 1.0), (np.False_, 0.0), ("1", 1.0), ("0.0", 0.0),
    ("yes", 1.0), ("No", 0.0), (" TRUE ", 1.0), ("false", 0.0),
], ids=repr)
def test_binary_label_in_the_domain_is_read(value, expected):
    assert parse_labels(BINARY, pd.Series([value], dtype=object), LabelsConfig()).iloc[0] == expected


@pytest.mark.parametrize("value", [2, -1, 0.5, "2", "maybe", "", "n/a", math.inf], ids=repr)
def test_binary_label_outside_the_domain_is_invalid(value):
    raw = pd.Series([value], dtype=object)
    assert math.isnan(parse_labels(BINARY, raw, LabelsConfig()).iloc[0])
    assert invalid_labels(BINARY, raw, LabelsConfig()).tolist() == [True]


def test_binary_named_classes_are_read_and_a_null_is_missing_not_invalid():
    labels = LabelsConfig(positive_label="default", negative_label="repaid")
    raw = pd.Series(["default", "repaid", None, "Default", 1], dtype=object)
    parsed = parse_labels(BINARY, raw, labels)
    assert parsed.iloc[:2].tolist() == [1.0, 0.0] and parsed.iloc[4] == 1.0
    assert invalid_labels(BINARY, raw, labels).tolist() == [False, False, False, True, False]  # the name is exact


def test_multiclass_labels_are_class_names_and_regression_labels_finite_numbers():
    classes = parse_labels("multiclass_classification", pd.Series([2, 2.0, "2", " cat ", "", None], dtype=object),
                           LabelsConfig())
    assert classes.tolist() == ["2", "2", "2", "cat", None, None]
    numbers = parse_labels("regression", pd.Series(["1.5", 3, "n/a", math.inf, None], dtype=object), LabelsConfig())
    assert numbers.iloc[:2].tolist() == [1.5, 3.0] and numbers.iloc[2:].isna().all()
    assert invalid_labels("regression", pd.Series(["n/a", None, -math.inf]), LabelsConfig()).tolist() == [True, False, True]


def test_parsing_keeps_the_index_and_the_length():
    """Property: whatever the values, the parsed labels have the raw index and NaN exactly where invalid or null."""
    rng = np.random.default_rng(7)
    values = rng.choice(np.array([0, 1, 2, "yes", "x", None, 1.0, "0"], dtype=object), size=200)
    raw = pd.Series(values, index=rng.permutation(1000)[:200], dtype=object)
    parsed = parse_labels(BINARY, raw, LabelsConfig())
    assert parsed.index.equals(raw.index)
    assert (parsed.isna() == (raw.isna() | invalid_labels(BINARY, raw, LabelsConfig()))).all()
    assert set(parsed.dropna()) <= {0.0, 1.0}


def _config() -> MonitorConfig:
    from include.monitoring.config import load_monitor_config

    return load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")


def test_label_values_row_counts_by_value_and_tiers_by_share():
    """Hand-worked: 90 zeros, 6 "yes", 3 "maybe", 1 two and 5 nulls: 4 of 100 arrived labels invalid -> 4 %,
    WARNING; 60 "maybe" of 100 -> CRITICAL (over half); none -> OK."""
    from datetime import UTC, datetime, timedelta

    window = Window(datetime(2026, 11, 21, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC) + timedelta(hours=1))
    row = label_values_row(_config(), [(0, 90), ("yes", 6), ("maybe", 3), (2, 1), (None, 5)], window)
    assert row.value == pytest.approx(0.04) and row.n == 100 and row.severity.name == "WARNING"
    assert row.details["examples"] == ["maybe", "2"] and row.details["invalid"] == 4
    assert label_values_row(_config(), [(1, 40), ("maybe", 60)], window).severity.name == "CRITICAL"
    clean = label_values_row(_config(), [(1, 40), (0, 60)], window)
    assert clean.value == 0 and clean.severity.name == "OK"
    assert label_values_row(_config(), [], window).value == 0


def test_label_values_row_pages_only_from_a_few_unusable_labels():
    """Two "maybe" of three labels in a quiet hour: over half, but fewer than MIN_CRITICAL_LABELS: WARNING."""
    from datetime import UTC, datetime, timedelta

    window = Window(datetime(2026, 11, 21, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC) + timedelta(hours=1))
    assert label_values_row(_config(), [(1, 1), ("maybe", 2)], window).severity.name == "WARNING"
    assert label_values_row(_config(), [(1, 1), ("maybe", 3)], window).severity.name == "CRITICAL"


def test_duplicate_labels_that_agree_once_parsed_are_info_and_disagreeing_ones_warn():
    """p0: 1 and "yes" agree; p1: "0" and "1" disagree; p2: "maybe" twice agree (as text). 3 of 6 arrivals."""
    from datetime import UTC, datetime, timedelta

    from include.monitoring.performance.labels import duplicate_labels_row
    from include.monitoring.warehouse import RepeatedLabels

    window = Window(datetime(2026, 11, 21, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC) + timedelta(hours=1))
    row = duplicate_labels_row(_config(), RepeatedLabels(6, (("p0", 1), ("p0", "yes"), ("p1", "0"), ("p1", "1"),
                                                             ("p2", "maybe"), ("p2", "maybe"))), window)
    assert row.value == pytest.approx(0.5) and row.details["duplicated_ids"] == 3
    assert row.details["conflicting_ids"] == 1 and row.details["examples"][0] == "p1"
    assert row.severity.name == "WARNING"
    agreeing = duplicate_labels_row(_config(), RepeatedLabels(2, (("p0", 1), ("p0", "TRUE"))), window)
    assert agreeing.severity.name == "INFO" and agreeing.details["conflicting_ids"] == 0
    assert duplicate_labels_row(_config(), RepeatedLabels(0, ()), window).severity.name == "OK"
