"""Value types: Window, parse_utc, finite_or_none, Severity and MetricRow's JSON-safe records."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from include.monitoring.types import MetricKind, MetricRow, Severity, Window, finite_or_none, parse_utc

START = datetime(2026, 11, 22, 8, tzinfo=UTC)
HOUR = Window(START, START + timedelta(hours=1))
PLUS_TWO = timezone(timedelta(hours=2))


# --- parse_utc --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-11-22T08:00:00Z", START),
        ("2026-11-22T08:00:00+00:00", START),
        ("2026-11-22T10:00:00+02:00", START),
        ("2026-11-22T08:00:00", START),
        ("2026-11-22", datetime(2026, 11, 22, tzinfo=UTC)),
        (datetime(2026, 11, 22, 8), START),
        (datetime(2026, 11, 22, 10, tzinfo=PLUS_TWO), START),
    ],
    ids=["z_suffix", "utc_offset", "plus_two_offset", "naive_string", "date_only", "naive_datetime", "aware_datetime"],
)
def test_parse_utc_inputs_give_aware_utc(value, expected):
    parsed = parse_utc(value)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_parse_utc_garbage_raises_value_error():
    with pytest.raises(ValueError):
        parse_utc("yesterday")


# --- Window -----------------------------------------------------------------------------------------------------------


def test_window_naive_bounds_raise():
    with pytest.raises(ValueError, match="timezone-aware"):
        Window(datetime(2026, 1, 1), datetime(2026, 1, 1, 1))


@pytest.mark.parametrize("end", [START, START - timedelta(minutes=1)], ids=["empty", "reversed"])
def test_window_end_not_after_start_raises(end):
    with pytest.raises(ValueError, match="not after its start"):
        Window(START, end)


def test_window_other_time_zone_converted_to_utc():
    window = Window(datetime(2026, 11, 22, 10, tzinfo=PLUS_TWO), datetime(2026, 11, 22, 11, tzinfo=PLUS_TWO))
    assert window == HOUR
    assert window.start.tzinfo is UTC and window.end.tzinfo is UTC


def test_window_parse_strings_equal_to_constructed():
    assert Window.parse("2026-11-22T08:00:00Z", "2026-11-22T09:00:00Z") == HOUR


def test_window_width_shifted_and_str_as_expected():
    assert HOUR.width == timedelta(hours=1)
    assert HOUR.shifted(timedelta(hours=-48)) == Window(START - timedelta(hours=48), START - timedelta(hours=47))
    assert str(HOUR) == "[2026-11-22 08:00, 2026-11-22 09:00) UTC"


def test_window_is_frozen_and_hashable():
    with pytest.raises(AttributeError):
        HOUR.start = START  # type: ignore[misc]
    assert len({HOUR, Window.parse("2026-11-22T08:00Z", "2026-11-22T09:00Z")}) == 1


# --- finite_or_none ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(None, None), (math.nan, None), (math.inf, None), (-math.inf, None), (0, 0.0), (1.5, 1.5), (-2, -2.0)],
    ids=["none", "nan", "inf", "minus_inf", "zero_int", "float", "negative_int"],
)
def test_finite_or_none_values_give_expected(value, expected):
    result = finite_or_none(value)
    assert result == expected
    assert result is None or type(result) is float


def test_finite_or_none_numpy_scalars_become_python_floats():
    assert finite_or_none(np.float64("nan")) is None
    result = finite_or_none(np.float32(0.25))
    assert result == 0.25 and type(result) is float


# --- Severity ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [("warning", Severity.WARNING), ("CRITICAL", Severity.CRITICAL),
                                            ("Ok", Severity.OK)], ids=["lower", "upper", "mixed"])
def test_severity_parse_any_case_gives_member(name, expected):
    assert Severity.parse(name) is expected


def test_severity_order_ok_info_warning_critical():
    assert Severity.OK < Severity.INFO < Severity.WARNING < Severity.CRITICAL


def test_severity_parse_unknown_raises_key_error():
    with pytest.raises(KeyError):
        Severity.parse("severe")


# --- MetricRow --------------------------------------------------------------------------------------------------------


def _row(**overrides):
    fields = dict(kind=MetricKind.DRIFT, metric="psi", value=0.25, window=HOUR, column="income", p_value=None, n=240,
                  threshold_warning=0.1, threshold_critical=0.2, severity=Severity.CRITICAL,
                  details={"bins": 10, "noise": 0.05})
    fields.update(overrides)
    return MetricRow(**fields)


def test_metric_row_to_record_round_trip_equal():
    row = _row()
    assert MetricRow.from_record(row.to_record()) == row


def test_metric_row_to_record_through_json_round_trip_equal():
    row = _row(kind=MetricKind.PERFORMANCE, metric="roc_auc", value=0.81, p_value=0.003, slice_key="model_version",
               slice_value="v2", severity=Severity.WARNING)
    assert MetricRow.from_record(json.loads(json.dumps(row.to_record()))) == row


def test_metric_row_to_record_flat_json_safe_fields():
    record = _row().to_record()
    assert record["kind"] == "drift"
    assert record["severity"] == "CRITICAL"
    assert record["window_start"] == "2026-11-22T08:00:00+00:00"
    assert record["window_end"] == "2026-11-22T09:00:00+00:00"
    assert "window" not in record
    assert (record["column"], record["slice_key"], record["slice_value"]) == ("income", "", "")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "minus_inf"])
def test_metric_row_to_record_non_finite_value_and_p_value_become_none(value):
    record = _row(value=value, p_value=value).to_record()
    assert record["value"] is None and record["p_value"] is None
    json.dumps(record, allow_nan=False)  # strict JSON accepts it


def test_metric_row_to_record_does_not_share_details():
    row = _row()
    record = row.to_record()
    record["details"]["bins"] = 99
    assert row.details["bins"] == 10


def test_metric_row_defaults_empty_keys_and_ok():
    row = MetricRow(MetricKind.QUALITY, "null_rate", 0.0, HOUR)
    assert (row.column, row.slice_key, row.slice_value, row.severity) == ("", "", "", Severity.OK)
    assert MetricRow.from_record(row.to_record()) == row
