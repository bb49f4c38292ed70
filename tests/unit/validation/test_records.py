"""ValidationResult: typed until the store and XCom, where its observed value and examples become the JSON text
they were stored as before (`json.dumps(observed, default=str)`, "" for none; a JSON list of strings)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from include.monitoring.observation import Observation
from include.monitoring.store import _validation_record
from include.monitoring.types import RunStatus, Window
from include.monitoring.validation.records import CheckSeverity, ValidationResult, json_value
from include.monitoring.validation.results import blocking_reason, quality_rows, with_hints

WINDOW = Window(dt.datetime(2026, 11, 21, 15, tzinfo=dt.UTC), dt.datetime(2026, 11, 21, 16, tzinfo=dt.UTC))


class _Level(enum.IntEnum):
    HIGH = 3


class _Name(enum.StrEnum):
    EAST = "east"


# Values GX reports as observed (numpy scalars, timestamps, quantile dicts) and JSON's corner cases.
VALUES = {
    "none": None, "bool": True, "int": 5, "float": 0.1, "text": "zürich \"quoted\"", "nan": math.nan,
    "infinity": -math.inf, "numpy_float": np.float64(33.0), "numpy_int": np.int64(7), "numpy_bool": np.bool_(True),
    "int_enum": _Level.HIGH, "str_enum": _Name.EAST, "timestamp": pd.Timestamp("2026-11-21 15:00"),
    "date": dt.date(2026, 11, 21), "decimal": Decimal("1.10"), "set": {"a"}, "array": np.array([1, 2]),
    "tuple": (1, "a", None), "quantiles": {"quantiles": (0.1, 0.5), "values": [np.float64(26921.57), 49965.31]},
    "number_keys": {1: "int", 1.5: "float", math.nan: "nan", -math.inf: "-inf", np.float64(2.5): "numpy float",
                    _Level.HIGH: "int enum", _Name.EAST: "str enum"},
    "constant_keys": {True: "true", False: "false", None: "null"},
    "nested": [{"a": [np.int64(1), (2.0, {"b": pd.Timestamp("2026-01-01")})]}],
}


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_json_value_is_written_as_json_dumps_with_default_str_writes_the_value(value):
    assert json.dumps(json_value(value)) == json.dumps(value, default=str)
    assert json.dumps(json_value(json_value(value))) == json.dumps(value, default=str)  # a fixed point


@pytest.mark.parametrize("value", [v for k, v in VALUES.items() if k not in ("nan", "infinity")],
                         ids=[k for k in VALUES if k not in ("nan", "infinity")])
def test_json_value_is_what_json_loads_gives_back(value):
    assert json_value(value) == json.loads(json.dumps(value, default=str))


def test_json_value_key_json_cannot_write_is_a_type_error_as_in_json():
    with pytest.raises(TypeError):
        json.dumps({(1, 2): "x"}, default=str)
    with pytest.raises(TypeError, match="keys must be str, int, float, bool or None, not tuple"):
        json_value({(1, 2): "x"})


def _result(**changes) -> ValidationResult:
    fields = dict(expectation="expect_column_values_to_be_between", column_name="age", check_name="out_of_range",
                  severity=CheckSeverity.WARNING, success=False, observed="4 of 400 rows unexpected",
                  unexpected_pct=1.0, examples=("130", "-4"), expected="values in [0, 120]")
    return ValidationResult(**{**fields, **changes})


def test_result_holds_a_json_value_a_severity_and_a_tuple_of_examples_whatever_it_is_given():
    result = _result(severity="info", observed={"values": (np.float64(1.5), np.int64(2))}, examples=["a", "b"])
    assert result.severity is CheckSeverity.INFO
    assert result.observed == {"values": [1.5, "2"]} and type(result.observed["values"][0]) is float
    assert result.examples == ("a", "b")
    with pytest.raises(ValueError):
        _result(severity="fatal")


def test_result_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        _result().observed = "x"  # type: ignore[misc]


RESULTS = {
    "failed_with_examples": _result(),
    "no_observed_value": _result(check_name="column_missing", expectation="expect_column_to_exist", success=True,
                                 severity=CheckSeverity.CRITICAL, observed=None, unexpected_pct=None, examples=()),
    "quantiles": _result(observed={"quantiles": [0.1, 0.5], "values": [1.0, 2.0]}, unexpected_pct=None),
    "not_a_number": _result(check_name="constant_column", observed=math.nan, unexpected_pct=None),
    "empty_text": _result(observed=""),
}


@pytest.mark.parametrize("result", RESULTS.values(), ids=RESULTS.keys())
def test_result_through_strict_json_comes_back_equal(result):
    """As staging.put writes the observation: allow_nan=False (a NaN observed travels inside its JSON text)."""
    back = ValidationResult.from_record(json.loads(json.dumps(result.to_record(), allow_nan=False)))
    if result.check_name == "constant_column":
        assert math.isnan(back.observed) and dataclasses.replace(back, observed=None) == \
            dataclasses.replace(result, observed=None)
    else:
        assert back == result


def test_result_staged_by_the_previous_release_reads_back():
    old = {"expectation": "expect_column_values_to_be_between", "column_name": "age", "check_name": "out_of_range",
           "severity": "warning", "success": False, "observed": '"4 of 400 rows unexpected"', "unexpected_pct": 1.0,
           "examples": '["130", "-4"]', "expected": "values in [0, 120]"}
    assert ValidationResult.from_record(old) == _result()
    assert ValidationResult.from_record({**old, "observed": ""}).observed is None


@pytest.mark.parametrize("result", RESULTS.values(), ids=RESULTS.keys())
def test_stored_record_has_the_json_text_validation_results_always_held(result):
    record = _validation_record("credit_default", WINDOW, result)
    assert record["observed"] == ("" if result.observed is None else json.dumps(result.observed, default=str))
    assert record["examples"] == json.dumps(list(result.examples))
    assert record["severity"] == result.severity.value and record["window_start"] == WINDOW.start


def test_stored_record_text_for_known_results():
    assert _validation_record("m", WINDOW, RESULTS["failed_with_examples"])["examples"] == '["130", "-4"]'
    assert _validation_record("m", WINDOW, RESULTS["failed_with_examples"])["observed"] == '"4 of 400 rows unexpected"'
    assert _validation_record("m", WINDOW, RESULTS["no_observed_value"])["observed"] == ""
    assert _validation_record("m", WINDOW, RESULTS["no_observed_value"])["examples"] == "[]"
    assert _validation_record("m", WINDOW, RESULTS["not_a_number"])["observed"] == "NaN"
    assert _validation_record("m", WINDOW, _result(examples=("zürich",)))["examples"] == '["z\\u00fcrich"]'


def test_observation_with_validations_through_strict_json_comes_back_equal():
    observation = Observation(WINDOW, RunStatus.OK, "", 400, 400, "ref",
                              validations=[v for k, v in RESULTS.items() if k != "not_a_number"])
    record = json.loads(json.dumps(observation.to_record(), allow_nan=False))
    assert Observation.from_record(record) == observation


def test_with_hints_returns_new_results_naming_the_extra_columns():
    missing = _result(check_name="column_missing", expectation="expect_column_to_exist", column_name="income",
                      severity=CheckSeverity.CRITICAL, observed=None, unexpected_pct=None, examples=())
    present = dataclasses.replace(missing, column_name="age", success=True)
    other = _result()
    hinted = with_hints([missing, present, other], SimpleNamespace(extra_columns=("income_usd",)))
    assert hinted[0] == dataclasses.replace(missing, observed="column 'income' is not in the table; columns the "
                                                             "monitor file does not name: ['income_usd'] (renamed?)")
    assert missing.observed is None  # the input is left as it was
    assert hinted[1:] == [present, other]


def test_blocking_reason_names_the_check_its_observed_value_and_examples():
    assert blocking_reason(_result()) == ("blocking check out_of_range (expect_column_values_to_be_between) failed on "
                                          "column 'age': 4 of 400 rows unexpected; examples: 130, -4")
    assert blocking_reason(_result(observed=None, examples=())) == (
        "blocking check out_of_range (expect_column_values_to_be_between) failed on column 'age': failed")


def test_quality_rows_carry_the_decoded_values_and_count_failures_per_severity():
    rows = quality_rows([_result(), RESULTS["no_observed_value"], _result(severity="info", column_name="x")],
                        WINDOW, n=400)
    assert rows[0].details == {"expectation": "expect_column_values_to_be_between", "expected": "values in [0, 120]",
                               "observed": "4 of 400 rows unexpected", "examples": ["130", "-4"]}
    assert rows[1].details["observed"] == "" and rows[1].details["examples"] == []
    assert rows[-1].details["failed_by_severity"] == {"critical": 0, "warning": 1, "info": 1}
