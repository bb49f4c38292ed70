"""Delayed-label performance: re-scoring as labels arrive, its idempotency and cost, slices, estimates, and the
three task types, against scikit-learn."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from include.monitoring.types import RunStatus
from tests.conftest import DEMO_END, ROOT

pytestmark = pytest.mark.integration


def _config(**performance):
    from include.monitoring.config import load_monitor_config

    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    return dataclasses.replace(config, performance=dataclasses.replace(config.performance, **performance))


def _window(hours_before_end: int):
    from include.monitoring.types import Window

    end = DEMO_END - timedelta(hours=hours_before_end)
    return Window(end - timedelta(hours=1), end)


def _rows(engine: sa.Engine, query: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(query), params)]


@pytest.fixture(scope="module")
def reference_store(tmp_path_factory, demo_warehouse_path):
    from include.monitoring import reference
    from include.monitoring.airflow_adapters import engine_from_url

    path = tmp_path_factory.mktemp("reference") / "store.db"
    reference.ensure_reference(_config(), engine_from_url(f"sqlite:///{demo_warehouse_path}"),
                               sa.create_engine(f"sqlite:///{path}"), now=DEMO_END)
    return path


@pytest.fixture
def engines(tmp_path, demo_warehouse_path, reference_store):
    from include.monitoring.airflow_adapters import engine_from_url

    shutil.copyfile(reference_store, tmp_path / "store.db")
    return engine_from_url(f"sqlite:///{demo_warehouse_path}"), sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")


def _rescore(engines, hours_before_end: int, config=None):
    from include.monitoring import pipeline, reference

    warehouse, store = engines
    config = config or _config()
    _, profile = reference.load_reference(config, store)
    window = _window(hours_before_end)
    rows = pipeline.compute_performance(config, profile, warehouse, store, window)
    observation = pipeline.observe_window(config, "ref", profile, warehouse, window)
    pipeline.write_window(config, store, observation, rows, "test", window.end, window.end)
    return [r for r in rows if r.metric == "label_coverage"]


def test_every_window_of_the_horizon_is_scored_once_then_only_when_its_labels_change(engines):
    """First run: every window with predictions. Next hour: only the windows whose label count moved (labels
    arrive 20 to 44 h after the prediction). Same run again: nothing."""
    warehouse, store = engines
    first = _rescore(engines, 10)
    assert len(first) == 61  # the demo's 72 hours, less the 10 after this run's window and the empty hour
    again = _rescore(engines, 10)
    assert again == []  # idempotent and cheap: nothing changed
    following = _rescore(engines, 9)
    changed_ages = sorted(int((_window(9).end - r.window.end) / timedelta(hours=1)) for r in following)
    assert following and all(0 <= age <= 45 for age in changed_ages), changed_ages  # only windows still collecting labels
    assert len(following) < len(first) / 2
    stored = _rows(store, "select count(*) as n from metric_values where metric = 'label_coverage'")[0]["n"]
    assert stored == 61 + 1  # one row per window (and the next hour's): re-scoring replaced, never duplicated


def test_a_window_is_judged_once_at_the_run_whose_labels_first_make_it_eligible(engines):
    """Runs hour by hour while labels arrive: each window's rows are a first look (alert inputs) only in the run where
    its coverage first reaches performance.min_coverage; the later runs re-score it with more labels, recorded but
    judging no alert, since each look would be one more chance of a false page."""
    from include.monitoring import pipeline, reference
    from include.monitoring.types import MetricKind

    warehouse, store = engines
    config = _config()
    _, profile = reference.load_reference(config, store)
    looks: dict[datetime, list[tuple[float, bool]]] = {}
    for hours in range(44, 32, -1):
        window = _window(hours)
        rows = pipeline.compute_performance(config, profile, warehouse, store, window)
        judged = [r for r in pipeline.alert_inputs(config, rows) if r.kind is MetricKind.PERFORMANCE]
        assert all(r.details["first_look"] for r in judged)
        for row in rows:
            if row.metric == "label_coverage" and row.value is not None and row.value >= config.performance.min_coverage:
                looks.setdefault(row.window.start, []).append((row.value, row.details["first_look"]))
        pipeline.write_window(config, store, pipeline.Observation(window, RunStatus.OK, "", 0, 0, "ref"), rows, "test",
                              window.end, window.end)
    crossed = [flags for flags in looks.values() if len(flags) > 1]
    assert len(crossed) >= 2  # windows judged, then re-scored with more labels in the runs after
    for flags in looks.values():
        assert [first for _, first in flags] == [True] + [False] * (len(flags) - 1), flags
        assert [value for value, _ in flags] == sorted(value for value, _ in flags)  # more labels each time


def test_late_labels_update_an_old_window_with_the_coverage_and_cut_off_recorded(engines):
    warehouse, store = engines
    _rescore(engines, 30)
    _rescore(engines, 5)
    old = _window(60)
    [coverage] = _rows(store, "select value, details from metric_values where metric = 'label_coverage' "
                              "and window_start = :w", w=f"{old.start:%Y-%m-%d %H:%M:%S}.000000")
    details = json.loads(coverage["details"])
    assert details["labels_known_by"] == _window(5).end.isoformat()  # scored again by the later run
    assert coverage["value"] == pytest.approx(details["labelled"] / _rows(
        store, "select n from metric_values where metric = 'label_coverage' and window_start = :w",
        w=f"{old.start:%Y-%m-%d %H:%M:%S}.000000")[0]["n"])
    assert coverage["value"] > 0.8  # 60 h old: nearly every label has arrived


def test_an_older_run_never_overwrites_a_window_scored_with_later_labels(engines):
    """A backfill of an older hour after the live run: the windows the live run scored keep its figures."""
    warehouse, store = engines
    _rescore(engines, 2)
    query = "select window_start, value, details from metric_values where metric = 'label_coverage'"
    before = {r["window_start"]: (r["value"], r["details"]) for r in _rows(store, query)}
    _rescore(engines, 20)  # the backfill: labels known 18 h earlier
    after = {r["window_start"]: (r["value"], r["details"]) for r in _rows(store, query)}
    assert {k: v for k, v in after.items() if k in before} == before


def test_metrics_match_scikit_learn_and_slices_cover_the_window(engines):
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    from include.monitoring import warehouse as warehouse_sql

    warehouse, store = engines
    _rescore(engines, 1)
    window = _window(37)  # the afternoon peak, 36 hours before the run: most labels are in
    frame = warehouse_sql.fetch_labelled(warehouse, _config(), window, _window(1).end)
    labelled = frame[frame["label"].notna()]
    y, s = labelled["label"].to_numpy(dtype=int), labelled["score"].to_numpy(dtype=float)
    start = f"{window.start:%Y-%m-%d %H:%M:%S}.000000"
    rows = {(r["metric"], r["slice_key"], r["slice_value"]): r for r in _rows(
        store, "select * from metric_values where kind = 'performance' and window_start = :w", w=start)}
    assert rows[("roc_auc", "", "")]["value"] == pytest.approx(roc_auc_score(y, s), abs=1e-9)
    assert rows[("accuracy", "", "")]["value"] == pytest.approx(accuracy_score(y, s >= 0.5), abs=1e-9)
    assert rows[("f1", "", "")]["value"] == pytest.approx(f1_score(y, s >= 0.5), abs=1e-9)
    slices = {value for metric, key, value in rows if key == "employment_type" and metric == "sufficient_statistics"}
    assert slices == set(labelled["employment_type"].unique())
    counts = sum(rows[("sufficient_statistics", "employment_type", v)]["n"] for v in slices)
    assert counts == len(labelled)  # the slices partition the labelled rows
    statistics = json.loads(rows[("sufficient_statistics", "", "")]["details"])
    assert statistics["tp"] + statistics["fp"] + statistics["tn"] + statistics["fn"] == len(labelled)


def test_a_window_scored_from_its_labelled_rows_and_its_prediction_count_equals_one_scored_from_every_row(engines):
    """Re-scoring reads only the labelled rows and takes the prediction count from label_counts: same rows."""
    from include.monitoring import reference as reference_store
    from include.monitoring import warehouse as warehouse_sql
    from include.monitoring.performance.rescoring import window_performance

    warehouse, store = engines
    config = _config()
    _, profile = reference_store.load_reference(config, store)
    known_by = _window(1).end
    windows = [_window(37), _window(30)]
    for (window, every), (_, labelled) in zip(
            warehouse_sql.fetch_labelled_windows(warehouse, config, windows, known_by),
            warehouse_sql.fetch_labelled_windows(warehouse, config, windows, known_by, labelled_only=True), strict=True):
        assert 0 < len(labelled) < len(every) and labelled["label"].notna().all()
        assert (window_performance(config, profile, window, labelled, known_by, predictions=len(every))
                == window_performance(config, profile, window, every, known_by))


def test_alerts_wait_for_label_coverage():
    """A drop in a window with 30 % of its labels is recorded with severity OK and 'awaiting_labels'."""
    from include.monitoring.performance.rescoring import alerting_rows, window_performance

    config = _config(min_labels=10, metrics=("accuracy",))
    rng = np.random.default_rng(1)
    n = 400
    frame = pd.DataFrame({"id": range(n), "score": rng.random(n), "label": np.where(rng.random(n) < 0.3,
                                                                                    rng.integers(0, 2, n), np.nan)})
    from include.monitoring.profile_types import ReferenceProfile
    from include.monitoring.types import Window

    reference = ReferenceProfile(model=config.model, rows=0, columns={}, baseline={"accuracy": 0.95}, performance_bands={
        "sizes": [30, 100], "mean": {"accuracy": [0.95, 0.95]}, "std": {"accuracy": [0.04, 0.02]}})

    window = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, 1, tzinfo=UTC))
    rows = {r.metric: r for r in window_performance(config, reference, window, frame, window.end) if not r.slice_key}
    accuracy = rows["accuracy"]
    assert accuracy.value == pytest.approx(0.5, abs=0.1) and accuracy.severity.name == "OK"
    assert "awaiting_labels" in accuracy.details and accuracy.details["significant"] is True
    assert alerting_rows(config, [accuracy]) == []
    eligible = window_performance(_config(min_labels=10, metrics=("accuracy",), min_coverage=0.2), reference, window,
                                  frame, window.end)
    [judged] = [r for r in eligible if r.metric == "accuracy" and not r.slice_key]
    # This reference has no counts, so accuracy is judged from the band: WARNING at most, however far below it.
    assert judged.severity.name == "WARNING" and alerting_rows(config, [judged]) == [judged]


def _two_slice_frames(rng, window_rows: int, window_accuracy: float, window_positives: float):
    """A reference of two employment types (80 % right, 30 % positives) and a window whose self-employed rows are
    `window_accuracy` right with `window_positives` positives; salaried rows as in the reference."""
    def rows(n: int, accuracy: float, positives_share: float) -> pd.DataFrame:
        label = (rng.random(n) < positives_share).astype(int)
        right = rng.random(n) < accuracy
        score = np.where(right == (label == 1), 0.5 + rng.random(n) / 2, rng.random(n) / 2)
        return pd.DataFrame({"label": label, "score": score, "predicted_class": (score >= 0.5).astype(int),
                             "model_version": "v1"})

    reference = pd.concat([rows(8000, 0.8, 0.3).assign(employment_type="salaried"),
                           rows(2000, 0.8, 0.3).assign(employment_type="self_employed")], ignore_index=True)
    window = pd.concat([rows(400, 0.8, 0.3).assign(employment_type="salaried"),
                        rows(window_rows, window_accuracy, window_positives).assign(employment_type="self_employed")],
                       ignore_index=True)
    return reference, window.rename(columns={"predicted_class": "predicted"})


def _performance_reference(config, sections: dict):
    """A reference profile of only the performance sections (`fit_performance`'s): the tests below read no column."""
    from include.monitoring.profile_types import ReferenceProfile

    return ReferenceProfile(model=config.model, rows=10_000, columns={}, **sections)


def test_a_small_slice_is_judged_exactly_on_proportions_and_not_on_auc_from_few_positives():
    """A slice of 120 labels with 15 positives: its accuracy, precision and recall, proportions, are judged by
    Fisher's exact test against the same slice of the reference; its ROC AUC and F1, judged from the band, wait
    for min_class_labels of each class and are recorded with the reason instead of paging on noise."""
    from include.monitoring.performance.rescoring import window_performance
    from include.monitoring.reference import fit_performance
    from include.monitoring.types import Window

    config = _config(metrics=("accuracy", "precision", "recall", "roc_auc", "f1"))
    reference_frame, window_frame = _two_slice_frames(np.random.default_rng(5), 120, 0.4, 1 / 8)
    reference = _performance_reference(config, fit_performance(config, reference_frame))
    window = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, 1, tzinfo=UTC))
    judged = {(r.metric, r.slice_value): r for r in window_performance(config, reference, window, window_frame,
                                                                     window.end)}
    accuracy = judged["accuracy", "self_employed"]
    assert accuracy.details["test"] == "fisher_exact" and accuracy.severity.name == "CRITICAL"
    statistics = reference.slice_statistics["employment_type"]["self_employed"]
    assert accuracy.details["reference_trials"] == statistics["n"] == 2000
    assert accuracy.details["trials"] == 120 and accuracy.details["successes"] == round(accuracy.value * 120)
    assert judged["precision", "self_employed"].details["reference_trials"] == statistics["tp"] + statistics["fp"]
    assert judged["recall", "self_employed"].details["reference_trials"] == statistics["tp"] + statistics["fn"]
    positives = int(window_frame.label[400:].sum())
    for metric in ("roc_auc", "f1"):
        row = judged[metric, "self_employed"]
        assert row.value is not None and row.p_value is None and row.severity.name == "OK"
        assert row.details["not_judged"].startswith(f"{positives} positive and {120 - positives} negative labels")
    assert judged["roc_auc", "salaried"].details["test"] == "band"  # 120 positives: judged from the band
    assert judged["accuracy", "salaried"].severity.name == "OK"


def test_a_profile_without_counts_judges_proportions_from_the_band_and_says_so():
    """A reference profile stored before the exact test has no counts: accuracy falls back to the band, and the
    row says why; a window of fewer than min_band_labels labels is then not judged at all."""
    from include.monitoring.performance.rescoring import window_performance
    from include.monitoring.reference import fit_performance
    from include.monitoring.types import Window

    config = _config(metrics=("accuracy",))
    reference_frame, window_frame = _two_slice_frames(np.random.default_rng(6), 300, 0.5, 0.5)
    reference = _performance_reference(config, {key: value for key, value in fit_performance(config, reference_frame).items()
                                                if key not in ("baseline_statistics", "slice_statistics")})
    window = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, 1, tzinfo=UTC))
    judged = {r.slice_value: r for r in window_performance(config, reference, window, window_frame, window.end)
              if r.metric == "accuracy"}
    assert judged["self_employed"].details["test"] == "band" and "cli build-reference" in judged[
        "self_employed"].details["no_counts"]
    # 0.5 right against 0.8: beyond the band too, which warns at most (its tails are too light to page on)
    assert judged["self_employed"].severity.name == "WARNING"
    assert judged["self_employed"].details["highest_severity"].startswith("WARNING")


def test_estimates_are_judged_from_the_band_on_the_windows_scores():
    """Estimated performance has no labels, hence no counts and no classes: the band judges it at the window's
    row count, and a score distribution moved towards the threshold lowers the estimate below it."""
    from include.monitoring.performance.rescoring import estimated_performance
    from include.monitoring.reference import fit_performance
    from include.monitoring.types import Window

    config = _config(metrics=("accuracy", "roc_auc"))
    reference_frame, _ = _two_slice_frames(np.random.default_rng(7), 10, 0.8, 0.3)
    reference = _performance_reference(config, fit_performance(config, reference_frame))
    window = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, 1, tzinfo=UTC))
    scores = pd.Series(np.random.default_rng(8).uniform(0.4, 0.6, 2000))  # every score near the cut-off
    rows = {r.metric: r for r in estimated_performance(config, reference, scores, window)}
    assert set(rows) == {"accuracy", "roc_auc"}
    for row in rows.values():
        assert row.details["test"] == "band" and row.n == 2000 and "not_judged" not in row.details
    assert rows["accuracy"].value < reference.baseline["accuracy"] and rows["accuracy"].severity.name == "WARNING"


def _task_warehouse(tmp_path, task: str):
    """A small warehouse for a multiclass or regression model: 3 days of 60 predictions an hour, every label in."""
    from include.monitoring.airflow_adapters import engine_from_url

    rng = np.random.default_rng(3)

    def rows(n, start, prefix):
        x = rng.normal(0, 1, n)
        frame = pd.DataFrame({"prediction_id": [f"{prefix}{i}" for i in range(n)], "x": x,
                              "segment": rng.choice(["a", "b"], n),
                              "ts": [start + timedelta(seconds=int(s)) for s in np.sort(rng.integers(0, 72 * 3600, n))]})
        if task == "regression":
            frame["score"] = 2 * x + rng.normal(0, 0.5, n)
            frame["label"] = 2 * x + rng.normal(0, 1, n)
        else:
            classes = np.array(["low", "mid", "high"])
            truth = classes[np.digitize(x + rng.normal(0, 0.6, n), [-0.5, 0.5])]
            frame["predicted_class"] = classes[np.digitize(x, [-0.5, 0.5])]
            frame["score"] = rng.uniform(0.4, 1, n)
            frame["label"] = truth
        return frame

    start = DEMO_END - timedelta(hours=72)
    log = rows(72 * 60, start.replace(tzinfo=None), "p")
    reference = rows(5000, (start - timedelta(days=10)).replace(tzinfo=None), "r")
    labels = pd.DataFrame({"prediction_id": log["prediction_id"], "label": log["label"],
                           "labeled_at": log["ts"] + timedelta(hours=2)})
    engine = engine_from_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    log.drop(columns=["label"]).to_sql("predictions", engine, index=False)
    labels.to_sql("labels", engine, index=False)
    reference.to_sql("reference_rows", engine, index=False)
    monitor = tmp_path / "monitors" / f"{task}_model.yaml"
    monitor.parent.mkdir()
    metrics = "[accuracy, macro_f1, weighted_f1, recall_per_class]" if task != "regression" else \
        "[mae, rmse, mape, r2, mean_error, residual_p50]"
    monitor.write_text(f"model: {task}_model\ntask: {task}\nfeatures: {{numeric: [x], categorical: [segment]}}\n"
                       f"reference: {{table: reference_rows, label_column: label}}\n"
                       f"performance: {{metrics: {metrics}, min_labels: 30, slices: [segment]}}\n")
    from include.monitoring.config import load_monitor_config

    return engine, load_monitor_config(monitor), log, labels


@pytest.mark.parametrize("task", ["multiclass_classification", "regression"])
def test_multiclass_and_regression_windows_match_scikit_learn(tmp_path, task):
    from sklearn import metrics as sk

    from include.monitoring import pipeline, reference

    warehouse, config, log, labels = _task_warehouse(tmp_path, task)
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    reference.ensure_reference(config, warehouse, store, now=DEMO_END)
    window = _window(0)
    observation, _ = pipeline.run_window(config, warehouse, store, window, now=DEMO_END)
    assert observation.status.value == "ok"
    scored = _window(10)
    frame = log[(log["ts"] >= scored.start.replace(tzinfo=None)) & (log["ts"] < scored.end.replace(tzinfo=None))]
    start = f"{scored.start:%Y-%m-%d %H:%M:%S}.000000"
    rows = {(r["metric"], r["slice_value"]): r["value"] for r in _rows(
        store, "select * from metric_values where kind = 'performance' and window_start = :w", w=start)}
    assert rows[("label_coverage", "")] == 1.0
    if task == "regression":
        y, p = frame["label"].to_numpy(), frame["score"].to_numpy()
        expected = {"mae": sk.mean_absolute_error(y, p), "rmse": sk.root_mean_squared_error(y, p),
                    "mape": sk.mean_absolute_percentage_error(y, p), "r2": sk.r2_score(y, p),
                    "mean_error": float(np.mean(p - y)), "residual_p50": float(np.percentile(p - y, 50))}
    else:
        y, p = frame["label"].to_numpy(), frame["predicted_class"].to_numpy()
        recalls = sk.recall_score(y, p, average=None, labels=["high", "low", "mid"])
        expected = {"accuracy": sk.accuracy_score(y, p), "macro_f1": sk.f1_score(y, p, average="macro"),
                    "weighted_f1": sk.f1_score(y, p, average="weighted"),
                    **{f"recall[{c}]": r for c, r in zip(["high", "low", "mid"], recalls, strict=True)}}
    for name, value in expected.items():
        assert rows[(name, "")] == pytest.approx(value, abs=1e-9), name
    assert {value for (metric, value) in rows if metric == "sufficient_statistics"} == {"", "a", "b"}
    tests = {r["metric"]: json.loads(r["details"]).get("test") for r in _rows(
        store, "select * from metric_values where kind = 'performance' and window_start = :w and slice_key = ''",
        w=start) if r["metric"] in expected}
    # proportions get Fisher's exact test: multiclass accuracy and each class's recall; no regression metric
    exact = {"accuracy", "recall[high]", "recall[low]", "recall[mid]"} if task == "multiclass_classification" else set()
    assert {name for name, test in tests.items() if test == "fisher_exact"} == exact


def test_the_concept_change_pages_at_the_first_run_with_enough_labels(tmp_path):
    """The demo's concept change (self-employed customers default far more often from 66 h before the end; inputs
    and scores unchanged) moves realized performance only. It pages CRITICAL at the first run where the first
    window after the onset has min_coverage of its labels: with labels arriving 20 to 44 h after the prediction,
    about 34 h after the onset. No run before that pages on performance."""
    from include.monitoring import pipeline, reference
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.demo.generator import INCIDENTS_BY_NAME, build_frames, write_demo_warehouse
    from include.monitoring.types import Window

    end = datetime(2026, 11, 23, 4, tzinfo=UTC)
    warehouse = engine_from_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    write_demo_warehouse(warehouse, end=end, days=4, peak_rows=2000, seed=7)
    frames = build_frames(end, days=4, peak_rows=2000, seed=7)
    config = _config()
    reference.ensure_reference(config, warehouse, store, now=end)
    onset, _ = INCIDENTS_BY_NAME["concept_change"].window(end)
    first = Window(onset, onset + timedelta(hours=1))

    # By hand: the first run at which the first window after the onset is half labelled.
    predictions = frames["predictions"]
    ids = predictions.loc[(predictions["ts"] >= onset.replace(tzinfo=None))
                          & (predictions["ts"] < first.end.replace(tzinfo=None)), "prediction_id"]
    arrivals = frames["labels"].set_index("prediction_id").reindex(ids)["labeled_at"].dropna().sort_values()
    half = arrivals.iloc[int(np.ceil(config.performance.min_coverage * len(ids))) - 1]
    expected_hours = int(np.ceil((half.tz_localize(UTC) - onset) / timedelta(hours=1) + 1e-9))
    assert 30 < expected_hours < 40 and len(arrivals) >= config.performance.min_labels

    pages: dict[int, list] = {}
    for hours_after_onset in range(28, expected_hours + 2):
        run_end = onset + timedelta(hours=hours_after_onset)
        _, transitions = pipeline.run_window(config, warehouse, store, Window(run_end - timedelta(hours=1), run_end),
                                             now=run_end)
        pages[hours_after_onset] = [t for t in transitions
                                    if ":performance:" in t.alert_key and t.severity.name == "CRITICAL"]
    first_page = min(h for h, found in pages.items() if found)
    assert first_page == expected_hours
    keys = {t.alert_key for t in pages[first_page]}
    assert "credit_default:performance:accuracy::" in keys  # the whole window's accuracy
    # The slice that changed pages on its own accuracy, from a few dozen labels, by Fisher's exact test.
    [slice_page] = [t for t in pages[first_page] if t.alert_key.endswith(":accuracy::employment_type=self_employed")]
    assert "Fisher's exact test" in slice_page.message
    assert not any(key.endswith("employment_type=salaried") for key in keys)  # its neighbours did not change
    assert not any("model_version" in key for key in keys)  # all traffic is on v2: that slice is the window again
    for page in pages[first_page]:
        assert f"window {first}" in page.message
    drift = _rows(store, "select count(*) as n from alerts where column_name = 'employment_type' and rule like 'drift%'")
    assert drift[0]["n"] == 0  # the inputs did not move


def test_a_rollout_gets_performance_per_model_version(tmp_path, demo_frames, reference_store):
    """While two versions serve, each gets its own rows, equal to scikit-learn on its own predictions."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    from include.monitoring.airflow_adapters import engine_from_url

    predictions = demo_frames["predictions"].copy()
    predictions["model_version"] = np.where(np.arange(len(predictions)) % 2 == 0, "v1", "v2")
    warehouse = engine_from_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    for name, frame in {**demo_frames, "predictions": predictions}.items():
        frame.to_sql(name, warehouse, index=False)
    shutil.copyfile(reference_store, tmp_path / "store.db")
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    _rescore((warehouse, store), 1)
    window = _window(37)
    start = f"{window.start:%Y-%m-%d %H:%M:%S}.000000"
    rows = {(r["metric"], r["slice_value"]): r["value"] for r in _rows(
        store, "select * from metric_values where kind = 'performance' and slice_key = 'model_version' "
               "and window_start = :w", w=start)}
    labels = demo_frames["labels"].set_index("prediction_id")
    inside = predictions[(predictions["ts"] >= window.start.replace(tzinfo=None))
                         & (predictions["ts"] < window.end.replace(tzinfo=None))].join(labels, on="prediction_id")
    known = inside[inside["labeled_at"] < _window(1).end.replace(tzinfo=None)]
    for version in ("v1", "v2"):
        part = known[known["model_version"] == version]
        assert len(part) >= 100, version  # each version has enough labels to be scored
        assert rows[("roc_auc", version)] == pytest.approx(roc_auc_score(part["label"], part["score"]), abs=1e-9)
        assert rows[("accuracy", version)] == pytest.approx(accuracy_score(part["label"], part["score"] >= 0.5), abs=1e-9)


def test_drift_within_one_slice_is_caught_in_that_slice_only(tmp_path, demo_frames, reference_store):
    """Income tripled for self-employed customers only: that slice's income drifts (CRITICAL, against the
    self-employed reference rows), the other slices' income does not."""
    from include.monitoring import pipeline
    from include.monitoring.airflow_adapters import engine_from_url

    predictions = demo_frames["predictions"].copy()
    self_employed = predictions["employment_type"] == "self_employed"
    predictions.loc[self_employed, "income"] = predictions.loc[self_employed, "income"] * 3
    warehouse = engine_from_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    for name, frame in {**demo_frames, "predictions": predictions}.items():
        frame.to_sql(name, warehouse, index=False)
    shutil.copyfile(reference_store, tmp_path / "store.db")
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    def slice_rows(config):
        pipeline.run_window(config, warehouse, store, _window(37), now=DEMO_END)
        return {(r["slice_value"], r["column_name"]): r for r in _rows(
            store, "select * from metric_values where kind = 'drift' and slice_key = 'employment_type' "
                   "and metric <> 'drift_level'")}  # the method rows (each has its drift_level beside it)

    # By default a slice is tested from drift.min_slice_rows = 200 rows: of this 380-row hour, only salaried.
    assert {(value, r["n"] >= 200) for (value, _), r in slice_rows(_config()).items()} == {("salaried", True)}
    config = _config()
    rows = slice_rows(dataclasses.replace(config, drift=dataclasses.replace(config.drift, min_slice_rows=50)))
    assert rows[("self_employed", "income")]["severity"] == "CRITICAL"
    assert rows[("self_employed", "income")]["metric"] == "ks"
    assert rows[("salaried", "income")]["severity"] == "OK"
    # Every other feature is quiet in every slice, but utilization: the demo's gradual shift is under way.
    assert all(r["severity"] == "OK" for (value, column), r in rows.items() if column not in ("income", "utilization")), \
        [(k, r["p_value"]) for k, r in rows.items() if r["severity"] != "OK"]
    assert json.loads(rows[("salaried", "income")]["details"])["tests_in_slices"] == len(rows)
    levels = {(r["slice_value"], r["column_name"]): r["value"] for r in _rows(
        store, "select * from metric_values where slice_key = 'employment_type' and metric = 'drift_level'")}
    assert set(levels) == set(rows) and levels[("self_employed", "income")] >= 2 > levels[("salaried", "income")]


def test_label_coverage_warns_when_a_window_is_still_unlabelled_when_due(tmp_path, demo_warehouse_path):
    """Each run judges the window that closed labels.due_hours before its end (48 here: the test warehouse holds 3
    days): labelled as usual (labels arrive 20 to 44 h late, 5 % never) it passes; with its labels lost it is a
    WARNING naming that window and the counts."""
    from include.monitoring import warehouse
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.alerting.messages import describe
    from include.monitoring.performance.rescoring import due_coverage_row
    from include.monitoring.types import Severity

    config = _config()
    config = dataclasses.replace(config, labels=dataclasses.replace(config.labels, due_hours=48))
    due, run = _window(56), _window(8)  # run.end - 48 h == due.end
    horizon = type(run)(run.end - timedelta(days=config.labels.horizon_days), run.end)

    def coverage_row(engine):
        counts = warehouse.label_counts(engine, config, horizon, run.width, run.end)
        return due_coverage_row(config, counts, run)

    healthy = coverage_row(engine_from_url(f"sqlite:///{demo_warehouse_path}"))
    assert healthy.severity is Severity.OK and healthy.details["due_window"] == str(due)
    assert healthy.value == pytest.approx(0.95, abs=0.05) and healthy.n > 0

    shutil.copyfile(demo_warehouse_path, tmp_path / "warehouse.db")
    broken = engine_from_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    with broken.begin() as conn:
        conn.execute(sa.text("delete from labels where prediction_id in (select prediction_id from predictions "
                             "where ts >= :start and ts < :end)"),
                     {"start": due.start.replace(tzinfo=None), "end": due.end.replace(tzinfo=None)})
    row = coverage_row(broken)
    assert (row.severity, row.value, row.n, row.window) == (Severity.WARNING, 0.0, healthy.n, run)
    message = describe(config.model, row)
    assert "label_coverage of `label`" in message and f"0 of {healthy.n} predictions of window {due}" in message
    assert "48 h after it closed" in message and "expected more than 50% labelled" in message


def test_a_due_window_without_predictions_gives_way_to_the_newest_earlier_one(demo_warehouse_path):
    """The empty hour has no predictions to be labelled: the run judges the newest earlier window instead."""
    from include.monitoring import warehouse
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.performance.rescoring import due_coverage_row

    config = _config()
    run = _window(13 - 72)  # 72 h after the demo's empty hour, _window(13), closed: its run is past the data's end
    engine = engine_from_url(f"sqlite:///{demo_warehouse_path}")
    horizon = type(run)(run.end - timedelta(days=30), run.end)
    counts = warehouse.label_counts(engine, config, horizon, run.width, min(run.end, DEMO_END))
    row = due_coverage_row(config, counts, run)
    assert row.details["due_window"] == str(_window(14))


def _performance_rows(store: sa.Engine) -> list[dict]:
    return _rows(store, "select window_start, metric, slice_key, slice_value, value, n, severity, details "
                        "from metric_values where kind = 'performance' or metric = 'label_coverage' "
                        "order by window_start, metric, slice_key, slice_value")


def test_incremental_rescoring_stores_what_scanning_the_whole_horizon_stores(tmp_path, demo_warehouse_path,
                                                                             reference_store, monkeypatch):
    """Hour by hour for thirty hours and a backfill out of order: a run that counts only the windows of the labels that
    arrived since the previous cut-off (and its own, and the due day) stores exactly what a run counting every window
    of the 30-day horizon stores."""
    from include.monitoring import pipeline, reference
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.performance import rescoring

    warehouse = engine_from_url(f"sqlite:///{demo_warehouse_path}")
    config = _config()
    hours = [*range(40, 10, -1), 25]  # in order, then one window again out of order (a backfill)

    def run_all(store: sa.Engine) -> list[dict]:
        _, profile = reference.load_reference(config, store)
        for hours_before_end in hours:
            window = _window(hours_before_end)
            rows = pipeline.compute_performance(config, profile, warehouse, store, window)
            pipeline.write_window(config, store, pipeline.Observation(window, RunStatus.OK, "", 0, 0, "ref"), rows,
                                  "test", window.end, window.end)
        return _performance_rows(store)

    stores = {}
    for mode in ("incremental", "full"):
        shutil.copyfile(reference_store, tmp_path / f"{mode}.db")
        stores[mode] = sa.create_engine(f"sqlite:///{tmp_path / f'{mode}.db'}")
    incremental = run_all(stores["incremental"])
    monkeypatch.setattr(rescoring, "candidate_windows", lambda *args: None)
    full = run_all(stores["full"])
    assert len(incremental) > 300
    assert incremental == full


def test_an_unchanged_hour_counts_only_its_own_windows_and_a_backfill_counts_the_horizon(engines):
    from include.monitoring import store as metric_store
    from include.monitoring.performance import rescoring
    from include.monitoring.types import Window

    warehouse, store = engines
    config = _config()
    _rescore(engines, 10)
    window = _window(10)
    horizon = Window(window.end - timedelta(days=config.labels.horizon_days), window.end)
    scored = metric_store.scored_label_counts(store, config.model, horizon)
    again = rescoring.candidate_windows(config, warehouse, scored, window)  # the same hour again: no label arrived since
    due_end = window.end - timedelta(hours=config.labels.due_hours)
    assert again == [due_end - timedelta(hours=1)]  # only the due window, nothing re-scored
    following = rescoring.candidate_windows(config, warehouse, scored, _window(9))
    assert _window(9).start in following and len(following) < 1 + 46  # its own, the due window, the arrived labels'
    assert rescoring.candidate_windows(config, warehouse, scored, _window(20)) is None  # out of order: the horizon
    assert rescoring.candidate_windows(config, warehouse, {}, window) is None  # no cut-off yet: the horizon
