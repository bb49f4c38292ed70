"""What every registered drift method promises: its declaration, and a clear error on empty input."""

from __future__ import annotations

import pytest

from include.monitoring.drift import DRIFT_METHODS
from include.monitoring.drift.base import FeatureKind, ScoreKind

DISTANCES = sorted(name for name, method in DRIFT_METHODS.items() if method.score_kind is ScoreKind.DISTANCE)


@pytest.mark.parametrize("name", sorted(DRIFT_METHODS), ids=str)
def test_method_name_equals_its_module_and_registry_key(name):
    method = DRIFT_METHODS[name]
    assert method.name == name
    assert method.score.__module__ == f"include.monitoring.drift.{name}"
    assert FeatureKind.CATEGORICAL in method.supports


@pytest.mark.parametrize("name", [n for n in DISTANCES if n != "psi"], ids=str)
def test_count_distance_supports_both_feature_kinds(name):
    assert DRIFT_METHODS[name].supports == {FeatureKind.NUMERIC, FeatureKind.CATEGORICAL}


@pytest.mark.parametrize("name", [n for n in DISTANCES if n != "psi"], ids=str)
@pytest.mark.parametrize("reference, window, side", [([800, 100, 100], [0, 0, 0], "window"),
                                                     ([0, 0, 0], [5, 3, 2], "reference")],
                         ids=["empty_window", "empty_reference"])
def test_distance_empty_side_raises_value_error_naming_it(name, reference, window, side):
    """PSI is left out: its pseudo-count defines it on an empty window."""
    with pytest.raises(ValueError, match=rf"{name}: the {side} has no rows"):
        DRIFT_METHODS[name].score(reference, window, 0.999)


@pytest.mark.parametrize("name", sorted(DRIFT_METHODS), ids=str)
def test_identical_shares_are_not_drift(name):
    method = DRIFT_METHODS[name]
    score = method.score([400, 300, 200, 100], [40, 30, 20, 10], 0.999)
    if method.score_kind is ScoreKind.DISTANCE:  # PSI's pseudo-count leaves 1e-4 here: far inside the band
        assert score.value < 1e-3 < score.noise
    else:
        assert score.p_value == pytest.approx(1.0)
