"""Alert texts quote data values (examples, categories, slice values) shortened, saying how much was left out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from include.monitoring.alerting.messages import describe
from include.monitoring.types import MetricKind, MetricRow, Severity, Window

WINDOW = Window(datetime(2026, 11, 23, 3, tzinfo=UTC), datetime(2026, 11, 23, 4, tzinfo=UTC))


def test_an_alert_on_five_10000_character_examples_quotes_each_shortened_with_the_count_left_out():
    row = MetricRow(MetricKind.QUALITY, "out_of_range", 1.0, WINDOW, column="comment", n=5, severity=Severity.WARNING,
                    details={"expectation": "expect_column_value_lengths_to_be_between", "observed": "5 of 5 rows",
                             "examples": [f"{i}" + "v" * 9_999 for i in range(5)]})
    text = describe("credit_default", row)
    assert len(text) < 2_000
    shortened = re.findall(r"(\d)(v+)… \((\d+) more characters; see the metric store\)", text)
    assert [first for first, _, _ in shortened] == ["0", "1", "2", "3", "4"]
    assert {1 + len(kept) + int(left_out) for _, kept, left_out in shortened} == {10_000}  # each counted exactly
    assert text.startswith("[WARNING] credit_default: data quality check out_of_range of `comment` failed")
    assert text.endswith("; window [2026-11-23 03:00, 2026-11-23 04:00) UTC")


def test_an_alert_on_short_examples_quotes_them_whole():
    row = MetricRow(MetricKind.QUALITY, "out_of_range", 1.0, WINDOW, column="channel", n=2, severity=Severity.WARNING,
                    details={"expectation": "expect_column_values_to_be_in_set", "observed": "2 of 2 rows",
                             "examples": ["*bold*", "_it_"]})
    assert "; examples: *bold*, _it_; window" in describe("credit_default", row)
