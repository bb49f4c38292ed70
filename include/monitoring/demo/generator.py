"""The demo prediction warehouse: a credit-default classifier's prediction log with documented incidents.

The log covers `days` days ending at `end` (the current hour by default). Traffic follows a daily
curve: a few dozen rows in the night hours, thousands at the afternoon peak. Labels (did the customer
default?) arrive 20 to 44 hours after the prediction, and about 5 % never arrive. A reference table
holds 20,000 clean, labelled rows scored by model v1: the data the model was validated on.

The log also records the serving side: `latency_ms` (median 40 ms) and `status` ("ok", or "error" for
0.1 % of requests).

`months_employed` comes from a JSON payload, so the warehouse stores it as text ("34"); the pipeline
parses it, which is how the text incident below can happen in any SQL database.

The incident timeline, as hours before `end` (onset inclusive, end exclusive):

| incident        | from  | to   | what happens                                                        |
|-----------------|-------|------|---------------------------------------------------------------------|
| gradual_shift   | 96 h  | 0 h  | `utilization` drifts upward, linearly, to +1.2 standard deviations  |
| model_rollout   | 120 h | 0 h  | model v2 replaces v1 for 50 % of traffic, then all (from 96 h)      |
| concept_change  | 66 h  | 0 h  | defaults rise for self-employed customers; features and scores same |
| text_in_numeric | 20 h  | 18 h | 30 % of `months_employed` values arrive as "n/a" or "12 months"     |
| new_category    | 16 h  | 0 h  | 8 % of rows come through a new channel, "voice_assistant"           |
| empty_hour      | 14 h  | 13 h | the prediction log receives no rows at all                          |
| zeroed_features | 10 h  | 6 h  | a feature pipeline sends 0 for `income` and `credit_limit`          |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

NUMERIC_FEATURES = (
    "age", "income", "credit_limit", "loan_amount", "debt_to_income", "num_open_accounts",
    "months_employed", "utilization", "num_late_payments", "account_age_months",
)
CATEGORICAL_FEATURES = ("region", "employment_type", "channel", "product")
CATEGORIES = {
    "region": (("north", 0.25), ("south", 0.2), ("east", 0.2), ("west", 0.25), ("central", 0.1)),
    "employment_type": (("salaried", 0.55), ("self_employed", 0.2), ("contractor", 0.12),
                        ("retired", 0.08), ("unemployed", 0.05)),
    "channel": (("web", 0.45), ("mobile", 0.35), ("branch", 0.12), ("partner", 0.08)),
    "product": (("card", 0.5), ("personal_loan", 0.25), ("auto_loan", 0.15), ("mortgage", 0.1)),
}
REFERENCE_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class Incident:
    name: str
    from_hours: int  # hours before the end of the period; onset is inclusive
    to_hours: int
    description: str

    def window(self, end: datetime) -> tuple[datetime, datetime]:
        return end - timedelta(hours=self.from_hours), end - timedelta(hours=self.to_hours)


INCIDENTS = (
    Incident("gradual_shift", 96, 0, "utilization drifts upward to +1.2 standard deviations"),
    Incident("model_rollout", 120, 0, "model v2 takes 50 % of traffic, then all of it from 96 h before the end"),
    Incident("concept_change", 66, 0, "defaults rise for self-employed customers; inputs and scores unchanged"),
    Incident("text_in_numeric", 20, 18, '30 % of months_employed values arrive as "n/a" or "12 months"'),
    Incident("new_category", 16, 0, 'channel "voice_assistant" appears in 8 % of rows'),
    Incident("empty_hour", 14, 13, "no rows at all"),
    Incident("zeroed_features", 10, 6, "income and credit_limit arrive as 0"),
)
INCIDENTS_BY_NAME = {incident.name: incident for incident in INCIDENTS}


def current_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def hourly_rows(hour_of_day: int, peak_rows: int) -> float:
    """Expected traffic of one hour: a night trough of ~1.5 % of the peak, an afternoon peak at 15:00 UTC."""
    phase = np.cos((hour_of_day - 15) / 24 * 2 * np.pi)
    rows: float = peak_rows * (0.015 + 0.985 * ((phase + 1) / 2) ** 3)
    return rows


def _features(rng: np.random.Generator, n: int) -> pd.DataFrame:
    age = np.clip(rng.normal(41, 12, n), 18, 90).round()
    income = np.round(rng.lognormal(10.8, 0.5, n), 2)
    frame = pd.DataFrame({
        "age": age,
        "income": income,
        "credit_limit": np.round(income * rng.uniform(0.1, 0.5, n), 2),
        "loan_amount": np.round(rng.lognormal(9.2, 0.8, n), 2),
        "debt_to_income": np.round(rng.beta(2, 5, n), 4),
        "num_open_accounts": rng.poisson(4, n).astype(float),
        "months_employed": np.clip(rng.gamma(2.0, 30, n), 0, 480).round(),
        "utilization": np.round(rng.beta(2, 3, n), 4),
        "num_late_payments": rng.poisson(0.6, n).astype(float),
        "account_age_months": rng.integers(1, 240, n).astype(float),
    })
    for column, levels in CATEGORIES.items():
        names, weights = zip(*levels, strict=True)
        frame[column] = rng.choice(np.array(names, dtype=object), size=n, p=np.array(weights))
    return frame


def _logit(frame: pd.DataFrame, version: np.ndarray) -> np.ndarray:
    """The model's log-odds of default; v2 weighs utilization a little more."""
    def column(name: str) -> np.ndarray:  # numpy, not pandas: the same values, a fraction of the overhead
        values: np.ndarray = frame[name].to_numpy(dtype="float64")
        return values

    z = (
        -1.7
        + 4.5 * (column("utilization") - 0.4)
        + 6.0 * (column("debt_to_income") - 0.28)
        + 0.9 * column("num_late_payments")
        - 1.2 * (np.log(np.maximum(column("income"), 1)) - 10.8)
        - 0.008 * (column("months_employed") - 60)
        + 0.8 * (frame["employment_type"].to_numpy() == "unemployed")
    )
    logit: np.ndarray = np.where(version == "v2", z + 0.4 * (column("utilization") - 0.4), z)
    return logit


def _labels(rng: np.random.Generator, frame: pd.DataFrame, logit: np.ndarray, concept_change: np.ndarray) -> np.ndarray:
    """True default outcomes; after the concept change, self-employed customers default far more often."""
    true_logit = logit + np.where(concept_change & (frame["employment_type"] == "self_employed"), 2.5, 0.0)
    labels: np.ndarray = (rng.random(len(frame)) < 1 / (1 + np.exp(-true_logit))).astype(int)
    return labels


def scored_rows(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """`n` rows of clean traffic scored by model v1: features, score, the served class and the true outcome
    (`label`). The reference table's rows, and bench/false_pages.py's clean windows."""
    frame = _features(rng, n)
    logit = _logit(frame, np.full(n, "v1"))
    frame["score"] = np.round(1 / (1 + np.exp(-logit)), 6)
    frame["label"] = _labels(rng, frame, logit, np.zeros(n, dtype=bool))
    frame["predicted_class"] = (frame["score"] >= 0.5).astype(int)
    return frame


def build_frames(end: datetime, days: int = 14, peak_rows: int = 2000, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The predictions, labels and reference tables as DataFrames (timestamps naive UTC)."""
    rng = np.random.default_rng(seed)
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    windows = {incident.name: incident.window(end) for incident in INCIDENTS}

    def active(name: str, moment: datetime) -> bool:
        lo, hi = windows[name]
        return lo <= moment < hi

    hours = []
    hour = start
    while hour < end:
        n = 0 if active("empty_hour", hour) else int(rng.poisson(hourly_rows(hour.hour, peak_rows)))
        if n:
            frame = _features(rng, n)
            frame["ts"] = [hour + timedelta(seconds=float(s)) for s in np.sort(rng.uniform(0, 3599.999, n))]
            rollout_lo, _ = windows["model_rollout"]
            v2_share = 0.0 if hour < rollout_lo else (0.5 if hour < rollout_lo + timedelta(hours=24) else 1.0)
            frame["model_version"] = np.where(rng.random(n) < v2_share, "v2", "v1")
            if active("gradual_shift", hour):
                lo, hi = windows["gradual_shift"]
                progress = (hour - lo) / (hi - lo)
                frame["utilization"] = np.clip(frame["utilization"] + 1.2 * 0.2 * progress, 0, 1).round(4)
            if active("new_category", hour):
                frame.loc[rng.random(n) < 0.08, "channel"] = "voice_assistant"
            logit = _logit(frame, frame["model_version"].to_numpy())
            frame["score"] = np.round(1 / (1 + np.exp(-logit)), 6)
            frame["label"] = _labels(rng, frame, logit, np.full(n, active("concept_change", hour)))
            if active("zeroed_features", hour):
                frame["income"] = 0.0
                frame["credit_limit"] = 0.0
            months = frame["months_employed"].map(lambda v: f"{v:.0f}").astype(object)
            if active("text_in_numeric", hour):
                broken = rng.random(n) < 0.3
                months[broken] = np.where(rng.random(int(broken.sum())) < 0.5, "n/a", "12 months")
            frame["months_employed"] = months
            hours.append(frame)
        hour += timedelta(hours=1)
    log = pd.concat(hours, ignore_index=True)
    log.insert(0, "prediction_id", [f"p{i:08d}" for i in range(len(log))])
    log["predicted_class"] = (log["score"] >= 0.5).astype(int)
    serving = np.random.default_rng(seed + 1)  # its own stream: the columns above stay as they were
    log["latency_ms"] = np.round(serving.lognormal(np.log(40), 0.5, len(log)), 1)
    log["status"] = np.where(serving.random(len(log)) < 0.001, "error", "ok")

    arrival = log["ts"] + pd.to_timedelta(rng.uniform(20, 44, len(log)), unit="h")
    arrives = (rng.random(len(log)) >= 0.05) & (arrival < end)
    labels = pd.DataFrame({
        "prediction_id": log.loc[arrives, "prediction_id"],
        "label": log.loc[arrives, "label"],
        "labeled_at": arrival[arrives],
    })

    reference = scored_rows(rng, REFERENCE_ROWS)
    reference["months_employed"] = reference["months_employed"].map(lambda v: f"{v:.0f}")
    reference["model_version"] = "v1"
    reference["ts"] = [start - timedelta(days=30) + timedelta(seconds=30 * i) for i in range(REFERENCE_ROWS)]
    reference.insert(0, "prediction_id", [f"r{i:08d}" for i in range(REFERENCE_ROWS)])

    predictions = log.drop(columns=["label"])
    for frame in (predictions, reference):
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True).dt.tz_localize(None)
    labels["labeled_at"] = pd.to_datetime(labels["labeled_at"], utc=True).dt.tz_localize(None)
    return {"predictions": predictions, "labels": labels, "credit_default_reference": reference}


def _table(name: str, frame: pd.DataFrame, metadata: sa.MetaData) -> sa.Table:
    def column_type(column: str) -> sa.types.TypeEngine[Any]:
        if column in ("ts", "labeled_at"):
            return sa.DateTime()
        if column in ("label", "predicted_class"):
            return sa.Integer()
        if frame[column].dtype.kind == "f":
            return sa.Float()
        return sa.String(64)

    columns = [sa.Column(c, column_type(c), primary_key=(c == "prediction_id")) for c in frame.columns]
    indexes = [sa.Index(f"ix_{name}_ts", "ts")] if "ts" in frame.columns else []
    return sa.Table(name, metadata, *columns, *indexes)


def write_demo_warehouse(engine: sa.Engine, end: datetime | None = None, days: int = 14,
                         peak_rows: int = 2000, seed: int = 7) -> dict[str, int]:
    """(Re)create the demo tables in `engine`'s database; returns the row count of each table."""
    frames = build_frames(end or current_hour(), days=days, peak_rows=peak_rows, seed=seed)
    metadata = sa.MetaData()
    tables = {name: _table(name, frame, metadata) for name, frame in frames.items()}
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for name, frame in frames.items():
            records = frame.astype(object).where(frame.notna(), None).to_dict("records")
            for start in range(0, len(records), 50_000):
                conn.execute(tables[name].insert(), records[start:start + 50_000])
    return {name: len(frame) for name, frame in frames.items()}
