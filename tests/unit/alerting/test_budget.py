"""The false-page budget of one window: each family of tests that can page spends a share of the CRITICAL tier
(policy.BUDGET_SHARES), the performance metrics judged from the band alert at WARNING at most, and a window's
performance is judged at its first eligible look only."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from include.monitoring.alerting import policy
from include.monitoring.alerting.messages import describe
from include.monitoring.config import MonitorConfig, PerformanceConfig
from include.monitoring.performance.rescoring import alerting_rows, window_performance
from include.monitoring.profile_types import ReferenceProfile
from include.monitoring.types import MetricKind, Severity, Window

WINDOW = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, 1, tzinfo=UTC))


def test_the_shares_spend_the_whole_budget_once():
    assert sum(policy.BUDGET_SHARES.values()) == pytest.approx(1.0)
    assert max(policy.BUDGET_SHARES, key=policy.BUDGET_SHARES.get) == "drift"


def test_spending_divides_a_family_s_corrected_p_values_by_its_share():
    """Hand-worked: BH of (0.00002, 0.5) is (0.00004, 0.5); the whole window's drift holds half of the budget."""
    corrected = policy.correct_p_values([0.00002, 0.5], "benjamini_hochberg")
    assert corrected == pytest.approx([0.00004, 0.5])
    assert policy.spend(corrected, "drift") == pytest.approx([0.00008, 1.0])  # 0.5 / 0.5 = 1, capped
    assert policy.spend([0.00001], "drift_slices") == pytest.approx([0.0001])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.sampled_from(sorted(policy.BUDGET_SHARES)))
def test_spending_never_lowers_a_p_value_and_keeps_the_order(p_values, family):
    spent = policy.spend(p_values, family)
    assert all(s >= p and 0 <= s <= 1 for s, p in zip(spent, p_values, strict=True))
    assert np.argsort(spent, kind="stable").tolist() == np.argsort(
        np.minimum(np.asarray(p_values) / policy.BUDGET_SHARES[family], 1.0), kind="stable").tolist()


@pytest.mark.slow
def test_a_quiet_window_pages_with_at_most_the_tier_s_probability_across_the_families():
    """Independent uniform p-values (a quiet window: every test calibrated, each family its own count of tests):
    the chance that any family reaches the CRITICAL tier is at most the tier, within the simulation's error
    (Bonferroni across the shares; Benjamini-Hochberg is exact within a family under independence)."""
    rng = np.random.default_rng(16)
    sizes = {"drift": 27, "drift_slices": 60, "performance": 1, "performance_slices": 5}
    tier, trials = 0.01, 20_000  # a tier large enough to measure; the budget scales with it
    paged = 0
    for _ in range(trials):
        paged += any(min(policy.spend(policy.benjamini_hochberg(rng.random(m)), family)) <= tier
                     for family, m in sizes.items())
    upper = stats.beta.ppf(0.999, paged + 1, trials - paged)
    lower = stats.beta.ppf(0.001, paged, trials - paged + 1)
    assert lower <= tier  # spent as a whole: not far below either
    assert paged / trials <= tier * 1.1 and upper >= tier * 0.8, paged / trials


def _config(metrics: tuple[str, ...] = ("accuracy", "roc_auc")) -> MonitorConfig:
    config = MonitorConfig(model="m", performance=PerformanceConfig(metrics=metrics, min_labels=30, min_band_labels=30,
                                                                    min_class_labels=5))
    return dataclasses.replace(config, reference=dataclasses.replace(config.reference, label_column="label"))


REFERENCE = ReferenceProfile(  # 4000 labels, 80 % right; an AUC band of std 0.02 at every size
    model="m", rows=4000, columns={},
    baseline={"accuracy": 0.8, "roc_auc": 0.85},
    baseline_statistics={"n": 4000, "positives": 1200, "tp": 900, "fp": 300, "tn": 2300, "fn": 500},
    performance_bands={"sizes": [30, 100, 300], "mean": {"roc_auc": [0.85] * 3}, "std": {"roc_auc": [0.02] * 3}},
)


def _collapsed_window(n: int = 300) -> pd.DataFrame:
    """A window where the model has gone wrong: scores unrelated to the labels (AUC near 0.5, accuracy near 0.5)."""
    rng = np.random.default_rng(3)
    return pd.DataFrame({"id": range(n), "label": (rng.random(n) < 0.3).astype(int), "score": rng.random(n)})


def test_an_exact_test_pages_and_a_band_metric_warns_at_most_however_far_below_its_band():
    rows = {r.metric: r for r in window_performance(_config(), REFERENCE, WINDOW, _collapsed_window(), WINDOW.end)
            if not r.slice_key and r.kind is MetricKind.PERFORMANCE}
    accuracy, auc = rows["accuracy"], rows["roc_auc"]
    assert accuracy.details["test"] == "fisher_exact" and accuracy.severity is Severity.CRITICAL
    raw = stats.fisher_exact([[accuracy.details["successes"], accuracy.details["trials"] - accuracy.details["successes"]],
                              [3200, 800]], alternative="less").pvalue
    assert accuracy.p_value == pytest.approx(min(1.0, raw / policy.BUDGET_SHARES["performance"]))  # alone in its family
    assert accuracy.details["budget_share"] == policy.BUDGET_SHARES["performance"]
    assert "Fisher's exact test: p = " in describe("m", accuracy) and "a 0.2 share of the budget" in describe("m", accuracy)
    assert auc.details["test"] == "band" and auc.p_value < 1e-12  # 15 standard deviations below the band
    assert auc.severity is Severity.WARNING and auc.details["highest_severity"].startswith("WARNING")


def test_an_exact_test_at_the_tier_alone_no_longer_pages_once_its_share_is_spent():
    """A raw p-value of 5e-5 was CRITICAL when each family had the whole tier; its family's share makes it 2.5e-4."""
    frame = _collapsed_window()
    config = _config(metrics=("accuracy",))
    # The reference's counts chosen so that the window's one-sided Fisher p-value sits between 2e-5 and 1e-4.
    right = int(((frame["score"] >= 0.5) == (frame["label"] == 1)).sum())
    for reference_right in range(2000, 3500, 5):
        raw = stats.fisher_exact([[right, len(frame) - right], [reference_right, 4000 - reference_right]],
                                 alternative="less").pvalue
        if 2e-5 < raw < 1e-4:
            break
    else:
        pytest.fail("no reference count gives a p-value in range")
    tp, fn = reference_right - 2000, 500  # 2000 true negatives; the rest wrong, 500 of them missed positives
    reference = dataclasses.replace(REFERENCE, baseline={"accuracy": reference_right / 4000}, baseline_statistics={
        "n": 4000, "positives": tp + fn, "tp": tp, "tn": 2000, "fn": fn, "fp": 4000 - reference_right - fn})
    [accuracy] = [r for r in window_performance(config, reference, WINDOW, frame, WINDOW.end)
                  if r.metric == "accuracy" and not r.slice_key]
    assert accuracy.details["raw_p_value"] == pytest.approx(raw)
    assert accuracy.p_value == pytest.approx(raw / policy.BUDGET_SHARES["performance"])
    assert accuracy.severity is Severity.OK and accuracy.details["significant"] is False


def test_only_a_window_s_first_eligible_look_judges_an_alert():
    frame = _collapsed_window()
    first = window_performance(_config(), REFERENCE, WINDOW, frame, WINDOW.end)
    again = window_performance(_config(), REFERENCE, WINDOW, frame, WINDOW.end, looked_before=True)
    judged = alerting_rows(_config(), first)
    assert {r.metric for r in judged} == {"accuracy", "roc_auc"} and all(r.details["first_look"] for r in judged)
    assert alerting_rows(_config(), again) == []
    assert [r.severity for r in again if r.metric == "accuracy"] == [Severity.CRITICAL]  # still recorded as it is
    awaiting = frame.assign(label=frame["label"].where(np.arange(len(frame)) < 100))  # a third labelled
    assert not any(r.details.get("first_look") for r in window_performance(_config(), REFERENCE, WINDOW, awaiting,
                                                                            WINDOW.end))
