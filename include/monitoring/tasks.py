"""One function per DAG task. The DAG file only reads the data interval and calls these.

Each takes the monitor config and the window, resolves its connections through `airflow_adapters`,
calls the pipeline and returns a small JSON-safe value for XCom (never a DataFrame).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from include.monitoring import pipeline, reference, store
from include.monitoring.airflow_adapters import engine_for, notifiers_for, variable_silences, warehouse_engine_for
from include.monitoring.alerting.delivery import deliver_pending
from include.monitoring.config import MonitorConfig
from include.monitoring.errors import MonitoringError, WindowNotMonitoredError
from include.monitoring.types import MetricRow, Window

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def load_reference(config: MonitorConfig) -> str:
    """The id of the model's stored reference profile; fitted from the reference rows the first time only."""
    return reference.ensure_reference(config, warehouse_engine_for(config.warehouse.conn_id), engine_for(config.store_conn_id),
                                      now=_now())


def observe_window(config: MonitorConfig, window: Window) -> dict[str, Any]:
    reference_id, profile = reference.load_reference(config, engine_for(config.store_conn_id), window.start)
    observation = pipeline.observe_window(config, reference_id, profile, warehouse_engine_for(config.warehouse.conn_id), window)
    log.info("%s %s: %s, %d rows (%d sampled) %s", config.model, window, observation.status.value,
             observation.row_count, observation.sampled_rows, observation.reason)
    return observation.to_record()


def compute_drift(config: MonitorConfig, observation: dict[str, Any]) -> list[dict[str, Any]]:
    profile = reference.load_profile(engine_for(config.store_conn_id), observation["reference_id"])
    rows = pipeline.compute_drift(config, profile, pipeline.Observation.from_record(observation))
    return [row.to_record() for row in rows]


def compute_performance(config: MonitorConfig, window: Window) -> list[dict[str, Any]]:
    _, profile = reference.load_reference(config, engine_for(config.store_conn_id), window.start)
    rows = pipeline.compute_performance(config, profile, warehouse_engine_for(config.warehouse.conn_id),
                                        engine_for(config.store_conn_id), window)
    return [row.to_record() for row in rows]


def write_metrics(config: MonitorConfig, observation: dict[str, Any], drift: list[dict[str, Any]],
                  performance: list[dict[str, Any]], dag_run_id: str, started_at: datetime,
                  backfill: bool = False) -> dict[str, Any]:
    rows = [MetricRow.from_record(r) for r in (*drift, *performance)]
    obs = pipeline.Observation.from_record(observation)
    transitions = pipeline.write_window(config, engine_for(config.store_conn_id), obs, rows, dag_run_id,
                                        started_at, now=_now(), backfill=backfill, silences=variable_silences(config))
    for t in transitions:
        log.info("alert %s: %s%s", t.action, t.message, f" ({t.suppressed})" if t.suppressed else "")
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
    """Send the model's pending notifications; a failed one stays pending and fails the task visibly."""
    notifiers, missing = notifiers_for(config)
    report = deliver_pending(engine_for(config.store_conn_id), config.model, notifiers, now=_now(),
                             missing_reasons=missing, run_url=run_url, runbook_url=config.alerts.runbook_url)
    if report.failures:
        raise MonitoringError(f"{config.model}: {len(report.failures)} notification(s) failed and stay pending: "
                              + "; ".join(report.failures))
    return {"sent": report.sent, "skipped": report.skipped}


def send_notifications(config: MonitorConfig, window: Window, run_id: str, run_url: str = "") -> dict[str, Any]:
    """The DAG's last task. It runs even when an upstream task failed, to deliver that failure's alert, and then
    raises `WindowNotMonitoredError`, so that the DAG run is marked failed rather than green."""
    result = deliver(config, run_url)
    failure = store.failed_run_reason(engine_for(config.store_conn_id), config.model, window, run_id)
    if failure is not None:
        raise WindowNotMonitoredError(f"{config.model}: window {window} was not monitored ({failure}); "
                                      f"its alert was delivered ({result['sent']} sent)")
    return result


def fire_drill(config: MonitorConfig, run_url: str = "") -> dict[str, str]:
    """Send a test notification through every route of `config`; fail when a configured channel did not work."""
    from include.monitoring.alerting.drill import drill

    notifiers, missing = notifiers_for(config)
    results = drill(config, notifiers, missing, now=_now(), run_url=run_url)
    for channel, outcome in results.items():
        log.info("fire drill %s %s: %s", config.model, channel, outcome)
    failed = {channel: outcome for channel, outcome in results.items() if outcome.startswith("failed")}
    if failed:
        raise MonitoringError(f"{config.model}: fire drill failed on {', '.join(failed)}: {failed}")
    return results
