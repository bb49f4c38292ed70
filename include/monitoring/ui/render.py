"""Server-rendered HTML of the Model health pages: no JavaScript, no CDN, nothing fetched by the browser.

Every value that comes from the data (feature and category names, check examples, alert messages) passes
through `text()`, which escapes it: a category value `<script>alert(1)</script>` shows as those characters.
Markup is only ever built from constants and escaped values. Charts are inline SVG drawn here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

STYLE = """
body{font-family:system-ui,sans-serif;margin:1rem;color:#222;font-size:14px}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}
th{background:#f4f4f4}.sev-CRITICAL{background:#e53935;color:#fff}.sev-WARNING{background:#fbc02d}
.sev-OK{background:#c8e6c9}.sev-INFO{background:#bbdefb}.heat td{min-width:16px;height:18px;padding:0}
.heat td:first-child{padding:0 6px}
.heat th{font-size:10px;font-weight:normal;padding:0;white-space:nowrap;max-width:16px;overflow:visible}
.muted{color:#777}nav a,nav b{margin-right:1rem}svg{background:#fafafa;border:1px solid #ddd}
"""
CHART_WIDTH, CHART_HEIGHT = 720, 140


def text(value: Any) -> str:
    """Data as HTML text: escaped, quotes included (safe inside attributes too)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    return html.escape(str(value), quote=True)


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{text(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{text(title)}</h1>{body}</body></html>")


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], css: str = "") -> str:
    """Cells must already be HTML (escaped through `text()` or built from it)."""
    head = "".join(f"<th>{text(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def severity(value: str | None) -> str:
    return f"<span class='sev-{text(value)}'>{text(value)}</span>" if value else ""


def link(href: str, label: Any) -> str:
    """A link that opens in the same frame: Airflow's UI frames our pages in a sandbox without top navigation or
    pop-ups, where a link to another window is dead (so the fleet names the DAG instead of linking it)."""
    return f"<a href='{text(href)}'>{text(label)}</a>"


def path_part(value: str) -> str:
    return quote(value, safe="")


# --- Fleet -----------------------------------------------------------------------------------------------------


def fleet_page(rows: list[dict[str, Any]], prefix: str) -> str:
    if not rows:
        return page("Model health", "<p>No monitored model you may read.</p>")
    headers = ["Model", "Last window", "Status", "Open alerts", "Worst drift now", "Performance (realized / baseline)",
               "Coverage", "Estimated", "Quality failures, last 24 h", "Volume, last 24 h (expected)", "DAG"]
    return page("Model health", table(headers, (_fleet_cells(row, prefix) for row in rows)))


def _fleet_cells(row: dict[str, Any], prefix: str) -> list[str]:
    last = row["last_window"] or {}
    performance = row["performance"] or {}
    realized, estimated = performance.get("realized") or {}, performance.get("estimated") or {}
    volume = row["volume_24h"]
    return [
        link(f"{prefix}/models/{path_part(row['dag_id'])}", row["model"]),
        text(last.get("window_start")) + (f" <span class='muted'>({text(row['last_window_age_hours'])} h ago)</span>"
                                           if row["last_window_age_hours"] is not None else ""),
        text(last.get("status")),
        " ".join(f"{severity(name)} {count}" for name, count in sorted(row["open_alerts"].items())),
        "<br>".join(f"{severity(f['severity'])} {text(f['feature'])} ({text(f['method'])} {text(f['value'])})"
                    for f in row["worst_features"]),
        f"{text(performance.get('metric'))} {text(realized.get('value'))} / {text(realized.get('baseline'))}",
        text(performance.get("coverage")),
        text(estimated.get("value")),
        text(row["quality_failures_24h"]),
        f"{text(volume['rows'])} ({text(volume['expected']) or 'no history'})",
        text(row["dag_id"]),
    ]


# --- Model -----------------------------------------------------------------------------------------------------


def model_page(data: dict[str, Any], prefix: str, range_name: str, ranges: Iterable[str]) -> str:
    base = f"{prefix}/models/{path_part(data['dag_id'])}"
    nav = "<nav>" + "".join(
        f"<b>{text(name)}</b>" if name == range_name else link(f"{base}?range={name}", name) for name in ranges
    ) + f" <span class='muted'>windows from {text(data['since'])} to {text(data['until'])}</span></nav>"
    sections = [
        ("Drift (features x windows)", heatmap(data["drift"])),
        ("Performance", performance_charts(data["performance"])),
        ("Data-quality failures", quality_table(data["quality"])),
        ("Volume, latency and error rate", operational_charts(data["operational"])),
        ("Alerts", alert_table(data["alerts"])),
    ]
    body = nav + "".join(f"<h2>{text(title)}</h2>{content}" for title, content in sections)
    return page(f"Model health: {data['model']}", body)


def heatmap(drift: dict[str, Any]) -> str:
    if not drift["features"]:
        return "<p class='muted'>No drift rows in this range.</p>"
    rows = []
    for feature in drift["features"]:
        cells = drift["cells"][feature]
        rows.append([text(feature), *(_heat_cell(cells.get(window)) for window in drift["windows"])])
    header = "<tr><th>feature</th>" + "".join(
        f"<th title='{text(w)}'>{text(_day_mark(w, previous))}</th>"
        for previous, w in zip([None, *drift["windows"]], drift["windows"], strict=False)) + "</tr>"
    # data-* attributes name what a cell shows, for the browser test and for anyone scripting the page.
    body = "".join(f"<tr data-feature='{row[0]}'><td>{row[0]}</td>" + "".join(row[1:]) + "</tr>" for row in rows)
    # A month of hourly windows is wider than a screen: the table scrolls inside the page.
    return (f"<div style='overflow-x:auto'><table class='heat'><thead>{header}</thead><tbody>{body}</tbody>"
            "</table></div>")


def _day_mark(window: str, previous: str | None) -> str:
    """The date (MM-DD) above the first window of each day; other columns stay narrow."""
    return window[5:10] if previous is None or previous[:10] != window[:10] else ""


def _heat_cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "<td class='muted'></td>"
    hover = (f"{cell['feature']} {cell['window_start']} {cell['method']}={_number(cell['value'])} p={_number(cell['p_value'])} "
             f"rows={cell['rows']} warning={_number(cell['warning'])} critical={_number(cell['critical'])}"
             f"{' band=' + str(cell['band']) if cell['band'] else ''} {cell['severity']} {cell['note']}")
    return (f"<td class='sev-{text(cell['severity'])}' data-window='{text(cell['window_start'])}' "
            f"data-severity='{text(cell['severity'])}' title='{text(hover)}'></td>")


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def line_chart(series: dict[str, list[dict[str, Any]]], reference_lines: dict[str, float] | None = None) -> str:
    """Inline SVG: one polyline per series over the windows' order, with dashed reference lines (baselines)."""
    points = [p["value"] for values in series.values() for p in values if p["value"] is not None]
    points += list((reference_lines or {}).values())
    if not points:
        return "<p class='muted'>No values in this range.</p>"
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    windows = sorted({p["window_start"] for values in series.values() for p in values})
    x_of = {window: 6 + i * (CHART_WIDTH - 12) / max(len(windows) - 1, 1) for i, window in enumerate(windows)}  # dots inside

    def y(value: float) -> float:
        height: float = CHART_HEIGHT - 10 - (value - low) / span * (CHART_HEIGHT - 20)
        return height

    colours = ["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a"]
    shapes, legend = [], []
    for (name, values), colour in zip(series.items(), colours * 4, strict=False):
        known = [(x_of[p["window_start"]], y(p["value"]), p) for p in values if p["value"] is not None]
        coords = " ".join(f"{x:.1f},{y_:.1f}" for x, y_, _point in known)
        shapes.append(f"<polyline fill='none' stroke='{colour}' points='{coords}'/>")
        # A dot per window: a lone value (one labelled window) shows, and each names its window and value on hover.
        shapes.extend(f"<circle cx='{x:.1f}' cy='{y_:.1f}' r='2.5' fill='{colour}'><title>{text(name)} "
                      f"{text(point['window_start'])}: {text(point['value'])}</title></circle>" for x, y_, point in known)
        legend.append(f"<span style='color:{colour}'>{text(name)}{'' if known else ' (none in this range)'}</span>")
    for name, value in (reference_lines or {}).items():
        shapes.append(f"<line x1='0' x2='{CHART_WIDTH}' y1='{y(value):.1f}' y2='{y(value):.1f}' stroke='#999' "
                      f"stroke-dasharray='4'><title>{text(name)} {text(value)}</title></line>")
        legend.append(f"<span class='muted'>- - {text(name)} {text(value)}</span>")
    return (f"<div>{' '.join(legend)} <span class='muted'>min {text(low)} max {text(high)}</span></div>"
            f"<svg width='{CHART_WIDTH}' height='{CHART_HEIGHT}'>{''.join(shapes)}</svg>")


def performance_charts(performance: dict[str, list[dict[str, Any]]]) -> str:
    metrics = sorted({name.split(":", 1)[1] for name in performance if ":" in name})
    parts = []
    for metric in metrics:
        series = {name: performance.get(f"{kind}:{metric}", []) for name, kind in (
            ("realized", "performance"), ("estimated", "estimated_performance"))}
        baseline = next((p["baseline"] for values in series.values() for p in values if p["baseline"] is not None), None)
        tiers = next(((p["warning_drop"], p["critical_drop"]) for values in series.values() for p in values
                      if p["warning_drop"] is not None), None)
        lines = {} if baseline is None else {"baseline": baseline}
        if baseline is not None and tiers is not None:
            lines |= {"warning": baseline * (1 - tiers[0]), "critical": baseline * (1 - tiers[1])}
        parts.append(f"<h3>{text(metric)} (realized, estimated)</h3>{line_chart(series, lines)}")
    if "label_coverage" in performance:
        parts.append(f"<h3>label coverage</h3>{line_chart({'coverage': performance['label_coverage']})}")
    return "".join(parts) or "<p class='muted'>No performance rows in this range.</p>"


def operational_charts(operational: dict[str, list[dict[str, Any]]]) -> str:
    return "".join(f"<h3>{text(name)}</h3>{line_chart({name: values})}" for name, values in operational.items())


def quality_table(quality: list[dict[str, Any]]) -> str:
    if not quality:
        return "<p class='muted'>No failed checks in this range.</p>"
    return table(["Window", "Failed", "By severity", "Checks"], (
        [text(entry["window_start"]), text(entry["failed"]),
         " ".join(f"{severity(name)} {count}" for name, count in sorted(entry["by_severity"].items())),
         text(", ".join(entry["checks"]))] for entry in quality))


def alert_table(timeline: list[dict[str, Any]]) -> str:
    if not timeline:
        return "<p class='muted'>No alerts in this range.</p>"
    return table(["Alert", "Severity", "Status", "Opened", "Resolved", "Escalations", "Notifications (its incident's)",
                  "Message"], (
        [text(entry["alert_key"]), severity(entry["severity"]), text(entry["status"]), text(entry["opened_at"]),
         text(entry["resolved_at"]), text(_escalations(entry["history"])),
         f"folded under {text(entry['folded_under'])}" if entry.get("folded_under")
         else _notification_summary(entry["notifications"]), text(entry["message"])] for entry in timeline))


def _escalations(history: dict[str, str]) -> str:
    """The windows where the severity changed, e.g. '09:00 WARNING -> 10:00 CRITICAL'."""
    changes, previous = [], None
    for window, level in sorted(history.items()):
        if level != previous:
            changes.append(f"{window[11:16]} {level}")
            previous = level
    return " -> ".join(changes)


def _notification_summary(sent: list[dict[str, Any]]) -> str:
    return "<br>".join(text(f"{n['channel']} {n['action']} {n['status']}"
                            + (f" ({n['last_error']})" if n["last_error"] else "")) for n in sent)


# --- Window ----------------------------------------------------------------------------------------------------


def _distinct(examples: Iterable[Any]) -> str:
    """Examples once each, in the order found (a check's examples repeat the value of every failing row)."""
    return ", ".join(dict.fromkeys(map(str, examples)))


def window_page(data: dict[str, Any]) -> str:
    run = data["run"]
    summary = (f"<p>Window {text(run['window_start'])} to {text(run['window_end'])}: run <b>{text(run['status'])}</b> "
               f"{text(run['status_reason'])}; {text(run['row_count'])} rows, {text(run['sampled_rows'])} sampled; "
               f"DAG run {text(run['dag_run_id'])}</p>")
    validation = table(["Check", "Column", "Severity", "Passed", "Observed", "Unexpected %", "Examples", "Expected"], (
        [text(row["check"]), text(row["column"]), severity(row["severity"]), text("yes" if row["success"] else "no"),
         text(row["observed"]), text(row["unexpected_pct"]), text(_distinct(row["examples"])),
         text(row["expected"])] for row in data["validation"]))
    drift = table(["Feature", "Method", "Value", "p-value", "Rows", "Warning", "Critical", "Band", "Severity", "Note"], (
        [text(c["feature"]), text(c["method"]), text(c["value"]), text(c["p_value"]), text(c["rows"]),
         text(c["warning"]), text(c["critical"]), text(c["band"]), severity(c["severity"]), text(c["note"])]
        for c in data["drift"]))
    performance = table(["Window", "Kind", "Metric", "Slice", "Value", "Labels", "Baseline", "Severity", "Re-scored"], (
        [text(p["window_start"]), text(p["kind"]), text(p["metric"]), text(p["slice"]), text(p["value"]),
         text(p["n"]), text(p["baseline"]), severity(p["severity"]), text("yes" if p["rescored"] else "")]
        for p in data["performance"]))
    found = table(["Alert", "In this window", "Now", "Status", "Opened", "Resolved", "Message"], (
        [text(a["alert_key"]), severity(a["severity_in_window"]), severity(a["severity"]), text(a["status"]),
         text(a["opened_at"]), text(a["resolved_at"]), text(a["message"])] for a in data["alerts"]))
    sent = table(["Alert", "Channel", "Action", "Severity", "Status", "Attempts", "Error", "Sent"], (
        [text(n["alert_key"]), text(n["channel"]), text(n["action"]), severity(n["severity"]), text(n["status"]),
         text(n["attempts"]), text(n["last_error"]), text(n["sent_at"])] for n in data["notifications"]))
    body = summary + "".join(f"<h2>{title}</h2>{content}" for title, content in (
        ("Validation", validation), ("Drift per feature", drift), ("Performance", performance),
        ("Alerts", found), ("Notifications", sent)))
    return page(f"Model health: {data['model']} window {run['window_start']}", body)
