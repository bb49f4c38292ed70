"""`cli validate` reports what the DAG file would show as broken: numbers out of their range, over-long model
names, and a model named by two files (naming both), and fails; the file named after the model stays ok."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

FEATURES = "features: {numeric: [x]}\n"


def test_validate_reports_out_of_range_numbers_long_names_and_duplicate_models(tmp_path, capsys):
    from include.monitoring.cli import main

    (tmp_path / "credit.yaml").write_text(FEATURES)
    (tmp_path / "credit_copy.yaml").write_text(FEATURES + "model: credit\n")
    (tmp_path / "slow.yaml").write_text(FEATURES + "timeout_minutes: 10000000000000\n")
    (tmp_path / "strict.yaml").write_text(FEATURES + "validation: {mostly: 7.5}\n")
    (tmp_path / "long.yaml").write_text(FEATURES + f"model: {'m' * 129}\n")
    assert main(["validate", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ok     credit.yaml: dag monitor_credit" in out
    assert ("ERROR  credit_copy.yaml: model: 'credit' is already the model of credit.yaml; credit.yaml is named "
            "after it and keeps the DAG") in out
    assert "ERROR  slow.yaml: timeout_minutes: expected a value in [1, 1_440], got 10000000000000" in out
    assert "ERROR  strict.yaml: validation.mostly: expected a value in (0, 1], got 7.5" in out
    assert "ERROR  long.yaml: model: 129 characters, expected at most 94" in out
