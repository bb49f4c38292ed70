"""The names monitor files, metric rows and alerts share: task types, drift methods with their default tiers,
performance metrics with their directions, generated check names and notification channel kinds.

One place for each name, read by the config at DAG parse time and by the modules that implement the names
(`drift/__init__.py` checks its registry against DRIFT_METHOD_SPECS). Stdlib only.

A new drift method `foo`: `drift/foo.py` and its line in `drift/__init__.py`; here, its DriftMethodSpec line and
its name in NUMERIC_DRIFT_METHODS and/or CATEGORICAL_DRIFT_METHODS; `foo: Tiers = _default_tiers("foo")` in the
config's DriftConfig (the key monitor files set its tiers with); `tests/unit/drift/test_foo.py`. The config's
choices, tier ranges and the notifications' label follow from here; tests/unit/drift/test_contract.py and
tests/unit/test_catalogue.py fail on anything left out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from include.monitoring.errors import ConfigError
from include.monitoring.types import ScoreKind


class TaskType(enum.StrEnum):
    """What the model predicts. A str enum: YAML, JSON and XCom see the plain names."""

    BINARY_CLASSIFICATION = "binary_classification"  # the score is the positive class's probability
    MULTICLASS_CLASSIFICATION = "multiclass_classification"  # the prediction column holds the class
    REGRESSION = "regression"  # the score column holds the predicted value


# --- drift methods ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DriftMethodSpec:
    """A drift method as monitor files know it: its default tiers and the values a tier may take
    (`drift.<name>` in the config's NUMERIC_RANGES). The method itself lives in `drift/<name>.py`."""

    name: str
    label: str  # in notifications
    score_kind: ScoreKind  # DISTANCE: higher is worse; P_VALUE (after the window's correction): lower is worse
    warning: float
    critical: float
    tier_bounds: tuple[float, float]  # closed interval


# The p-value tiers: under no drift the correction keeps the chance that any of the window's tests reaches WARNING
# at 0.5 % (a feature's drift WARNING also needs 2 of 3 windows: alerts.persistence) and CRITICAL at 0.01 %,
# whatever the number of features. At 720 hourly windows a month, 0.01 % is one false page in about 14 months;
# 0.1 % would be one in six weeks. The distances after wasserstein: PSI's 0.1 / 0.2 translated (see each module).
DRIFT_METHOD_SPECS: dict[str, DriftMethodSpec] = {spec.name: spec for spec in (
    DriftMethodSpec("psi", "PSI", ScoreKind.DISTANCE, 0.1, 0.2, (0, 10)),
    DriftMethodSpec("chi2", "chi-squared", ScoreKind.P_VALUE, 0.005, 0.0001, (0, 1)),
    DriftMethodSpec("ks", "Kolmogorov-Smirnov", ScoreKind.P_VALUE, 0.005, 0.0001, (0, 1)),
    DriftMethodSpec("wasserstein", "Wasserstein", ScoreKind.DISTANCE, 0.1, 0.2, (0, 100)),  # reference std devs
    DriftMethodSpec("jensen_shannon", "Jensen-Shannon", ScoreKind.DISTANCE, 0.13, 0.19, (0, 1)),  # base 2
    DriftMethodSpec("hellinger", "Hellinger", ScoreKind.DISTANCE, 0.11, 0.16, (0, 1)),
    DriftMethodSpec("l_infinity", "L-infinity", ScoreKind.DISTANCE, 0.07, 0.10, (0, 1)),  # largest change of a bin's share
)}
# The methods each feature kind may name, in the order error messages list them.
NUMERIC_DRIFT_METHODS = ("ks", "wasserstein", "psi", "jensen_shannon", "hellinger", "l_infinity")
CATEGORICAL_DRIFT_METHODS = ("chi2", "jensen_shannon", "psi", "hellinger", "l_infinity")
AUTO = "auto"
# What "auto" resolves to: (the test for windows below drift.auto_switch_rows rows, the distance for larger ones).
AUTO_NUMERIC_METHODS = ("ks", "wasserstein")
AUTO_CATEGORICAL_METHODS = ("chi2", "jensen_shannon")


# The alert rule of a feature's own drift score: one alert per column, whichever method scored the window ("auto"
# switches between a test and a distance with the window size).
FEATURE_DRIFT = "feature_drift"
# The metric of a feature's drift on the unitless scale of policy.drift_level (0 none, 1 WARNING tier, 2 CRITICAL).
DRIFT_LEVEL = "drift_level"


# --- performance metrics ----------------------------------------------------------------------------------------------

# Per task: every metric it may compute, and the default list.
PERFORMANCE_METRICS: dict[TaskType, tuple[str, ...]] = {
    TaskType.BINARY_CLASSIFICATION: ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier",
                                     "ece"),
    TaskType.MULTICLASS_CLASSIFICATION: ("accuracy", "macro_f1", "weighted_f1", "recall_per_class"),
    TaskType.REGRESSION: ("mae", "rmse", "mape", "r2", "mean_error", "residual_p05", "residual_p50", "residual_p95"),
}
DEFAULT_PERFORMANCE_METRICS: dict[TaskType, tuple[str, ...]] = {
    TaskType.BINARY_CLASSIFICATION: ("roc_auc", "accuracy", "f1"),
    TaskType.MULTICLASS_CLASSIFICATION: ("accuracy", "macro_f1"),
    TaskType.REGRESSION: ("mae", "rmse"),
}
# Directions: LOWER_IS_BETTER (errors), SIGNED_METRICS (best at 0: compare |value|), everything else higher is better.
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "mae", "rmse", "mape"})
SIGNED_METRICS = frozenset({"mean_error", "residual_p05", "residual_p50", "residual_p95"})


def higher_is_better(name: str) -> bool:
    """True for scores (accuracy, f1, roc_auc, r2, recall[c], ...). False for errors (LOWER_IS_BETTER) and for
    SIGNED_METRICS, which are best at 0 and compared by absolute value. Unknown names raise: a wrong default
    would turn a metric's alerts upside down."""
    known = {name for names in PERFORMANCE_METRICS.values() for name in names}
    if name not in known and not (name.startswith("recall[") and name.endswith("]")):
        raise ValueError(f"unknown metric {name!r}")
    return name not in LOWER_IS_BETTER and name not in SIGNED_METRICS


# --- data quality checks ----------------------------------------------------------------------------------------------

# The checks of the generated suite (validation/suite.py), by `meta.check`: what `validation.blocking` may name
# besides the model's own suite.
GENERATED_CHECKS = ("column_missing", "wrong_type", "wrong_type_score", "null_rate", "mostly_null", "out_of_range",
                    "constant_column", "category_set", "score_range", "duplicate_ids", "unexpected_model_version")
# Checks the pipeline makes itself (they need the unsampled window or the query, not the rows GX sees).
PIPELINE_CHECKS = ("timestamp_outside_window", "timestamp_unparseable", "extra_columns")


# --- notification channels --------------------------------------------------------------------------------------------


class ChannelKind(enum.StrEnum):
    """Where notifications go: the kind of a route in alerts.critical / warning / info."""

    LOG = "log"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"


CHANNELS = tuple(kind.value for kind in ChannelKind)
DIGEST_CHANNELS = (ChannelKind.LOG.value, ChannelKind.SLACK.value)  # the route kinds alerts.info_digest may name
# The kinds that take a target after the colon, and how the target starts: slack:#<channel>, a team's own channel
# on the monitor's Slack connection.
TARGET_PREFIXES = {ChannelKind.SLACK.value: "#"}


class RouteError(ConfigError):
    """A route names an unknown channel kind, or a target its kind does not take."""


@dataclass(frozen=True, slots=True)
class Route:
    """A channel string of a monitor file (`log`, `slack`, `slack:#team-risk`, `pagerduty`), parsed once. Its text is
    also the outbox's `channel` column and the key of `notifiers_for`'s mapping: `str(route)` gives it back."""

    kind: str  # one of CHANNELS
    target: str = ""  # slack: the channel ("#team-risk"); "" = the kind's default (alerts.slack_channel)

    @classmethod
    def parse(cls, text: str) -> Route:
        kind, colon, target = text.partition(":")
        if kind not in CHANNELS:
            raise RouteError(f"unknown channel {text!r}; valid: {list(CHANNELS)}, or slack:#<channel> for a "
                             "team's own Slack channel")
        prefix = TARGET_PREFIXES.get(kind)
        if colon and (prefix is None or not target.startswith(prefix) or len(target) <= len(prefix)):
            valid = f"{kind}:{prefix}<name>" if prefix else f"{kind} alone"
            raise RouteError(f"invalid route {text!r}; expected {valid}")
        return cls(kind, target)

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}" if self.target else self.kind
