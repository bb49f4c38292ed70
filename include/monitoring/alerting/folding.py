"""Which of a window's alerts are consequences of another: the one place where alerts are folded by cause.

Within one model and window, among the rows that breach (WARNING or above), a cause being a row that breaches too
or whose alert is open:

- a feature's drift is a child of that feature's failed cause check (constant_column, mostly_null, wrong_type,
  out_of_range, null_rate; the most severe when several failed): a zeroed pipeline drifts, the check says why;
  any other failed check of the same column is a child of that one too (zeros are also out of range);
- a slice's alert on a rule and column is a child of the whole window's alert on the same rule and column when
  that one breaches too: the slice restates it on fewer rows;
- the score's drift and the share of predicted positives are children of the most drifted feature: a model fed
  moved inputs moves its outputs. Without any feature drift, of a failed unexpected_model_version check: a model
  the monitor does not expect is serving. Else they stay roots, since then they are the news (the model or its
  serving changed, not its inputs);
- a performance drop shows in several metrics of one slice (or of the whole window): the metrics fold under the
  most severe one, the monitor's headline metric first on a tie, realized and estimated apart; estimated
  performance, computed from the scores, folds under the score's drift (else the most drifted feature);
- the whole window's alert on a rule and column is folded under an open alert of one of its slices on the same
  rule and column (performance: on any metric of the same kind): the slice saw it first, the window shows it
  spreading;
- a slice that holds every row of the window (the only serving model version) raises no alert of its own: its
  row has the same count as the whole window's row for the same rule and column, so it is the window again. Its
  metric rows stay.

Parents are immediate (a slice's drift -> the window's drift -> the cause check); lifecycle.py folds a child under
its nearest open ancestor, and a child whose ancestors are not open is a root and pages on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

from include.monitoring.alerting import keys
from include.monitoring.alerting.messages import alert_rule
from include.monitoring.catalogue import FEATURE_DRIFT
from include.monitoring.types import MetricKind, MetricRow, Severity

CAUSE_CHECKS = ("constant_column", "mostly_null", "wrong_type", "wrong_type_score", "out_of_range", "null_rate")
# Window-level drift rows that restate the features' drift or describe the model's outputs.
SUMMARY_DRIFT = ("drift_share", "positive_share", "mean_score", "low_confidence_share")
PERFORMANCE_KINDS = (MetricKind.PERFORMANCE, MetricKind.ESTIMATED_PERFORMANCE)
ROLLOUT_CHECK = "unexpected_model_version"


@dataclass(frozen=True, slots=True)
class Folding:
    parents: dict[str, str] = field(default_factory=dict)  # child key -> the key of its cause in the window
    whole_window_slices: frozenset[str] = frozenset()  # slice keys that restate the whole window: no alert

    def ancestors(self, key: str) -> list[str]:
        """The parent, its parent, ... (nearest first; never `key` itself)."""
        chain: list[str] = []
        seen = {key}
        while (key := self.parents.get(key, "")) and key not in seen:
            chain.append(key)
            seen.add(key)
        return chain


def fold(score_column: str, rows: Mapping[str, MetricRow], open_keys: Set[str] = frozenset(),
         metrics: Sequence[str] = ()) -> Folding:
    """The window's folding; `rows` by alert key (lifecycle.apply_alerts's `keyed`). A cause is a row that breaches
    in the window or whose alert is open (`open_keys`): while a feature's drift is open, the score's drift in a window
    where the feature's own test happens to pass is still its consequence."""
    breaching = {key for key, row in rows.items() if row.severity >= Severity.WARNING}
    causing = breaching | (set(open_keys) & set(rows))
    whole = {(alert_rule(row), row.column): (key, row) for key, row in rows.items() if not row.slice_key}
    causes = _cause_checks({key: rows[key] for key in causing})
    features = sorted(((key in breaching, row.severity, key) for key, row in rows.items() if key in causing
                       and not row.slice_key and _is_feature_drift(row) and row.column != score_column), reverse=True)
    worst_feature = features[0][2] if features else ""
    # A model version the monitor does not expect is serving: its outputs differ from the reference's model.
    rollout = next((key for key, row in sorted(rows.items()) if key in causing and row.kind is MetricKind.QUALITY
                    and row.metric == ROLLOUT_CHECK), "")
    score_drift = next((key for key, row in rows.items() if key in causing and not row.slice_key
                        and _is_feature_drift(row) and row.column == score_column), "")
    leads = _performance_leads(rows, causing, open_keys, metrics)
    parents: dict[str, str] = {}
    restating: set[str] = set()
    for key, row in rows.items():
        if row.slice_key:
            window_key, window_row = whole.get((alert_rule(row), row.column), ("", None))
            if window_row is not None and row.n is not None and row.n == window_row.n:
                restating.add(key)
            elif key in breaching and window_key in causing:
                parents[key] = window_key
        elif key in breaching and row.kind is MetricKind.QUALITY and causes.get(row.column, key) != key:
            parents[key] = causes[row.column]  # another failed check of the column: its most severe one says it
        elif key in breaching and row.kind is MetricKind.DRIFT:
            if _is_feature_drift(row) and row.column in causes:
                parents[key] = causes[row.column]
            elif (row.column == score_column or row.metric in SUMMARY_DRIFT) and (worst_feature or rollout):
                parents[key] = worst_feature or rollout
        elif key in breaching and row.kind is MetricKind.ESTIMATED_PERFORMANCE and (score_drift or worst_feature):
            parents[key] = score_drift or worst_feature  # estimated from the scores: it moves when they do
        if key in breaching and row.kind in PERFORMANCE_KINDS and key not in parents:
            lead = leads.get((row.kind, row.slice_key, row.slice_value), key)
            if lead != key:
                parents[key] = lead  # one slice's (or the window's) drop shows in several metrics: one cause
        if key in breaching and not row.slice_key and key not in parents:
            # A slice saw it first: the window's alert is that slice's problem spreading. The same rule's slice
            # alert, else (performance) any of the kind's: a slice's drop moves the window's other metrics too.
            same_rule = sorted(k for k in open_keys if keys.is_slice_of(k, key))
            same_kind = sorted(k for k in open_keys if row.kind in PERFORMANCE_KINDS and keys.is_slice_of_kind(k, row.kind.value))
            if same_rule or same_kind:
                parents[key] = (same_rule or same_kind)[0]
    return Folding(parents, frozenset(restating))


def _performance_leads(rows: Mapping[str, MetricRow], causing: Set[str], open_keys: Set[str],
                       metrics: Sequence[str]) -> dict[tuple[MetricKind, str, str], str]:
    """Per (kind, slice): the key of the metric that speaks for the others, among those breaching or open: one
    already open (the drop was reported), then the most severe, then the first in the monitor's list of metrics."""
    order = {name: index for index, name in enumerate(metrics)}
    best: dict[tuple[MetricKind, str, str], tuple[bool, Severity, int, str]] = {}
    for key, row in rows.items():
        if key in causing and row.kind in PERFORMANCE_KINDS:
            group = (row.kind, row.slice_key, row.slice_value)
            rank = (key in open_keys, row.severity, -order.get(row.metric, len(order)), key)
            if group not in best or rank > best[group]:
                best[group] = rank
    return {group: rank[-1] for group, rank in best.items()}


def _cause_checks(breaching: Mapping[str, MetricRow]) -> dict[str, str]:
    """Column -> key of its most severe failed cause check in the window (the first in CAUSE_CHECKS on a tie)."""
    found: dict[str, tuple[Severity, int, str]] = {}
    for key, row in breaching.items():
        if row.kind is MetricKind.QUALITY and row.metric in CAUSE_CHECKS and row.column and not row.slice_key:
            rank = (row.severity, -CAUSE_CHECKS.index(row.metric), key)
            if row.column not in found or rank[:2] > found[row.column][:2]:
                found[row.column] = rank
    return {column: key for column, (_severity, _order, key) in found.items()}


def _is_feature_drift(row: MetricRow) -> bool:
    return row.kind is MetricKind.DRIFT and row.details.get("alert_rule") == FEATURE_DRIFT
