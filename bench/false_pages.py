"""False pages of a quiet model, over many independent clean model-months: the rate behind the README's promise.

    .venv/bin/python bench/false_pages.py [--models 10] [--months 10] [--workers 2] [--peak 2000] [--hours 720]

Each model has its own reference (20,000 rows of include/monitoring/demo/generator.py's clean traffic, fitted by
`reference.fit_reference`); each of its months is 720 hourly windows of fresh clean traffic from the same generator
(the demo's daily curve, `--peak` rows at 15:00, a few dozen at night), with labels arriving 20 to 44 hours after
the prediction and 5 % never. Nothing is wrong in any of them: every alert that opens is false.

Each run goes through the real decision path, without the warehouse and the store's metric tables:

- `pipeline.observe_frame` (profiles, estimated performance, serving rows), `operational.volume_verdict` against
  the same hour of the four earlier weeks, `drift.engine.compute_drift` (the whole window's tests and distances with
  their correction, the slices' family apart);
- realized performance: each window is judged once, by `rescoring.window_performance` with the labels known at the
  first run where its coverage reaches `performance.min_coverage` (its first eligible look: later looks at the
  same window replace its verdict but open nothing, see alerting/lifecycle.py), and `rescoring.due_coverage_row`;
- `pipeline.alert_inputs` and `lifecycle.apply_alerts` (persistence, folding, incidents) on an in-memory SQLite
  alert store per model-month, one transaction per run.

Great Expectations does not run (0.4 s a window would take the bench past its budget): the quality checks'
false alerts are the scorecard's clean replays' to count (none in 30 days on seeds 7 and 11).

Prints the false CRITICAL and WARNING openings (`trigger`, or `escalate` to the tier) by rule, the pages (root
openings at CRITICAL, the ones PagerDuty receives), per model-month and per model-year with exact Poisson 95 %
intervals, and the smallest p-values of the families, then
`RESULT critical_per_model_year=<x> ci_high=<y> warning_per_model_week=<z>` (x: CRITICAL openings per model-year,
y: the upper end of its 95 % interval, z: WARNING openings per model-week).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from include.monitoring.profile_types import ReferenceProfile

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; every model-month starts here, each on its own random stream
HOUR = timedelta(hours=1)
MONTH_HOURS = 720
HOURS_PER_YEAR = 8760
LABEL_DELAY_HOURS = (20.0, 44.0)  # as the demo generator: uniform delay, 5 % of labels never arrive
LABEL_LOSS = 0.05
LATENCY_MEDIAN_MS, ERROR_SHARE = 40.0, 0.001
OPENINGS = ("trigger", "escalate")
SMALL_P = 0.01
LEVELS = (1e-3, 5e-4, 1e-4, 5e-5, 2e-5, 1e-5)  # significance levels of the what-if table
TIER = 1e-4  # the CRITICAL tier of the drift tests and performance.significance
BUDGET_FAMILIES = {"drift: whole window": "drift", "drift: slices": "drift_slices",
                   "performance: whole window": "performance", "performance: slices": "performance_slices"}


@dataclass(slots=True)
class MonthResult:
    model: int
    month: int
    runs: int = 0
    openings: list[tuple[str, str, str, str]] = field(default_factory=list)  # (severity, rule, key, detail)
    pages: int = 0
    seconds: float = 0.0
    # Per run with any: each family's smallest p-value below SMALL_P that would alert at CRITICAL, corrected within
    # the family, before its share of the budget (smallest_p_values): what other settings would have paged (`report`).
    small_p: list[list[tuple[str, float]]] = field(default_factory=list)
    previous_looks: list[int] = field(default_factory=list)  # per judged window, its looks under the previous rule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--months", type=int, default=10, help="model-months per model")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--peak", type=int, default=2000)
    parser.add_argument("--hours", type=int, default=MONTH_HOURS, help="runs per model-month (fewer: a quick check)")
    args = parser.parse_args()
    started = time.perf_counter()
    tasks = [(model, month, args.peak, args.hours) for model in range(args.models) for month in range(args.months)]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = []
        for result in pool.map(model_month, tasks):
            results.append(result)
            print(f"  model {result.model} month {result.month}: {len(result.openings)} openings, {result.pages} pages, "
                  f"{result.seconds:.0f} s", file=sys.stderr, flush=True)
    report(results, time.perf_counter() - started)


_REFERENCES: dict[int, ReferenceProfile] = {}


def reference_of(config, model: int) -> ReferenceProfile:
    """Model `model`'s reference profile, fitted once per process."""
    import numpy as np

    from include.monitoring.demo.generator import REFERENCE_ROWS, scored_rows
    from include.monitoring.reference import fit_reference

    if model not in _REFERENCES:
        frame = scored_rows(np.random.default_rng([2026, model]), REFERENCE_ROWS)
        frame["model_version"] = "v1"
        _REFERENCES[model] = fit_reference(config, frame)
    return _REFERENCES[model]


def model_month(task: tuple[int, int, int, int]) -> MonthResult:
    """One clean model-month through the decision path; its openings."""
    import numpy as np
    import sqlalchemy as sa

    from include.monitoring import pipeline, store
    from include.monitoring.alerting.lifecycle import apply_alerts
    from include.monitoring.alerting.messages import alert_key
    from include.monitoring.config import load_monitor_config
    from include.monitoring.demo.generator import hourly_rows
    from include.monitoring.drift.engine import compute_drift
    from include.monitoring.operational import volume_verdict
    from include.monitoring.performance import rescoring
    from include.monitoring.types import Window
    from include.monitoring.validation.results import validation_frame

    model, month, peak, hours = task
    config = load_monitor_config(ROOT / "include" / "monitors" / "credit_default.yaml")
    reference = reference_of(config, model)
    rng = np.random.default_rng([model, month, 7])
    weeks, lead = config.validation.volume_weeks, 72  # earlier weeks for volume; hours before the month for labels
    first = -max(weeks * 168, lead)
    counts = {i: int(rng.poisson(hourly_rows((START + i * HOUR).hour, peak))) for i in range(first, hours)}
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    store.create_tables(engine)
    result = MonthResult(model, month)
    t = time.perf_counter()
    judged_at: dict[int, list] = {}  # run index -> realized performance rows first eligible at that run
    arrivals: dict[int, np.ndarray] = {}  # window index -> label arrival times (hours after START; inf: never)
    for i in range(-lead, hours):
        window = Window(START + i * HOUR, START + (i + 1) * HOUR)
        arrivals[i] = label_arrivals(rng, i, counts[i])
        if i + 1 + LABEL_DELAY_HOURS[1] < 0:  # judged before the month by a run it does not replay: counts suffice
            continue
        frame = traffic(rng, counts[i])
        look = first_eligible_look(config, i, arrivals[i])
        if look is not None and look < hours:
            labelled = performance_frame(frame, arrivals[i], look)
            judged_at.setdefault(look, []).extend(
                rescoring.window_performance(config, reference, window, labelled, START + look * HOUR))
        if i < 0:
            continue
        observation = pipeline.observe_frame(
            config, "bench", reference, window, validation_frame(config, frame), len(frame), [],
            [volume_verdict(config, window, len(frame), [counts[i - 168 * w] for w in range(1, weeks + 1)])])
        due = rescoring.due_coverage_row(config, due_counts(counts, arrivals, i), window)
        rows = [*observation.metrics, *compute_drift(config, reference, observation),
                *judged_at.pop(i, []), *([due] if due else []), pipeline.run_failed_row(window)]
        judged = pipeline.alert_inputs(config, rows)
        with engine.begin() as conn:
            transitions = apply_alerts(conn, config, judged, window.end, run_window=window)
        if smallest := smallest_p_values(config, judged):
            result.small_p.append(smallest)
        by_key = {alert_key(config.model, row): row for row in judged}
        for transition in transitions:
            if transition.action in OPENINGS and transition.severity.name in ("WARNING", "CRITICAL"):
                row = by_key.get(transition.alert_key)
                result.openings.append((transition.severity.name, rule_of(config, row), transition.alert_key,
                                        detail_of(row)))
                result.pages += transition.severity.name == "CRITICAL" and not transition.folded_under
        result.runs += 1
    result.seconds = time.perf_counter() - t
    result.previous_looks = previous_rule_looks(config, counts, arrivals, hours)
    return result


def previous_rule_looks(config, counts: dict[int, int], arrivals: dict, hours: int) -> list[int]:
    """How often each window's whole-window accuracy was judged under the rule before the budget: every run judged
    the newest window whose labels changed in it, once eligible (coverage) and with min_labels labels, so a window
    was judged again at each run where no newer one qualified (night windows, as their labels trickled in)."""
    perf = config.performance
    looks: dict[int, int] = {}
    for run in range(hours):
        for i in range(run, max(run - 48, min(arrivals)) - 1, -1):  # newest first; labels come within 45 h
            known_now, known_before = (int((arrivals[i] < end).sum()) for end in (run + 1, run))
            if known_now != known_before and known_now >= perf.min_coverage * counts[i] and known_now >= perf.min_labels:
                looks[i] = looks.get(i, 0) + 1
                break
    return list(looks.values())


def label_arrivals(rng, index: int, n: int):
    """When the labels of window `index`'s n predictions arrive, in hours after START (inf: never)."""
    import numpy as np

    arrivals = index + rng.uniform(0, 1, n) + rng.uniform(*LABEL_DELAY_HOURS, n)
    arrivals[rng.random(n) < LABEL_LOSS] = np.inf
    return arrivals


def traffic(rng, n: int):
    """One hour of clean traffic as the prediction log holds it: scored rows, the model version, the serving side."""
    import numpy as np

    from include.monitoring.demo.generator import scored_rows

    frame = scored_rows(rng, n)
    frame["model_version"] = "v1"
    frame["latency_ms"] = np.round(rng.lognormal(np.log(LATENCY_MEDIAN_MS), 0.5, n), 1)
    frame["status"] = np.where(rng.random(n) < ERROR_SHARE, "error", "ok")
    return frame


def first_eligible_look(config, index: int, arrival) -> int | None:
    """The run (window index; the run of window i knows the labels that arrived before its end, i + 1) at which the
    window's label coverage first reaches performance.min_coverage; None for an empty window."""
    import math

    import numpy as np

    n = len(arrival)
    if n == 0:
        return None
    needed = math.ceil(config.performance.min_coverage * n)
    ordered = np.sort(arrival)
    if needed == 0 or not np.isfinite(ordered[needed - 1]):
        return None
    return max(index, math.floor(ordered[needed - 1]))  # arrived before the end of run floor(t)


def performance_frame(frame, arrival, look: int):
    """The window's rows as the warehouse's labelled join returns them at run `look`: labels not yet arrived are null."""
    import numpy as np

    known = arrival < look + 1
    return frame.assign(id=np.arange(len(frame)), label=frame["label"].where(known), predicted=frame["predicted_class"])[
        ["id", "label", "score", "predicted", "model_version", "employment_type"]]


def due_counts(counts: dict[int, int], arrivals: dict, index: int) -> dict[datetime, tuple[int, int]]:
    """(predictions, labelled by this run's end) of the window labels.due_hours before, as warehouse.label_counts."""
    due = index - 72
    if due not in arrivals:
        return {}
    return {START + due * HOUR: (counts[due], int((arrivals[due] < index + 1).sum()))}


def rule_of(config, row) -> str:
    """The breakdown's name for an alert's rule: drift by method, the score's apart, slices apart."""
    if row is None:
        return "unknown"
    where = f" [slice {row.slice_key}]" if row.slice_key else ""
    if row.kind.value == "drift" and row.details.get("alert_rule") == "feature_drift":
        what = "score drift" if row.column == config.warehouse.score_column else "feature drift"
        return f"{what} ({row.metric}){where}"
    return f"{row.kind.value} {row.metric}{where}"


def family_of(row) -> str:
    """The family of tests a p-value row is corrected in (the positive share with the whole window's drift; the
    performance metrics judged from the band apart from the exact tests)."""
    where = "slices" if row.slice_key else "whole window"
    judged = " (band)" if "highest_severity" in row.details else ""
    return f"{row.kind.value}{judged}: {where}"


def smallest_p_values(config, rows) -> list[tuple[str, float]]:
    """Per family, the smallest p-value of the run's alert inputs, corrected within the family but before its share
    of the budget is spent (so that `report` can price other shares), kept when below SMALL_P and when its row would
    be CRITICAL were that p-value significant (performance: a drop beyond performance.critical_drop)."""
    smallest: dict[str, float] = {}
    for row in rows:
        if row.p_value is None or row.metric == "drift_level":
            continue
        p = row.p_value * row.details.get("budget_share", 1.0)
        drop = row.details.get("relative_drop")
        if p > SMALL_P or row.kind.value != "drift" and (drop is None or drop <= config.performance.critical_drop):
            continue
        family = family_of(row)
        smallest[family] = min(p, smallest.get(family, 1.0))
    return sorted(smallest.items())


def detail_of(row) -> str:
    if row is None:
        return ""
    p = row.p_value if row.p_value is not None else row.details.get("p_value_corrected")
    value = f"{row.value:.4g}" if row.value is not None else "none"
    return f"{row.window.start:%m-%d %H:%M} n={row.n} value={value}" + (f" p={p:.2g}" if p is not None else "")


def settings() -> dict[str, dict[str, float]]:
    """Family -> the p-value (corrected within the family) at which it pages, per setting of the what-if table."""
    from include.monitoring.alerting.policy import BUDGET_SHARES

    every = {**{family: TIER for family in BUDGET_FAMILIES},
             **{f"{kind} (band): {where}": TIER for kind in ("performance", "estimated_performance")
                for where in ("whole window", "slices")}}
    shared = {family: TIER * BUDGET_SHARES[share] for family, share in BUDGET_FAMILIES.items()}
    return {"each family at the whole tier, band metrics page (before the budget)": every,
            "each family at the whole tier, band metrics warn": {family: TIER for family in BUDGET_FAMILIES},
            "the budget: shares of 1e-4 (policy.BUDGET_SHARES), band metrics warn (today)": shared,
            "a stricter budget: the same shares of 5e-5": {family: p / 2 for family, p in shared.items()}}


def interval(count: int, exposure: float) -> tuple[float, float]:
    """Exact (Garwood) 95 % interval of a Poisson rate: `count` events over `exposure`."""
    from scipy.stats import chi2

    low = chi2.ppf(0.025, 2 * count) / 2 if count else 0.0
    return low / exposure, chi2.ppf(0.975, 2 * count + 2) / 2 / exposure


def report(results: list[MonthResult], seconds: float) -> None:
    runs = sum(r.runs for r in results)
    years, months, weeks = runs / HOURS_PER_YEAR, runs / MONTH_HOURS, runs / 168
    print(f"{len(results)} clean model-months ({len({r.model for r in results})} models), {runs:,} hourly runs, "
          f"{seconds:.0f} s ({seconds / max(runs, 1) * 1000:.0f} ms a run over the workers)")
    for severity in ("CRITICAL", "WARNING"):
        found = [(rule, key, detail) for r in results for s, rule, key, detail in r.openings if s == severity]
        low, high = interval(len(found), months)
        print(f"\n{severity}: {len(found)} openings, {len(found) / months:.3f} per model-month "
              f"(95 % {low:.3f} to {high:.3f})")
        for rule, count in Counter(rule for rule, _k, _d in found).most_common():
            print(f"  {count:>4}  {rule}")
        for _rule, key, detail in found[:12]:
            print(f"        {key.split(':', 1)[1]}  {detail}")
    looks = [look for r in results for look in r.small_p]
    print("\nwhat-if: runs in which a family would page at each significance level (per model-year), from its smallest "
          "p-value corrected within the family")
    families = sorted({family for look in looks for family, _p in look})
    print("  " + "family".ljust(44) + "".join(f"{level:>9.0e}" for level in LEVELS))
    for family in families:
        counts = [sum(p <= level for look in looks for f, p in look if f == family) for level in LEVELS]
        print("  " + family.ljust(44) + "".join(f"{count / years:>9.2f}" for count in counts))
    print("\nwhat-if: runs that would page per model-year under each setting (95 % interval)")
    for name, setting in settings().items():
        paged = sum(any(p <= setting.get(f, -1.0) for f, p in look) for look in looks)
        low, high = interval(paged, years)
        print(f"  {paged / years:>5.2f} ({low:.2f} to {high:.2f})  {name}")
    looks = [n for r in results for n in r.previous_looks]
    if looks:
        print(f"\nunder the previous rule (a window judged at every re-scoring while no newer one could be): the whole "
              f"window's accuracy judged {len(looks):,} windows {sum(looks):,} times, {sum(looks) / len(looks):.2f} looks "
              f"per judged window, at most {max(looks)}")
    pages = sum(r.pages for r in results)
    print(f"\npages (root openings at CRITICAL): {pages}, {pages / years:.2f} per model-year "
          f"(95 % up to {interval(pages, years)[1]:.2f})")
    critical = sum(s == "CRITICAL" for r in results for s, *_ in r.openings)
    warning = sum(s == "WARNING" for r in results for s, *_ in r.openings)
    print(f"RESULT critical_per_model_year={critical / years:.2f} ci_high={interval(critical, years)[1]:.2f} "
          f"warning_per_model_week={warning / weeks:.2f}")


if __name__ == "__main__":
    main()
