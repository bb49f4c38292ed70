"""Folding by cause (alerting/folding.py) and the lifecycle around it: children never page while their cause is
open, one incident gets one notification per window and route, folded alerts resolve with their cause, and alerts
no longer evaluated resolve after alerts.resolve_unseen_after runs."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from include.monitoring import store
from include.monitoring.alerting.folding import fold
from include.monitoring.alerting.lifecycle import apply_alerts
from include.monitoring.alerting.messages import alert_key
from include.monitoring.config import AlertsConfig, FeaturesConfig, MonitorConfig, Persistence
from include.monitoring.types import MetricKind, MetricRow, Severity, Window

MODEL = "credit_default"
START = datetime(2026, 11, 22, 18, tzinfo=UTC)
W, C, OK = Severity.WARNING, Severity.CRITICAL, Severity.OK


def _window(hour: int) -> Window:
    return Window(START + timedelta(hours=hour), START + timedelta(hours=hour + 1))


def quality(check: str, column: str, severity: Severity, hour: int = 0) -> MetricRow:
    return MetricRow(MetricKind.QUALITY, check, 0.0 if severity >= W else 1.0, _window(hour), column=column, n=238,
                     severity=severity, details={"expectation": check})


def drift(column: str, severity: Severity, hour: int = 0, n: int = 238, slice_: tuple[str, str] = ("", ""),
          skipped: str = "") -> MetricRow:
    p_value = {OK: 0.4, W: 1e-3, C: 1e-9}[severity]
    details = {"alert_rule": "feature_drift", "correction": "benjamini_hochberg", **({"skipped": skipped} if skipped else {})}
    return MetricRow(MetricKind.DRIFT, "ks", 0.99 if severity >= W else 0.05, _window(hour), column=column,
                     slice_key=slice_[0], slice_value=slice_[1], p_value=p_value, n=n, threshold_warning=0.005,
                     threshold_critical=1e-4, severity=severity, details=details)


def positive_share(severity: Severity, hour: int = 0) -> MetricRow:
    return MetricRow(MetricKind.DRIFT, "positive_share", 0.6, _window(hour), column="score", p_value=1e-6, n=238,
                     threshold_warning=0.005, threshold_critical=1e-4, severity=severity,
                     details={"reference": 0.2, "correction": "benjamini_hochberg"})


def zeroed_window(hour: int = 0) -> list[MetricRow]:
    """The demo's zeroed income and credit_limit hour, as the pipeline scores it."""
    return [
        quality("constant_column", "income", C, hour), quality("constant_column", "credit_limit", C, hour),
        quality("out_of_range", "income", W, hour), quality("out_of_range", "credit_limit", W, hour),
        drift("income", C, hour), drift("credit_limit", C, hour), drift("age", OK, hour),
        drift("income", C, hour, n=120, slice_=("employment_type", "salaried")),
        drift("credit_limit", C, hour, n=120, slice_=("employment_type", "salaried")),
        drift("income", C, hour, n=238, slice_=("model_version", "v1")),  # the only version: the whole window
        drift("score", C, hour), positive_share(W, hour),
    ]


def clean_window(hour: int) -> list[MetricRow]:
    return [quality("constant_column", "income", OK, hour), quality("constant_column", "credit_limit", OK, hour),
            quality("out_of_range", "income", OK, hour), quality("out_of_range", "credit_limit", OK, hour),
            drift("income", OK, hour), drift("credit_limit", OK, hour), drift("score", OK, hour),
            positive_share(OK, hour)]


def key(row: MetricRow) -> str:
    return alert_key(MODEL, row)


def _config(**alerts) -> MonitorConfig:
    return MonitorConfig(model=MODEL, features=FeaturesConfig(numeric=("income", "credit_limit", "age")),
                         alerts=dataclasses.replace(AlertsConfig(), persistence={"*": Persistence(warning=(1, 1))}, **alerts))


@pytest.fixture
def engine():
    engine = sa.create_engine("sqlite://")
    store.create_tables(engine)
    return engine


def _run(engine, config, rows, hour):
    with engine.begin() as conn:
        return apply_alerts(conn, config, rows, _window(hour).end + timedelta(minutes=5), run_window=_window(hour))


def _notifications(engine, since_id: int = 0) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(store.notifications).where(
            store.notifications.c.id > since_id).order_by(store.notifications.c.id))]


def _alerts(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r.alert_key: dict(r._mapping) for r in conn.execute(sa.select(store.alerts))}


# --- the rules ---------------------------------------------------------------------------------------------------


def test_the_zeroed_window_folds_into_the_two_constant_columns():
    rows = {key(row): row for row in zeroed_window()}
    folding = fold("score", rows)
    income, limit = key(quality("constant_column", "income", C)), key(quality("constant_column", "credit_limit", C))

    assert folding.parents[key(drift("income", C))] == income  # a feature's drift under its failed check
    assert folding.parents[key(quality("out_of_range", "income", W))] == income  # the column's other check too
    assert folding.parents[key(drift("credit_limit", C))] == limit
    salaried = key(drift("income", C, n=120, slice_=("employment_type", "salaried")))
    assert folding.ancestors(salaried) == [key(drift("income", C)), income]  # slice -> window -> cause
    assert folding.ancestors(key(drift("score", C)))[-1] == income  # outputs under the most drifted feature
    assert folding.ancestors(key(positive_share(W)))[-1] == income
    assert folding.whole_window_slices == {key(drift("income", C, n=238, slice_=("model_version", "v1")))}
    roots = {k for k, row in rows.items() if row.severity >= W and k not in folding.parents
             and k not in folding.whole_window_slices}
    assert roots == {income, limit}


def test_the_score_drift_is_a_root_when_no_feature_drifted():
    rows = {key(row): row for row in [drift("income", OK), drift("score", C), positive_share(W)]}

    assert fold("score", rows).parents == {}


def test_a_slice_alert_is_a_root_when_the_whole_window_is_clean():
    slice_row = drift("income", C, n=120, slice_=("employment_type", "salaried"))
    rows = {key(row): row for row in [drift("income", OK), slice_row]}

    assert fold("score", rows).parents == {}


# --- the lifecycle ---------------------------------------------------------------------------------------------


def test_one_incident_one_notification_per_route_naming_every_folded_alert(engine):
    config = _config()
    transitions = _run(engine, config, zeroed_window(), 0)
    sent = _notifications(engine)

    assert sorted((n["channel"], n["action"]) for n in sent) == [("log", "trigger"), ("pagerduty", "trigger"),
                                                                  ("slack", "trigger")]
    assert {n["alert_key"] for n in sent} == {key(quality("constant_column", "credit_limit", C))}  # the incident
    message = sent[0]["message"]
    assert message.startswith(f"[CRITICAL] {MODEL}: 2 findings, 8 more folded under them:")
    for folded in ("quality:out_of_range of `income`", "drift:feature_drift of `income` = 0.99",
                   "drift:feature_drift of `income` for employment_type=salaried", "drift:feature_drift of `score`",
                   "drift:positive_share of `score`", "drift:feature_drift of `credit_limit` for employment_type=salaried"):
        assert folded in message, folded
    assert "model_version=v1" not in message
    alerts = _alerts(engine)
    assert key(drift("income", C, n=238, slice_=("model_version", "v1"))) not in alerts  # no alert of its own
    assert {t.alert_key for t in transitions if not t.folded_under} == {
        key(quality("constant_column", "income", C)), key(quality("constant_column", "credit_limit", C))}
    assert alerts[key(drift("score", C))]["parent_key"] == key(quality("constant_column", "income", C))


def test_children_do_not_page_while_their_cause_is_open_and_resolve_with_it(engine):
    config = _config(remind_hours=0)
    _run(engine, config, zeroed_window(0), 0)
    first = len(_notifications(engine))
    # The next window: the constant columns persist, and the score's drift escalates on its own: still no page.
    again = [row for row in zeroed_window(1) if not (row.column == "score" and row.metric == "positive_share")]
    _run(engine, config, again, 1)
    assert _notifications(engine, since_id=first) == []
    _run(engine, config, clean_window(2), 2)
    _run(engine, config, clean_window(3), 3)

    resolved = _notifications(engine, since_id=first)
    assert sorted((n["channel"], n["action"]) for n in resolved) == [("log", "resolve"), ("slack", "resolve")]
    assert "open" not in {a["status"] for a in _alerts(engine).values()}  # (positive_share never persisted: watching)
    # PagerDuty's resolve waits for alerts.reopen_within_hours (24) without a reopen: the first run after it sends it.
    _run(engine, config, clean_window(26), 26)
    assert [n["channel"] for n in _notifications(engine, since_id=first + 2)] == []
    _run(engine, config, clean_window(27), 27)
    [late] = _notifications(engine, since_id=first + 2)
    assert (late["channel"], late["action"], late["alert_key"]) == ("pagerduty", "resolve", resolved[0]["alert_key"])


def test_a_new_cause_an_hour_later_is_a_new_page_and_escalations_stay_in_their_incident(engine):
    config = _config()
    _run(engine, config, [quality("constant_column", "income", W, 0)], 0)
    first = _notifications(engine)
    _run(engine, config, [quality("constant_column", "income", C, 1), quality("mostly_null", "age", C, 1)], 1)
    later = _notifications(engine, since_id=first[-1]["id"])

    income, age = key(quality("constant_column", "income", C)), key(quality("mostly_null", "age", C))
    assert {(n["action"], n["alert_key"]) for n in first} == {("trigger", income)}
    assert {(n["action"], n["alert_key"]) for n in later} == {("escalate", income), ("trigger", age)}


def test_the_scores_drift_stays_folded_while_the_feature_drift_is_open(engine):
    config = _config()
    _run(engine, config, [drift("income", C, 0), drift("score", OK, 0)], 0)
    before = len(_notifications(engine))
    _run(engine, config, [drift("income", OK, 1), drift("score", C, 1)], 1)  # the feature's own test passes here

    assert _notifications(engine, since_id=before) == []
    assert _alerts(engine)[key(drift("score", C))]["parent_key"] == key(drift("income", C))


def test_part_of_an_incident_resolving_updates_slack_but_not_pagerduty(engine):
    config = _config()
    _run(engine, config, [quality("constant_column", "income", C, 0), quality("mostly_null", "age", C, 0)], 0)
    before = len(_notifications(engine))
    for hour in (1, 2):
        _run(engine, config, [quality("constant_column", "income", C, hour), quality("mostly_null", "age", OK, hour)],
             hour)
    update = _notifications(engine, since_id=before)

    assert sorted((n["channel"], n["action"]) for n in update) == [("log", "update"), ("slack", "update")]
    assert "1 root alert(s) of this incident are still open" in update[0]["message"]


def test_an_alert_no_longer_evaluated_resolves_after_resolve_unseen_after_runs(engine):
    config = _config(resolve_unseen_after=3)
    night_slice = ("employment_type", "self_employed")
    _run(engine, config, [drift("income", OK, 0), drift("income", C, 0, n=80, slice_=night_slice)], 0)
    slice_key = key(drift("income", C, n=80, slice_=night_slice))
    assert _alerts(engine)[slice_key]["status"] == "open"
    before = len(_notifications(engine))
    # The slice is too small from now on: its row says skipped, which is neither clean nor a breach.
    for hour in (1, 2):
        _run(engine, config, [drift("income", OK, hour), drift("income", OK, hour, n=10, slice_=night_slice,
                                                                  skipped="fewer than min_slice_rows rows")], hour)
        assert _alerts(engine)[slice_key]["status"] == "open"
    _run(engine, config, [drift("income", OK, 3)], 3)

    alert = _alerts(engine)[slice_key]
    [log_resolve] = [n for n in _notifications(engine, since_id=before) if n["channel"] == "log"]
    assert alert["status"] == "resolved" and log_resolve["action"] == "resolve"
    assert "was not evaluated in the last 3 windows" in log_resolve["message"]
    assert json.loads(alert["history"]) == {_window(0).start.isoformat(): "CRITICAL"}  # skipped rows left no verdict


def test_an_old_window_run_late_resolves_nothing_as_unseen(engine):
    config = _config(resolve_unseen_after=2)
    _run(engine, config, [quality("constant_column", "income", C, 5)], 5)
    _run(engine, config, [drift("age", OK, 0)], 0)  # a backfill of an earlier hour

    assert _alerts(engine)[key(quality("constant_column", "income", C))]["status"] == "open"



def performance(metric: str, severity: Severity, slice_: tuple[str, str] = ("", ""), estimated: bool = False,
                hour: int = 0) -> MetricRow:
    kind = MetricKind.ESTIMATED_PERFORMANCE if estimated else MetricKind.PERFORMANCE
    return MetricRow(kind, metric, 0.5, _window(hour), slice_key=slice_[0], slice_value=slice_[1], n=80,
                     threshold_warning=0.02, threshold_critical=0.05, severity=severity, details={"baseline": 0.79})


def test_one_slices_drop_folds_its_metrics_under_the_headline_one_and_estimates_under_the_scores_drift():
    self_employed = ("employment_type", "self_employed")
    rows = {key(row): row for row in [
        performance("accuracy", C, self_employed), performance("f1", C, self_employed),
        performance("recall", W, self_employed), performance("accuracy", W, estimated=True),
        performance("f1", C), drift("score", C), drift("income", OK)]}
    folding = fold("score", rows, metrics=("roc_auc", "accuracy", "f1"))

    lead = key(performance("accuracy", C, self_employed))
    assert folding.parents[key(performance("f1", C, self_employed))] == lead  # same severity: the headline leads
    assert folding.parents[key(performance("recall", W, self_employed))] == lead
    assert folding.parents[key(performance("accuracy", W, estimated=True))] == key(drift("score", C))
    assert key(performance("f1", C)) not in folding.parents and lead not in folding.parents  # other slices: apart


def test_a_later_metric_of_an_open_slice_drop_is_folded_not_paged(engine):
    config = _config()
    self_employed = ("employment_type", "self_employed")
    _run(engine, config, [performance("accuracy", C, self_employed, hour=0)], 0)
    before = len(_notifications(engine))
    _run(engine, config, [performance("accuracy", OK, self_employed, hour=1),
                          performance("f1", C, self_employed, hour=1)], 1)

    assert _notifications(engine, since_id=before) == []
    assert _alerts(engine)[key(performance("f1", C, self_employed))]["parent_key"] == key(
        performance("accuracy", C, self_employed))


def test_a_flapping_alert_rejoins_its_quiet_incident_instead_of_paging_again(engine):
    config = _config()
    income = key(drift("income", C))
    for hour, severity in enumerate([C, OK, OK, OK, C]):  # open, resolved after two clean windows, back at 04:00
        _run(engine, config, [drift("income", severity, hour)], hour)
    sent = [(n["channel"], n["action"], n["alert_key"]) for n in _notifications(engine)]

    assert [s for s in sent if s[0] == "pagerduty"] == [("pagerduty", "trigger", income),
                                                       ("pagerduty", "escalate", income)]  # one PagerDuty alert
    assert [s[1] for s in sent if s[0] == "slack"] == ["trigger", "resolve", "escalate"]  # the return, in its thread


def test_a_new_alert_caused_by_a_quiet_incidents_alert_rejoins_it(engine):
    config = _config()
    _run(engine, config, [drift("income", C, 0), drift("score", OK, 0)], 0)
    for hour in (1, 2):
        _run(engine, config, [drift("income", OK, hour), drift("score", OK, hour)], hour)
    _run(engine, config, [drift("income", W, 3), drift("score", C, 3)], 3)  # income's drift breaches at WARNING only

    assert _alerts(engine)[key(drift("score", C))]["incident"] == key(drift("income", C))
    assert [n["action"] for n in _notifications(engine) if n["channel"] == "pagerduty"] == ["trigger", "escalate"]


def test_the_whole_windows_drop_after_its_slices_is_folded_under_the_slice(engine):
    config = _config()
    self_employed = ("employment_type", "self_employed")
    _run(engine, config, [performance("accuracy", C, self_employed, hour=0)], 0)
    before = len(_notifications(engine))
    _run(engine, config, [performance("accuracy", C, self_employed, hour=1), performance("accuracy", C, hour=1)], 1)

    assert _notifications(engine, since_id=before) == []
    assert _alerts(engine)[key(performance("accuracy", C))]["parent_key"] == key(
        performance("accuracy", C, self_employed))


def test_the_quiet_period_runs_on_run_time_for_rescored_performance(engine):
    """Performance rows are about windows labelled a day or more before the run: the alert's resolved_at is that
    old window, yet its incident is quiet from the run that resolved it."""
    config = _config()
    accuracy = key(performance("accuracy", C))

    def rescored(run_hour: int, severity: Severity) -> None:
        row = performance("accuracy", severity, hour=run_hour - 30)  # the window labelled 30 h before the run
        with engine.begin() as conn:
            apply_alerts(conn, config, [row], _window(run_hour).end, run_window=_window(run_hour))

    for run_hour, severity in ((40, C), (41, OK), (42, OK), (47, C)):
        rescored(run_hour, severity)

    assert [n["action"] for n in _notifications(engine) if n["channel"] == "pagerduty"] == ["trigger", "escalate"]
    assert _alerts(engine)[accuracy]["incident"] == accuracy


def test_another_metric_of_the_whole_window_folds_under_the_slices_open_drop():
    self_employed = ("employment_type", "self_employed")
    rows = {key(row): row for row in [performance("roc_auc", C), drift("income", C)]}
    open_slice = key(performance("accuracy", C, self_employed))
    folding = fold("score", rows, {open_slice}, ("roc_auc", "accuracy"))

    assert folding.parents == {key(performance("roc_auc", C)): open_slice}  # drift is no performance: apart


def test_a_folded_alert_above_its_causes_tier_escalates_the_incident_to_its_routes(engine):
    config = _config(warning=("log", "slack"))
    cause = key(quality("out_of_range", "income", W))
    _run(engine, config, [quality("out_of_range", "income", W, 0)], 0)  # WARNING: Slack, no page
    _run(engine, config, [quality("out_of_range", "income", W, 1), drift("income", C, 1)], 1)
    pagerduty = [(n["action"], n["alert_key"]) for n in _notifications(engine) if n["channel"] == "pagerduty"]

    assert pagerduty == [("escalate", cause)]  # the drift's CRITICAL reaches PagerDuty, in the incident
    assert _alerts(engine)[key(drift("income", C))]["parent_key"] == cause


def test_output_drift_without_feature_drift_folds_under_an_unexpected_model_version():
    rows = {key(row): row for row in [quality("unexpected_model_version", "model_version", W), drift("score", C),
                                      positive_share(C), drift("income", OK)]}
    rollout = key(quality("unexpected_model_version", "model_version", W))

    assert fold("score", rows).parents == {key(drift("score", C)): rollout, key(positive_share(C)): rollout}
