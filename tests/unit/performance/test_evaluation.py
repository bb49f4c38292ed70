"""The reference's band: how much a metric varies between undrifted windows of a given label count."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from include.monitoring.config import LabelsConfig
from include.monitoring.performance.evaluation import band_at, evaluate, fit_bands, labelled_rows

BAND = {"sizes": [100, 1000], "mean": {"accuracy": [0.80, 0.82]}, "std": {"accuracy": [0.04, 0.0125]}}


def test_band_at_interpolates_in_log_size_and_scales_beyond_the_ends():
    assert band_at(BAND, "accuracy", 100) == pytest.approx((0.80, 0.04))
    # halfway in log n between 100 and 1000 is sqrt(100 x 1000) = 316.2: the mean halfway, the std geometric
    mean, std = band_at(BAND, "accuracy", int(round(math.sqrt(1e5))))
    assert mean == pytest.approx(0.81, abs=1e-4) and std == pytest.approx(math.sqrt(0.04 * 0.0125), rel=1e-3)
    assert band_at(BAND, "accuracy", 25) == pytest.approx((0.80, 0.08))  # 4 x fewer labels: twice the spread
    assert band_at(BAND, "accuracy", 4000) == pytest.approx((0.82, 0.00625))


def test_no_band_for_unknown_metrics_empty_windows_or_old_profiles():
    assert band_at(BAND, "f1", 100) is None
    assert band_at(BAND, "accuracy", 0) is None
    assert band_at(None, "accuracy", 100) is None and band_at({}, "accuracy", 100) is None


def test_fitted_accuracy_band_matches_the_binomial_spread():
    """Accuracy over n rows drawn without replacement from N: std = sqrt(p (1 - p) / n x (N - n) / (N - 1))."""
    rng = np.random.default_rng(4)
    n_rows = 20_000
    labels = rng.integers(0, 2, n_rows)
    scores = np.where(rng.random(n_rows) < 0.8, labels, 1 - labels) * 0.6 + 0.2  # 80 % right at threshold 0.5
    rows = pd.DataFrame({"label": labels, "score": scores})
    band = fit_bands("binary_classification", rows, 0.5, ("accuracy",), rng)
    assert band["sizes"] == [30, 100, 300, 1000, 3000, 10000]
    p = evaluate("binary_classification", rows, 0.5, ("accuracy",))["accuracy"]
    for size, mean, std in zip(band["sizes"], band["mean"]["accuracy"], band["std"]["accuracy"], strict=True):
        expected = math.sqrt(p * (1 - p) / size * (n_rows - size) / (n_rows - 1))
        assert mean == pytest.approx(p, abs=3 * expected / math.sqrt(100) + 1e-3)
        assert std == pytest.approx(expected, rel=0.25), size  # 100 repeats: the std itself is known to about 7 %


def test_bands_skip_sizes_the_reference_cannot_fill_and_labelled_rows_drop_unusable_ones():
    rows = pd.DataFrame({"label": [1, 0, None, 1] * 50, "score": [0.9, 0.1, 0.5, float("nan")] * 50})
    usable = labelled_rows("binary_classification", rows, LabelsConfig())
    assert len(usable) == 100  # no label, or a score that is not a number, cannot be scored
    band = fit_bands("binary_classification", usable, 0.5, ("accuracy",), np.random.default_rng(0))
    assert band["sizes"] == [30]  # at most half the reference: windows must differ from it


def test_each_slice_value_gets_a_band_of_its_own_spread_and_unknown_slices_fall_back_to_the_whole_band():
    """Two segments, one right 95 % of the time and one 60 %: at 100 labels their accuracy spreads differ by a factor
    of about 2.2 (binomial), so judging both against the whole reference's band would over-alert on the noisy one."""
    import dataclasses

    from include.monitoring.config import FeaturesConfig, MonitorConfig, PerformanceConfig
    from include.monitoring.performance.rescoring import _band
    from include.monitoring.reference import fit_performance

    rng = np.random.default_rng(5)
    n_rows = 8000
    segment = np.where(rng.random(n_rows) < 0.5, "steady", "noisy")
    labels = rng.integers(0, 2, n_rows)
    right = rng.random(n_rows) < np.where(segment == "steady", 0.95, 0.6)
    scores = np.where(right, labels, 1 - labels) * 0.6 + 0.2
    frame = pd.DataFrame({"label": labels, "score": scores, "predicted_class": (scores >= 0.5).astype(int),
                          "segment": segment})
    config = MonitorConfig(model="m", features=FeaturesConfig(categorical=("segment",)),
                           performance=PerformanceConfig(metrics=("accuracy",), slices=("segment",), estimate=False))
    config = dataclasses.replace(config, reference=dataclasses.replace(config.reference, label_column="label"))
    reference = fit_performance(config, frame)
    for value in ("steady", "noisy"):
        part = frame[frame["segment"] == value]
        p = float((part["predicted_class"] == part["label"]).mean())
        size = len(part)
        expected = math.sqrt(p * (1 - p) / 100 * (size - 100) / (size - 1))
        _, std = band_at(_band(reference, "segment", value), "accuracy", 100)
        assert std == pytest.approx(expected, rel=0.25), value
    steady = band_at(_band(reference, "segment", "steady"), "accuracy", 100)[1]
    noisy = band_at(_band(reference, "segment", "noisy"), "accuracy", 100)[1]
    assert noisy > 1.8 * steady
    assert _band(reference, "segment", "never_seen") is reference["performance_bands"]
    assert _band(reference, "", "") is reference["performance_bands"]
