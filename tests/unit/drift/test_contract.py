"""What every registered drift method promises: its declaration, and a clear error on empty input."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.monitoring.catalogue import CATEGORICAL_DRIFT_METHODS, DRIFT_METHOD_SPECS, NUMERIC_DRIFT_METHODS
from include.monitoring.drift import DRIFT_METHODS, catalogue_mismatches
from include.monitoring.drift.base import FeatureKind, Resolution
from include.monitoring.drift.noise import noise_band
from include.monitoring.types import ScoreKind

DISTANCES = sorted(name for name, method in DRIFT_METHODS.items() if method.score_kind is ScoreKind.DISTANCE)
COUNT_DISTANCES = [n for n in DISTANCES if n != "psi" and not DRIFT_METHODS[n].uses_locations]


def score(method, reference, window, noise_quantile=0.999):
    """Score with the extra inputs a method may need: bins at 0, 1, 2... and a scale of 1."""
    inputs = {}
    if method.uses_locations:
        inputs = {"reference_locations": list(range(len(reference))), "window_locations": list(range(len(window))),
                  "scale": 1.0}
    return method.score(reference, window, noise_quantile, **inputs)


@pytest.mark.parametrize("name", sorted(DRIFT_METHODS), ids=str)
def test_method_name_equals_its_module_and_registry_key(name):
    method = DRIFT_METHODS[name]
    assert method.name == name
    assert method.score.__module__ == f"include.monitoring.drift.{name}"


@pytest.mark.parametrize("kind, names", [(FeatureKind.NUMERIC, NUMERIC_DRIFT_METHODS),
                                         (FeatureKind.CATEGORICAL, CATEGORICAL_DRIFT_METHODS)], ids=str)
def test_catalogue_method_lists_equal_registry_support(kind, names):
    """The config cannot import the registry (numpy at DAG parse time): it reads the catalogue's names."""
    assert {name for name, method in DRIFT_METHODS.items() if kind in method.supports} == set(names)


@pytest.mark.parametrize("name", sorted(DRIFT_METHODS), ids=str)
def test_method_score_kind_equals_its_catalogue_entry(name):
    assert DRIFT_METHODS[name].score_kind is DRIFT_METHOD_SPECS[name].score_kind


def test_registry_agrees_with_catalogue():
    assert catalogue_mismatches(DRIFT_METHODS) == []


def test_catalogue_mismatches_names_a_missing_method_and_a_wrong_kind():
    psi = DRIFT_METHODS["psi"]
    wrong = {**DRIFT_METHODS, "psi": dataclasses.replace(psi, score_kind=ScoreKind.P_VALUE,
                                                         supports=frozenset({FeatureKind.NUMERIC}))}
    del wrong["ks"]
    assert catalogue_mismatches(wrong) == [
        "ks: in catalogue.DRIFT_METHOD_SPECS but not registered",
        "psi: score kind p_value here, distance in the catalogue",
        "psi: scores ['numeric'] here, ['categorical', 'numeric'] in the catalogue's lists",
    ]


@pytest.mark.parametrize("name", sorted(DRIFT_METHODS), ids=str)
def test_distances_have_a_statistic_to_calibrate_and_p_values_none(name):
    method = DRIFT_METHODS[name]
    assert (method.statistic is not None) is (method.score_kind is ScoreKind.DISTANCE)


@pytest.mark.parametrize("name", [n for n, m in DRIFT_METHODS.items() if m.resolution is Resolution.GRID], ids=str)
def test_grid_methods_are_numeric_only(name):
    assert DRIFT_METHODS[name].supports == {FeatureKind.NUMERIC}


@pytest.mark.parametrize("name", COUNT_DISTANCES, ids=str)
def test_count_distance_supports_both_feature_kinds(name):
    assert DRIFT_METHODS[name].supports == {FeatureKind.NUMERIC, FeatureKind.CATEGORICAL}


@pytest.mark.parametrize("name", [n for n in DRIFT_METHODS if n not in ("psi", "chi2")], ids=str)
@pytest.mark.parametrize("reference, window, side", [([800, 100, 100], [0, 0, 0], "window"),
                                                     ([0, 0, 0], [5, 3, 2], "reference")],
                         ids=["empty_window", "empty_reference"])
def test_distance_empty_side_raises_value_error_naming_it(name, reference, window, side):
    """PSI is left out: its pseudo-count defines it on an empty window."""
    with pytest.raises(ValueError, match=rf"{name}: the {side} has no rows"):
        score(DRIFT_METHODS[name], reference, window)


@pytest.mark.parametrize("name", sorted(DRIFT_METHODS), ids=str)
def test_identical_shares_are_not_drift(name):
    method = DRIFT_METHODS[name]
    result = score(method, [400, 300, 200, 100], [40, 30, 20, 10])
    if method.score_kind is ScoreKind.DISTANCE:  # PSI's pseudo-count leaves 1e-4 here: far inside the band
        assert result.value < 1e-3 < result.noise
    else:
        assert result.value == pytest.approx(0.0, abs=1e-12)
        assert result.p_value == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["psi", "jensen_shannon", "hellinger"], ids=str)
@settings(max_examples=60, deadline=None, database=None)
@given(data=st.data(), reference=st.lists(st.integers(1, 5000), min_size=2, max_size=10),
       t_small=st.floats(0, 1), t_large=st.floats(0, 1))
def test_distance_larger_shift_toward_target_is_not_smaller(name, data, reference, t_small, t_large):
    """The window moves along a straight line from the reference's counts (t=0) to another distribution's
    (t=1) with the same total. PSI, the JS divergence and squared Hellinger are convex along the line and 0 at
    t=0, so none of them decreases with t (L-infinity has its own, stronger test: it grows in proportion). JS and
    Hellinger are compared squared: near 0 their square roots turn a rounding error of 1e-16 into 1e-8."""
    value = getattr(importlib.import_module(f"include.monitoring.drift.{name}"), f"{name}_value")
    target = data.draw(st.lists(st.integers(0, 5000), min_size=len(reference), max_size=len(reference))
                       .filter(lambda c: sum(c) > 0))
    t_small, t_large = sorted((t_small, t_large))
    ref = np.asarray(reference, dtype="float64")
    tgt = np.asarray(target, dtype="float64") * ref.sum() / sum(target)

    def window(t):
        return list((1 - t) * ref + t * tgt)

    power = 1 if name == "psi" else 2  # the divergences themselves, not their square roots
    assert value(reference, window(t_small)) ** power <= value(reference, window(t_large)) ** power + 1e-12


# --- the count distances (hellinger, jensen_shannon, l_infinity): what each promises alike ---------------------------

PROPERTY = settings(max_examples=60, deadline=None, database=None)
counts_lists = st.lists(st.integers(min_value=0, max_value=5000), min_size=2, max_size=12).filter(lambda c: sum(c) > 0)


def value_of(name: str):
    """The method's `<name>_value` (one window) and `<name>_values` (the batch statistic its noise band resamples)."""
    module = importlib.import_module(f"include.monitoring.drift.{name}")
    return getattr(module, f"{name}_value"), getattr(module, f"{name}_values")


@pytest.mark.parametrize("name", COUNT_DISTANCES, ids=str)
@pytest.mark.parametrize("reference, window", [([50, 50], [50, 50]), ([1, 2, 3, 4], [2, 4, 6, 8]),
                                               ([0, 10, 0, 7], [0, 10, 0, 7]), ([2000] * 10, [20] * 10)],
                         ids=["even", "uneven_scaled", "zeros", "deciles_scaled"])
def test_count_distance_identical_shares_is_zero(name, reference, window):
    assert value_of(name)[0](reference, window) == 0.0


@pytest.mark.parametrize("name", COUNT_DISTANCES, ids=str)
@PROPERTY
@given(reference=counts_lists, scale=st.integers(1, 7))
def test_count_distance_identical_shares_property_is_zero(name, reference, scale):
    assert value_of(name)[0](reference, [c * scale for c in reference]) == 0.0


@pytest.mark.parametrize("name", COUNT_DISTANCES, ids=str)
@PROPERTY
@given(data=st.data(), reference=counts_lists)
def test_count_distance_any_counts_is_within_zero_one_and_symmetric(name, data, reference):
    value = value_of(name)[0]
    window = data.draw(st.lists(st.integers(0, 5000), min_size=len(reference), max_size=len(reference))
                       .filter(lambda c: sum(c) > 0))
    found = value(reference, window)
    assert 0.0 <= found <= 1.0
    assert value(window, reference) == pytest.approx(found, abs=1e-12)


@pytest.mark.parametrize("name", COUNT_DISTANCES, ids=str)
def test_count_distance_larger_windows_have_a_narrower_noise_band(name):
    reference = tuple([2000] * 10)
    bands = [noise_band(value_of(name)[1], reference, n, 0.999) for n in (50, 200, 1000)]
    assert bands[0] > bands[1] > bands[2]


@pytest.mark.parametrize("name", COUNT_DISTANCES, ids=str)
def test_count_distance_score_fields_match_parts(name):
    value, values = value_of(name)
    reference, window = [400, 300, 200, 100], [10, 20, 30, 40]
    found = DRIFT_METHODS[name].score(reference, window, 0.999)
    assert found.value == value(reference, window)
    assert found.n == 100
    assert found.noise == noise_band(values, tuple(reference), 100, 0.999)
    assert found.p_value is None
    assert found.details == {"bins": 4}
