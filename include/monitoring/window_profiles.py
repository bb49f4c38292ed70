"""A window's rows counted in the reference's frozen bins, grid and categories: the whole window per column, and
per slice value the reference knows."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from include.monitoring import profiles
from include.monitoring.catalogue import TaskType
from include.monitoring.config import MonitorConfig
from include.monitoring.profile_types import ColumnCounts, NumericCounts, ReferenceProfile, SliceProfiles
from include.monitoring.validation.suite import RAW_SUFFIX

# From this many rows a window's columns are profiled in parallel threads; below it threads cost more than they save.
PARALLEL_PROFILE_ROWS = 50_000


def window_profiles(config: MonitorConfig, reference: ReferenceProfile, frame: pd.DataFrame) -> dict[str, ColumnCounts]:
    """Each column's counts in the reference's frozen bins, grid and categories (and the score's outputs)."""
    jobs: dict[str, Callable[[], ColumnCounts]] = {}
    for column in (*config.features.numeric, config.warehouse.score_column):
        if column in frame.columns:
            source = frame[f"{column}{RAW_SUFFIX}"] if f"{column}{RAW_SUFFIX}" in frame.columns else frame[column]
            jobs[column] = functools.partial(profiles.profile_in_bins, source, reference.columns[column])
    for column in config.features.categorical:
        if column in frame.columns:
            jobs[column] = functools.partial(profiles.profile_in_bins, frame[column], reference.columns[column])
    result = _run_jobs(jobs, parallel=len(frame) >= PARALLEL_PROFILE_ROWS)
    score = config.warehouse.score_column
    scored = result.get(score)
    if isinstance(scored, NumericCounts) and config.task == TaskType.BINARY_CLASSIFICATION:
        result[score] = dataclasses.replace(scored, output=profiles.output_summary(
            frame[score], config.performance.threshold))
    return result


def slice_profiles(config: MonitorConfig, reference: ReferenceProfile, frame: pd.DataFrame) -> SliceProfiles:
    """Per slice value the reference also has (see reference.fit_slice_profiles) and with at least
    drift.min_slice_rows (and min_rows) rows in the window: each feature counted in the reference's bins.
    {slice column: {value: {feature: profile}}}."""
    result: dict[str, dict[str, dict[str, ColumnCounts]]] = {}
    for column, by_value in (reference.slice_profiles or {}).items():
        if column not in frame.columns:
            continue
        names = frame[column].astype("string")
        for value, features in by_value.items():
            part = frame[names == value]
            if len(part) < max(config.min_rows, config.drift.min_slice_rows):
                continue
            result.setdefault(column, {})[value] = {
                feature: profiles.profile_in_bins(
                    part[f"{feature}{RAW_SUFFIX}"] if f"{feature}{RAW_SUFFIX}" in part.columns else part[feature],
                    reference.columns[feature])
                for feature in features if feature in part.columns}
    return result


def _run_jobs(jobs: dict[str, Callable[[], ColumnCounts]], parallel: bool) -> dict[str, ColumnCounts]:
    """Run the column jobs, in threads on every core when `parallel`: numpy's binary search and counting
    release the GIL, so a large window's columns are profiled side by side."""
    workers = min(os.cpu_count() or 1, len(jobs))
    if not parallel or workers < 2:
        return {column: job() for column, job in jobs.items()}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="profile") as pool:
        return dict(zip(jobs, pool.map(lambda job: job(), jobs.values()), strict=True))
