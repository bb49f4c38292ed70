"""Human-readable alert text: model, window, column, what was seen and what was expected."""

from __future__ import annotations

from typing import Any

from include.monitoring import store
from include.monitoring.alerting import keys
from include.monitoring.catalogue import DRIFT_METHOD_SPECS, LOWER_IS_BETTER
from include.monitoring.types import MetricKind, MetricRow, Severity

METHOD_LABELS = {name: spec.label for name, spec in DRIFT_METHOD_SPECS.items()}


def alert_key(model: str, row: MetricRow) -> str:
    """One key per (model, rule, column, slice). A row's rule is its metric, unless it names another
    (a feature's drift keeps one key whichever method scored the window)."""
    key = keys.alert_key(model, alert_rule(row), row.column, keys.slice_part(row.slice_key, row.slice_value))
    # Shortened as the store keeps it, so that looking up the stored alert by this key finds it.
    return store.bounded(key, store.column_length(store.alerts.c.alert_key))


def alert_rule(row: MetricRow) -> str:
    """`<kind>:<rule>`, the part of the alert key that alerts.persistence patterns match."""
    return f"{row.kind.value}:{row.details.get('alert_rule', row.metric)}"


# A data value quoted in a message (an example, a category, a slice value, a GX observation) is cut to this many
# characters: five examples of a long text column once made a 10,000-character alert. The metric store keeps them whole.
SHOWN_VALUE_LIMIT = 200
SHOWN_ERROR_LIMIT = 1000  # a failed run's error, which may quote a long SQL statement


def cut_marker(left_out: int) -> str:
    """Ends a text cut to a limit: says how much is missing and where the whole text is."""
    return f"… ({left_out} more characters; see the metric store)"


def within_limit(pieces: list[str], limit: int) -> str:
    """The pieces (each stands for one character of the original text) joined, or, when that exceeds `limit`
    characters, as many leading pieces as fit before a cut marker. A piece is never split, so an escape sequence
    (Slack's `&amp;`) is kept whole or left out whole."""
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    budget = limit - len(cut_marker(len(pieces)))  # the longest marker this text can need
    kept = used = 0
    for piece in pieces:
        if used + len(piece) > budget:
            break
        used += len(piece)
        kept += 1
    return "".join(pieces[:kept]) + cut_marker(len(pieces) - kept)


def cut_to_limit(text: object, limit: int = SHOWN_VALUE_LIMIT) -> str:
    """Plain text within `limit` characters, cut with a visible marker."""
    return within_limit(list(str(text)), limit)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def describe(model: str, row: MetricRow) -> str:
    """One line naming the model, the window, the column and the breach."""
    where = f" of `{row.column}`" if row.column else ""
    if row.slice_key:
        where += f" for {row.slice_key}={cut_to_limit(row.slice_value)}"
    d = row.details
    if row.metric == "positive_share":
        evidence = (f"chi-squared p = {_fmt(row.p_value)} {_after(d)}" if row.p_value is not None else
                    f"{METHOD_LABELS.get(d.get('test', ''), d.get('test'))} {_fmt(d.get('statistic'))}, "
                    f"noise band {_fmt(d.get('noise'))} at n={row.n}")
        what = (f"the share of predicted positives moved to {_fmt(row.value)} from the reference "
                f"{_fmt(d.get('reference'))} ({evidence})")
    elif row.metric == "new_category_share":
        examples = ", ".join(f"{cut_to_limit(repr(name))} ({count})" for name, count in d.get("examples", {}).items())
        what = (f"{_fmt(row.value)} of `{row.column}` values are categories the reference never saw "
                f"({d.get('unseen_rows')} of {row.n} rows: {examples}); expected none")
    elif row.kind is MetricKind.DRIFT and row.p_value is not None:
        what = (f"drift{where} ({METHOD_LABELS.get(row.metric, row.metric)} test, statistic {_fmt(row.value)} on "
                f"{row.n} rows): p = {_fmt(row.p_value)} {_after(d)} "
                f"<= {_fmt(row.threshold_warning if row.severity is Severity.WARNING else row.threshold_critical)}")
    elif row.kind is MetricKind.DRIFT:
        what = (f"drift{where} ({METHOD_LABELS.get(row.metric, row.metric)}): {_fmt(row.value)} >= "
                f"{_fmt(row.threshold_warning if row.severity is Severity.WARNING else row.threshold_critical)}"
                f" (noise band {_fmt(d.get('noise'))} at n={row.n})")
    elif row.kind is MetricKind.QUALITY:
        quoted: list[Any] = d.get("examples") or []
        what = (f"data quality check {row.metric}{where} failed ({d.get('expectation', '')}): "
                f"observed {cut_to_limit(d.get('observed', ''))}; "
                f"expected {cut_to_limit(d.get('expected') or 'the reference profile')}")
        if quoted:
            what += f"; examples: {', '.join(map(cut_to_limit, quoted))}"
    elif row.kind in (MetricKind.PERFORMANCE, MetricKind.ESTIMATED_PERFORMANCE):
        estimated = row.kind is MetricKind.ESTIMATED_PERFORMANCE
        allowed = row.threshold_critical if row.severity is Severity.CRITICAL else row.threshold_warning
        moved = "rose" if row.metric in LOWER_IS_BETTER else "fell"
        what = (f"{'estimated ' if estimated else ''}{row.metric}{where} {moved} to {_fmt(row.value)} from the reference "
                f"{_fmt(d.get('baseline'))} (relative change {_fmt(d.get('relative_drop'))}, allowed {_fmt(allowed)}) on "
                + (f"{row.n} predictions, from their reference-calibrated scores (no labels yet)" if estimated else
                   f"{row.n} labelled predictions ({_pct(d.get('coverage'))} of the window labelled)")
                + f"; {_evidence(d)}")
    elif row.metric == "row_count":
        latest = d.get("latest_prediction")
        what = ("no predictions arrived in the window (data delay or an outage upstream); expected at least 1; "
                + (f"the latest prediction is from {latest}" if latest else "the log holds no earlier prediction"))
    elif "z" in d.get("dynamic", {}):
        dyn = d["dynamic"]
        what = (f"{row.metric}{where} = {_fmt(row.value)}, {_fmt(dyn['z'])} standard deviations from its recent "
                f"mean {_fmt(dyn['mean'])} (std {_fmt(dyn['std'])}, last {dyn['windows']} windows; alerts from "
                f"{_fmt(dyn['k_warning'])})")
    elif row.metric == "run_failed":
        what = (f"the monitoring run failed after its retries, so this window is not monitored: "
                f"{cut_to_limit(d.get('error', ''), SHOWN_ERROR_LIMIT)}; "
                "see the task log in Airflow")
    elif row.metric == "volume":
        what = (f"{row.n} predictions in the window, outside the expected {_fmt(d.get('low'))} to {_fmt(d.get('high'))} "
                f"for this hour of the week (mean {_fmt(d.get('mean'))} +- {_fmt(d.get('k'))} x {_fmt(d.get('std'))} "
                f"over {len(d.get('history', []))} earlier week(s): {d.get('history')})")
    elif row.kind is MetricKind.OPERATIONAL and row.column:
        threshold = row.threshold_warning if row.severity is Severity.WARNING else row.threshold_critical
        what = f"{row.metric}{where} = {_fmt(row.value)} on {row.n} rows, at or above {_fmt(threshold)}"
        if d.get("statuses"):
            what += f" (statuses that are not ok: {cut_to_limit(d['statuses'])})"
    else:
        what = f"{row.metric}{where} = {_fmt(row.value)}"
    return f"[{row.severity.name}] {model}: {what}; window {row.window}"


def _evidence(d: dict) -> str:
    """Why a performance change is not noise: the test that gave its p-value (performance/significance.py)."""
    if d.get("test") == "fisher_exact":
        test = (f"{d['successes']} of {d['trials']} against the reference's {d['reference_successes']} of "
                f"{d['reference_trials']}, Fisher's exact test")
    else:
        test = f"the reference's band at that many rows is {_fmt(d.get('band_mean'))} +- {_fmt(d.get('band_std'))}"
    return f"{test}: p = {_fmt(d.get('p_value_corrected'))} {_after(d)} <= {_fmt(d.get('significance'))}"


def _after(d: dict) -> str:
    """What a p-value was corrected for: its family's tests and its family's share of the window's false-page
    budget (alerting/policy.py, BUDGET_SHARES)."""
    share = d.get("budget_share")
    return f"after {d.get('correction', 'correction')}" + (f" and a {share:g} share of the budget" if share else "")


def resolved_text(model: str, row: MetricRow) -> str:
    where = f" of `{row.column}`" if row.column else ""
    return f"[RESOLVED] {model}: {row.kind.value} {row.metric}{where} is back to normal; window {row.window}"


def _subject(rule: str, column: str, slice_part: str) -> str:
    """`drift:feature_drift of `income` for employment_type=salaried`: an alert named by its key's parts."""
    where = f" of `{column}`" if column else ""
    return f"{rule}{where}" + (f" for {cut_to_limit(slice_part)}" if slice_part else "")


def unseen_text(model: str, alert: object, missed: int, window: object) -> str:
    """The resolve of an alert its rule could no longer evaluate (alerts.resolve_unseen_after)."""
    subject = _subject(alert.rule, alert.column_name, alert.slice)  # type: ignore[attr-defined]
    return (f"[RESOLVED] {model}: {subject} was not evaluated in the last {missed} windows (a slice too small, a "
            f"feature skipped or no labels due), so it is no longer seen; resolved without a clean window; "
            f"window {window}")


def folded_resolved_text(model: str, alert: object, cause: str) -> str:
    subject = _subject(alert.rule, alert.column_name, alert.slice)  # type: ignore[attr-defined]
    return f"[RESOLVED] {model}: {subject} resolved with its cause {cause.removeprefix(f'{model}:')}"


def folded_line(model: str, key: str, row: MetricRow | None, note: str) -> str:
    """One alert folded under a root: its rule, column, slice, severity and value."""
    if row is None:
        text = key.removeprefix(f"{model}:")
    else:
        slice_part = keys.slice_part(row.slice_key, row.slice_value)
        text = f"{row.severity.name} {_subject(alert_rule(row), row.column, slice_part)} = {_fmt(row.value)}"
        if row.p_value is not None:
            text += f" (p = {_fmt(row.p_value)})"
    return f"{text}{f' ({note})' if note else ''}"


def incident_text(model: str, action: str, members: list, folded: dict[str, list], open_left: int) -> str:
    """One notification for a window's root alerts of one incident (lifecycle Transitions), each followed by the
    alerts folded under it. A lone root with nothing folded reads as its own message."""
    if len(members) == 1 and not folded[members[0].alert_key] and action != "update":
        return members[0].message
    lines = []
    total_folded = sum(len(children) for children in folded.values())
    if len(members) > 1:
        severity = max(t.severity for t in members).name
        verb = "resolved" if action in ("resolve", "update") else "findings"
        lines.append(f"[{'RESOLVED' if action in ('resolve', 'update') else severity}] {model}: {len(members)} {verb}"
                     + (f", {total_folded} more folded under them" if total_folded else "") + ":")
    for t in members:
        lines.append(f"• {t.message}" if len(members) > 1 else t.message)
        children = folded[t.alert_key]
        if children:
            lines.append(f"    folded under it ({len(children)}): "
                         + "; ".join(folded_line(model, key, row, note) for key, row, note in children))
    if action == "update":
        lines.append(f"{open_left} root alert(s) of this incident are still open.")
    return "\n".join(lines)
