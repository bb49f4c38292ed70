"""Scores -> severities. The only place where the direction of a score is applied.

A distance alerts when it is at least its tier *and* above its noise band at the window's size;
a p-value alerts when, after Benjamini-Hochberg across the window's features, it is at most its tier;
a performance metric alerts when its relative drop from the reference baseline exceeds its tier
(strictly: "a drop > 5 %") and is larger than the window's noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from include.monitoring.config import Tiers
from include.monitoring.drift.base import ScoreKind
from include.monitoring.types import Severity


def score_severity(kind: ScoreKind, value: float | None, tiers: Tiers, noise: float | None = None) -> Severity:
    if value is None:
        return Severity.OK
    if kind is ScoreKind.DISTANCE:
        if noise is not None and value <= noise:
            return Severity.OK
        if tiers.critical is not None and value >= tiers.critical:
            return Severity.CRITICAL
        if tiers.warning is not None and value >= tiers.warning:
            return Severity.WARNING
        return Severity.OK
    return floor_severity(value, tiers)


def floor_severity(value: float | None, tiers: Tiers) -> Severity:
    """Lower is worse (a p-value, a label coverage): at or below a tier alerts at it."""
    if value is None:
        return Severity.OK
    if tiers.critical is not None and value <= tiers.critical:
        return Severity.CRITICAL
    if tiers.warning is not None and value <= tiers.warning:
        return Severity.WARNING
    return Severity.OK


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values (step-up, monotone, capped at 1) controlling the false discovery rate."""
    p = np.asarray(p_values, dtype="float64")
    if p.size == 0:
        return []
    if not np.all(np.isfinite(p)):
        raise ValueError(f"p-values must be finite, got {list(p_values)}")  # one NaN would silence every alert
    order = np.argsort(p)
    scaled = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    result = np.empty_like(p)
    result[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in result]


def bonferroni(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values controlling the family-wise error rate: p * m, capped at 1."""
    return [min(1.0, float(p) * len(p_values)) for p in p_values]


def correct_p_values(p_values: Sequence[float], correction: str) -> list[float]:
    """The correction named in the config (drift.correction) applied across one window's features."""
    return {"benjamini_hochberg": benjamini_hochberg, "bonferroni": bonferroni}[correction](p_values)


def relative_drop(baseline: float | None, value: float | None) -> float | None:
    """(baseline - value) / baseline for a higher-is-better metric; None when either is undefined."""
    if baseline is None or value is None or baseline == 0:
        return None
    return (baseline - value) / abs(baseline)


def significant_drop(baseline: float | None, value: float | None, standard_error: float | None, z: float) -> bool:
    """Whether `value` lies more than `z` standard errors below `baseline` (a drop, not noise)."""
    if baseline is None or value is None or standard_error is None:
        return False
    return baseline - value > z * standard_error


def drop_severity(drop: float | None, warning_drop: float, critical_drop: float) -> Severity:
    if drop is None:
        return Severity.OK
    if drop > critical_drop:
        return Severity.CRITICAL
    if drop > warning_drop:
        return Severity.WARNING
    return Severity.OK
