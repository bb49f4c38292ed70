"""Binary models scored on the class they served: the reference's baseline, a window's realized rows and its
estimate all classify by the served class (warehouse.prediction_column) when the table has it, and say so."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from include.monitoring.config import MonitorConfig, PerformanceConfig
from include.monitoring.performance.estimation import calibrate, estimate_binary
from include.monitoring.performance.rescoring import estimated_performance, window_performance
from include.monitoring.profile_types import ReferenceProfile
from include.monitoring.reference import fit_performance
from include.monitoring.types import Window

WINDOW = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, 1, tzinfo=UTC))
CONFUSION = ("accuracy", "precision", "recall", "f1")


def _config() -> MonitorConfig:
    config = MonitorConfig(model="m", performance=PerformanceConfig(metrics=(*CONFUSION, "roc_auc")))
    return dataclasses.replace(config, reference=dataclasses.replace(config.reference, label_column="label"))


def _rows(seed: int, n: int) -> pd.DataFrame:
    """Labels, scores that lean towards them, and the class a model cutting at 0.35 served (as "yes"/"no")."""
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.3).astype(int)
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * label - 1)))
    return pd.DataFrame({"label": label, "score": score, "served_as": np.where(score >= 0.35, "yes", "no")})


def _reference(config: MonitorConfig, frame: pd.DataFrame) -> ReferenceProfile:
    """The reference profile's performance sections fitted on `frame` (no feature columns: none are read here)."""
    return ReferenceProfile(model=config.model, rows=len(frame), columns={}, **fit_performance(config, frame))


def _sklearn(frame: pd.DataFrame, classes: np.ndarray) -> dict[str, float]:
    y = frame["label"].to_numpy()
    return {"accuracy": accuracy_score(y, classes), "precision": precision_score(y, classes),
            "recall": recall_score(y, classes), "f1": f1_score(y, classes),
            "roc_auc": roc_auc_score(y, frame["score"].to_numpy())}


def test_the_reference_baseline_is_of_the_served_class_when_its_table_has_the_column():
    frame = _rows(0, 4000)
    served = (frame["served_as"] == "yes").astype(int).to_numpy()
    reference = _reference(_config(), frame.rename(columns={"served_as": "predicted_class"}))
    assert reference.baseline == pytest.approx(_sklearn(frame, served), abs=1e-12)
    assert reference.classification["classified_by"] == "served_class"
    statistics = reference.baseline_statistics
    assert statistics["tp"] + statistics["fp"] == int(served.sum())
    without = _reference(_config(), frame.drop(columns=["served_as"]))
    at_threshold = (frame["score"] >= 0.5).astype(int).to_numpy()
    assert without.baseline == pytest.approx(_sklearn(frame, at_threshold), abs=1e-12)
    assert without.classification == {"classified_by": "threshold", "threshold": 0.5}
    assert reference.baseline["accuracy"] != pytest.approx(without.baseline["accuracy"], abs=1e-3)


def test_a_window_is_scored_on_the_served_class_and_its_confusion_rows_say_so():
    config = _config()
    reference = _reference(config, _rows(0, 4000).rename(columns={"served_as": "predicted_class"}))
    window = _rows(1, 600).rename(columns={"served_as": "predicted"})
    window.loc[:9, "predicted"] = None  # ten rows whose served class was not logged: score >= 0.5 decides
    rows = {r.metric: r for r in window_performance(config, reference, WINDOW, window, WINDOW.end) if not r.slice_key}
    classes = np.where(window["predicted"].isna(), window["score"] >= 0.5, window["predicted"] == "yes").astype(int)
    for name, value in _sklearn(window, classes).items():
        assert rows[name].value == pytest.approx(value, abs=1e-12), name
    for name in CONFUSION:
        assert rows[name].details["classified_by"] == "served_class", name
        assert rows[name].details["served_class_missing"] == 10 and "reference_note" not in rows[name].details
    assert "classified_by" not in rows["roc_auc"].details  # ranking metrics are of the scores
    assert rows["sufficient_statistics"].details["served_classes"] == 590


def test_a_reference_classified_by_the_threshold_is_flagged_when_the_window_has_served_classes():
    config = _config()
    reference = _reference(config, _rows(0, 4000).drop(columns=["served_as"]))
    window = _rows(1, 600).rename(columns={"served_as": "predicted"})
    rows = {r.metric: r for r in window_performance(config, reference, WINDOW, window, WINDOW.end) if not r.slice_key}
    assert rows["accuracy"].details["reference_classified_by"] == "threshold"
    assert "cli build-reference" in rows["accuracy"].details["reference_note"]


def test_the_estimate_uses_the_served_class_of_the_window():
    config = _config()
    reference = _reference(config, _rows(0, 4000).rename(columns={"served_as": "predicted_class"}))
    window = _rows(2, 600)
    scores, served = window["score"], window["served_as"]
    rows = {r.metric: r for r in estimated_performance(config, reference, scores, WINDOW, served)}
    probabilities = calibrate(reference.score_calibration, scores.to_numpy())
    classes = (served == "yes").to_numpy(dtype="float64")
    expected = estimate_binary(probabilities, scores.to_numpy(), 0.5, (*CONFUSION, "roc_auc"), served=classes)
    assert {name: row.value for name, row in rows.items()} == pytest.approx(expected, abs=1e-12)
    assert rows["accuracy"].details["classified_by"] == "served_class"
    at_threshold = {r.metric: r.value for r in estimated_performance(config, reference, scores, WINDOW)}
    assert at_threshold["accuracy"] != pytest.approx(rows["accuracy"].value, abs=1e-3)
    assert at_threshold["roc_auc"] == rows["roc_auc"].value


def test_an_empty_prediction_column_key_keeps_a_binary_model_on_the_threshold():
    """warehouse.prediction_column: "" opts out: the table's predicted_class column is not read."""
    config = _config()
    config = dataclasses.replace(config, warehouse=dataclasses.replace(config.warehouse, prediction_column=""))
    frame = _rows(0, 4000)
    reference = _reference(config, frame.rename(columns={"served_as": "predicted_class"}))
    assert reference.classification["classified_by"] == "threshold"
    assert reference.baseline == _reference(config, frame.drop(columns=["served_as"])).baseline
