"""The drift method registry: names as used in monitor files -> methods.

Each method's name, default tiers and the feature kinds it scores are in the catalogue (the config reads them at
DAG parse time, without numpy); importing this module checks the registry against it.
"""

from __future__ import annotations

from include.monitoring import catalogue
from include.monitoring.drift.base import DriftMethod, FeatureKind
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


def catalogue_mismatches(methods: dict[str, DriftMethod]) -> list[str]:
    """How `methods` disagree with the catalogue: names, score kinds, and the feature kinds each scores."""
    problems = [f"{name}: registered but not in catalogue.DRIFT_METHOD_SPECS"
                for name in sorted(set(methods) - set(catalogue.DRIFT_METHOD_SPECS))]
    problems += [f"{name}: in catalogue.DRIFT_METHOD_SPECS but not registered"
                 for name in sorted(set(catalogue.DRIFT_METHOD_SPECS) - set(methods))]
    for name in sorted(set(methods) & set(catalogue.DRIFT_METHOD_SPECS)):
        method, spec = methods[name], catalogue.DRIFT_METHOD_SPECS[name]
        if method.score_kind is not spec.score_kind:
            problems.append(f"{name}: score kind {method.score_kind} here, {spec.score_kind} in the catalogue")
        listed = {kind for kind, names in ((FeatureKind.NUMERIC, catalogue.NUMERIC_DRIFT_METHODS),
                                           (FeatureKind.CATEGORICAL, catalogue.CATEGORICAL_DRIFT_METHODS)) if name in names}
        if listed != method.supports:
            problems.append(f"{name}: scores {sorted(map(str, method.supports))} here, {sorted(map(str, listed))} in the "
                            "catalogue's lists")
    return problems


if _mismatches := catalogue_mismatches(DRIFT_METHODS):
    raise ImportError("the drift registry disagrees with include/monitoring/catalogue.py: " + "; ".join(_mismatches))
