"""What a drift method declares, and what it returns."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


class ScoreKind(enum.StrEnum):
    DISTANCE = "distance"  # higher is worse
    P_VALUE = "p_value"  # lower is worse


class FeatureKind(enum.StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True, slots=True)
class DriftScore:
    """A method's verdict-free result. `noise` is the score's no-drift quantile at this window size
    (distances only): a score at or below it cannot be told apart from sampling noise."""

    value: float
    n: int
    p_value: float | None = None
    noise: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


# (reference counts, window counts, noise quantile) -> score. Counts are aligned bin by bin.
ScoreFn = Callable[[Sequence[int], Sequence[int], float], DriftScore]


@dataclass(frozen=True, slots=True)
class DriftMethod:
    name: str
    score_kind: ScoreKind
    supports: frozenset[FeatureKind]
    score: ScoreFn
