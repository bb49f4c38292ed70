"""What a drift method declares, and what it returns."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from include.monitoring.types import ScoreKind


class FeatureKind(enum.StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class Resolution(enum.StrEnum):
    """Which counts of a profile a method reads."""

    BINS = "bins"  # the reference-quantile bins (numeric, default 10) or the categories
    GRID = "grid"  # the fine percentile grid of a numeric feature, for the CDF-based methods (ks, wasserstein)


@dataclass(frozen=True, slots=True)
class DriftScore:
    """A method's verdict-free result. `noise` is the score's no-drift quantile at this window size
    (distances only): a score at or below it cannot be told apart from sampling noise."""

    value: float
    n: int
    p_value: float | None = None
    noise: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


# (reference counts, window counts, noise quantile or None for no band, **inputs) -> score. Counts are
# aligned bin by bin; `inputs` are the extra inputs of methods that read locations (wasserstein).
ScoreFn = Callable[..., DriftScore]
# The vectorised statistic of a distance: (reference counts (..., k), window counts (..., k), **inputs) -> (...).
# Calibration resamples with it (drift/calibration.py).
BatchStatistic = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class DriftMethod:
    name: str
    score_kind: ScoreKind
    supports: frozenset[FeatureKind]
    score: ScoreFn
    statistic: BatchStatistic | None = None  # distances only
    resolution: Resolution = Resolution.BINS
    uses_locations: bool = False  # needs each bin's mean value and the reference scale (wasserstein)
