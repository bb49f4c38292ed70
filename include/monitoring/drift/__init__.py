"""The drift method registry: names as used in monitor files -> methods."""

from __future__ import annotations

from include.monitoring.drift.base import DriftMethod
from include.monitoring.drift.chi2 import CHI2
from include.monitoring.drift.hellinger import HELLINGER
from include.monitoring.drift.jensen_shannon import JENSEN_SHANNON
from include.monitoring.drift.ks import KS
from include.monitoring.drift.l_infinity import L_INFINITY
from include.monitoring.drift.psi import PSI
from include.monitoring.drift.wasserstein import WASSERSTEIN
from include.monitoring.errors import ConfigError

DRIFT_METHODS: dict[str, DriftMethod] = {method.name: method for method in (PSI, CHI2, JENSEN_SHANNON, HELLINGER, L_INFINITY, KS,
                                                                     WASSERSTEIN)}


def get_method(name: str) -> DriftMethod:
    try:
        return DRIFT_METHODS[name]
    except KeyError:
        raise ConfigError(f"unknown drift method {name!r}; valid: {sorted(DRIFT_METHODS)}") from None
