"""The one-line findings summary that becomes a DAG run's note."""

from __future__ import annotations

from include.monitoring.findings import NO_FINDINGS, NOTE_LIMIT, SHOWN_PER_SEVERITY, Finding, summary_line


def _finding(severity: str, column: str, value: float | None = 0.5) -> Finding:
    return Finding(severity, "drift", "psi", column, "", value)


def test_a_clean_ok_window_has_no_findings():
    assert summary_line([], ("ok", "")) == NO_FINDINGS


def test_critical_comes_before_warning_with_counts_and_values():
    line = summary_line([_finding("CRITICAL", "income", 0.834), _finding("WARNING", "age", 0.12)], ("ok", ""))
    assert line == "CRITICAL 1: drift psi income 0.834 | WARNING 1: drift psi age 0.12"


def test_a_window_that_was_not_monitored_says_so_first():
    line = summary_line([_finding("CRITICAL", "", None)], ("no_data", "no predictions arrived"))
    assert line == "run no_data: no predictions arrived | CRITICAL 1: drift psi"


def test_many_findings_are_counted_and_the_line_fits_a_note():
    many = [_finding("CRITICAL", f"feature_{i:03d}_" + "x" * 80) for i in range(40)]
    line = summary_line(many, ("ok", ""))
    assert line.startswith("CRITICAL 40: drift psi feature_000_") and len(line) <= NOTE_LIMIT
    named = line.count("drift psi ")
    assert 0 < named < SHOWN_PER_SEVERITY and line.endswith(f", +{40 - named} more")
