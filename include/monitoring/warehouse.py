"""SQL access to the prediction warehouse: a window's predictions, matured labels, the reference rows.

Queries are SQLAlchemy Core with bound parameters. Timestamps are compared as naive UTC (PostgreSQL
engines are created with the session time zone set to UTC, so timestamptz columns compare correctly).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from include.monitoring.config import MonitorConfig
from include.monitoring.errors import MissingColumnsError, MissingTableError, WarehouseError
from include.monitoring.types import Window, parse_utc


@dataclass(frozen=True, slots=True)
class WindowRows:
    frame: pd.DataFrame
    row_count: int  # rows in the window before sampling
    missing_columns: tuple[str, ...]  # configured columns the table does not have
    extra_columns: tuple[str, ...]  # table columns the config does not mention


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _reflect(engine: sa.Engine, table_name: str) -> sa.Table:
    try:
        return sa.Table(table_name, sa.MetaData(), autoload_with=engine)
    except sa.exc.NoSuchTableError:
        raise MissingTableError(f"table {table_name!r} does not exist in the warehouse "
                                f"({engine.url.render_as_string()})") from None
    except sa.exc.OperationalError as exc:
        raise WarehouseError(f"the warehouse ({engine.url.render_as_string()}) did not answer: {exc.orig}") from exc


def _require(table: sa.Table, columns: Sequence[str], model: str) -> None:
    missing = [c for c in columns if c not in table.c]
    if missing:
        raise MissingColumnsError(f"{model}: table {table.name!r} has no column {', '.join(map(repr, missing))}; "
                                  f"its columns: {sorted(table.c.keys())}")


def monitored_columns(config: MonitorConfig) -> list[str]:
    w = config.warehouse
    app = config.application
    columns = [w.id_column, w.timestamp_column, w.score_column, w.prediction_column, w.model_version_column,
               *config.features.numeric, *config.features.categorical, app.latency_column, app.status_column]
    return list(dict.fromkeys(c for c in columns if c))


def _read(engine: sa.Engine, query: sa.Select, what: str) -> pd.DataFrame:
    try:
        with engine.connect() as conn:
            result = conn.execute(query)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"reading {what} failed: {exc.orig}") from exc


def fetch_window(engine: sa.Engine, config: MonitorConfig, window: Window) -> WindowRows:
    """The window's predictions, [start, end), sampled deterministically above max_rows_per_window."""
    w = config.warehouse
    table = _reflect(engine, w.predictions_table)
    wanted = monitored_columns(config)
    if w.timestamp_column not in table.c:
        raise WarehouseError(f"{config.model}: timestamp column {w.timestamp_column!r} is not in table "
                             f"{w.predictions_table!r}; its columns: {sorted(table.c.keys())}")
    present = [c for c in wanted if c in table.c]
    ts = table.c[w.timestamp_column]
    query = (sa.select(*(table.c[c] for c in present))
             .where(ts >= naive_utc(window.start), ts < naive_utc(window.end)))
    frame = _read(engine, query, f"{config.model} window {window} from {w.predictions_table!r}")
    row_count = len(frame)
    if row_count > w.max_rows_per_window:
        rng = np.random.default_rng(int(window.start.timestamp()))  # same window, same sample
        frame = frame.iloc[np.sort(rng.choice(row_count, w.max_rows_per_window, replace=False))].reset_index(drop=True)
    return WindowRows(
        frame=frame,
        row_count=row_count,
        missing_columns=tuple(c for c in wanted if c not in table.c),
        extra_columns=tuple(sorted(set(table.c.keys()) - set(wanted))),
    )


def _timestamp_column(engine: sa.Engine, config: MonitorConfig) -> sa.Column:
    w = config.warehouse
    table = _reflect(engine, w.predictions_table)
    if w.timestamp_column not in table.c:
        raise WarehouseError(f"{config.model}: timestamp column {w.timestamp_column!r} is not in table "
                             f"{w.predictions_table!r}; its columns: {sorted(table.c.keys())}")
    return table.c[w.timestamp_column]


def count_windows(engine: sa.Engine, config: MonitorConfig, windows: Sequence[Window]) -> list[int]:
    """Rows in each of `windows`, in one aggregate query (the volume band's history)."""
    if not windows:
        return []
    ts = _timestamp_column(engine, config)
    inside = [sa.and_(ts >= naive_utc(w.start), ts < naive_utc(w.end)) for w in windows]
    query = sa.select(*(sa.func.sum(sa.case((condition, 1), else_=0)) for condition in inside)).where(sa.or_(*inside))
    counts = _read(engine, query, f"{config.model} row counts of earlier weeks").iloc[0].tolist()
    return [int(count) if count is not None and count == count else 0 for count in counts]


def latest_timestamp(engine: sa.Engine, config: MonitorConfig, before: datetime) -> datetime | None:
    """The newest prediction's timestamp before `before` (UTC), None for an empty log."""
    ts = _timestamp_column(engine, config)
    value = _read(engine, sa.select(sa.func.max(ts)).where(ts < naive_utc(before)),
                  f"{config.model} latest prediction").iloc[0, 0]
    if value is None or value != value:
        return None
    return pd.Timestamp(value).tz_localize("UTC").to_pydatetime() if pd.Timestamp(value).tzinfo is None \
        else pd.Timestamp(value).tz_convert("UTC").to_pydatetime()


def unmatched_labels(engine: sa.Engine, config: MonitorConfig, arrived: Window) -> tuple[int, int, list[str]]:
    """Labels that arrived in `arrived`: how many, how many match no prediction id, and a few of those ids."""
    w, lab = config.warehouse, config.labels
    predictions, labels = _reflect(engine, w.predictions_table), _reflect(engine, lab.table)
    _require(labels, (lab.id_column, lab.arrived_at_column), config.model)
    _require(predictions, (w.id_column,), config.model)
    at = labels.c[lab.arrived_at_column]
    in_window = sa.and_(at >= naive_utc(arrived.start), at < naive_utc(arrived.end))
    known = sa.exists().where(predictions.c[w.id_column] == labels.c[lab.id_column])
    total = _read(engine, sa.select(sa.func.count()).select_from(labels).where(in_window), "labels").iloc[0, 0]
    orphans = _read(engine, sa.select(labels.c[lab.id_column]).where(in_window, ~known),
                    f"{config.model} labels without a prediction")
    ids = orphans.iloc[:, 0].tolist() if len(orphans) else []
    return int(total), len(ids), [str(i) for i in ids[:5]]


def fetch_labelled(engine: sa.Engine, config: MonitorConfig, window: Window, known_by: datetime) -> pd.DataFrame:
    """Every prediction of `window` with its label if the label had arrived before `known_by`, else null.

    `known_by` makes re-runs and backfills reproducible: a run sees the labels its window end could see.
    """
    w, lab = config.warehouse, config.labels
    predictions = _reflect(engine, w.predictions_table)
    labels = _reflect(engine, lab.table)
    _require(predictions, (w.id_column, w.timestamp_column, w.score_column), config.model)
    _require(labels, (lab.id_column, lab.label_column, lab.arrived_at_column), config.model)
    ts = predictions.c[w.timestamp_column]
    columns = [predictions.c[w.id_column].label("id"), predictions.c[w.score_column].label("score"),
               labels.c[lab.label_column].label("label")]
    if w.model_version_column and w.model_version_column in predictions.c:
        columns.append(predictions.c[w.model_version_column].label("model_version"))
    join = predictions.outerjoin(labels, sa.and_(labels.c[lab.id_column] == predictions.c[w.id_column],
                                                 labels.c[lab.arrived_at_column] < naive_utc(known_by)))
    query = sa.select(*columns).select_from(join).where(ts >= naive_utc(window.start), ts < naive_utc(window.end))
    return _read(engine, query, f"{config.model} labels for {window}")


def fetch_reference(engine: sa.Engine, config: MonitorConfig, columns: Sequence[str]) -> pd.DataFrame:
    ref = config.reference
    table = _reflect(engine, ref.table or config.warehouse.predictions_table)
    _require(table, columns, config.model)
    query = sa.select(*(table.c[c] for c in columns))
    ts_name = config.warehouse.timestamp_column
    if ref.start and ts_name in table.c:
        query = query.where(table.c[ts_name] >= naive_utc(parse_utc(ref.start)))
    if ref.end and ts_name in table.c:
        query = query.where(table.c[ts_name] < naive_utc(parse_utc(ref.end)))
    frame = _read(engine, query, f"{config.model} reference rows from {table.name!r}")
    if frame.empty:
        raise WarehouseError(f"{config.model}: the reference ({table.name!r}, {ref.start or '-inf'} .. "
                             f"{ref.end or '+inf'}) has no rows")
    return frame
