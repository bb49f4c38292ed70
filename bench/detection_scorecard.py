"""Detection scorecard of the demo model: which documented incidents alert, how soon, and what alerts on clean traffic.

    .venv/bin/python bench/detection_scorecard.py [--only incidents|clean] [--seed N]

Two replays, hour by hour through `pipeline.run_window` (no Airflow), each on its own demo warehouse (SQLite in a
temporary directory) and its own metric store, with the table reference fitted once by `ensure_reference`:

1. Incident replay: a 14-day warehouse (peak 2000 rows an hour) whose last 5 days hold the incidents of
   include/monitoring/demo/generator.py. 14 days rather than 7 so that the volume check has a week of history and
   the performance horizon is filled, as in a monitor that has been running. Replayed from a day before the earliest
   onset to the end. For each incident: the first run whose transitions open (trigger or escalate) an alert at
   WARNING or above that ATTRIBUTION below ascribes to it, the window that alert is about, and the delay.
   Alerts no active incident explains are listed too. An incident is on time when that run is its first window
   after the onset; two cannot show in that window, and are on time at the first run their evidence allows: the
   concept change when its first window is labelled enough (from the labels' arrival times), the gradual shift
   when an oracle (scipy on the raw rows, with the monitor's tiers and persistence) first alerts on the ramp.
2. Clean replay: the generator has no switch to turn the incidents off, so a 60-day warehouse is built and only
   the 30 days before the earliest onset are replayed: that traffic is clean (same daily curve, quiet night hours
   included). Every alert opened there is false; CRITICAL and WARNING openings are counted.

The replays run side by side, one process each.
Peak rows stay at the generator's 2000 in both replays: fewer rows would make drift and performance tests weaker
and the false-alert figures flatter than production traffic. The clean replay (720 windows) is the longer one: in
it the performance step alone, re-scoring over the 30-day label horizon in SQLite, takes about 1 s a window,
validation and profiling about 0.45 s.

Per incident it also counts what reached the person on call: pages (PagerDuty events that open an alert: the first
of a dedup_key, or the first after its resolve), Slack messages and thread
replies, from the outbox of the incident replay (delivery is not run; every non-suppressed row would be sent), and
the incident's alerts still open 24 h after it ended.

The last line is `RESULT detected=<k>/<n> at_first_window=<m> false_critical=<c> false_warning=<w>
pages_per_incident_max=<p> stuck_open=<s>`.
"""

from __future__ import annotations

import math
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

END = datetime(2026, 11, 23, 4, tzinfo=UTC)  # the demo period's end, as in the tests and the other benches
SEED = 7
PEAK_ROWS = 2000
INCIDENT_DAYS = 14
WARM_UP = timedelta(hours=24)  # replayed before the earliest onset: alerts there are false too
CLEAN_DAYS_GENERATED = 60  # only the 30 days before the earliest onset are replayed (see the docstring)
CLEAN_DAYS_REPLAYED = 30
HOUR = timedelta(hours=1)
OPENINGS = ("trigger", "escalate")  # an alert opened, or raised to a higher tier; resolutions open nothing
ANY = "*"
MESSAGE_WINDOW = re.compile(r"window \[(\d{4}-\d\d-\d\d \d\d:\d\d), (\d{4}-\d\d-\d\d \d\d:\d\d)\) UTC$")


@dataclass(frozen=True, slots=True)
class Signal:
    """One alert-key pattern (`<model>:<kind>:<rule>:<column>:<slice key>=<value>`); ANY matches every value.

    Columns are compared without the validation suffixes (`months_employed__raw` is the text of `months_employed`).
    """

    kind: str
    rule: str = ANY
    column: str = ANY
    slice_key: str = ANY


# Which alerts an incident explains: the signals it moves by construction in the generator. An alert is ascribed
# to an incident when it matches one of its signals AND the window the alert is about (the scored window for
# realized performance) lies between the incident's onset and its end. A feature's drift within a slice
# (`...:utilization:employment_type=salaried`) counts as that feature's drift: the slice key is not constrained.
#
# | incident        | explained alerts                                                                       |
# |-----------------|----------------------------------------------------------------------------------------|
# | gradual_shift   | drift of utilization; drift of the score and of the positive share; estimated          |
# |                 | performance (it follows the scores by design, so a covariate shift moves it)           |
# | model_rollout   | drift of the score and of the positive share; estimated performance; realized          |
# |                 | performance of a model_version slice; the unexpected_model_version check               |
# | concept_change  | realized performance, whole window or any slice (inputs and scores do not move)        |
# | text_in_numeric | any quality check of months_employed (wrong_type is the one meant)                     |
# | new_category    | new_category_share and drift of channel; quality of channel (category_set)             |
# | empty_hour      | the operational data_delay alert                                                       |
# | zeroed_features | any quality check or drift of income or credit_limit (constant_column, out_of_range)   |
ATTRIBUTION: dict[str, tuple[Signal, ...]] = {
    "gradual_shift": (Signal("drift", "feature_drift", "utilization"), Signal("drift", "feature_drift", "score"),
                      Signal("drift", "positive_share", "score"), Signal("estimated_performance")),
    "model_rollout": (Signal("drift", "feature_drift", "score"), Signal("drift", "positive_share", "score"),
                      Signal("estimated_performance"), Signal("performance", slice_key="model_version"),
                      Signal("quality", "unexpected_model_version", "model_version")),
    "concept_change": (Signal("performance"),),
    "text_in_numeric": (Signal("quality", column="months_employed"),),
    "new_category": (Signal("drift", "new_category_share", "channel"), Signal("drift", "feature_drift", "channel"),
                     Signal("quality", column="channel")),
    "empty_hour": (Signal("operational", "data_delay"),),
    "zeroed_features": tuple(Signal(kind, column=column) for kind in ("quality", "drift")
                             for column in ("income", "credit_limit")),
}


@dataclass(frozen=True, slots=True)
class Opening:
    """An alert opened or escalated by one run: the run's window and the window the alert is about."""

    run_window: Any  # include.monitoring.types.Window
    evidence_start: datetime
    alert_key: str
    action: str
    severity: str
    message: str


@dataclass(frozen=True, slots=True)
class Replay:
    openings: list[Opening]
    window_seconds: list[float]
    statuses: dict[str, int]
    failures: list[str]


@dataclass(frozen=True, slots=True)
class Detection:
    incident: str
    onset: datetime
    first: Opening | None
    first_critical: Opening | None
    at_first_window: bool


def main() -> None:
    started = time.perf_counter()
    from concurrent.futures import ProcessPoolExecutor

    from include.monitoring.config import load_monitor_config
    from include.monitoring.demo.generator import INCIDENTS

    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""  # incidents | clean: one replay
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else SEED  # another draw of the demo
    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    print(f"code at commit {code_commit()} (uncommitted edits, if any, included); peak {PEAK_ROWS} rows an hour, seed {seed}")
    earliest_onset = min(incident.window(END)[0] for incident in INCIDENTS)
    # The two replays share nothing (each has its own warehouse and store): one process each, one per core.
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(max_workers=2) as pool:
        incidents = pool.submit(incident_replay, config, Path(tmp), earliest_onset, seed) if only != "clean" else None
        clean = pool.submit(clean_replay, config, Path(tmp), earliest_onset, seed) if only != "incidents" else None
        detections, unexplained, burdens = incidents.result() if incidents else ([], [], [])
        false_alerts = clean.result() if clean else []
    print_detections(detections)
    print_burden(burdens)
    print_openings("alerts of the incident replay that no incident explains", unexplained)
    print_openings("false alerts of the clean replay (every opening at WARNING or above)", false_alerts)
    print(f"total run time {time.perf_counter() - started:.0f} s")
    if only:
        print(f"(--only {only}: the RESULT line counts that replay alone)")
    counts = {level: sum(opening.severity == level for opening in false_alerts) for level in ("CRITICAL", "WARNING")}
    print(f"RESULT detected={sum(d.first is not None for d in detections)}/{len(detections)} "
          f"at_first_window={sum(d.at_first_window for d in detections)} "
          f"false_critical={counts['CRITICAL']} false_warning={counts['WARNING']} "
          f"pages_per_incident_max={max((b.pagerduty_triggers for b in burdens), default=0)} "
          f"stuck_open={sum(len(b.stuck_open) for b in burdens)}")


def code_commit() -> str:
    """The commit the measured code is at: the figures move as the alerting code does."""
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def incident_replay(config, directory: Path, earliest_onset: datetime,
                    seed: int) -> tuple[list[Detection], list[Opening]]:
    """Replay the incident period; returns each incident's detection and the openings no incident explains."""
    from include.monitoring.demo.generator import INCIDENTS

    warehouse, store = prepared_engines(config, directory / "incidents", INCIDENT_DAYS, earliest_onset - WARM_UP, seed)
    replay = replay_hours(config, warehouse, store, earliest_onset - WARM_UP, END, "incident replay")
    due = {"concept_change": concept_change_expected_run(config, warehouse),
           "gradual_shift": gradual_shift_expected_run(config, warehouse)}
    print(f"concept_change: the first window after the onset has min_coverage={config.performance.min_coverage:.0%} "
          f"of its labels at the run ending {due['concept_change']:%Y-%m-%d %H:%M} UTC")
    print(f"gradual_shift: the oracle (scipy on the raw rows, the configured tiers and persistence) first alerts on "
          f"utilization at the run ending {due['gradual_shift']:%Y-%m-%d %H:%M} UTC")
    detections = [detect(incident, replay.openings, due.get(incident.name)) for incident in INCIDENTS]
    unexplained = [opening for opening in replay.openings if not explaining_incidents(opening)]
    return detections, unexplained, burden(store)


@dataclass(frozen=True, slots=True)
class Burden:
    """What an incident cost the person on call: pages (PagerDuty events that open an alert; later events of the
    open alert add to it), Slack messages (top-level and thread replies), and its alerts still open 24 h after it ended (or at the
    replay's end, when that comes first: `seen_hours` says how long after it ended the state was read)."""

    incident: str
    pagerduty_triggers: int
    pagerduty_updates: int
    slack_messages: int
    slack_replies: int
    stuck_open: list[str]
    seen_hours: float | None  # None: the incident lasts to the replay's end, so nothing can be stuck yet
    pages: list[str]  # each page: its window and the root alert key that names its incident


def burden(store) -> list[Burden]:
    """Each incident's notifications: those whose incident (its first root's alert key) the incident explains,
    queued for a window between its onset and its end; and its alerts still open after it."""
    import sqlalchemy as sa

    from include.monitoring import store as tables
    from include.monitoring.demo.generator import INCIDENTS

    n, a = tables.notifications.c, tables.alerts.c
    with store.connect() as conn:
        notes = conn.execute(sa.select(n.alert_key, n.window_start, n.channel, n.action).where(
            n.status != "suppressed").order_by(n.id)).all()
        alerts = conn.execute(sa.select(a.alert_key, a.opened_at, a.resolved_at, a.status, a.history)).all()
    # A page is a PagerDuty event that opens an alert: the first event of its dedup_key, or the first after its
    # resolve (escalations and reminders of an open alert add to it). Counted in the order the outbox was written.
    triggered: set[str] = set()
    opens: set[int] = set()
    for index, note in enumerate(notes):
        if note.channel != "pagerduty":
            continue
        if note.action == "resolve":
            triggered.discard(note.alert_key)
        elif note.alert_key not in triggered:
            triggered.add(note.alert_key)
            opens.add(index)
    result = []
    for incident in INCIDENTS:
        onset, finish = incident.window(END)
        mine = [(index, note) for index, note in enumerate(notes) if explains(
            incident.name, Opening(None, tables.utc(note.window_start), note.alert_key, note.action, "", ""))]
        read_at = min(finish + timedelta(hours=24), END)
        stuck = [alert.alert_key.split(":", 1)[1] for alert in alerts
                 if explains(incident.name, Opening(None, tables.utc(alert.opened_at), alert.alert_key, "", "", ""))
                 and (alert.resolved_at is None or tables.utc(alert.resolved_at) > read_at)
                 and alert.status != "watching"]
        pages = [x for index, x in mine if index in opens]
        result.append(Burden(
            incident.name, len(pages),
            sum(x.channel == "pagerduty" and x.action != "resolve" for _i, x in mine) - len(pages),
            sum(x.channel.startswith("slack") and x.action == "trigger" for _i, x in mine),
            sum(x.channel.startswith("slack") and x.action != "trigger" for _i, x in mine),
            stuck if finish < END else [], (read_at - finish) / HOUR if finish < END else None,
            [f"{tables.utc(x.window_start):%m-%d %H:%M} {x.action} {x.alert_key.split(':', 1)[1]}" for x in pages]))
    return result


def print_burden(burdens: list[Burden]) -> None:
    rows = [("incident", "pages (PagerDuty alerts opened)", "PagerDuty updates", "Slack messages", "Slack replies",
             "still open 24 h after it ended")]
    for b in burdens:
        stuck = ("lasts to the end" if b.seen_hours is None else
                 f"{len(b.stuck_open)}" + (f" (read {b.seen_hours:.0f} h after)" if b.seen_hours < 24 else ""))
        rows.append((b.incident, str(b.pagerduty_triggers), str(b.pagerduty_updates), str(b.slack_messages),
                     str(b.slack_replies), stuck))
    print("\nper-incident notifications (what the person on call received) and alerts left open")
    print_table(rows)
    for b in burdens:
        for page in b.pages:
            print(f"  {b.incident}: page {page}")
        for key in b.stuck_open:
            print(f"  {b.incident}: still open: {key}")


def clean_replay(config, directory: Path, earliest_onset: datetime, seed: int) -> list[Opening]:
    """Replay the 30 clean days before the earliest onset of a longer warehouse; every opening is false."""
    start = earliest_onset - timedelta(days=CLEAN_DAYS_REPLAYED)
    warehouse, store = prepared_engines(config, directory / "clean", CLEAN_DAYS_GENERATED, start, seed)
    return replay_hours(config, warehouse, store, start, earliest_onset, "clean replay").openings


def prepared_engines(config, directory: Path, days: int, now: datetime, seed: int):
    """A demo warehouse of `days` days ending at END, and a metric store holding its fitted table reference."""
    from include.monitoring.airflow_adapters import engine_from_url
    from include.monitoring.demo.generator import write_demo_warehouse
    from include.monitoring.reference import ensure_reference

    directory.mkdir(parents=True)
    warehouse = engine_from_url(f"sqlite:///{directory}/warehouse.db")
    store = engine_from_url(f"sqlite:///{directory}/store.db")
    t = time.perf_counter()
    counts = write_demo_warehouse(warehouse, end=END, days=days, peak_rows=PEAK_ROWS, seed=seed)
    print(f"{days}-day demo warehouse: {counts['predictions']:,} predictions, {counts['labels']:,} labels, "
          f"written in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    ensure_reference(config, warehouse, store, now=now)
    print(f"reference fitted ({counts['credit_default_reference']:,} rows) in {time.perf_counter() - t:.1f} s")
    return warehouse, store


def replay_hours(config, warehouse, store, start: datetime, end: datetime, label: str) -> Replay:
    """Every hourly window in [start, end), each run at its window's end, as the hourly schedule would."""
    from include.monitoring import pipeline

    windows = pipeline.windows_between(start, end, HOUR)
    openings: list[Opening] = []
    seconds: list[float] = []
    statuses: dict[str, int] = {}
    failures: list[str] = []
    for index, window in enumerate(windows, 1):
        t = time.perf_counter()
        status, transitions = run_one(config, warehouse, store, window, failures)
        seconds.append(time.perf_counter() - t)
        statuses[status] = statuses.get(status, 0) + 1
        openings += [opening_of(window, transition) for transition in transitions
                     if transition.action in OPENINGS and transition.severity.name in ("WARNING", "CRITICAL")]
        if index % 24 == 0:
            print(f"  {label}: {index}/{len(windows)} windows, {sum(seconds):.0f} s", file=sys.stderr, flush=True)
    print(f"{label}: {len(windows)} windows from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC in {sum(seconds):.0f} s "
          f"(per window: median {statistics.median(seconds):.2f} s, mean {statistics.fmean(seconds):.2f} s, "
          f"max {max(seconds):.1f} s); statuses {dict(sorted(statuses.items()))}; {len(openings)} openings")
    for failure in failures:
        print(f"  run failed: {failure}")
    return Replay(openings, seconds, statuses, failures)


def run_one(config, warehouse, store, window, failures: list[str]) -> tuple[str, list]:
    """One window's run. A run that raises is recorded as Airflow's failure callback would (a CRITICAL run_failed
    alert), so a crash counts as what the team would see, and the replay goes on."""
    from include.monitoring import pipeline

    try:
        observation, transitions = pipeline.run_window(config, warehouse, store, window, now=window.end,
                                                       run_id="detection-scorecard")
        return observation.status.value, transitions
    except Exception as exc:  # any failure of the monitored code is a finding, not a reason to stop the bench
        failures.append(f"{window}: {type(exc).__name__}: {exc}")
        return "failed", pipeline.record_failure(config, store, window, f"{type(exc).__name__}: {exc}",
                                                 "detection-scorecard", window.end)


def opening_of(run_window, transition) -> Opening:
    """The opening of a transition; the window it is about is the one its message names (the scored window, for
    realized performance), else the run's own."""
    named = MESSAGE_WINDOW.search(transition.message)
    evidence = (datetime.strptime(named.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC) if named
                else run_window.start)
    return Opening(run_window, evidence, transition.alert_key, transition.action, transition.severity.name,
                   transition.message)


def key_parts(alert_key: str) -> dict[str, str]:
    """kind, rule, column (without validation suffixes) and slice key of an alert key."""
    from include.monitoring.validation.suite import FINITE_SUFFIX, RAW_SUFFIX

    _, kind, rule, column, slice_part = alert_key.split(":", 4)
    for suffix in (RAW_SUFFIX, FINITE_SUFFIX):
        column = column.removesuffix(suffix)
    return {"kind": kind, "rule": rule, "column": column, "slice_key": slice_part.split("=", 1)[0]}


def matches(signal: Signal, alert_key: str) -> bool:
    parts = key_parts(alert_key)
    return all(getattr(signal, field) in (ANY, parts[field]) for field in ("kind", "rule", "column", "slice_key"))


def incident_period(name: str) -> tuple[datetime, datetime]:
    from include.monitoring.demo.generator import INCIDENTS_BY_NAME

    return INCIDENTS_BY_NAME[name].window(END)


def explains(name: str, opening: Opening) -> bool:
    onset, finish = incident_period(name)
    return onset <= opening.evidence_start < finish and any(matches(s, opening.alert_key) for s in ATTRIBUTION[name])


def explaining_incidents(opening: Opening) -> list[str]:
    return [name for name in ATTRIBUTION if explains(name, opening)]


def detect(incident, openings: list[Opening], due_run_end: datetime | None) -> Detection:
    """The incident's first ascribed opening, its first CRITICAL one, and whether it came from the first window
    after the onset, or, for an incident that the first window cannot show, no later than the run the incident's
    evidence first allows (`due_run_end`: the concept change's labels, the gradual shift's ramp)."""
    onset, _ = incident.window(END)
    mine = [opening for opening in openings if explains(incident.name, opening)]
    # Of the first detecting run's openings, the strongest: a run that pages and warns at once has paged.
    first = max((o for o in mine if o.run_window == mine[0].run_window), key=severity_rank) if mine else None
    critical = next((opening for opening in mine if opening.severity == "CRITICAL"), None)
    if first is None:
        on_time = False
    elif due_run_end is not None:
        on_time = first.run_window.end <= due_run_end
    else:
        on_time = first.run_window.start == onset
    return Detection(incident.name, onset, first, critical, on_time)


def severity_rank(opening: Opening) -> int:
    return ("WARNING", "CRITICAL").index(opening.severity)


def concept_change_expected_run(config, warehouse) -> datetime:
    """The end of the first run at which the first window after the concept change's onset has min_coverage of
    its predictions labelled (labels arrive 20 to 44 h late), computed from the warehouse's labels."""
    import pandas as pd
    import sqlalchemy as sa

    onset, _ = incident_period("concept_change")
    query = sa.text("select l.labeled_at from predictions p left join labels l on l.prediction_id = p.prediction_id "
                    "where p.ts >= :start and p.ts < :end")
    naive = {"start": onset.replace(tzinfo=None), "end": (onset + HOUR).replace(tzinfo=None)}
    with warehouse.connect() as conn:
        arrivals = pd.read_sql(query, conn, params=naive)["labeled_at"]
    predictions = len(arrivals)
    arrived = pd.to_datetime(arrivals.dropna()).sort_values().reset_index(drop=True)
    needed = arrived.iloc[math.ceil(config.performance.min_coverage * predictions) - 1].tz_localize(UTC)
    # A run sees the labels that arrived before its window's end: the needed label counts from the next hour on.
    return onset + HOUR * math.ceil((needed - onset) / HOUR + 1e-9)


def gradual_shift_expected_run(config, warehouse) -> datetime:
    """The end of the first run at which an oracle would alert on the ramp of `utilization`: its first window is
    identical to clean traffic (the ramp starts at 0), so "the first window after the onset" cannot see it.

    The oracle applies the monitor's own rule to the raw rows with scipy: the method `auto` picks for the window's
    size (Kolmogorov-Smirnov p-value, Bonferroni over the window's tests, which is what Benjamini-Hochberg gives the
    one drifted feature, then the whole window's drift share of the false-page budget; or the Wasserstein distance in
    reference standard deviations), the configured tiers, and the persistence of drift:feature_drift."""
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa
    from scipy import stats

    from include.monitoring.alerting.lifecycle import firing_tier
    from include.monitoring.alerting.policy import score_severity, spend
    from include.monitoring.types import ScoreKind, Severity

    onset, finish = incident_period("gradual_shift")
    column = "utilization"
    with warehouse.connect() as conn:
        reference = pd.read_sql(sa.text(f"select {column} from {config.reference.table}"), conn)[column].to_numpy(float)
        rows = pd.read_sql(sa.text(f"select ts, {column} from predictions where ts >= :start and ts < :end"), conn,
                           params={"start": onset.replace(tzinfo=None), "end": finish.replace(tzinfo=None)})
    rows["hour"] = pd.to_datetime(rows["ts"]).dt.floor("h")
    tests = len(config.features.numeric) + len(config.features.categorical) + 2  # and the score, the positive share
    history: list[Severity] = []
    for hour, part in rows.groupby("hour", sort=True):
        values = part[column].to_numpy(float)
        method = config.drift_method(column, len(values))
        tiers = config.drift_tiers(column, method)
        if method == "ks":
            p_value = spend([min(1.0, stats.ks_2samp(values, reference).pvalue * tests)], "drift")[0]
            severity = score_severity(ScoreKind.P_VALUE, p_value, tiers)
        else:
            distance = stats.wasserstein_distance(values, reference) / np.std(reference)
            severity = score_severity(ScoreKind.DISTANCE, distance, tiers)
        history.append(severity)
        if firing_tier(config, "drift:feature_drift", history, severity) >= Severity.WARNING:
            return hour.to_pydatetime().replace(tzinfo=UTC) + HOUR
    return finish


def hours_after(onset: datetime, moment: datetime) -> str:
    return f"{(moment - onset) / HOUR:+.0f} h"


def print_detections(detections: list[Detection]) -> None:
    rows = [("incident", "onset (window start)", "first alerting run", "window alerted on", "window", "run end",
             "severity", "at 1st", "first CRITICAL run", "alert key", "also explained by")]
    for d in detections:
        rows.append(detection_row(d))
    print("\nper-incident detection (delays after the onset: of the window alerted on, and of the run's end; "
          "'also explained by': other incidents active then that move the same signal)")
    print_table(rows)
    for d in detections:
        if d.first is not None:
            print(f"  {d.incident}: {d.first.message}")


def detection_row(d: Detection) -> tuple[str, ...]:
    def stamp(moment: datetime) -> str:
        return f"{moment:%m-%d %H:%M}"

    if d.first is None:
        return (d.incident, stamp(d.onset), "not detected", "", "", "", "", "no", "", "", "")
    critical = (f"{stamp(d.first_critical.run_window.start)} ({hours_after(d.onset, d.first_critical.run_window.end)})"
                if d.first_critical else "none")
    return (d.incident, stamp(d.onset), stamp(d.first.run_window.start), stamp(d.first.evidence_start),
            hours_after(d.onset, d.first.evidence_start), hours_after(d.onset, d.first.run_window.end),
            f"{d.first.severity} ({d.first.action})", "yes" if d.at_first_window else "no", critical,
            d.first.alert_key.split(":", 1)[1], ", ".join(n for n in explaining_incidents(d.first) if n != d.incident))


def print_openings(title: str, openings: list[Opening]) -> None:
    by_severity = {level: sum(o.severity == level for o in openings) for level in ("CRITICAL", "WARNING")}
    print(f"\n{title}: {len(openings)} ({by_severity['CRITICAL']} CRITICAL, {by_severity['WARNING']} WARNING)")
    for opening in openings:
        print(f"  run {opening.run_window.start:%Y-%m-%d %H:%M} {opening.action:8} {opening.severity:8} "
              f"{opening.alert_key.split(':', 1)[1]}\n      {opening.message}")
    print_key_summary(openings, lambda o: o.alert_key.split(":", 1)[1])


def print_key_summary(openings: list[Opening], key: Callable[[Opening], str]) -> None:
    """How many openings each alert key had: a key that flaps shows up here at once."""
    counts: dict[str, int] = {}
    for opening in openings:
        counts[key(opening)] = counts.get(key(opening), 0) + 1
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:4d} x {name}")


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
