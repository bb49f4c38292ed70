"""The model's own suite: shape checked at load (so a broken file shows as a config-error DAG), check names."""

from __future__ import annotations

import json
import shutil

import pytest

from include.monitoring.catalogue import GENERATED_CHECKS
from include.monitoring.config import load_monitor_config
from include.monitoring.config.expectations import custom_suite_path, load_custom_suite
from include.monitoring.errors import ConfigError
from tests.conftest import ROOT


def _write(path, expectations):
    path.write_text(json.dumps({"name": "s", "expectations": expectations}))
    return path


def test_the_demo_suite_loads_with_its_check_names_and_severities():
    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    assert custom_suite_path(config) == ROOT / "include" / "expectations" / "credit_default.json"
    specs = {spec.check: spec for spec in load_custom_suite(custom_suite_path(config))}
    assert specs["applicant_age"].severity == "critical" and specs["applicant_age"].column == "age"
    assert specs["applicant_age"].kwargs == {"min_value": 18, "max_value": 100}
    assert specs["known_product"].severity == "warning"
    # Without meta.check the name is the expectation type, and GX's default severity applies.
    assert specs["column_values_to_not_be_null"].severity == "info"


def test_no_file_is_no_custom_expectations(tmp_path):
    assert load_custom_suite(tmp_path / "absent.json") == []


def test_two_expectations_of_one_type_on_one_column_keep_their_own_rows(tmp_path):
    path = _write(tmp_path / "m.json", [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "max_value": 120}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
    ])
    specs = load_custom_suite(path)
    assert [(s.check, s.column) for s in specs] == [("column_values_to_be_between", "age"),
                                                    ("column_values_to_be_between_2", "age"),
                                                    ("table_row_count_to_be_between", "")]
    assert specs[2].as_gx_dict()["kwargs"] == {"min_value": 1}  # a table-level expectation gets no column


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"expectations": {}}', 'an "expectations" list'),
    ('{"expectations": [{"kwargs": {}}]}', 'expectations\\[0\\]: expected an object with a "type"'),
    ('{"expectations": [{"type": "expect_x", "severity": "fatal"}]}', "severity 'fatal' is not one of"),
    ('{"expectations": [{"type": "expect_x", "kwargs": []}]}', '"kwargs" and "meta" must be objects'),
    ('{"expectations": [{"type": "expect_x", "meta": {"check": "null_rate"}}]}', "taken by a generated check"),
])
def test_a_malformed_suite_names_the_file_and_the_expectation(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as error:
        load_custom_suite(path)
    assert "m.json" in str(error.value)


def _monitor_tree(tmp_path, blocking=None, suite=None):
    (tmp_path / "monitors").mkdir()
    (tmp_path / "expectations").mkdir()
    text = (ROOT / "include" / "monitors" / "credit_default.yaml").read_text()
    if blocking is not None:
        text += f"validation:\n  blocking: {json.dumps(blocking)}\n"
    (tmp_path / "monitors" / "credit_default.yaml").write_text(text)
    if suite is not None:
        _write(tmp_path / "expectations" / "credit_default.json", suite)
    else:
        shutil.copy(ROOT / "include" / "expectations" / "credit_default.json", tmp_path / "expectations")
    return tmp_path / "monitors" / "credit_default.yaml"


def test_blocking_may_name_a_custom_check(tmp_path):
    config = load_monitor_config(_monitor_tree(tmp_path, blocking=["column_missing", "applicant_age"]))
    assert config.validation.blocking == ("column_missing", "applicant_age")


def test_blocking_an_unknown_check_is_a_config_error_listing_the_valid_ones(tmp_path):
    with pytest.raises(ConfigError, match="validation.blocking: unknown check 'aplicant_age'") as error:
        load_monitor_config(_monitor_tree(tmp_path, blocking=["aplicant_age"]))
    assert "applicant_age" in str(error.value) and "constant_column" in str(error.value)


def test_a_broken_suite_file_is_a_config_error_of_its_monitor(tmp_path):
    path = _monitor_tree(tmp_path, suite=[{"type": "not_an_expectation"}])
    with pytest.raises(ConfigError, match="credit_default.json: expectations\\[0\\]"):
        load_monitor_config(path)


def test_every_generated_check_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for check in GENERATED_CHECKS:
        assert f"| `{check}` |" in readme, check
