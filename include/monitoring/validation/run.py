"""Run an expectation suite on a window's rows in an ephemeral GX context; results as our own records."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd

from include.monitoring.config.expectations import ExpectationSpec
from include.monitoring.validation.records import CheckSeverity, ValidationResult
from include.monitoring.validation.suite import FINITE_SUFFIX, RAW_SUFFIX

MAX_EXAMPLES = 5


def validate_frame(frame: pd.DataFrame, specs: Sequence[ExpectationSpec], suite_name: str) -> list[ValidationResult]:
    """Validate `frame` against `specs`; one result per expectation (a row of the `validation_results` table).

    An expectation GX cannot build (an unknown type, a misspelt argument in a custom suite) is recorded as a
    failed CRITICAL result that names its file and GX's complaint: GX itself would log it and drop it.
    """
    import great_expectations as gx  # 3-6 s to import: only inside the task that validates
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    expectations, problems = build_expectations(specs)
    invalid = [_invalid_record(spec, problem) for spec, problem in problems]
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("window")
             .add_dataframe_asset(suite_name)
             .add_batch_definition_whole_dataframe("window")
             .get_batch(batch_parameters={"dataframe": frame}))
    suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
    result = batch.validate(suite, result_format="SUMMARY")
    return [*(_record(item, frame) for item in result.results), *invalid]


def build_expectations(specs: Sequence[ExpectationSpec]) -> tuple[list[Any], list[tuple[ExpectationSpec, str]]]:
    """GX expectation objects for `specs`, and each spec GX cannot build with GX's reason."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    built, problems = [], []
    for spec in specs:
        try:
            built.append(ExpectationConfiguration(**spec.as_gx_dict()).to_domain_obj())
        except Exception as exc:  # noqa: BLE001 (GX raises pydantic, GX and value errors here; each is reported)
            problems.append((spec, " ".join(str(exc).split())[:500]))
    return built, problems


def _record(item: Any, frame: pd.DataFrame) -> ValidationResult:
    config = item.expectation_config
    meta = config.meta or {}
    outcome = item.result or {}
    column = str(meta.get("column") or config.kwargs.get("column", ""))
    examples = list(outcome.get("partial_unexpected_list") or [])
    observed = outcome.get("observed_value")
    if observed is None and "unexpected_count" in outcome:
        observed = f"{outcome['unexpected_count']} of {outcome.get('element_count')} rows unexpected"
    error = _exception_message(item.exception_info)
    if error:
        observed = f"error: {error}"
    if not item.success and not examples and column in frame.columns and meta.get("check") == "constant_column":
        examples = frame[column].dropna().unique()[:MAX_EXAMPLES].tolist()  # the value it is stuck at
    return ValidationResult(
        expectation=config.type,
        column_name=column.removesuffix(RAW_SUFFIX).removesuffix(FINITE_SUFFIX),
        check_name=str(meta.get("check", config.type)),
        severity=CheckSeverity(getattr(config.severity, "value", config.severity) or "critical"),
        success=bool(item.success),
        observed=observed,
        unexpected_pct=_number(outcome.get("unexpected_percent")),
        examples=tuple(str(value) for value in examples[:MAX_EXAMPLES]),
        expected=str(meta.get("expected", "")),
    )


def _invalid_record(spec: ExpectationSpec, message: str) -> ValidationResult:
    return ValidationResult(expectation=spec.type, column_name=spec.column, check_name=spec.check,
                            severity=CheckSeverity.CRITICAL, success=False,
                            observed=f"not a valid GX 1.24 expectation in {spec.origin}: {message}",
                            expected="a valid expectation")


def _exception_message(info: Any) -> str:
    """GX reports a failed metric either flat ({raised_exception, exception_message}) or keyed by metric id."""
    if not isinstance(info, dict):
        return ""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "")
    return ""


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
