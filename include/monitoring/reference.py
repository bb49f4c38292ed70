"""Reference profiles: fitted once from the reference rows, stored, and loaded by every run.

A profile holds, per feature, the frozen bins (numeric) or categories (categorical) with the
reference counts, null rates and summary statistics; the score's bins; and the baseline performance
on the reference labels. Its id is a hash of its content, so rebuilding from unchanged data is a
no-op and every run records exactly which profile it compared against.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa

from include.monitoring import profiles, store, warehouse
from include.monitoring.catalogue import TaskType
from include.monitoring.config import MonitorConfig
from include.monitoring.drift import get_method
from include.monitoring.drift.scoring import calibrate_column
from include.monitoring.errors import ReferenceMissingError
from include.monitoring.performance.estimation import fit_calibration
from include.monitoring.performance.evaluation import (
    BAND_SIZES,
    classification,
    evaluate,
    fit_bands,
    labelled_rows,
    sufficient_statistics,
)
from include.monitoring.profile_types import (
    ColumnCounts,
    NumericReference,
    ReferenceColumn,
    ReferenceProfile,
    SliceProfiles,
    column_counts_from_json,
)

log = logging.getLogger(__name__)

_Found = TypeVar("_Found")


def fit_reference(config: MonitorConfig, frame: pd.DataFrame) -> ReferenceProfile:
    """The reference profile of `frame` (rows of the reference table)."""
    ref = config.reference
    columns: dict[str, ReferenceColumn] = {}
    for column in (*config.features.numeric, config.warehouse.score_column):
        columns[column] = profiles.fit_numeric(frame[column], ref.bins)
    score = config.warehouse.score_column
    if config.task == TaskType.BINARY_CLASSIFICATION:
        fitted_score = columns[score]
        assert isinstance(fitted_score, NumericReference)  # fitted as a number just above
        columns[score] = dataclasses.replace(fitted_score, output=profiles.output_summary(
            frame[score], config.performance.threshold))
    for column in config.features.categorical:
        columns[column] = profiles.fit_categorical(frame[column], ref.top_k_categories)
    for column, fitted in columns.items():
        fitted = dataclasses.replace(fitted, bins_key=profiles.bins_key(fitted))
        columns[column] = dataclasses.replace(fitted, calibration=calibration(config, column, fitted))
    performance = fit_performance(config, frame) if ref.label_column else {}
    return ReferenceProfile(model=config.model, rows=int(len(frame)), columns=columns, **performance,
                            slice_profiles=fit_slice_profiles(config, frame, columns))


def fit_slice_profiles(config: MonitorConfig, frame: pd.DataFrame, columns: dict[str, ReferenceColumn]) -> SliceProfiles:
    """Per slice column (the model version and performance.slices) and each of its top slice_top_k values with at
    least SLICE_MIN_ROWS reference rows: every feature counted in the reference's bins, so that a slice's window is
    compared with the same slice of the reference (self-employed customers with self-employed customers)."""
    w, perf = config.warehouse, config.performance
    result: dict[str, dict[str, dict[str, ColumnCounts]]] = {}
    for column in dict.fromkeys([w.model_version_column, *perf.slices]):
        if not column or column not in frame.columns:
            continue
        names = frame[column].astype("string")
        counts = names.value_counts()
        for value in counts.index[:perf.slice_top_k]:
            if counts[value] < SLICE_MIN_ROWS:
                continue
            part = frame[names == value]
            result.setdefault(column, {})[str(value)] = {
                feature: profiles.profile_in_bins(part[feature], columns[feature])
                for feature in (*config.features.numeric, *config.features.categorical)}
    return result


SLICE_MIN_ROWS = 500  # fewer reference rows of a slice value give too rough a distribution to test against
# A slice value's own baseline, counts and band need this many labelled reference rows (the band's smallest window
# is half of it); fewer: the slice is compared with the whole reference, so baseline and band never disagree.
SLICE_MIN_LABELS = 2 * BAND_SIZES[0]


def fit_performance(config: MonitorConfig, frame: pd.DataFrame) -> dict[str, Any]:
    """The reference's performance: its baseline (whole and per slice value with at least SLICE_MIN_LABELS labels),
    the band of each metric by label count, and, for binary models, the score calibration behind estimates and how
    the rows were classified. Binary rows are classified as windows are (performance/evaluation.py): by the served
    class when the reference table has warehouse.prediction_column, else by performance.threshold; a baseline
    classified otherwise than a window would not be a like-for-like comparison."""
    w, perf, task = config.warehouse, config.performance, config.task
    rows = pd.DataFrame({"label": frame[config.reference.label_column]})
    for source, name in ((w.score_column, "score"), (w.prediction_column, "predicted")):
        if source in frame.columns:
            rows[name] = frame[source]
    slice_columns = [c for c in dict.fromkeys([w.model_version_column, *perf.slices]) if c and c in frame.columns]
    for column in slice_columns:
        rows[column] = frame[column]
    usable = labelled_rows(task, rows, config.labels)
    names = config.performance_metrics
    parts = {column: {str(value): part for value, part in usable.groupby(usable[column].astype("string"), sort=True)
                      if len(part) >= SLICE_MIN_LABELS}
             for column in slice_columns}
    result: dict[str, Any] = {
        "baseline": evaluate(task, usable, perf.threshold, names), "baseline_labels": int(len(usable)),
        # Counts behind the exact tests of proportions (performance/significance.py), whole and per slice value.
        "baseline_statistics": sufficient_statistics(task, usable, perf.threshold),
        "slice_statistics": {column: {value: sufficient_statistics(task, part, perf.threshold)
                                      for value, part in by_value.items()}
                             for column, by_value in parts.items()},
        "performance_bands": fit_bands(task, usable, perf.threshold, names, np.random.default_rng(0)),
        "slice_baselines": {column: {value: evaluate(task, part, perf.threshold, names) for value, part in by_value.items()}
                            for column, by_value in parts.items()},
        # A slice varies as its own rows do (a segment with fewer defaults has a noisier ROC AUC at the same label
        # count), so each slice value is judged against a band fitted on its own reference rows.
        "slice_bands": {column: {value: fit_bands(task, part, perf.threshold, names, np.random.default_rng(0))
                                 for value, part in by_value.items()}
                        for column, by_value in parts.items()}}
    if task == TaskType.BINARY_CLASSIFICATION:
        result["classification"] = classification(usable, perf.threshold)
    if task == TaskType.BINARY_CLASSIFICATION and perf.estimate:
        result["score_calibration"] = fit_calibration(usable["label"].to_numpy(dtype=int),
                                                      pd.to_numeric(usable["score"]).to_numpy(dtype="float64"))
    return result


def calibration(config: MonitorConfig, column: str, profile: ReferenceColumn) -> dict[str, Any]:
    """The noise tables of the distance methods that may score `column` (see drift/calibration.py)."""
    tables = {}
    for name in config.possible_drift_methods(column):
        table = calibrate_column(get_method(name), profile, config.drift.noise_quantile)
        if table is not None:
            tables[name] = table
    return tables


def profile_id(profile: ReferenceProfile) -> str:
    """The content hash of the profile's JSON: the same data fits the same id, so rebuilding is a no-op."""
    return hashlib.sha256(json.dumps(profile.to_json(), sort_keys=True).encode()).hexdigest()[:16]


def source_description(config: MonitorConfig) -> str:
    """The table reference's source: what it was fitted from and how it was binned."""
    ref = config.reference
    return json.dumps({"table": ref.table or config.warehouse.predictions_table, "start": ref.start, "end": ref.end,
                       "bins": ref.bins, "top_k_categories": ref.top_k_categories}, sort_keys=True)


def merged_description(config: MonitorConfig, slot: int | None = None) -> str:
    """The source of a rolling reference, or of one hour-of-week slot of a seasonal one: merged in the bins
    of the table reference that `source_description` names."""
    ref = config.reference
    derived: dict[str, Any] = ({"source": "rolling", "days": ref.rolling_days} if ref.source == "rolling"
                               else {"source": "seasonal", "weeks": ref.seasonal_weeks, "slot": slot})
    return json.dumps({"bins_of": json.loads(source_description(config)), **derived}, sort_keys=True)


def hour_of_week(moment: datetime) -> int:
    """The seasonal slot of a window: 0 = Monday 00:00 UTC ... 167 = Sunday 23:00."""
    return moment.weekday() * 24 + moment.hour


def build_reference(config: MonitorConfig, warehouse_engine: sa.Engine, store_engine: sa.Engine,
                    now: datetime) -> str:
    """Fit the table reference profile from the warehouse and store it; returns its id."""
    columns = [*config.features.numeric, *config.features.categorical, config.warehouse.score_column]
    if config.reference.label_column:
        columns.append(config.reference.label_column)
    w = config.warehouse
    optional = [c for c in (w.prediction_column, w.model_version_column, *config.performance.slices) if c]
    frame = warehouse.fetch_reference(warehouse_engine, config, list(dict.fromkeys(columns)), optional)
    return store_profile(store_engine, config, fit_reference(config, frame), source_description(config), now)


def build_merged_references(config: MonitorConfig, store_engine: sa.Engine, now: datetime) -> dict[str, str]:
    """The rolling reference (the last rolling_days of windows before `now`), or the seasonal one (per
    hour-of-week slot, that slot's windows over the last seasonal_weeks), merged from stored window profiles
    in the table reference's bins: no raw row is read. Returns {slot label: reference id}.

    Raises:
        ReferenceMissingError: no table reference to take the bins from, or no stored window in the period.
    """
    base_id, base = _newest(config, store_engine, source_description(config))
    ref = config.reference
    start = now - (timedelta(days=ref.rolling_days) if ref.source == "rolling" else timedelta(weeks=ref.seasonal_weeks))
    windows = _stored_windows(config, store_engine, start, now)
    if not windows:
        raise ReferenceMissingError(f"{config.model}: no monitored windows stored in [{start.isoformat()}, "
                                    f"{now.isoformat()}) to build the {ref.source} reference from")
    groups: dict[int | None, list[tuple[datetime, int, dict[str, ColumnCounts]]]] = {}
    for window in windows:
        groups.setdefault(hour_of_week(window[0]) if ref.source == "seasonal" else None, []).append(window)
    built = {}
    for slot, members in sorted(groups.items(), key=lambda item: -1 if item[0] is None else item[0]):
        profile = merge_windows(base_id, base, members, ref.source, start, now)
        built[ref.source if slot is None else f"slot {slot}"] = store_profile(store_engine, config, profile,
                                                                       merged_description(config, slot), now)
    return built


def merge_windows(base_id: str, base: ReferenceProfile, windows: list[tuple[datetime, int, dict[str, ColumnCounts]]],
                  kind: str, start: datetime, end: datetime) -> ReferenceProfile:
    """One reference profile from (window start, row count, column profiles) triples. A window's column is
    added only when it was counted in the base's bins (same bins key). What only labels or the table's own rows
    give (the performance baseline, bands, calibration and slices) is the base's."""
    columns = {}
    for column, fitted in base.columns.items():
        same_bins = [window_columns[column] for _, _, window_columns in windows
                     if column in window_columns and window_columns[column].bins_key == fitted.bins_key]
        columns[column] = profiles.merge_column(fitted, same_bins)
    return dataclasses.replace(base, rows=sum(rows for _, rows, _ in windows), columns=columns,
                               source={"kind": kind, "base": base_id, "from": start.isoformat(), "to": end.isoformat(),
                                       "windows": len(windows)})


def _stored_windows(config: MonitorConfig, store_engine: sa.Engine, start: datetime,
                    end: datetime) -> list[tuple[datetime, int, dict[str, ColumnCounts]]]:
    """(window start, row count, {column: profile}) of the model's profiled windows in [start, end)."""
    runs, stored = store.monitor_runs, store.window_profiles
    query = (sa.select(stored.c.window_start, stored.c.column_name, stored.c.profile, runs.c.row_count)
             .join(runs, sa.and_(runs.c.model == stored.c.model, runs.c.window_start == stored.c.window_start))
             .where(stored.c.model == config.model, runs.c.status.in_(["ok", "insufficient_data"]),
                    stored.c.window_start >= start, stored.c.window_start < end)
             .order_by(stored.c.window_start))
    store.create_tables(store_engine)
    windows: dict[datetime, tuple[int, dict[str, ColumnCounts]]] = {}
    with store_engine.connect() as conn:
        for row in conn.execute(query):
            moment = store.utc(row.window_start)
            windows.setdefault(moment, (row.row_count, {}))[1][row.column_name] = column_counts_from_json(json.loads(row.profile))
    return [(moment, rows, columns) for moment, (rows, columns) in windows.items()]


def store_profile(store_engine: sa.Engine, config: MonitorConfig, profile: ReferenceProfile, source: str,
                  now: datetime) -> str:
    """Store `profile` under its content id (a no-op when that content is stored already); returns the id."""
    reference_id = profile_id(profile)
    store.create_tables(store_engine)
    try:
        with store_engine.begin() as conn:
            exists = conn.execute(sa.select(store.reference_profiles.c.reference_id).where(
                store.reference_profiles.c.reference_id == reference_id)).first()
            if exists is None:
                conn.execute(sa.insert(store.reference_profiles), [{
                    "reference_id": reference_id, "model": config.model, "created_at": now,
                    "source": source, "profile": json.dumps(profile.to_json(), sort_keys=True)}])
    except sa.exc.IntegrityError:
        pass  # a concurrent run stored the same profile (same content, same id) first
    return reference_id


def _newest(config: MonitorConfig, store_engine: sa.Engine, source: str) -> tuple[str, ReferenceProfile]:
    row = _newest_row(config, store_engine, source, store.reference_profiles.c.profile)
    return row.reference_id, ReferenceProfile.from_json(json.loads(row.profile))


def _newest_id(config: MonitorConfig, store_engine: sa.Engine, source: str) -> str:
    """`_newest`'s id, without reading the profile (its JSON is most of the time a run spends finding it)."""
    reference_id: str = _newest_row(config, store_engine, source).reference_id
    return reference_id


def _newest_row(config: MonitorConfig, store_engine: sa.Engine, source: str, *columns: Any) -> Any:
    table = store.reference_profiles
    store.create_tables(store_engine)
    with store_engine.connect() as conn:
        row = conn.execute(
            sa.select(table.c.reference_id, *columns)
            .where(table.c.model == config.model, table.c.source == source)
            .order_by(table.c.created_at.desc(), table.c.reference_id).limit(1)).first()
    if row is None:
        raise ReferenceMissingError(
            f"{config.model}: no reference profile for {source}; build it with "
            f"`python -m include.monitoring.cli build-reference --monitor {config.source_file or config.model}`")
    return row


def load_reference(config: MonitorConfig, store_engine: sa.Engine,
                   window_start: datetime | None = None) -> tuple[str, ReferenceProfile]:
    """The newest stored profile a window is compared with: the table reference, or the newest rolling
    reference, or the seasonal slot of `window_start`. Until a rolling or seasonal one has been built, the
    table reference (logged; the run records which id it used)."""
    return _chosen(config, store_engine, window_start, _newest)


def reference_id(config: MonitorConfig, store_engine: sa.Engine, window_start: datetime | None = None) -> str:
    """The id of the profile `load_reference` loads, without reading the profile."""
    return _chosen(config, store_engine, window_start, _newest_id)


def _chosen(config: MonitorConfig, store_engine: sa.Engine, window_start: datetime | None,
            newest: Callable[[MonitorConfig, sa.Engine, str], _Found]) -> _Found:
    source = config.reference.source
    if source != "table" and (source == "rolling" or window_start is not None):
        slot = hour_of_week(window_start) if source == "seasonal" and window_start else None
        try:
            return newest(config, store_engine, merged_description(config, slot))
        except ReferenceMissingError as exc:
            log.warning("%s; comparing with the table reference until it is built", exc)
    return newest(config, store_engine, source_description(config))


def load_profile(store_engine: sa.Engine, reference_id: str) -> ReferenceProfile:
    """A stored profile by id (the one an observation was made against)."""
    table = store.reference_profiles
    with store_engine.connect() as conn:
        row = conn.execute(sa.select(table.c.profile).where(table.c.reference_id == reference_id)).first()
    if row is None:
        raise ReferenceMissingError(f"no stored reference profile with id {reference_id}")
    return ReferenceProfile.from_json(json.loads(row.profile))


def ensure_reference(config: MonitorConfig, warehouse_engine: sa.Engine, store_engine: sa.Engine,
                     now: datetime) -> str:
    """The table reference's id, fitting it the first time only (never silently refitted); rolling and
    seasonal references are built from it by `build_merged_references` (cli build-reference)."""
    try:
        return _newest_id(config, store_engine, source_description(config))
    except ReferenceMissingError:
        return build_reference(config, warehouse_engine, store_engine, now)
