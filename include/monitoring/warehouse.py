"""SQL access to the prediction warehouse: a window's predictions, matured labels, the reference rows.

Queries are SQLAlchemy Core with bound parameters. Timestamps are compared as naive UTC (PostgreSQL
engines are created with the session time zone set to UTC, so timestamptz columns compare correctly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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


SQLITE_INSTANT = "%Y-%m-%d %H:%M:%f"


def _instant(engine: sa.Engine, column: sa.ColumnElement) -> tuple[sa.ColumnElement, Callable[[datetime], Any]]:
    """`column` as something that compares as UTC instants, and how to write a bound for it. Timestamp columns
    compare as they are. Text timestamps would compare as text, where "2026-11-21T17:30+02:00" sorts after
    "2026-11-21 16:00": they are normalised to UTC first (slower: no index helps, so store real timestamps)."""
    if isinstance(column.type, sa.DateTime | sa.Date):
        return column, naive_utc
    if engine.dialect.name == "sqlite":
        return (sa.func.strftime(SQLITE_INSTANT, column),
                lambda moment: sa.func.strftime(SQLITE_INSTANT, naive_utc(moment).isoformat(sep=" ")))
    return sa.cast(column, sa.DateTime(timezone=True)), naive_utc


def _in(engine: sa.Engine, column: sa.ColumnElement, start: datetime | None, end: datetime | None) -> sa.ColumnElement:
    """start <= column < end, as UTC instants; a None bound is open."""
    value, bound = _instant(engine, column)
    conditions = [value >= bound(start)] if start else []
    if end:
        conditions.append(value < bound(end))
    return sa.and_(sa.true(), *conditions)


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
    table, ts = _timestamp_column(engine, config)
    wanted = monitored_columns(config)
    present = [c for c in wanted if c in table.c]
    query = sa.select(*(table.c[c] for c in present)).where(_in(engine, ts, window.start, window.end))
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


def _timestamp_column(engine: sa.Engine, config: MonitorConfig) -> tuple[sa.Table, sa.Column]:
    """The predictions table and its timestamp column (a missing one is an error: no window can be read)."""
    w = config.warehouse
    table = _reflect(engine, w.predictions_table)
    if w.timestamp_column not in table.c:
        raise WarehouseError(f"{config.model}: timestamp column {w.timestamp_column!r} is not in table "
                             f"{w.predictions_table!r}; its columns: {sorted(table.c.keys())}")
    return table, table.c[w.timestamp_column]


def count_windows(engine: sa.Engine, config: MonitorConfig, windows: Sequence[Window]) -> list[int]:
    """Rows in each of `windows`, in one aggregate query (the volume band's history)."""
    if not windows:
        return []
    _, ts = _timestamp_column(engine, config)
    inside = [_in(engine, ts, w.start, w.end) for w in windows]
    query = sa.select(*(sa.func.sum(sa.case((condition, 1), else_=0)) for condition in inside)).where(sa.or_(*inside))
    counts = _read(engine, query, f"{config.model} row counts of earlier weeks").iloc[0].tolist()
    return [int(count) if count is not None and count == count else 0 for count in counts]


def latest_timestamp(engine: sa.Engine, config: MonitorConfig, before: datetime) -> datetime | None:
    """The newest prediction's timestamp before `before` (UTC), None for an empty log."""
    _, ts = _timestamp_column(engine, config)
    value = _read(engine, sa.select(sa.func.max(_instant(engine, ts)[0])).where(_in(engine, ts, None, before)),
                  f"{config.model} latest prediction").iloc[0, 0]
    if value is None or value != value:
        return None
    moment = pd.Timestamp(value)
    return (moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")).to_pydatetime()


def unmatched_labels(engine: sa.Engine, config: MonitorConfig, arrived: Window) -> tuple[int, int, list[str]]:
    """Labels that arrived in `arrived`: how many, how many match no prediction id, and a few of those ids."""
    w, lab = config.warehouse, config.labels
    predictions, labels = _reflect(engine, w.predictions_table), _reflect(engine, lab.table)
    _require(labels, (lab.id_column, lab.arrived_at_column), config.model)
    _require(predictions, (w.id_column,), config.model)
    in_window = _in(engine, labels.c[lab.arrived_at_column], arrived.start, arrived.end)
    known = sa.exists().where(predictions.c[w.id_column] == labels.c[lab.id_column])
    total = _read(engine, sa.select(sa.func.count()).select_from(labels).where(in_window), "labels").iloc[0, 0]
    orphans = _read(engine, sa.select(labels.c[lab.id_column]).where(in_window, ~known),
                    f"{config.model} labels without a prediction")
    ids = orphans.iloc[:, 0].tolist() if len(orphans) else []
    return int(total), len(ids), [str(i) for i in ids[:5]]


def _labelled_join(engine: sa.Engine, config: MonitorConfig, known_by: datetime) -> tuple[sa.Table, sa.Table, Any]:
    """Predictions outer-joined with the labels that had arrived before `known_by`."""
    w, lab = config.warehouse, config.labels
    predictions = _reflect(engine, w.predictions_table)
    labels = _reflect(engine, lab.table)
    needed = (w.id_column, w.timestamp_column, w.prediction_column if config.task == "multiclass_classification"
              else w.score_column)
    _require(predictions, needed, config.model)
    _require(labels, (lab.id_column, lab.label_column, lab.arrived_at_column), config.model)
    join = predictions.outerjoin(labels, sa.and_(labels.c[lab.id_column] == predictions.c[w.id_column],
                                                 _in(engine, labels.c[lab.arrived_at_column], None, known_by)))
    return predictions, labels, join


def fetch_labelled(engine: sa.Engine, config: MonitorConfig, window: Window, known_by: datetime) -> pd.DataFrame:
    """Every prediction of `window` with its label if the label had arrived before `known_by`, else null:
    columns id, score, label, predicted (the predicted class) and each slice column present, by its own name.

    `known_by` makes re-runs and backfills reproducible: a run sees the labels its window end could see.
    """
    w = config.warehouse
    predictions, labels, join = _labelled_join(engine, config, known_by)
    columns = [predictions.c[w.id_column].label("id"), labels.c[config.labels.label_column].label("label")]
    for source, name in ((w.score_column, "score"), (w.prediction_column, "predicted")):
        if source in predictions.c:
            columns.append(predictions.c[source].label(name))
    slices = {w.model_version_column, *config.performance.slices} - {""}
    columns += [predictions.c[column] for column in sorted(slices) if column in predictions.c]
    query = sa.select(*columns).select_from(join).where(
        _in(engine, predictions.c[w.timestamp_column], window.start, window.end))
    return _read(engine, query, f"{config.model} labels for {window}")


def label_counts(engine: sa.Engine, config: MonitorConfig, period: Window, width: timedelta,
                 known_by: datetime) -> dict[datetime, tuple[int, int]]:
    """Per window of `width` in `period`: (predictions, labelled predictions) with the labels known by `known_by`.
    One aggregate query: windows are hours or days, so the bucket is the timestamp truncated to that unit."""
    w = config.warehouse
    predictions, labels, join = _labelled_join(engine, config, known_by)
    instant = _instant(engine, predictions.c[w.timestamp_column])[0]
    hourly = width == timedelta(hours=1)
    if engine.dialect.name == "sqlite":
        bucket = sa.func.strftime("%Y-%m-%d %H:00:00" if hourly else "%Y-%m-%d 00:00:00", instant)
    else:
        bucket = sa.func.date_trunc("hour" if hourly else "day", instant)
    query = (sa.select(bucket.label("bucket"), sa.func.count().label("predictions"),
                       sa.func.count(labels.c[config.labels.label_column]).label("labelled"))
             .select_from(join).where(_in(engine, predictions.c[w.timestamp_column], period.start, period.end))
             .group_by(bucket))
    frame = _read(engine, query, f"{config.model} label counts of {period}")
    return {parse_utc(pd.Timestamp(row.bucket).to_pydatetime()): (int(row.predictions), int(row.labelled))
            for row in frame.itertuples()}


def fetch_reference(engine: sa.Engine, config: MonitorConfig, columns: Sequence[str],
                    optional: Sequence[str] = ()) -> pd.DataFrame:
    """The reference rows: `columns` must exist, `optional` ones are read when the table has them."""
    ref = config.reference
    table = _reflect(engine, ref.table or config.warehouse.predictions_table)
    _require(table, columns, config.model)
    wanted = list(dict.fromkeys([*columns, *(c for c in optional if c in table.c)]))
    query = sa.select(*(table.c[c] for c in wanted))
    ts_name = config.warehouse.timestamp_column
    if (ref.start or ref.end) and ts_name in table.c:
        query = query.where(_in(engine, table.c[ts_name], parse_utc(ref.start) if ref.start else None,
                                parse_utc(ref.end) if ref.end else None))
    frame = _read(engine, query, f"{config.model} reference rows from {table.name!r}")
    if frame.empty:
        raise WarehouseError(f"{config.model}: the reference ({table.name!r}, {ref.start or '-inf'} .. "
                             f"{ref.end or '+inf'}) has no rows")
    return frame
