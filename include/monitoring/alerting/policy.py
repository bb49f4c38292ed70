"""Scores -> severities. The only place where the direction of a score is applied.

A distance alerts when it is at least its tier *and* above its noise band at the window's size;
a p-value alerts when, after Benjamini-Hochberg across its family of tests and its family's share of the window's
false-page budget (`BUDGET_SHARES`), it is at most its tier;
a performance metric alerts when its relative drop from the reference baseline exceeds its tier
(strictly: "a drop > 5 %") and is larger than the window's noise.

`drift_level` restates a feature's drift score, whichever method scored it, on one unitless scale fixed by the
same tiers and band, so that a chart of one feature keeps its unit when `auto` switches method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from include.monitoring.config import Tiers
from include.monitoring.types import ScoreKind, Severity


def score_severity(kind: ScoreKind, value: float | None, tiers: Tiers, noise: float | None = None) -> Severity:
    if value is None:
        return Severity.OK
    if kind is ScoreKind.DISTANCE:
        if noise is not None and value <= noise:
            return Severity.OK
        if tiers.critical is not None and value >= tiers.critical:
            return Severity.CRITICAL
        if tiers.warning is not None and value >= tiers.warning:
            return Severity.WARNING
        return Severity.OK
    return floor_severity(value, tiers)


# No evidence at all: a p-value of exactly 0 (the test's floor) or an infinite distance. Far beyond any tier, but a
# number a chart can draw.
_NO_P_VALUE_FLOOR = 1e-300
_BELOW_1, _BELOW_2 = math.nextafter(1.0, 0.0), math.nextafter(2.0, 0.0)
_BEYOND_CAP = 1e300  # keeps an infinite distance's level finite (about 1000)


def drift_level(kind: ScoreKind, value: float | None, tiers: Tiers, noise: float | None = None) -> float | None:
    """A drift score on one unitless scale: 0 = no evidence of drift (inside the noise band), 1 = at the WARNING
    tier, 2 = at the CRITICAL tier, whichever method produced it. None without a score or without any tier.

    The score is first read as evidence `e`, higher is worse: a distance as it is, a p-value (the corrected one
    the tiers judge) as -log10(p), so that every decade of p counts alike. The tiers and the noise floor are read
    the same way: e0 = the noise band (distances; 0 without one) or 0 (p = 1 for p-values); eW and eC the tiers,
    each lifted to e0 because the policy gives nothing inside the band. The level is then piecewise linear:

        e <= e0         0
        e0 < e < eW     (e - e0) / (eW - e0)                    below WARNING: 0..1
        eW <= e < eC    1 + (e - eW) / (eC - eW)                 WARNING: 1..2
        e >= eC         2 + log2(1 + (e - eC) / (eC - eW))       CRITICAL: 2 at the tier, 3 one tier gap beyond it,
                                                                 4 three gaps beyond (compressed, never capped)

    so level >= 1 exactly when `score_severity` gives WARNING or more and level >= 2 exactly when it gives
    CRITICAL (with the same tiers and band). A band at or above a tier makes the level jump from 0 to that tier
    just above the band, as the verdict does. Without a CRITICAL tier the WARNING segment approaches 2 without
    reaching it, 2 - g / (g + e - eW); without a WARNING tier the CRITICAL tier is the first one (0..1 below it,
    2 from it).
    """
    if value is None or math.isnan(value):
        return None
    if tiers.warning is None and tiers.critical is None:
        return None
    evidence, floor, warning, critical = _evidence_scale(kind, value, tiers, noise)
    if evidence <= floor:
        return 0.0
    if evidence < warning:  # rounding must not lift a score below a tier onto it
        return min((evidence - floor) / (warning - floor), _BELOW_1)
    gap = _tier_gap(floor, warning, critical)
    if critical is None:
        return min(2.0 - gap / (gap + (evidence - warning)), _BELOW_2)
    if evidence < critical:
        return min(1.0 + (evidence - warning) / (critical - warning), _BELOW_2)
    return 2.0 + math.log2(1.0 + min((evidence - critical) / gap, _BEYOND_CAP))


def _evidence_scale(kind: ScoreKind, value: float, tiers: Tiers,
                    noise: float | None) -> tuple[float, float, float, float | None]:
    """(evidence, floor, first alerting tier, CRITICAL tier or None), all higher-is-worse, tiers lifted to the floor."""
    if kind is ScoreKind.DISTANCE:
        def read(score: float) -> float:
            return min(score, _BEYOND_CAP)
        floor = noise if noise is not None and noise > 0 else 0.0
    else:
        def read(score: float) -> float:
            return -math.log10(min(max(score, _NO_P_VALUE_FLOOR), 1.0))
        floor = 0.0
    set_tiers = [read(t) for t in (tiers.warning, tiers.critical) if t is not None]
    first = max(min(set_tiers), floor)  # the lower evidence of the two: the tier that alerts first
    critical = max(read(tiers.critical), floor) if tiers.critical is not None else None
    return read(value), floor, first, critical


def _tier_gap(floor: float, warning: float, critical: float | None) -> float:
    """The scale of one step beyond the last tier: the gap between the tiers, else from the floor to the tier."""
    for gap in ((critical - warning) if critical is not None else 0.0, warning - floor, abs(warning)):
        if gap > 0:
            return gap
    return 1.0


def floor_severity(value: float | None, tiers: Tiers) -> Severity:
    """Lower is worse (a p-value, a label coverage): at or below a tier alerts at it."""
    if value is None:
        return Severity.OK
    if tiers.critical is not None and value <= tiers.critical:
        return Severity.CRITICAL
    if tiers.warning is not None and value <= tiers.warning:
        return Severity.WARNING
    return Severity.OK


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values (step-up, monotone, capped at 1) controlling the false discovery rate."""
    p = np.asarray(p_values, dtype="float64")
    if p.size == 0:
        return []
    if not np.all(np.isfinite(p)):
        raise ValueError(f"p-values must be finite, got {list(p_values)}")  # one NaN would silence every alert
    order = np.argsort(p)
    scaled = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    result = np.empty_like(p)
    result[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in result]


def bonferroni(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values controlling the family-wise error rate: p * m, capped at 1."""
    return [min(1.0, float(p) * len(p_values)) for p in p_values]


def correct_p_values(p_values: Sequence[float], correction: str) -> list[float]:
    """The correction named in the config (drift.correction) applied across one window's features."""
    return {"benjamini_hochberg": benjamini_hochberg, "bonferroni": bonferroni}[correction](p_values)


# The false-page budget of one window (README, "The false-page budget"). A run makes several families of tests that
# can page: the whole window's drift tests, the slices' drift tests, and the exact tests of realized performance on the
# whole window and on the slices (one look per window: rescoring.alerting_rows). Each family is corrected within
# itself, then for its share of the window's budget (a weighted Bonferroni across the families), so that the CRITICAL
# tier, 1e-4, is the chance that a quiet window pages at all, however many families it has: 720 windows a month,
# one false page in about 14 months. The whole window's drift, the first sign of most incidents, gets half.
BUDGET_SHARES = {"drift": 0.5, "drift_slices": 0.1, "performance": 0.2, "performance_slices": 0.2}


def spend(p_values: Sequence[float], family: str) -> list[float]:
    """A family's corrected p-values, divided by its share of the window's budget (capped at 1)."""
    share = BUDGET_SHARES[family]
    return [min(1.0, float(p) / share) for p in p_values]


def relative_drop(baseline: float | None, value: float | None) -> float | None:
    """(baseline - value) / baseline for a higher-is-better metric; None when either is undefined."""
    if baseline is None or value is None or baseline == 0:
        return None
    return (baseline - value) / abs(baseline)


def significant_drop(baseline: float | None, value: float | None, standard_error: float | None, z: float) -> bool:
    """Whether `value` lies more than `z` standard errors below `baseline` (a drop, not noise)."""
    if baseline is None or value is None or standard_error is None:
        return False
    return baseline - value > z * standard_error


def drop_severity(drop: float | None, warning_drop: float, critical_drop: float) -> Severity:
    if drop is None:
        return Severity.OK
    if drop > critical_drop:
        return Severity.CRITICAL
    if drop > warning_drop:
        return Severity.WARNING
    return Severity.OK


# --- verdicts of single measurements: volume, data delay, shares with a limit, dynamic thresholds, checks -----------

# The severities a check of the generated or custom suite may declare (GX's names); an unknown one is CRITICAL.
CHECK_SEVERITY = {"critical": Severity.CRITICAL, "warning": Severity.WARNING, "info": Severity.INFO}
# A range check fails on a share of rows; in a 30-row night hour one legitimate outlier is 3 %. Like unseen
# categories, it alerts only from this many offending rows.
MIN_OFFENDING_ROWS = 3


def check_severity(check: str, declared: str, failed: bool, unexpected_pct: float | None, rows: int) -> Severity:
    """A validation result's severity: its declared one when it failed, except a range check failed by fewer than
    MIN_OFFENDING_ROWS rows (recorded as GX judged it, no alert for one or two rows)."""
    if not failed or (check == "out_of_range" and unexpected_pct is not None
                      and unexpected_pct / 100 * rows < MIN_OFFENDING_ROWS - 0.5):
        return Severity.OK
    return CHECK_SEVERITY.get(declared, Severity.CRITICAL)


def empty_window_severity(row_count: int) -> Severity:
    """No prediction in a window is the data-delay alert: CRITICAL."""
    return Severity.CRITICAL if row_count == 0 else Severity.OK


def volume_severity(row_count: int, low: float, high: float) -> Severity:
    """A row count outside the earlier weeks' band warns; an empty window is the data-delay alert's, and the same
    breach is not reported twice."""
    return Severity.WARNING if row_count and not low <= row_count <= high else Severity.OK


def share_severity(share: float, limit: float) -> Severity:
    """A share of rows above its limit (strictly) warns: the unmatched labels."""
    return Severity.WARNING if share > limit else Severity.OK


def dynamic_severity(z: float, k_warning: float, k_critical: float) -> Severity:
    """A value `z` standard deviations from its own recent history (alerts.dynamic)."""
    return Severity.CRITICAL if z >= k_critical else Severity.WARNING if z >= k_warning else Severity.OK
