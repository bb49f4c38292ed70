"""One function per DAG task. The DAG file only reads the data interval and calls these.

Each takes the monitor config and the window, resolves its connections through `airflow_adapters`,
calls the pipeline and returns a small JSON-safe value for XCom (never a DataFrame): the records a window
produces go through the store (`staging`), and XCom carries their key and a readable summary. Each task logs a
few lines saying what it did.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from include.monitoring import findings, pipeline, reference, staging, store
from include.monitoring.airflow_adapters import engine_for, notifiers_for, variable_silences, warehouse_engine_for
from include.monitoring.alerting.delivery import DeliveryContext, deliver_rows, pending_rows
from include.monitoring.config import MonitorConfig
from include.monitoring.errors import MonitoringError, WindowNotMonitoredError
from include.monitoring.observation import Observation
from include.monitoring.types import MetricRow, Severity, Window

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def load_reference(config: MonitorConfig, window: Window) -> str:
    """The id of the stored reference profile `window` is compared with (the table reference, fitted from the
    reference rows the first time only, or the rolling or seasonal one built from it). The run's other tasks read
    that profile by this id, so every step of one run uses the same reference."""
    store_engine = engine_for(config.store_conn_id)
    reference.ensure_reference(config, warehouse_engine_for(config.warehouse.conn_id), store_engine, now=_now())
    return reference.reference_id(config, store_engine, window.start)


def observe_window(config: MonitorConfig, window: Window, dag_run_id: str, reference_id: str) -> dict[str, Any]:
    """The window's observation (rows read once, validated, profiled) and its drift against the reference.

    Drift needs nothing but the observation and the reference profile, both in memory here: as a task of its own
    it cost a task process, a hop of the scheduler and a store round trip of the observation, several times the
    ~40 ms the drift computation takes (bench/dag_overhead.py). The returned reference points at the observation;
    its "drift" entry at the drift rows."""
    store_engine = engine_for(config.store_conn_id)
    profile = reference.load_profile(store_engine, reference_id)
    observation = pipeline.observe_window(config, reference_id, profile, warehouse_engine_for(config.warehouse.conn_id),
                                          window, store_engine)
    failed = [f"{v.check_name}({v.column_name})" if v.column_name else v.check_name
              for v in observation.validations if not v.success]
    log.info("%s %s: %s, %d rows read, %d sampled%s", config.model, window, observation.status.value,
             observation.row_count, observation.sampled_rows, f" ({observation.reason})" if observation.reason else "")
    log.info("data checks: %d run, %d failed%s", len(observation.validations), len(failed),
             f": {', '.join(failed)}" if failed else "")
    rows = pipeline.compute_drift(config, profile, observation, store.SliceCalibrations(store_engine))
    flagged = _flagged(rows)
    log.info("drift: %d values over %d columns, %d at WARNING or above%s", len(rows),
             len({r.column for r in rows}), len(flagged), f": {_labels(flagged)}" if flagged else "")
    summary = {"status": observation.status.value, "rows": observation.row_count,
               "sampled": observation.sampled_rows, "checks_failed": len(failed)}
    staged = staging.put(store_engine, config.model, dag_run_id, "observation", observation.to_record(), summary, _now())
    staged["drift"] = staging.put(store_engine, config.model, dag_run_id, "drift", [row.to_record() for row in rows],
                                  {"rows": len(rows), "flagged": len(flagged)}, _now())
    return staged


def compute_performance(config: MonitorConfig, window: Window, dag_run_id: str, reference_id: str) -> dict[str, Any]:
    profile = reference.load_profile(engine_for(config.store_conn_id), reference_id)
    rows = pipeline.compute_performance(config, profile, warehouse_engine_for(config.warehouse.conn_id),
                                        engine_for(config.store_conn_id), window)
    for line in _performance_lines(rows):
        log.info("%s", line)
    windows = len({r.window.start for r in rows})
    flagged = _flagged(rows)
    log.info("performance: %d values over %d window(s), %d at WARNING or above%s", len(rows), windows, len(flagged),
             f": {_labels(flagged)}" if flagged else "")
    return staging.put(engine_for(config.store_conn_id), config.model, dag_run_id, "performance",
                       [row.to_record() for row in rows], {"rows": len(rows), "windows": windows, "flagged": len(flagged)},
                       _now())


def _flagged(rows: list[MetricRow]) -> list[MetricRow]:
    return sorted((r for r in rows if r.severity >= Severity.WARNING), key=lambda r: -r.severity)


def _labels(rows: list[MetricRow], shown: int = 12) -> str:
    """`income psi=0.83 CRITICAL, ...`: the worst rows first, the rest counted."""
    labels = [f"{r.column or r.kind.value}{' ' + r.slice_key + '=' + r.slice_value if r.slice_key else ''} "
              f"{r.metric}={_number(r.value)} {r.severity.name}" for r in rows[:shown]]
    return ", ".join(labels) + (f", +{len(rows) - shown} more" if len(rows) > shown else "")


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


PERFORMANCE_BOOKKEEPING = ("label_coverage", "sufficient_statistics")


def _performance_lines(rows: list[MetricRow]) -> list[str]:
    """One line per whole-population performance metric: how many windows it was computed for and its latest
    value with that window's label coverage (the re-scored windows are many; their rows are in the store)."""
    coverage = {r.window.start: r.value for r in rows if r.metric == "label_coverage" and not r.slice_key}
    by_metric: dict[tuple[str, str], list[MetricRow]] = {}
    for row in rows:
        if row.kind.value == "performance" and not row.slice_key and row.metric not in PERFORMANCE_BOOKKEEPING:
            by_metric.setdefault((row.metric, row.column), []).append(row)
    lines = []
    for (metric, column), group in sorted(by_metric.items()):
        valued = [r for r in group if r.value is not None]
        name = f"{metric} of {column}" if column else metric
        if not valued:
            lines.append(f"performance {name}: {len(group)} window(s), no value yet (too few labels)")
            continue
        latest = max(valued, key=lambda r: r.window.start)
        share = coverage.get(latest.window.start)
        lines.append(f"performance {name}: {len(group)} window(s), latest {latest.window.start:%Y-%m-%d %H:%M} = "
                     f"{_number(latest.value)} (n={latest.n}, label coverage "
                     f"{'n/a' if share is None else f'{share:.0%}'})")
    return lines


def write_metrics(config: MonitorConfig, observation: dict[str, Any], performance: dict[str, Any], dag_run_id: str,
                  started_at: datetime, backfill: bool = False) -> dict[str, Any]:
    """`observation` is what observe_window returned (the observation and, under "drift", its drift rows)."""
    store_engine = engine_for(config.store_conn_id)
    rows = [MetricRow.from_record(r) for r in (*staging.get(store_engine, observation["drift"]),
                                               *staging.get(store_engine, performance))]
    obs = Observation.from_record(staging.get(store_engine, observation))
    transitions = pipeline.write_window(config, store_engine, obs, rows, dag_run_id,
                                        started_at, now=_now(), backfill=backfill, silences=variable_silences(config))
    staging.discard_run(store_engine, config.model, dag_run_id, _now())
    for t in transitions:
        folded = f" (folded under {t.folded_under})" if t.folded_under else ""
        log.info("alert %s: %s%s%s", t.action, t.message, folded, f" ({t.suppressed})" if t.suppressed else "")
    actions = {action: sum(t.action == action for t in transitions) for action in ("trigger", "escalate", "resolve")}
    log.info("wrote %d metric values for %s; alerts opened %d, escalated %d, resolved %d (%d of them folded under "
             "their cause)", len(obs.metrics) + len(rows), obs.window, actions["trigger"], actions["escalate"],
             actions["resolve"], sum(bool(t.folded_under) for t in transitions))
    return {"status": obs.status.value, "metrics": len(obs.metrics) + len(rows), "transitions": len(transitions)}


def record_failure(config: MonitorConfig, window: Window, task_id: str, error: BaseException | None,
                   dag_run_id: str) -> None:
    """The failure callback's work: the window's status and a CRITICAL alert that the next delivery sends."""
    reason = f"task {task_id} failed: {type(error).__name__ if error else 'error'}: {error}"
    transitions = pipeline.record_failure(config, engine_for(config.store_conn_id), window, reason, dag_run_id,
                                          now=_now())
    for t in transitions:
        log.error("alert %s: %s", t.action, t.message)


def deliver(config: MonitorConfig, run_url: str = "") -> dict[str, Any]:
    """Send the model's pending notifications; a failed one stays pending and fails the task visibly. The channels
    are built (each resolving its Airflow connection: a call to the API server in a task) only when a notification
    is pending, which most runs have none of."""
    engine = engine_for(config.store_conn_id)
    rows = pending_rows(engine, config.model)
    notifiers, missing = notifiers_for(config) if rows else ({}, {})
    report = deliver_rows(engine, rows, DeliveryContext(notifiers, missing, _now(), run_url, config.alerts.runbook_url))
    if report.failures:
        raise MonitoringError(f"{config.model}: {len(report.failures)} notification(s) failed and stay pending: "
                              + "; ".join(report.failures))
    log.info("notifications: %d sent, %d skipped%s", report.sent, report.skipped,
             "".join(f"; {channel}: {_counts(c)}" for channel, c in sorted(report.by_channel.items())))
    return {"sent": report.sent, "skipped": report.skipped}


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def send_notifications(config: MonitorConfig, window: Window, run_id: str, run_url: str = "") -> dict[str, Any]:
    """The DAG's last task. It runs even when an upstream task failed, to deliver that failure's alert, and then
    raises `WindowNotMonitoredError`, so that the DAG run is marked failed rather than green. Before that it puts
    the window's findings, read from the store, on the run (`note_findings`)."""
    engine = engine_for(config.store_conn_id)
    try:
        result = deliver(config, run_url)
    finally:
        note_findings(config, window, run_id, engine)
    failure = store.failed_run_reason(engine, config.model, window, run_id)
    if failure is not None:
        raise WindowNotMonitoredError(f"{config.model}: window {window} was not monitored ({failure}); "
                                      f"its alert was delivered ({result['sent']} sent)")
    return result


def note_findings(config: MonitorConfig, window: Window, run_id: str, engine: Any) -> str:
    """Log the window's one-line summary and make it the DAG run's note. Airflow's grid marks the bar of a run
    that has a note, so only windows with findings keep one: a clean window's run gets its note removed (a
    re-run that found the window clean again must not keep an older run's findings)."""
    from include.monitoring.run_note import try_set_run_note

    summary = findings.window_summary(engine, config.model, window)
    log.info("window %s findings: %s", window, summary)
    try_set_run_note(config.dag_id, run_id, "" if summary == findings.NO_FINDINGS else summary)
    return summary


def fire_drill(config: MonitorConfig, run_url: str = "") -> dict[str, str]:
    """Send a test notification through every route of `config`. Fail when a channel did not work, and when a
    routed channel has no connection: a drill that ends green must mean the alerts reach the people."""
    from include.monitoring.alerting.drill import drill

    notifiers, missing = notifiers_for(config)
    results = drill(config, notifiers, missing, now=_now(), run_url=run_url)
    for channel, outcome in results.items():
        log.info("fire drill %s %s: %s", config.model, channel, outcome)
    failed = {channel: outcome for channel, outcome in results.items() if outcome.startswith("failed")}
    unconfigured = {channel: outcome for channel, outcome in results.items() if outcome.startswith("not configured")}
    if failed or unconfigured:
        raise MonitoringError(drill_failure(config, failed, unconfigured, reached=sorted(
            channel for channel, outcome in results.items() if outcome == "ok")))
    return results


def drill_failure(config: MonitorConfig, failed: dict[str, str], unconfigured: dict[str, str],
                  reached: list[str]) -> str:
    """The drill's error: which severities reach only the log (or nothing), then each channel that failed."""
    problems = [*(f"{channel} {outcome}" for channel, outcome in failed.items()),
                *(f"{channel} {outcome}" for channel, outcome in unconfigured.items())]
    # A severity routed to people (not only to the log, as INFO is by default) none of whose people-routes works.
    blind = [severity.upper() for severity in ("critical", "warning", "info")
             if (people := [channel for channel in getattr(config.alerts, severity) if channel != "log"])
             and not any(channel in reached for channel in people)]
    headline = (f"{config.model}: your {'/'.join(blind)} alerts reach "
                f"{'only the log' if 'log' in reached else 'no one'}; " if blind else f"{config.model}: ")
    return headline + "fire drill failed on " + "; ".join(problems)
