"""A method applied to a column: the counts it reads from the two profiles, its extra inputs, and its noise
band from the reference's stored calibration (a slice's: from its own table, drift/slice_calibration.py).

The only module that knows how profiles are laid out for the methods: categorical counts get one more
column for the categories the reference never saw; grid methods read the fine percentile grid; wasserstein
also reads where each grid bin's mass sits and the reference's standard deviation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from include.monitoring.drift.base import DriftMethod, DriftScore, Resolution
from include.monitoring.drift.calibration import calibrate, effective_size, noise_at, noise_quantiles
from include.monitoring.profile_types import CategoryCounts, ColumnCounts, NumericReference, ReferenceColumn
from include.monitoring.profiles import grid_locations


def _counts(method: DriftMethod, profile: ColumnCounts | ReferenceColumn, unseen: int) -> list[int]:
    if profile.kind == "categorical":
        return [*profile.counts, unseen]
    grid = profile.grid_counts if method.resolution is Resolution.GRID else None
    return list(grid if grid is not None else profile.counts)


def reference_inputs(method: DriftMethod, reference: ReferenceColumn) -> dict[str, Any]:
    if not method.uses_locations or not isinstance(reference, NumericReference):
        return {}
    return {"reference_locations": grid_locations(reference), "scale": reference.std}


def skip_reason(method: DriftMethod, reference: ReferenceColumn) -> str:
    """Why `method` cannot score against this reference column, or ""."""
    if not sum(reference.counts):
        return "the reference has no values for this column"
    if method.resolution is Resolution.GRID and getattr(reference, "grid_counts", None) is None:
        return f"{method.name} needs the fine grid, which this reference profile predates; rebuild the reference"
    if method.uses_locations and not (getattr(reference, "std", None) or 0) > 0:
        return f"the reference values are constant, so {method.name} has no spread to scale by; use psi or ks"
    return ""


def calibrate_column(method: DriftMethod, reference: ReferenceColumn, quantile: float) -> dict[str, Any] | None:
    """The stored noise table of `method` on this reference column (None for p-values or unscorable columns)."""
    if method.statistic is None or skip_reason(method, reference):
        return None
    return calibrate(method, _counts(method, reference, 0), quantile, **reference_inputs(method, reference))


def unbanded_score(method: DriftMethod, reference: ReferenceColumn,
                   window: ColumnCounts) -> tuple[DriftScore, list[int], dict[str, Any]]:
    """`method` on one column, without a noise band; with the reference counts and the method's extra inputs a
    distance's band is drawn from."""
    reference_counts = _counts(method, reference, 0)
    window_counts = _counts(method, window, window.unseen if isinstance(window, CategoryCounts) else 0)
    inputs = reference_inputs(method, reference)
    window_inputs = {"window_locations": grid_locations(window, fallback=inputs["reference_locations"])} \
        if inputs and not isinstance(window, CategoryCounts) else {}
    return method.score(reference_counts, window_counts, None, **inputs, **window_inputs), reference_counts, inputs


def score_column(method: DriftMethod, reference: ReferenceColumn, window: ColumnCounts, quantile: float) -> DriftScore:
    """`method` on one column; a distance carries its noise band at the window's effective size."""
    score, reference_counts, inputs = unbanded_score(method, reference, window)
    if method.statistic is None:
        return score
    stored = (reference.calibration or {}).get(method.name)
    noise, size, source = band(method, reference_counts, score.n, quantile, stored, **inputs)
    return banded(score, noise, size, source)


def banded(score: DriftScore, noise: float | None, size: float, source: str, **details: Any) -> DriftScore:
    """`score` with its noise band, the effective size it was read at and where it came from (`details.calibration`)."""
    return dataclasses.replace(score, noise=noise, details={**score.details, "effective_n": round(size, 1),
                                                            "calibration": source, **details})


def band(method: DriftMethod, reference_counts: list[int], window_rows: int, quantile: float,
         stored: dict[str, Any] | None, **inputs: Any) -> tuple[float | None, float, str]:
    """The noise band of a distance at the window's effective size, its size, and where it came from: the
    stored calibration, or (a method or quantile the reference was not calibrated for) resampled now, at
    this size only. A slice's band comes from its own table instead (drift/slice_calibration.py)."""
    size = effective_size(window_rows, sum(reference_counts))
    if stored is not None and stored["quantile"] == quantile:
        return noise_at(stored, size), size, "stored with the reference"
    resampled = noise_quantiles(method, reference_counts, [max(1, round(size))], quantile, **inputs)[0]
    return resampled, size, "resampled at run time (not in the stored profile)"
