"""A synthetic model for the drift engine's statistical tests and benchmark: 20 numeric features of varied
shapes (normal, skewed, heavy-tailed, bimodal, discrete with ties), 5 categorical features of 10 levels with
skewed shares, and a score. Windows are fresh draws from the same population (no drift), so the reference's
own sampling error is part of what the thresholds must absorb."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from include.monitoring.config import FeaturesConfig, MonitorConfig
from include.monitoring.observation import Observation
from include.monitoring.profile_types import ReferenceProfile
from include.monitoring.types import RunStatus, Window
from include.monitoring.window_profiles import window_profiles

NUMERIC = tuple(f"num_{i}" for i in range(20))
CATEGORICAL = tuple(f"cat_{i}" for i in range(5))
LEVELS = tuple(f"level_{k}" for k in range(10))
LEVEL_SHARES = np.array([0.3, 0.2, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02])
WINDOW = Window(datetime(2026, 11, 1, 12, tzinfo=UTC), datetime(2026, 11, 1, 13, tzinfo=UTC))


def config(**drift: object) -> MonitorConfig:
    import dataclasses

    base = MonitorConfig(model="synthetic", features=FeaturesConfig(numeric=NUMERIC, categorical=CATEGORICAL))
    return dataclasses.replace(base, drift=dataclasses.replace(base.drift, **drift)) if drift else base


def _numeric(rng: np.random.Generator, i: int, n: int) -> np.ndarray:
    shape = i % 5
    if shape == 0:
        return rng.normal(50, 10, n)
    if shape == 1:
        return rng.lognormal(3, 0.8, n)
    if shape == 2:
        return rng.standard_t(3, n)
    if shape == 3:
        return np.where(rng.random(n) < 0.3, rng.normal(-2, 0.5, n), rng.normal(2, 1, n))
    return rng.poisson(3, n).astype("float64")  # discrete: ties on every value


def frame(rng: np.random.Generator, n: int, shift: dict[str, float] | None = None) -> pd.DataFrame:
    """n rows from the population; `shift` moves numeric features by that many of their standard deviations."""
    columns: dict[str, object] = {}
    for i, name in enumerate(NUMERIC):
        values = _numeric(rng, i, n)
        if shift and name in shift:
            values = values + shift[name] * POPULATION_SD[i % 5]
        columns[name] = values
    for name in CATEGORICAL:
        columns[name] = np.asarray(LEVELS, dtype=object)[rng.choice(len(LEVELS), size=n, p=LEVEL_SHARES)]
    columns["score"] = rng.beta(2, 5, n)
    return pd.DataFrame(columns)


# Standard deviations of the five numeric shapes (t with 3 degrees of freedom: sqrt(3)).
POPULATION_SD = (10.0, float(np.sqrt((np.exp(0.64) - 1) * np.exp(6 + 0.64))), float(np.sqrt(3)),
                 float(np.sqrt(0.3 * 0.25 + 0.7 * 1 + 0.3 * 0.7 * 16)), float(np.sqrt(3)))


def observation(cfg: MonitorConfig, reference: ReferenceProfile, rows: pd.DataFrame) -> Observation:
    return Observation(WINDOW, RunStatus.OK, "", len(rows), len(rows), "synthetic",
                       profiles=window_profiles(cfg, reference, rows))
