"""Run an expectation suite on a window's rows in an ephemeral GX context; results as our own records."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd

from include.monitoring.validation.suite import RAW_SUFFIX, ExpectationSpec

MAX_EXAMPLES = 5


def validate_frame(frame: pd.DataFrame, specs: Sequence[ExpectationSpec], suite_name: str) -> list[dict[str, Any]]:
    """Validate `frame` against `specs`; one record per expectation for the `validation_results` table."""
    import great_expectations as gx  # 4-6 s to import: only inside the task that validates
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("window")
             .add_dataframe_asset(suite_name)
             .add_batch_definition_whole_dataframe("window")
             .get_batch(batch_parameters={"dataframe": frame}))
    suite = gx.ExpectationSuite(name=suite_name, expectations=[spec.as_gx_dict() for spec in specs])
    result = batch.validate(suite, result_format="SUMMARY")
    return [_record(item) for item in result.results]


def _record(item: Any) -> dict[str, Any]:
    config = item.expectation_config
    meta = config.meta or {}
    outcome = item.result or {}
    column = str(meta.get("column") or config.kwargs.get("column", ""))
    examples = outcome.get("partial_unexpected_list") or []
    observed = outcome.get("observed_value")
    if observed is None and "unexpected_count" in outcome:
        observed = f"{outcome['unexpected_count']} of {outcome.get('element_count')} rows unexpected"
    if item.exception_info and item.exception_info.get("raised_exception"):
        observed = f"error: {item.exception_info.get('exception_message')}"
    return {
        "expectation": config.type,
        "column_name": column.removesuffix(RAW_SUFFIX),
        "check_name": str(meta.get("check", config.type)),
        "severity": str(getattr(config.severity, "value", config.severity) or "critical"),
        "success": bool(item.success),
        "observed": json.dumps(observed, default=str) if observed is not None else "",
        "unexpected_pct": _number(outcome.get("unexpected_percent")),
        "examples": json.dumps([str(value) for value in examples[:MAX_EXAMPLES]]),
    }


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
