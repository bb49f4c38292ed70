"""The reference's band: how much a metric varies between undrifted windows of a given label count."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from include.monitoring.config import LabelsConfig
from include.monitoring.performance.evaluation import (
    band_at,
    classification,
    evaluate,
    fit_bands,
    labelled_rows,
    served_classes,
    sufficient_statistics,
)

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
    from include.monitoring.profile_types import ReferenceProfile
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
    reference = ReferenceProfile(model="m", rows=n_rows, columns={}, **fit_performance(config, frame))
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
    assert _band(reference, "segment", "never_seen") is reference.performance_bands
    assert _band(reference, "", "") is reference.performance_bands


# --- binary: the class the model served -------------------------------------------------------------------------------

NAMED = LabelsConfig(positive_label="default", negative_label="repaid")


def _served_rows() -> pd.DataFrame:
    """Eight labelled rows whose served class is written every way a table may hold it (1/0, true/false, yes/no,
    the labels' class names), one null and one unreadable ("maybe"), and two rows that cannot be scored."""
    return pd.DataFrame({
        "label": [1, 1, 1, 0, 0, 0, 1, 1, None, 1],
        "score": [0.9, 0.45, 0.3, 0.55, 0.2, 0.7, 0.6, 0.4, 0.8, float("nan")],
        "predicted": ["1", "true", "repaid", "yes", False, "default", None, "maybe", "1", "1"]})


def test_labelled_rows_read_served_classes_as_labels_and_count_the_unreadable():
    usable = labelled_rows("binary_classification", _served_rows(), NAMED)
    assert len(usable) == 8
    assert usable["served"].tolist()[:6] == [1.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    assert usable["served"].iloc[6:].isna().all()
    assert classification(usable, 0.5) == {"classified_by": "served_class", "served_classes": 6,
                                           "served_class_missing": 1, "served_class_unreadable": 1, "threshold": 0.5}


def test_evaluate_binary_uses_the_served_class_and_the_threshold_only_where_it_is_missing():
    """Rows 6 (null) and 7 ("maybe") fall back to score >= 0.5: 0.6 -> 1, 0.4 -> 0. scikit-learn on the resulting
    classes; ROC AUC of the scores. At the threshold alone accuracy would be 3/8, not 4/8."""
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    usable = labelled_rows("binary_classification", _served_rows(), NAMED)
    truth, scores = usable["label"].astype(int).to_numpy(), usable["score"].to_numpy()
    classes = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    names = ("accuracy", "precision", "recall", "f1", "roc_auc")
    expected = {"accuracy": accuracy_score(truth, classes), "precision": precision_score(truth, classes),
                "recall": recall_score(truth, classes), "f1": f1_score(truth, classes),
                "roc_auc": roc_auc_score(truth, scores)}
    assert evaluate("binary_classification", usable, 0.5, names) == pytest.approx(expected, abs=1e-12)
    assert expected["accuracy"] == 4 / 8
    statistics = sufficient_statistics("binary_classification", usable, 0.5)
    assert (statistics["tp"], statistics["fp"], statistics["tn"], statistics["fn"]) == (3, 2, 1, 2)
    without = usable.drop(columns=["predicted", "served"])
    assert evaluate("binary_classification", without, 0.5, ("accuracy",))["accuracy"] == 3 / 8


def test_a_table_without_the_column_or_with_it_never_filled_scores_at_the_threshold_as_before():
    rows = _served_rows().drop(columns=["predicted"])
    usable = labelled_rows("binary_classification", rows, NAMED)
    assert "served" not in usable.columns
    assert classification(usable, 0.5) == {"classified_by": "threshold", "threshold": 0.5}
    empty = labelled_rows("binary_classification", rows.assign(predicted=None), NAMED)
    assert classification(empty, 0.5) == {"classified_by": "threshold", "served_classes": 0, "served_class_missing": 8,
                                          "served_class_unreadable": 0, "threshold": 0.5}
    names = ("accuracy", "precision", "recall", "f1", "roc_auc")
    assert evaluate("binary_classification", empty, 0.5, names) == evaluate("binary_classification", usable, 0.5, names)
    assert (sufficient_statistics("binary_classification", empty, 0.5)
            == sufficient_statistics("binary_classification", usable, 0.5))


def test_the_band_draws_served_classes_with_their_rows():
    """Served classes that are always right: accuracy 1 in every drawn window (no spread); at the threshold the
    same rows are 80 % right."""
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, 2000)
    scores = np.where(rng.random(2000) < 0.8, labels, 1 - labels) * 0.6 + 0.2
    rows = labelled_rows("binary_classification", pd.DataFrame({"label": labels, "score": scores, "predicted": labels}),
                         LabelsConfig())
    band = fit_bands("binary_classification", rows, 0.5, ("accuracy",), np.random.default_rng(0))
    assert band["mean"]["accuracy"] == [1.0] * len(band["sizes"]) and set(band["std"]["accuracy"]) == {0.0}
    at_threshold = fit_bands("binary_classification", rows.drop(columns=["served"]), 0.5, ("accuracy",),
                             np.random.default_rng(0))
    assert at_threshold["mean"]["accuracy"][0] == pytest.approx(0.8, abs=0.05)


def test_served_classes_parsed_once_per_distinct_value_read_as_labels_are():
    from include.monitoring.performance.labels import parse_labels

    raw = pd.Series(["1", "true", "repaid", "yes", False, "default", None, "maybe", True, 1, 0.0, float("nan"), 2,
                     "No", " yes "], index=range(10, 25), dtype=object)
    served = served_classes(raw, NAMED)
    assert served.equals(parse_labels("binary_classification", raw, NAMED))
    assert served.tolist()[:6] == [1.0, 1.0, 0.0, 1.0, 0.0, 1.0] and served.iloc[[6, 7, 11, 12]].isna().all()
