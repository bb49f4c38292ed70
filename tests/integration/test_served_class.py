"""A binary model scored on the class it served: a window run through the pipeline against a SQLite warehouse whose
predictions table has warehouse.prediction_column writes the served class's accuracy (scikit-learn's
accuracy_score), not that of score >= performance.threshold; a table without the column is scored as before."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_END

pytestmark = pytest.mark.integration

SERVED_AT = 0.35  # the model's own cut-off; performance.threshold stays at its default 0.5


def _window(hours_before_end: int):
    from include.monitoring.types import Window

    end = DEMO_END - timedelta(hours=hours_before_end)
    return Window(end - timedelta(hours=1), end)


def _warehouse(tmp_path, has_column: bool):
    """Three days of 80 binary predictions an hour, every label in two hours later, and 5000 reference rows. The
    served class is "true"/"false" text from score >= SERVED_AT, with 3 % of the decisions overridden."""
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.config import load_monitor_config

    rng = np.random.default_rng(11)

    def rows(n, start, prefix):
        x = rng.normal(0, 1, n)
        label = (rng.random(n) < 1 / (1 + np.exp(-(2 * x - 1)))).astype(int)
        score = 1 / (1 + np.exp(-(2 * x - 1 + rng.normal(0, 0.8, n))))
        served = (score >= SERVED_AT) ^ (rng.random(n) < 0.03)
        frame = pd.DataFrame({"prediction_id": [f"{prefix}{i}" for i in range(n)], "x": x, "score": score,
                              "label": label, "ts": [start + timedelta(seconds=int(s))
                                                     for s in np.sort(rng.integers(0, 72 * 3600, n))]})
        if has_column:
            frame["predicted_class"] = np.where(served, "true", "false")
        return frame

    start = DEMO_END - timedelta(hours=72)
    log = rows(72 * 80, start.replace(tzinfo=None), "p")
    reference = rows(5000, (start - timedelta(days=10)).replace(tzinfo=None), "r")
    engine = engine_from_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    log.drop(columns=["label"]).to_sql("predictions", engine, index=False)
    pd.DataFrame({"prediction_id": log["prediction_id"], "label": log["label"],
                  "labeled_at": log["ts"] + timedelta(hours=2)}).to_sql("labels", engine, index=False)
    reference.to_sql("reference_rows", engine, index=False)
    monitor = tmp_path / "monitors" / "served_model.yaml"
    monitor.parent.mkdir()
    monitor.write_text("model: served_model\ntask: binary_classification\nfeatures: {numeric: [x]}\n"
                       "reference: {table: reference_rows, label_column: label}\n"
                       "performance: {metrics: [accuracy, precision, recall, f1, roc_auc], min_labels: 30}\n")
    return engine, load_monitor_config(monitor), log


def _rows(store: sa.Engine, kind: str, window) -> dict[str, dict]:
    start = f"{window.start:%Y-%m-%d %H:%M:%S}.000000"
    with store.connect() as conn:
        found = conn.execute(sa.text("select metric, value, details from metric_values where kind = :k and "
                                     "window_start = :w and slice_key = ''"), {"k": kind, "w": start})
        return {r.metric: {"value": r.value, "details": json.loads(r.details)} for r in found}


@pytest.mark.parametrize("has_column", [True, False], ids=["served_class_column", "no_served_class_column"])
def test_a_window_run_writes_the_accuracy_of_the_class_the_model_served(tmp_path, has_column):
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    from include.monitoring import pipeline, reference
    from include.monitoring.performance.estimation import calibrate, estimate_binary

    warehouse, config, log = _warehouse(tmp_path, has_column)
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    reference.ensure_reference(config, warehouse, store, now=DEMO_END)
    observation, _ = pipeline.run_window(config, warehouse, store, _window(0), now=DEMO_END)
    assert observation.status.value == "ok"

    scored = _window(10)
    frame = log[(log["ts"] >= scored.start.replace(tzinfo=None)) & (log["ts"] < scored.end.replace(tzinfo=None))]
    y, s = frame["label"].to_numpy(), frame["score"].to_numpy()
    at_threshold = (s >= 0.5).astype(int)
    classes = (frame["predicted_class"] == "true").to_numpy(dtype=int) if has_column else at_threshold
    rows = _rows(store, "performance", scored)
    assert rows["accuracy"]["value"] == pytest.approx(accuracy_score(y, classes), abs=1e-12)
    assert rows["f1"]["value"] == pytest.approx(f1_score(y, classes), abs=1e-12)
    assert rows["roc_auc"]["value"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert rows["accuracy"]["details"]["classified_by"] == ("served_class" if has_column else "threshold")
    assert "reference_note" not in rows["accuracy"]["details"]  # the reference classified its rows the same way
    if has_column:
        assert accuracy_score(y, classes) != pytest.approx(accuracy_score(y, at_threshold), abs=1e-3)

    _, profile = reference.load_reference(config, store)
    assert profile.classification["classified_by"] == ("served_class" if has_column else "threshold")
    window = _window(0)
    current = log[(log["ts"] >= window.start.replace(tzinfo=None)) & (log["ts"] < window.end.replace(tzinfo=None))]
    scores = current["score"].to_numpy()
    served = (current["predicted_class"] == "true").to_numpy(dtype="float64") if has_column else None
    expected = estimate_binary(calibrate(profile.score_calibration, scores), scores, 0.5, ("accuracy",),
                               served=served)
    estimated = _rows(store, "estimated_performance", window)
    assert estimated["accuracy"]["value"] == pytest.approx(expected["accuracy"], abs=1e-12)
