"""Run an expectation suite on a window's rows with GX; results as our own records.

One ephemeral GX context per process, holding one pandas datasource and dataframe asset, serves every call: the
suite and the frame are the call's own, never added to the context. GX's pandas engine is the datasource's and so
shared by the calls: a lock keeps one validation at a time on it (the engine holds the active batch), and each
call leaves it empty (the batch's data and the metrics it computed), so no value of one window can reach the next.

Results are asked for in GX's BASIC format: the records read the counts, the unexpected share, the first examples
(`partial_unexpected_list`) and the observed value, all of which BASIC has. SUMMARY adds each map expectation's
unexpected row indices and value counts, which nothing reads, and cost a third of the validation.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

from include.monitoring.config.expectations import ExpectationSpec
from include.monitoring.validation.records import CheckSeverity, ValidationResult
from include.monitoring.validation.suite import FINITE_SUFFIX, RAW_SUFFIX

MAX_EXAMPLES = 5
RESULT_FORMAT = "BASIC"
_ASSET = "window"  # one asset for every model and window: the batch's data is the call's frame

_lock = threading.Lock()
_batch_definition: Any = None  # the process's GX batch definition, built by the first call


def _forget_context() -> None:
    """A forked child starts without the parent's context and lock (either could be mid-use in another thread)."""
    global _lock, _batch_definition
    _lock = threading.Lock()
    _batch_definition = None


os.register_at_fork(after_in_child=_forget_context)


def validate_frame(frame: pd.DataFrame, specs: Sequence[ExpectationSpec], suite_name: str,
                   timings: dict[str, float] | None = None) -> list[ValidationResult]:
    """Validate `frame` against `specs`; one result per expectation (a row of the `validation_results` table).

    An expectation GX cannot build (an unknown type, a misspelt argument in a custom suite) is recorded as a
    failed CRITICAL result that names its file and GX's complaint: GX itself would log it and drop it.
    `timings`, when given, receives the seconds of each step (expectations, context, batch, validate, records).
    """
    import great_expectations as gx  # 3-6 s to import: only inside the task that validates

    clock = _Clock(timings)
    expectations, problems = build_expectations(specs)
    invalid = [_invalid_record(spec, problem) for spec, problem in problems]
    suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
    clock.mark("expectations")
    with _lock:
        batch_definition = _process_batch_definition()
        clock.mark("context")
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        clock.mark("batch")
        try:
            result = batch.validate(suite, result_format=RESULT_FORMAT)
        finally:
            _empty(batch.data.execution_engine)
        clock.mark("validate")
    records = [*(_record(item, specs, frame) for item in result.results), *invalid]
    clock.mark("records")
    return records


def _process_batch_definition() -> Any:
    """The whole-dataframe batch definition of the process's ephemeral context, built on first use (under _lock)."""
    global _batch_definition
    if _batch_definition is None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _batch_definition = (context.data_sources.add_pandas("window")
                             .add_dataframe_asset(_ASSET)
                             .add_batch_definition_whole_dataframe("window"))
    return _batch_definition


def _empty(engine: Any) -> None:
    """Drop the frame and the metrics of the validation just run from the shared engine. GX keys cached metrics by
    batch id, and a dataframe batch's id is its asset's name: the next window's batch has the same id, and GX falls
    back to the cache for a dependency its own run failed to compute. (`_metric_cache` is GX 1.24's attribute; a test
    checks it is still there and emptied.)"""
    engine.batch_manager.reset_batch_cache()
    engine.batch_manager.batch_data_cache.clear()
    engine._metric_cache.clear()


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def mark(self, step: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[step] = now - self.last
            self.last = now


def build_expectations(specs: Sequence[ExpectationSpec]) -> tuple[list[Any], list[tuple[ExpectationSpec, str]]]:
    """GX expectation objects for `specs`, and each spec GX cannot build with GX's reason."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    built, problems = [], []
    for position, spec in enumerate(specs):
        try:
            # GX's meta holds only the spec's position: GX copies each expectation's fields dozens of times while
            # it validates, so the check name, column and text the record needs are read from the spec instead.
            gx_dict = {**spec.as_gx_dict(), "meta": {"spec": position}}
            built.append(ExpectationConfiguration(**gx_dict).to_domain_obj())
        except Exception as exc:  # noqa: BLE001 (GX raises pydantic, GX and value errors here; each is reported)
            problems.append((spec, " ".join(str(exc).split())[:500]))
    return built, problems


def _record(item: Any, specs: Sequence[ExpectationSpec], frame: pd.DataFrame) -> ValidationResult:
    config = item.expectation_config
    spec = specs[config.meta["spec"]]
    outcome = item.result or {}
    column = str(spec.column or config.kwargs.get("column", ""))
    examples = list(outcome.get("partial_unexpected_list") or [])
    observed = outcome.get("observed_value")
    if observed is None and "unexpected_count" in outcome:
        observed = f"{outcome['unexpected_count']} of {outcome.get('element_count')} rows unexpected"
    error = _exception_message(item.exception_info)
    if error:
        observed = f"error: {error}"
    if not item.success and not examples and column in frame.columns and spec.check == "constant_column":
        examples = frame[column].dropna().unique()[:MAX_EXAMPLES].tolist()  # the value it is stuck at
    return ValidationResult(
        expectation=config.type,
        column_name=column.removesuffix(RAW_SUFFIX).removesuffix(FINITE_SUFFIX),
        check_name=spec.check,
        severity=CheckSeverity(getattr(config.severity, "value", config.severity) or "critical"),
        success=bool(item.success),
        observed=observed,
        unexpected_pct=_number(outcome.get("unexpected_percent")),
        examples=tuple(str(value) for value in examples[:MAX_EXAMPLES]),
        expected=spec.expected_text,
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
