"""SQL access to the prediction warehouse: a window's predictions, matured labels, the reference rows.

Queries are SQLAlchemy Core with bound parameters. Timestamps are compared as naive UTC (PostgreSQL
engines are created with the session time zone set to UTC, so timestamptz columns compare correctly).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from include.monitoring.catalogue import TaskType
from include.monitoring.config import MonitorConfig
from include.monitoring.errors import MissingColumnsError, MissingTableError, WarehouseError
from include.monitoring.types import Window, parse_utc


@dataclass(frozen=True, slots=True)
class WindowRows:
    frame: pd.DataFrame
    row_count: int  # rows in the window before sampling
    missing_columns: tuple[str, ...]  # configured columns the table does not have
    extra_columns: tuple[str, ...]  # table columns the config does not mention
    unplaced: int = 0  # rows of the whole table whose timestamp is null or does not parse: no window can hold them
    unplaced_examples: tuple[str, ...] = ()


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


SQLITE_INSTANT = "%Y-%m-%d %H:%M:%f"
EPOCH_SCALE = {"s": 1, "ms": 1000}
# ISO-8601 as PostgreSQL reads it into timestamptz, with fields in their ranges; text that does not look like this
# is not cast (a failed cast fails the whole query, so one bad row would stop every window).
PG_ISO_PATTERN = (r"^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
                  r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?)?\s*([Zz]|[+-](0\d|1[0-5])(:?[0-5]\d)?)?$")


@dataclass(frozen=True, slots=True)
class TimeColumn:
    """A time column as the warehouse compares it: `value` compares as UTC instants against `bound(moment)`;
    `moment` is the value as a timestamp (for bucketing), `selected` how the window query reads it, and
    `unplaceable` the condition of rows no window can hold (None where the database guarantees a time)."""

    value: sa.ColumnElement[Any]
    bound: Callable[[datetime], Any]
    moment: sa.ColumnElement[Any]
    selected: sa.ColumnElement[Any]
    unplaceable: sa.ColumnElement[Any] | None


def _is_number(column: sa.ColumnElement[Any]) -> bool:
    return isinstance(column.type, sa.Integer | sa.Numeric | sa.Float)


def _sqlite_text(moment: datetime) -> str:
    """A bound as SQLite text: whole seconds without a fraction, so that "16:00:00" and "16:00:00.000000" (Python's
    sqlite3 writes the first when the microseconds are 0) both sort at or after it."""
    naive = naive_utc(moment)
    return naive.isoformat(sep=" ", timespec="microseconds" if naive.microsecond else "seconds")


def _pg_timestamp(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """PostgreSQL text as timestamptz, NULL where it is not an ISO-8601 time with a real date (the nested CASE keeps
    the order: the date is built only from text that matched, and the cast only when the day exists)."""
    def part(start: int, length: int) -> sa.ColumnElement[Any]:
        return sa.cast(sa.func.substr(column, start, length), sa.Integer)

    month_days = sa.extract("day", sa.func.make_date(part(1, 4), part(6, 2), 1)
                            + sa.literal_column("interval '1 month - 1 day'"))
    return sa.case((column.regexp_match(PG_ISO_PATTERN),
                    sa.case((part(9, 2) <= month_days, sa.cast(column, sa.DateTime(timezone=True))), else_=None)),
                   else_=None)


def _time(engine: sa.Engine, column: sa.ColumnElement[Any], unit: str) -> TimeColumn:
    """How `column` compares as UTC instants. Timestamp columns compare as they are (on SQLite, where any column
    holds any text, as text against whole-second bounds). Numbers are epoch seconds or milliseconds
    (warehouse.timestamp_unit) and compare as numbers. Text timestamps would compare as text, where
    "2026-11-21T17:30+02:00" sorts after "2026-11-21 16:00": they are normalised to UTC first (slower: no index
    helps, so store real timestamps)."""
    sqlite = engine.dialect.name == "sqlite"
    if _is_number(column):
        if not unit:
            raise WarehouseError(f"time column {column.name!r} holds numbers ({column.type}): set warehouse.timestamp_unit "
                                 "to s (epoch seconds) or ms (epoch milliseconds) in the monitor file")
        scale = EPOCH_SCALE[unit]
        seconds = column / float(scale)
        moment = sa.func.strftime(SQLITE_INSTANT, seconds, "unixepoch") if sqlite else sa.func.to_timestamp(seconds)
        return TimeColumn(column, lambda at: at.timestamp() * scale, moment, column, None)
    instant: sa.ColumnElement[Any]
    if sqlite:
        instant = sa.func.strftime(SQLITE_INSTANT, column)
        if isinstance(column.type, sa.DateTime | sa.Date):
            # read as text: a value SQLAlchemy cannot parse as a datetime must not fail the query (pandas reads it)
            text = sa.type_coerce(column, sa.String)
            return TimeColumn(text, _sqlite_text, instant, text.label(column.name), instant.is_(None))
        return TimeColumn(instant, lambda at: sa.func.strftime(SQLITE_INSTANT, naive_utc(at).isoformat(sep=" ")),
                          instant, column, instant.is_(None))
    if isinstance(column.type, sa.DateTime | sa.Date):
        return TimeColumn(column, naive_utc, column, column, None)
    instant = _pg_timestamp(column)
    return TimeColumn(instant, naive_utc, instant, column, instant.is_(None))


def _in(engine: sa.Engine, column: sa.ColumnElement[Any], start: datetime | None, end: datetime | None,
        unit: str = "") -> sa.ColumnElement[Any]:
    """start <= column < end, as UTC instants; a None bound is open."""
    time = _time(engine, column, unit)
    conditions = [time.value >= time.bound(start)] if start else []
    if end:
        conditions.append(time.value < time.bound(end))
    return sa.and_(sa.true(), *conditions)


def instants(values: pd.Series, unit: str = "") -> pd.Series:
    """Timestamps as read from the warehouse, as UTC instants (NaT where a value is not a time): every ISO-8601
    form (with or without fractions, naive as UTC, "Z" or an offset, mixed in one column), or epoch numbers in
    `unit` (which applies to number columns only, as in the queries)."""
    if unit and pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values, unit=unit, utc=True)
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")


# Tables reflected inside `reflected_once`, by (engine, table name); None outside it.
_reflected: contextvars.ContextVar[dict[tuple[int, str], sa.Table] | None] = contextvars.ContextVar("_reflected",
                                                                                                   default=None)


@contextlib.contextmanager
def reflected_once() -> Iterator[None]:
    """Within the block, each table is reflected once per engine: one pipeline step asks for the same two or three
    tables up to eight times, and reflection is several catalogue queries (0.2 s of a PostgreSQL re-scoring step).
    Scoped to one step, so that a table changed between runs is seen as it is."""
    token = _reflected.set({})
    try:
        yield
    finally:
        _reflected.reset(token)


def _reflect(engine: sa.Engine, table_name: str) -> sa.Table:
    cache = _reflected.get()
    key = (id(engine), table_name)
    if cache is not None and key in cache:
        return cache[key]
    table = _reflect_now(engine, table_name)
    if cache is not None:
        cache[key] = table
    return table


def _reflect_now(engine: sa.Engine, table_name: str) -> sa.Table:
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


def _read(engine: sa.Engine, query: sa.Select[Any], what: str,
          prepare: Callable[[sa.Connection], None] | None = None) -> pd.DataFrame:
    """The query's rows as a frame. `prepare` readies the connection first, in the query's transaction: it registers
    the Python functions a query calls on SQLite, where SQL lacks them (md5, a stable variance), or sets a planner
    setting for this query alone (SET LOCAL)."""
    try:
        with engine.connect() as conn:
            if prepare is not None:
                prepare(conn)
            result = conn.execute(query)
            # Plain tuples: handed SQLAlchemy rows, pandas asks each one for namedtuple attributes, a failed lookup
            # apiece (2.3 s for 120,000 rows, against 0.3 s for the same rows as tuples). Fetched at once: iterating the
            # result fetches row by row.
            return pd.DataFrame.from_records([tuple(row) for row in result.fetchall()], columns=list(result.keys()))
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"reading {what} failed: {exc.orig}") from exc


def fetch_window(engine: sa.Engine, config: MonitorConfig, window: Window, count_unplaced: bool = True) -> WindowRows:
    """The window's predictions, [start, end), sampled deterministically by id above max_rows_per_window.
    `count_unplaced`: count the table's rows no window can place (a read of the whole table, see `_unplaced`)."""
    w = config.warehouse
    table, ts, query = _window_query(engine, config, window)
    frame = _read(engine, query, f"{config.model} window {window} from {w.predictions_table!r}")
    row_count = len(frame)
    if row_count > w.max_rows_per_window:
        frame = sample_by_id(frame, w.id_column, w.max_rows_per_window)
    return _window_rows(engine, config, table, ts, frame, row_count, count_unplaced)


def fetch_window_sample(engine: sa.Engine, config: MonitorConfig, window: Window, row_count: int,
                        count_unplaced: bool = True) -> WindowRows:
    """At most max_rows_per_window rows of the window, picked in the warehouse, for the checks that need rows when
    the profiles were counted there (warehouse_profiles.py); `row_count` is the window's count from that query.

    The rows whose ids' md5 (of the id as text) sort lowest, in id order: PostgreSQL computes md5 itself, SQLite
    through a registered Python function with the same result, so both databases pick the same rows, on every
    re-run and whatever the read order. This is not `sample_by_id`'s choice (pandas' SipHash has no SQL twin): a
    different deterministic sample of the same size. Rows sharing an id are told apart by their time."""
    w = config.warehouse
    table, ts, query = _window_query(engine, config, window)
    if w.id_column in table.c:
        id_text = sa.cast(table.c[w.id_column], sa.Text)
        digest = sa.func.md5(id_text) if engine.dialect.name != "sqlite" else sa.func.monitoring_md5(id_text)
        # "~" sorts after every hex digit: null ids last on both databases (their NULLS orders differ)
        query = query.order_by(sa.func.coalesce(digest, "~"), id_text, _time(engine, ts, w.timestamp_unit).value)
    frame = _read(engine, query.limit(w.max_rows_per_window), f"{config.model} sample of window {window}",
                  prepare=_register_md5)
    if w.id_column in frame.columns:
        frame = _in_id_order(frame, w.id_column)
    return _window_rows(engine, config, table, ts, frame, row_count, count_unplaced)


def _window_query(engine: sa.Engine, config: MonitorConfig,
                  window: Window) -> tuple[sa.Table, sa.Column[Any], sa.Select[Any]]:
    """The predictions table, its timestamp column, and the query of the window's rows' monitored columns."""
    w = config.warehouse
    table, ts = _timestamp_column(engine, config)
    read = {ts.name: _time(engine, ts, w.timestamp_unit).selected}
    query = sa.select(*(read.get(c, table.c[c]) for c in monitored_columns(config) if c in table.c)).where(
        _in(engine, ts, window.start, window.end, w.timestamp_unit))
    return table, ts, query


def _window_rows(engine: sa.Engine, config: MonitorConfig, table: sa.Table, ts: sa.Column[Any], frame: pd.DataFrame,
                 row_count: int, count_unplaced: bool) -> WindowRows:
    """The rows read of a window, with what the table says beside them: the configured columns it lacks, those it has
    beyond them, and (`count_unplaced`) its rows no window can hold."""
    wanted = monitored_columns(config)
    unplaced, unplaced_examples = _unplaced(engine, config, ts) if count_unplaced else (0, ())
    return WindowRows(frame=frame, row_count=row_count, missing_columns=tuple(c for c in wanted if c not in table.c),
                      extra_columns=tuple(sorted(set(table.c.keys()) - set(wanted))), unplaced=unplaced,
                      unplaced_examples=unplaced_examples)


def _md5_text(value: Any) -> str | None:
    return None if value is None else hashlib.md5(str(value).encode()).hexdigest()  # noqa: S324 (a sample, not security)


def _register_md5(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "monitoring_md5", 1, _md5_text, deterministic=True)


def sample_by_id(frame: pd.DataFrame, id_column: str, size: int) -> pd.DataFrame:
    """The `size` rows whose ids hash lowest, in id order: the same rows on every re-run and every database, whatever
    order the rows were read in (a query without ORDER BY returns them as the database reads them, and PostgreSQL's
    parallel scans differ run to run), and a sample uncorrelated with the features. Ids are hashed as their text (pandas'
    fixed-key SipHash), so an id read as 7 or "7" is the same draw."""
    if id_column not in frame.columns:  # a missing id column is reported as such; sample by position, reproducibly
        return frame.iloc[:size].reset_index(drop=True)
    ids = frame[id_column].astype(str)
    hashes = pd.util.hash_pandas_object(ids, index=False).to_numpy()
    chosen = np.argsort(hashes, kind="stable")[:size]
    return _in_id_order(frame.iloc[chosen], id_column)


def _in_id_order(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """The rows sorted by their id's text (stable: rows sharing an id keep their order), the order a sample is kept in."""
    return frame.assign(_id=frame[id_column].astype(str).to_numpy()).sort_values(
        "_id", kind="stable").drop(columns="_id").reset_index(drop=True)


MAX_EXAMPLES = 5


def _unplaced(engine: sa.Engine, config: MonitorConfig, ts: sa.Column[Any]) -> tuple[int, tuple[str, ...]]:
    """Rows whose timestamp the window query cannot place (text that is not a time, or null), with a few of their
    values: the window filter drops them without a trace. Only where a column may hold such text (any column on
    SQLite, text columns elsewhere); a read of the whole table's timestamp column, so the pipeline counts them once a
    day (validation/results.py `counting_window`)."""
    time = _time(engine, ts, config.warehouse.timestamp_unit)
    if time.unplaceable is None:
        return 0, ()
    count = int(_read(engine, sa.select(sa.func.count()).select_from(ts.table).where(time.unplaceable),
                      f"{config.model} rows whose timestamp does not parse").iloc[0, 0])
    if not count:
        return 0, ()
    examples = _read(engine, sa.select(time.selected).where(time.unplaceable).limit(MAX_EXAMPLES),
                     f"{config.model} unparseable timestamps")
    return count, tuple("null" if pd.isna(value) else str(value) for value in examples.iloc[:, 0])


def _timestamp_column(engine: sa.Engine, config: MonitorConfig) -> tuple[sa.Table, sa.Column[Any]]:
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
    inside = [_in(engine, ts, w.start, w.end, config.warehouse.timestamp_unit) for w in windows]
    query = sa.select(*(sa.func.sum(sa.case((condition, 1), else_=0)) for condition in inside)).where(sa.or_(*inside))
    counts = _read(engine, query, f"{config.model} row counts of earlier weeks").iloc[0].tolist()
    return [int(count) if count is not None and count == count else 0 for count in counts]


def latest_timestamp(engine: sa.Engine, config: MonitorConfig, before: datetime) -> datetime | None:
    """The newest prediction's timestamp before `before` (UTC), None for an empty log."""
    _, ts = _timestamp_column(engine, config)
    unit = config.warehouse.timestamp_unit
    time = _time(engine, ts, unit)
    value = _read(engine, sa.select(sa.func.max(time.value)).where(_in(engine, ts, None, before, unit)),
                  f"{config.model} latest prediction").iloc[0, 0]
    latest = instants(pd.Series([value]), unit).iloc[0]
    return None if pd.isna(latest) else latest.to_pydatetime()


def label_arrivals(engine: sa.Engine, config: MonitorConfig, arrived: Window) -> ArrivalMatch:
    """The labels that arrived in `arrived` matched with the predictions of the label horizon (labels.horizon_days
    before the window, whose labels are scored): the unmatched-labels check, the repeated-labels lookback and the
    windows to re-score all read this one match (see `match_arrivals`)."""
    return match_arrivals(engine, config, arrived, arrived.start - timedelta(days=config.labels.horizon_days),
                          arrived.width)


@dataclass(frozen=True, slots=True)
class ArrivalMatch:
    """The labels that arrived in a period, matched with their predictions."""

    arrived: int  # labels that arrived
    windows: tuple[datetime, ...]  # the starts of the windows their predictions fall in
    unmatched: tuple[Any, ...]  # the ids of the labels that match no prediction of the horizon
    unmatched_rows: int  # the labels (rows: an id may arrive twice) with those ids
    period: Window  # when the labels arrived

    @property
    def examples(self) -> list[str]:
        return [str(i) for i in self.unmatched[:MAX_EXAMPLES]]


def match_arrivals(engine: sa.Engine, config: MonitorConfig, arrived: Window, horizon_start: datetime,
                   width: timedelta) -> ArrivalMatch:
    """The labels that arrived in `arrived` joined with the predictions since `horizon_start`, by time ranges only,
    so that a warehouse without an index on ids (BigQuery, Snowflake, DuckDB, a plain PostgreSQL table) prunes both
    tables by time and hashes one against the other (a correlated NOT EXISTS against the whole predictions table cost
    25 s an hour on 100,000 unindexed rows).

    The predictions of the last labels.due_hours (by when a window's labels are expected) are searched first; the
    rest of the horizon only when some arrived labels were not found there, for those labels. An hour of labels that
    arrive within the due time costs a scan of due_hours of predictions, whatever the history and the horizon."""
    w, lab, unit = config.warehouse, config.labels, config.warehouse.timestamp_unit
    predictions, labels = _reflect(engine, w.predictions_table), _reflect(engine, lab.table)
    _require(labels, (lab.id_column, lab.arrived_at_column), config.model)
    _require(predictions, (w.id_column, w.timestamp_column), config.model)
    label_id = labels.c[lab.id_column]
    in_period = _in(engine, labels.c[lab.arrived_at_column], arrived.start, arrived.end, unit)
    ids = _read(engine, sa.select(label_id).where(in_period), f"{config.model} labels that arrived in {arrived}")
    rows = ids.iloc[:, 0].tolist() if len(ids) else []
    arriving = list(dict.fromkeys(rows))
    moment = _time(engine, predictions.c[w.timestamp_column], w.timestamp_unit).moment
    due_start = max(horizon_start, arrived.start - timedelta(hours=lab.due_hours))
    found: set[Any] = set()
    windows: set[datetime] = set()
    for start, end in ((due_start, arrived.end), (horizon_start, due_start)):
        missing = [i for i in arriving if i not in found]
        if not missing or start >= end:
            continue
        # The second search is for a few labels: named when they are few, else all the period's again (no id list).
        wanted = sa.and_(in_period, label_id.in_(missing)) if len(missing) <= MAX_ID_LIST else in_period
        arriving_ids = sa.select(label_id.label("label_id")).where(wanted).subquery("arriving")
        candidates = sa.select(predictions.c[w.id_column].label("prediction_id"),
                               _bucket(engine, moment, width).label("bucket")).where(
            _in(engine, predictions.c[w.timestamp_column], start, end, unit)).subquery("candidates")
        matched = _read(engine, sa.select(arriving_ids.c.label_id, candidates.c.bucket).distinct().select_from(
            arriving_ids.join(candidates, candidates.c.prediction_id == arriving_ids.c.label_id)),
            f"{config.model} predictions of the labels that arrived in {arrived}")
        found.update(matched.iloc[:, 0].tolist() if len(matched) else [])
        windows.update(parse_utc(pd.Timestamp(value).to_pydatetime()) for value in
                       (matched.iloc[:, 1] if len(matched) else []) if not pd.isna(value))
    return ArrivalMatch(arrived=len(rows), windows=tuple(sorted(windows)),
                        unmatched=tuple(i for i in arriving if i not in found),
                        unmatched_rows=sum(i not in found for i in rows), period=arrived)


MAX_ID_LIST = 1_000  # ids named in an IN list at most; beyond, the query selects the period's labels again


def arrived_label_values(engine: sa.Engine, config: MonitorConfig, arrived: Window) -> list[tuple[Any, int]]:
    """The distinct values of the labels that arrived in `arrived`, with how many labels hold each."""
    lab = config.labels
    labels = _reflect(engine, lab.table)
    _require(labels, (lab.label_column, lab.arrived_at_column), config.model)
    value = labels.c[lab.label_column]
    query = (sa.select(value, sa.func.count().label("labels"))
             .where(_in(engine, labels.c[lab.arrived_at_column], arrived.start, arrived.end, config.warehouse.timestamp_unit))
             .group_by(value))
    frame = _read(engine, query, f"{config.model} values of the labels that arrived in {arrived}")
    return [(None if pd.isna(value) else value, int(count)) for value, count in frame.itertuples(index=False)]


@dataclass(frozen=True, slots=True)
class RepeatedLabels:
    """Predictions given a label in a window that already had one (or got two in it)."""

    arrived: int  # labels that arrived in the window
    labels: tuple[tuple[str, Any], ...]  # (id, label) of every label known by the window's end of those predictions


def repeated_labels(engine: sa.Engine, config: MonitorConfig, arrived: Window,
                    predicted_since: datetime | None = None) -> RepeatedLabels:
    """The labels, known by the end of `arrived`, of the predictions labelled in `arrived` that have more than one.

    Earlier labels are looked for among the labels that arrived since `predicted_since`, the oldest prediction the
    arrived labels belong to (`ArrivalMatch.windows`): a label arrives after its prediction, so none of theirs can be
    older. An hour of labels due within labels.due_hours then reads due_hours of labels, not the horizon's (without
    an index on ids every hour scanned 30 days of labels). Without it, or for arrived labels that match no
    prediction (the unmatched-labels check reports those), the lookback is the label horizon or that same period."""
    lab, unit = config.labels, config.warehouse.timestamp_unit
    labels = _reflect(engine, lab.table)
    _require(labels, (lab.id_column, lab.label_column, lab.arrived_at_column), config.model)
    label_id, value, arrived_at = labels.c[lab.id_column], labels.c[lab.label_column], labels.c[lab.arrived_at_column]
    in_window = _in(engine, arrived_at, arrived.start, arrived.end, unit)
    horizon_start = arrived.end - timedelta(days=lab.horizon_days)
    since = horizon_start if predicted_since is None else min(max(predicted_since, horizon_start), arrived.start)
    known = _in(engine, arrived_at, since, arrived.end, unit)  # time-pruned: no index on ids needed
    total = _read(engine, sa.select(sa.func.count()).select_from(labels).where(in_window),
                  f"{config.model} labels that arrived in {arrived}").iloc[0, 0]
    repeated = (sa.select(label_id).where(known, label_id.in_(sa.select(label_id).where(in_window)))
                .group_by(label_id).having(sa.func.count() > 1))
    found = _read(engine, sa.select(label_id, value).where(known, label_id.in_(repeated)).order_by(label_id),
                  f"{config.model} predictions labelled more than once")
    return RepeatedLabels(arrived=int(total), labels=tuple((str(i), v) for i, v in found.itertuples(index=False)))


def _labelled_tables(engine: sa.Engine, config: MonitorConfig) -> tuple[sa.Table, sa.Table]:
    """The predictions and labels tables, reflected and checked for the columns the labelled join needs."""
    w, lab = config.warehouse, config.labels
    predictions = _reflect(engine, w.predictions_table)
    labels = _reflect(engine, lab.table)
    needed = (w.id_column, w.timestamp_column, w.prediction_column if config.task == TaskType.MULTICLASS_CLASSIFICATION
              else w.score_column)
    _require(predictions, needed, config.model)
    _require(labels, (lab.id_column, lab.label_column, lab.arrived_at_column), config.model)
    return predictions, labels


def _labelled_join(engine: sa.Engine, config: MonitorConfig, known_by: datetime, predicted_in: Window,
                   tables: tuple[sa.Table, sa.Table] | None = None, ranges: Sequence[Window] = (),
                   values: bool = True, outer: bool = True) -> tuple[sa.Table, sa.Subquery, Any]:
    """Predictions outer-joined with one label per prediction of `predicted_in` (or of `ranges` inside it): of the
    labels that had arrived before `known_by`, the latest to arrive (a corrected label replaces the first; a label sent
    twice counts once). `tables`: the two tables from `_labelled_tables`, when the caller reads several windows.
    `values=False` joins only the ids that have a label, for counting: a hashed DISTINCT, where picking the latest
    label sorts every label of the period (on disk, past PostgreSQL's default work_mem, at 30 days of history).
    `outer=False`: only the predictions that have a label."""
    w, lab = config.warehouse, config.labels
    predictions, labels = tables or _labelled_tables(engine, config)
    label_id, value = labels.c[lab.id_column], labels.c[lab.label_column]
    arrived = _time(engine, labels.c[lab.arrived_at_column], w.timestamp_unit).value
    predicted = sa.select(predictions.c[w.id_column]).where(
        _in_any(engine, predictions.c[w.timestamp_column], ranges or [predicted_in], w.timestamp_unit))
    # A label arrives after its prediction: the arrival range starts with the predictions', so that the labels are
    # pruned by time as the predictions are.
    known = (_in(engine, labels.c[lab.arrived_at_column], predicted_in.start, known_by, w.timestamp_unit),
             value.is_not(None), label_id.in_(predicted))
    if values:
        newest_first = sa.func.row_number().over(partition_by=label_id, order_by=(arrived.desc(), value.desc()))
        ranked = sa.select(label_id, value, newest_first.label("arrival_rank")).where(*known).subquery("known_labels")
        latest = sa.select(ranked.c[lab.id_column], ranked.c[lab.label_column]).where(ranked.c.arrival_rank == 1)
        if engine.dialect.name == "sqlite":
            # One row per id already: the GROUP BY (the max of one value) makes SQLite index this derived table; without
            # it SQLite scans it once per prediction (1.8 s instead of 0.03 s for the demo's 30 days).
            latest = latest.with_only_columns(ranked.c[lab.id_column], sa.func.max(ranked.c[lab.label_column])
                                              .label(lab.label_column)).group_by(ranked.c[lab.id_column])
    else:
        latest = sa.select(label_id, label_id.label(lab.label_column)).where(*known).group_by(label_id)
    latest_labels = latest.subquery("latest_labels")
    return predictions, latest_labels, predictions.join(
        latest_labels, latest_labels.c[lab.id_column] == predictions.c[w.id_column], isouter=outer)


def fetch_labelled(engine: sa.Engine, config: MonitorConfig, window: Window, known_by: datetime) -> pd.DataFrame:
    """Every prediction of `window` with its label if the label had arrived before `known_by`, else null:
    columns id, score, label, predicted (the predicted class) and each slice column present, by its own name.

    `known_by` makes re-runs and backfills reproducible: a run sees the labels its window end could see.
    """
    [(_, frame)] = fetch_labelled_windows(engine, config, [window], known_by)
    return frame


# Windows read by one labelled query: their predictions and the labels that arrived since the first of them, split
# by window in memory. Per window, a warehouse without an index on ids scans the labels once per window (48 windows
# change every hour when labels arrive over 2 days); a day of hourly windows is 120,000 rows at 5,000 an hour.
WINDOWS_PER_READ = 24


def fetch_labelled_windows(engine: sa.Engine, config: MonitorConfig, windows: Sequence[Window], known_by: datetime,
                           labelled_only: bool = False) -> Iterator[tuple[Window, pd.DataFrame]]:
    """`fetch_labelled` of each window, read WINDOWS_PER_READ windows at a time as the caller iterates, with the two
    tables reflected once: reflection is several catalogue queries, which on PostgreSQL took longer than reading a
    window. `labelled_only`: only the predictions that have a label (re-scoring counts the others in `label_counts`,
    so the rows it reads are bounded by the labels, not by the windows' predictions)."""
    if not windows:
        return
    tables = _labelled_tables(engine, config)
    ordered = sorted(windows, key=lambda window: window.start)
    for first in range(0, len(ordered), WINDOWS_PER_READ):
        batch = ordered[first:first + WINDOWS_PER_READ]
        frame = _fetch_labelled(engine, config, batch, known_by, tables, labelled_only)
        moments = instants(frame.pop("_predicted_at"), config.warehouse.timestamp_unit)
        for window in batch:
            inside = (moments >= pd.Timestamp(window.start)) & (moments < pd.Timestamp(window.end))
            yield window, frame[inside.to_numpy()].reset_index(drop=True)


def _fetch_labelled(engine: sa.Engine, config: MonitorConfig, windows: Sequence[Window], known_by: datetime,
                    tables: tuple[sa.Table, sa.Table], labelled_only: bool = False) -> pd.DataFrame:
    """The rows of `windows` (of one width) with their labels, each with its prediction's time (`_predicted_at`)."""
    w = config.warehouse
    ranges = _ranges([window.start for window in windows], windows[0].width)
    period = Window(windows[0].start, windows[-1].end)
    predictions, labels, join = _labelled_join(engine, config, known_by, period, tables, ranges=ranges,
                                               outer=not labelled_only)
    columns: list[sa.ColumnElement[Any]] = [predictions.c[w.id_column].label("id"),
                                            labels.c[config.labels.label_column].label("label")]
    for source, name in ((w.score_column, "score"), (w.prediction_column, "predicted")):
        if source in predictions.c:
            columns.append(predictions.c[source].label(name))
    slices = {w.model_version_column, *config.performance.slices} - {""}
    columns += [predictions.c[column] for column in sorted(slices) if column in predictions.c]
    columns.append(_time(engine, predictions.c[w.timestamp_column], w.timestamp_unit).selected.label("_predicted_at"))
    query = sa.select(*columns).select_from(join).where(
        _in_any(engine, predictions.c[w.timestamp_column], ranges, w.timestamp_unit))
    return _read(engine, query, f"{config.model} labels for {period}")


def label_counts(engine: sa.Engine, config: MonitorConfig, period: Window, width: timedelta,
                 known_by: datetime, only: Sequence[datetime] | None = None) -> dict[datetime, tuple[int, int]]:
    """Per window of `width` in `period` (or only the windows starting at `only`): (predictions, labelled
    predictions) with the labels known by `known_by`. One aggregate query: windows are hours or days, so the bucket
    is the timestamp truncated to that unit."""
    w = config.warehouse
    ranges = [period] if only is None else _ranges(sorted(only), width)
    if not ranges:
        return {}
    # Labels are read from the first counted window's start: a label arrives after its prediction.
    predictions, labels, join = _labelled_join(engine, config, known_by, Window(ranges[0].start, period.end),
                                               ranges=ranges, values=False)
    bucket = _bucket(engine, _time(engine, predictions.c[w.timestamp_column], w.timestamp_unit).moment, width)
    query = (sa.select(bucket.label("bucket"), sa.func.count().label("predictions"),
                       sa.func.count(labels.c[config.labels.label_column]).label("labelled"))
             .select_from(join)
             .where(_in_any(engine, predictions.c[w.timestamp_column], ranges, w.timestamp_unit))
             .group_by(bucket))
    frame = _read(engine, query, f"{config.model} label counts of {period}")
    # a bucket of timestamps that do not parse is no window (timestamp_unparseable reports those rows)
    return {parse_utc(pd.Timestamp(row.bucket).to_pydatetime()): (int(row.predictions), int(row.labelled))
            for row in frame.itertuples() if not pd.isna(row.bucket)}


def _bucket(engine: sa.Engine, moment: sa.ColumnElement[Any], width: timedelta) -> sa.ColumnElement[Any]:
    """The start of the hourly or daily window `moment` falls in (windows are hours or days)."""
    hourly = width == timedelta(hours=1)
    if engine.dialect.name == "sqlite":
        return sa.func.strftime("%Y-%m-%d %H:00:00" if hourly else "%Y-%m-%d 00:00:00", moment)
    return sa.func.date_trunc("hour" if hourly else "day", moment)


def _ranges(starts: Sequence[datetime], width: timedelta) -> list[Window]:
    """Consecutive window starts merged into ranges: one time condition per run of windows, not per window."""
    ranges: list[Window] = []
    for start in starts:
        if ranges and ranges[-1].end == start:
            ranges[-1] = Window(ranges[-1].start, start + width)
        elif not ranges or ranges[-1].end < start:
            ranges.append(Window(start, start + width))
    return ranges


def _in_any(engine: sa.Engine, column: sa.ColumnElement[Any], ranges: Sequence[Window], unit: str = "") -> Any:
    return sa.or_(*(_in(engine, column, r.start, r.end, unit) for r in ranges))


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
                                parse_utc(ref.end) if ref.end else None, config.warehouse.timestamp_unit))
    frame = _read(engine, query, f"{config.model} reference rows from {table.name!r}")
    if frame.empty:
        raise WarehouseError(f"{config.model}: the reference ({table.name!r}, {ref.start or '-inf'} .. "
                             f"{ref.end or '+inf'}) has no rows")
    return frame


def split_by_window(config: MonitorConfig, frame: pd.DataFrame, window: Window) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows whose timestamps, read as UTC, fall in the window, and the others. The query already selects
    the window, so the others exist only when the database compared something else than UTC instants: text
    timestamps with an offset ("...+02:00"), or values it could not compare at all."""
    column = config.warehouse.timestamp_column
    if frame.empty:
        return frame, frame
    moments = instants(frame[column], config.warehouse.timestamp_unit)
    inside = (moments >= pd.Timestamp(window.start)) & (moments < pd.Timestamp(window.end))
    return frame[inside].reset_index(drop=True), frame[~inside]
