"""Reference profiles: fitted once from the reference rows, stored, and loaded by every run.

A profile holds, per feature, the frozen bins (numeric) or categories (categorical) with the
reference counts, null rates and summary statistics; the score's bins; and the baseline performance
on the reference labels. Its id is a hash of its content, so rebuilding from unchanged data is a
no-op and every run records exactly which profile it compared against.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from include.monitoring import profiles, store, warehouse
from include.monitoring.config import MonitorConfig
from include.monitoring.drift import get_method
from include.monitoring.drift.scoring import calibrate_column
from include.monitoring.errors import ReferenceMissingError
from include.monitoring.performance.metrics import binary_metrics


def fit_reference(config: MonitorConfig, frame: pd.DataFrame) -> dict[str, Any]:
    """The reference profile of `frame` (rows of the reference table)."""
    ref = config.reference
    columns: dict[str, Any] = {}
    for column in (*config.features.numeric, config.warehouse.score_column):
        columns[column] = profiles.fit_numeric(frame[column], ref.bins)
    score = config.warehouse.score_column
    columns[score]["output"] = profiles.output_summary(frame[score], config.performance.threshold)
    for column in config.features.categorical:
        columns[column] = profiles.fit_categorical(frame[column], ref.top_k_categories)
    for column, profile in columns.items():
        profile["calibration"] = calibration(config, column, profile)
    baseline: dict[str, float | None] = {}
    if ref.label_column:
        scores = pd.to_numeric(frame[config.warehouse.score_column], errors="coerce")
        labelled = frame[frame[ref.label_column].notna() & np.isfinite(scores)]
        baseline = binary_metrics(labelled[ref.label_column].to_numpy(dtype=int),
                                  scores[labelled.index].to_numpy(dtype="float64"),
                                  config.performance.threshold, config.performance.metrics)
    return {"model": config.model, "rows": int(len(frame)), "columns": columns, "baseline": baseline,
            "baseline_labels": int(frame[ref.label_column].notna().sum()) if ref.label_column else 0}


def calibration(config: MonitorConfig, column: str, profile: dict[str, Any]) -> dict[str, Any]:
    """The noise tables of the distance methods that may score `column` (see drift/calibration.py)."""
    tables = {}
    for name in config.possible_drift_methods(column):
        table = calibrate_column(get_method(name), profile, config.drift.noise_quantile)
        if table is not None:
            tables[name] = table
    return tables


def profile_id(profile: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()[:16]


def source_description(config: MonitorConfig) -> str:
    ref = config.reference
    return json.dumps({"table": ref.table or config.warehouse.predictions_table, "start": ref.start, "end": ref.end,
                       "bins": ref.bins, "top_k_categories": ref.top_k_categories}, sort_keys=True)


def build_reference(config: MonitorConfig, warehouse_engine: sa.Engine, store_engine: sa.Engine,
                    now: datetime) -> str:
    """Fit the reference profile from the warehouse and store it; returns its id."""
    columns = [*config.features.numeric, *config.features.categorical, config.warehouse.score_column]
    if config.reference.label_column:
        columns.append(config.reference.label_column)
    frame = warehouse.fetch_reference(warehouse_engine, config, list(dict.fromkeys(columns)))
    profile = fit_reference(config, frame)
    reference_id = profile_id(profile)
    store.create_tables(store_engine)
    try:
        with store_engine.begin() as conn:
            exists = conn.execute(sa.select(store.reference_profiles.c.reference_id).where(
                store.reference_profiles.c.reference_id == reference_id)).first()
            if exists is None:
                conn.execute(sa.insert(store.reference_profiles), [{
                    "reference_id": reference_id, "model": config.model, "created_at": now,
                    "source": source_description(config), "profile": json.dumps(profile, sort_keys=True)}])
    except sa.exc.IntegrityError:
        pass  # a concurrent run stored the same profile (same content, same id) first
    return reference_id


def load_reference(config: MonitorConfig, store_engine: sa.Engine) -> tuple[str, dict[str, Any]]:
    """The newest stored profile of the model whose source matches the config."""
    table = store.reference_profiles
    store.create_tables(store_engine)
    with store_engine.connect() as conn:
        row = conn.execute(
            sa.select(table.c.reference_id, table.c.profile)
            .where(table.c.model == config.model, table.c.source == source_description(config))
            .order_by(table.c.created_at.desc(), table.c.reference_id).limit(1)).first()
    if row is None:
        raise ReferenceMissingError(
            f"{config.model}: no reference profile for {source_description(config)}; build it with "
            f"`python -m include.monitoring.cli build-reference --monitor {config.source_file or config.model}`")
    return row.reference_id, json.loads(row.profile)


def ensure_reference(config: MonitorConfig, warehouse_engine: sa.Engine, store_engine: sa.Engine,
                     now: datetime) -> str:
    """Load the model's reference profile, fitting it the first time only (never silently refitted)."""
    try:
        reference_id, _ = load_reference(config, store_engine)
    except ReferenceMissingError:
        reference_id = build_reference(config, warehouse_engine, store_engine, now)
    return reference_id

