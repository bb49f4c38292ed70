"""The drift method registry (include/monitoring/drift/__init__.py)."""

from __future__ import annotations

import pytest

from include.monitoring.drift import DRIFT_METHODS, chi2, get_method, hellinger, jensen_shannon, l_infinity, psi
from include.monitoring.errors import ConfigError


@pytest.mark.parametrize("name, method", [
    ("psi", psi.PSI), ("chi2", chi2.CHI2), ("jensen_shannon", jensen_shannon.JENSEN_SHANNON),
    ("hellinger", hellinger.HELLINGER), ("l_infinity", l_infinity.L_INFINITY),
], ids=["psi", "chi2", "jensen_shannon", "hellinger", "l_infinity"])
def test_get_method_known_name_returns_method(name, method):
    assert get_method(name) is method


def test_drift_methods_keys_are_method_names():
    assert all(key == method.name for key, method in DRIFT_METHODS.items())
    assert set(DRIFT_METHODS) == {"psi", "chi2", "jensen_shannon", "hellinger", "l_infinity", "ks", "wasserstein"}


def test_get_method_unknown_name_raises_config_error_listing_valid():
    with pytest.raises(ConfigError) as caught:
        get_method("kl")
    message = str(caught.value)
    assert "'kl'" in message
    assert "chi2" in message and "psi" in message
