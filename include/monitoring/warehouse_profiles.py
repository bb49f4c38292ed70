"""A window's profiles counted in the warehouse ("pushdown"): one aggregate query returns what window_profiles.py
counts in memory, and only its groups leave the warehouse, however many rows the window holds.

Every row of the window is turned into one tuple per profiled column (a *part*): the whole window's numeric and
categorical columns, and per slice column each feature its reference slices count. A tuple carries

    key   the part's number times PART plus, for a numeric part, the value's bucket: how many of the part's bucket
          edges are <= the value (`_bucket_edges`: the reference's grid and coarse edges, the zeros' bucket, the
          score's threshold and low-confidence interval, and buckets of their own for -inf, +inf and NaN), 0 for a
          null or text the query does not read as a number
    x     the number as float8 (aggregated per group: count, sum, sample variance, min, max)
    cat   the category's value, as stored (an integer column's as text on PostgreSQL), or a numeric column's text
    sval  the slice column's value, for a slice part (on PostgreSQL written into cat with the category: `_pair`)

and the query groups them by (key, cat, sval). A bucket lies inside one grid bin and one coarse bin, so both the
grid's and the bins' counts follow by adding buckets, and it is all zeros or none, all positive or none: the
counts need no other flag. The moments are combined from the groups' counts, means and variances (Chan et al.),
which is stable because each group's variance is computed stably by the database (PostgreSQL's var_samp; on SQLite a
registered Welford aggregate).

PostgreSQL reads the window once: parallel workers scan it, `unnest` each row's tuples from arrays and group their
own tuples (a partial aggregate), and the leader adds up their groups (bench/pushdown_bench.py measures it against a
bare scan; `_query` lists the plans tried). SQLite has neither arrays nor parallel workers: one GROUP BY per part
over the window's rows, read once into a materialised CTE, joined by UNION ALL (the same shape of result).

What stays in memory, and why (`NotPushed` says which applies): a numeric column stored as text (the in-memory path
parses "12" and counts "n/a" as unparseable; SQL cannot parse as pandas does), and on PostgreSQL a categorical or
slice column that is neither text nor integer (a float's or a date's text spelling differs from pandas'). The caller
then reads the window's rows as before.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from include.monitoring import profiles
from include.monitoring.catalogue import TaskType
from include.monitoring.config import MonitorConfig
from include.monitoring.profile_types import (
    CategoricalReference,
    CategoryCounts,
    ColumnCounts,
    NumericCounts,
    NumericReference,
    OutputSummary,
    ReferenceProfile,
    SliceProfiles,
)
from include.monitoring.types import Window, finite_or_none
from include.monitoring.warehouse import _in, _is_number, _read, _reflect, monitored_columns

PART = 2**32  # a tuple's key: part * PART + bucket
NEXT_ZERO = math.ulp(0.0)  # the least positive double: the bucket [0, NEXT_ZERO) holds 0 and -0.0 alone


@dataclass(frozen=True, slots=True)
class PushedProfiles:
    """What window_profiles and slice_profiles give for the window's rows, counted in the warehouse."""

    row_count: int
    profiles: dict[str, ColumnCounts]
    slices: SliceProfiles


@dataclass(frozen=True, slots=True)
class NotPushed:
    """Why this window's profiles must be counted from its rows."""

    reason: str


@dataclass(frozen=True, slots=True)
class _Part:
    column: str
    reference: NumericReference | CategoricalReference
    slice_column: str = ""  # "" = the whole window
    is_score: bool = False
    edges: tuple[float, ...] = ()  # a numeric part's bucket edges (`_bucket_edges`)


@dataclass(frozen=True, slots=True)
class _Group:
    bucket: int
    category: Any
    slice_value: Any
    rows: int
    total: float | None
    variance: float | None
    low: float | None
    high: float | None


def pushed_profiles(engine: sa.Engine, config: MonitorConfig, reference: ReferenceProfile,
                    window: Window) -> PushedProfiles | NotPushed:
    """The window's column profiles and slice profiles, from one aggregate query (see the module docstring)."""
    w = config.warehouse
    table = _reflect(engine, w.predictions_table)
    parts = _parts(config, reference, table)
    obstacle = _obstacle(engine, table, parts)
    if obstacle:
        return NotPushed(obstacle)
    query = _query(engine, config, table, parts, window)
    frame = _read(engine, query, f"{config.model} profiles of window {window} counted in the warehouse",
                  prepare=_prepare)
    by_part: dict[int, list[_Group]] = defaultdict(list)
    paired = engine.dialect.name != "sqlite"  # a slice part's category and slice value in one text (`_pair`)
    for key, category, slice_value, rows, total, variance, low, high in frame.itertuples(index=False):
        part, bucket = divmod(int(key), PART)
        if paired and parts[part].slice_column:
            category, slice_value = _unpair(category)
        by_part[part].append(_Group(bucket, _none(category), _none(slice_value), int(rows), _float(total),
                                    _float(variance), _float(low), _float(high)))
    for i, groups in by_part.items():
        if not isinstance(parts[i].reference, NumericReference):
            continue
        numbers = [g.category for g in groups if g.bucket == 0 and g.category is not None
                   and _reads_as_number(g.category)]
        if numbers:
            return NotPushed(f"numeric column {parts[i].column!r} holds text pandas reads as a number but this query "
                             f"does not ({numbers[0]!r}): the window is profiled from its rows")
    row_count = _row_count(engine, config, table, window) if not parts else sum(g.rows for g in by_part.get(0, []))
    return PushedProfiles(row_count, _window_profiles(config, parts, by_part), _slice_profiles(config, reference, parts, by_part))


def _parts(config: MonitorConfig, reference: ReferenceProfile, table: sa.Table) -> list[_Part]:
    """The profiled columns present in the table, in window_profiles' order, then the slices' features."""
    score = config.warehouse.score_column
    numeric = [c for c in dict.fromkeys((*config.features.numeric, score)) if c and c in table.c]
    parts = [_part(config, c, reference.columns[c],
                   is_score=c == score and config.task == TaskType.BINARY_CLASSIFICATION) for c in numeric]
    parts += [_Part(c, reference.columns[c]) for c in config.features.categorical if c in table.c]
    read = monitored_columns(config)  # the columns a window's read holds: the in-memory path slices by these only
    for slice_column, by_value in (reference.slice_profiles or {}).items():
        if slice_column not in table.c or slice_column not in read:
            continue
        features = dict.fromkeys(f for features in by_value.values() for f in features if f in table.c)
        parts += [_part(config, f, reference.columns[f], slice_column=slice_column) for f in features]
    return parts


def _part(config: MonitorConfig, column: str, reference: NumericReference | CategoricalReference,
          slice_column: str = "", is_score: bool = False) -> _Part:
    edges = _bucket_edges(config, reference, is_score) if isinstance(reference, NumericReference) else ()
    return _Part(column, reference, slice_column, is_score, edges)


def _bucket_edges(config: MonitorConfig, ref: NumericReference, is_score: bool) -> tuple[float, ...]:
    """The edges a numeric part's values are bucketed by (bucket b, 1 <= b < len(edges), holds edges[b-1] <= x <
    edges[b]): -inf, the least double, the reference's grid and coarse edges with 0 and NEXT_ZERO (the zeros' bucket)
    and, for the score, the threshold and the low-confidence interval's ends, then +inf and NaN. So each bucket lies in
    one grid bin and one coarse bin and is all zeros or none, all positive or none, all low-confidence or none; -inf,
    +inf and NaN have buckets of their own (PostgreSQL's width_bucket puts NaN above every number: in the last)."""
    inner = [*_union_edges(ref), 0.0, NEXT_ZERO]
    if is_score:
        threshold = float(config.performance.threshold)
        inner += [threshold, *(_low_confidence(threshold) or ())]
    finite = np.unique(np.asarray([e for e in inner if math.isfinite(e) and e > -sys.float_info.max], dtype="float64"))
    return (-math.inf, -sys.float_info.max, *(float(e) for e in finite), math.inf, math.nan)


def _low_confidence(threshold: float) -> tuple[float, float] | None:
    """The doubles x with abs(x - threshold) < LOW_CONFIDENCE_MARGIN (as numpy computes it, rounding x - threshold)
    as [low, high): one interval around the threshold, since the rounded difference grows with x. None if empty."""
    margin = profiles.LOW_CONFIDENCE_MARGIN

    def close(x: float) -> bool:
        return abs(x - threshold) < margin

    if not close(threshold):
        return None
    low, high = threshold - margin, threshold + margin
    while close(low):
        low = math.nextafter(low, -math.inf)
    while not close(low):
        low = math.nextafter(low, math.inf)
    while close(high):
        high = math.nextafter(high, math.inf)
    while not close(high):
        high = math.nextafter(high, -math.inf)
    return low, math.nextafter(high, math.inf)


def _obstacle(engine: sa.Engine, table: sa.Table, parts: Sequence[_Part]) -> str:
    """Why the query cannot count these columns as pandas would ("" when it can). SQLite columns hold any type in
    any row: text in a numeric column shows in the result instead (bucket 0 with its text)."""
    if engine.dialect.name == "sqlite":
        return ""
    for part in parts:
        column = table.c[part.column]
        if isinstance(part.reference, NumericReference) and not isinstance(column.type, sa.String) \
                and not _is_number(column):
            return f"numeric column {part.column!r} is stored as {column.type}: it is parsed from the rows"
    named = {p.column for p in parts if isinstance(p.reference, CategoricalReference)} | {
        p.slice_column for p in parts if p.slice_column}
    for name in sorted(named):
        column = table.c[name]
        if not isinstance(column.type, sa.String | sa.Integer):
            return f"column {name!r} is stored as {column.type}, whose text differs from pandas' names"
    return ""


def _as_text(engine: sa.Engine, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A category or slice value as the query groups it: as stored on SQLite (the names are made in Python), text
    on PostgreSQL, where an integer's text is what pandas calls it (the arrays of one query hold one type)."""
    if engine.dialect.name == "sqlite" or isinstance(column.type, sa.String):
        return column
    return sa.cast(column, sa.Text)


def _bucket(engine: sa.Engine, x: sa.ColumnElement[Any], edges: Sequence[float]) -> sa.ColumnElement[Any]:
    """How many of `edges` are <= x (np.searchsorted side='right'), 0 for NULL: PostgreSQL's width_bucket over the
    sorted edges (NaN, the last edge, is only reached by NaN); on SQLite, which has no NaN, a binary search over the
    others written as nested CASEs (about log2(len(edges)) comparisons a value)."""
    if engine.dialect.name != "sqlite":
        return sa.func.coalesce(sa.func.width_bucket(x, sa.literal(list(edges), postgresql.ARRAY(
            postgresql.DOUBLE_PRECISION))), 0)
    numbers = [e for e in edges if not math.isnan(e)]

    def search(low: int, high: int) -> sa.ColumnElement[Any]:
        if low == high:
            return sa.literal(low)
        middle = (low + high) // 2
        return sa.case((x < numbers[middle], search(low, middle)), else_=search(middle + 1, high))

    return sa.case((x.is_(None), 0), else_=search(0, len(numbers)))


# Text a numeric column may hold that the query reads as a number, as pandas would. PostgreSQL's float8 input and
# pandas both round decimals correctly; SQLite's text-to-real conversion is not guaranteed to, so there only
# integers of up to 15 digits (exact in a double). Bounded lengths keep a cast from overflowing (which would fail
# the query). Other text is returned by value: the caller parses it with pandas (see `_text_counts`).
PG_NUMBER_TEXT = r"^[+-]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][+-]?[0-9]{1,2})?$"
SQLITE_MAX_DIGITS = 15


@dataclass(frozen=True, slots=True)
class _Reading:
    """A numeric column as the query reads it: `x` the value as a double (NULL for text it does not read), `is_text`
    true for a present value it does not read as a number."""

    x: sa.ColumnElement[Any]
    is_text: sa.ColumnElement[Any]


def _reading(engine: sa.Engine, raw: sa.ColumnElement[Any]) -> _Reading:
    if engine.dialect.name == "sqlite":
        digits = sa.case((raw.op("GLOB")("-*"), sa.func.substr(raw, 2)), else_=raw)
        plain = sa.and_(sa.func.typeof(raw) == "text", digits.op("NOT GLOB")("*[^0-9]*"),
                        sa.func.length(digits).between(1, SQLITE_MAX_DIGITS))
        number = sa.or_(sa.func.typeof(raw).in_(["integer", "real"]), plain)
        return _Reading(sa.case((number, sa.cast(raw, sa.REAL)), else_=sa.null()), sa.and_(raw.is_not(None), ~number))
    if _is_number(raw):
        return _Reading(sa.cast(raw, postgresql.DOUBLE_PRECISION), sa.false())
    number = raw.regexp_match(PG_NUMBER_TEXT)
    return _Reading(sa.case((number, sa.cast(raw, postgresql.DOUBLE_PRECISION)), else_=sa.null()),
                    sa.and_(raw.is_not(None), ~number))


def _key(engine: sa.Engine, index: int, part: _Part, x: sa.ColumnElement[Any] | None) -> sa.ColumnElement[Any]:
    """A tuple's key: index * PART plus the bucket of `x`, a numeric part's value as the query reads it (0 for a
    null, NaN on SQLite, or text the query does not read), or plus 0 for a categorical part."""
    offset = sa.cast(sa.literal(index * PART), sa.BigInteger)
    return offset if x is None else offset + _bucket(engine, x, part.edges)


def _text(engine: sa.Engine, raw: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The text a numeric column holds that the query does not read (grouped by value), else NULL."""
    if engine.dialect.name != "sqlite" and _is_number(raw):
        return sa.cast(sa.null(), sa.Text)
    return sa.case((_reading(engine, raw).is_text, raw), else_=sa.null())


def _union_edges(ref: NumericReference) -> list[float]:
    """The grid's and the coarse bins' edges together: every bucket lies inside one grid bin and one coarse bin."""
    return [float(e) for e in np.unique(np.asarray([*(ref.grid_edges or ()), *ref.edges], dtype="float64"))]


def _query(engine: sa.Engine, config: MonitorConfig, table: sa.Table, parts: Sequence[_Part],
           window: Window) -> sa.Select[Any]:
    w = config.warehouse
    in_window = _in(engine, table.c[w.timestamp_column], window.start, window.end, w.timestamp_unit)
    if engine.dialect.name == "sqlite":
        return _sqlite_query(engine, table, parts, in_window)
    keys, numbers, categories = [], [], []
    for index, part in enumerate(parts):
        column = table.c[part.column]
        numeric = isinstance(part.reference, NumericReference)
        x = _reading(engine, column).x if numeric else None
        keys.append(_key(engine, index, part, x))
        numbers.append(x if x is not None else sa.cast(sa.null(), postgresql.DOUBLE_PRECISION))
        category = _text(engine, column) if numeric else _as_text(engine, column)
        categories.append(_pair(category, _as_text(engine, table.c[part.slice_column])) if part.slice_column
                          else category)
    # unnest in the select list: a ProjectSet node, which streams (several unnests advance together), in the parallel
    # workers, and each worker groups its own tuples (a partial aggregate; see _prepare); the part is in the key, a
    # slice part's slice value is in its category (`_pair`), and the category array is left out when it holds only
    # nulls: each unnested array costs every tuple, and the planner, which assumes 200 values for each grouped
    # column it knows nothing of, plans no partial aggregate for three of them (200 ** 3 groups), only for two.
    # The plans measured, the bench's 7 numeric and 3 categorical columns, as SQL run side by side (one backend's CPU
    # seconds for 1,000,000 rows, no parallel workers, no JIT; then wall seconds for 10,000,000 rows, 2 workers):
    #   bare scan (the bench's floor)                                                   0.20 s     1.7 s
    #   the plan before: CASE flags, the part unnested on its own, the leader groups    3.79 s    45.3 s
    #   this plan (partial aggregates)                                                  3.38 s    24.8 s
    #   this plan with JIT (another run: 15.9 s against 22.6 s without)                          15.9 s
    #   grouping sets over each row's buckets (count and sums only: no moments), the
    #   window cut into one ctid range a process (Parallel Append, as grouping sets
    #   have no partial aggregates)                                                     2.24 s    21.1 s
    #   the same plus the moments from a second aggregate over the rows                 2.76 s    24.9 s
    #   grouping sets with the moments (every set updates every aggregate)              3.78 s
    #   no grouping: count(*) and sum(x) FILTER (WHERE bucket = b) per bucket          12.25 s
    # Grouping sets cost about as much once the moments are counted, and need a table's ctid to run in parallel. The
    # floor of any of these is a hash table lookup per row and column, some 100 ns (a microsecond a row here), where
    # the bare scan spends 0.2 microseconds a row. Tried and slower before: unnest in FROM (a Function Scan fills a
    # tuplestore for every row), a LATERAL VALUES list (its expressions are set up again for every row), a join with
    # the part numbers and a CASE per column, generate_series in the select list with a CASE per column (twice the
    # time), the window cut into UNION ALL branches each gathered on its own.
    columns = {"key": postgresql.array(keys), "x": postgresql.array(numbers)}
    if any(not _is_null(c) for c in categories):
        columns["cat"] = postgresql.array(categories)
    tuples = sa.select(*(sa.func.unnest(array).label(name) for name, array in columns.items())).where(
        in_window).subquery("tuples")
    group = [tuples.c[name] for name in ("key", "cat") if name in columns]
    x = tuples.c.x
    return sa.select(tuples.c.key, tuples.c.cat if "cat" in columns else sa.cast(sa.null(), sa.Text).label("cat"),
                     sa.cast(sa.null(), sa.Text).label("sval"), sa.func.count(), sa.func.sum(x), sa.func.var_samp(x),
                     sa.func.min(x), sa.func.max(x)).group_by(*group)


def _pair(category: sa.ColumnElement[Any], slice_value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A category (or NULL) and a slice value (or NULL) as one text `_unpair` reads: the category's length or "n",
    ":", the category, then "s" and the slice value or "n"."""
    tail = sa.func.coalesce(sa.literal("s", sa.Text) + slice_value, sa.literal("n", sa.Text))
    if _is_null(category):
        return sa.literal("n:", sa.Text) + tail
    length = sa.func.coalesce(sa.cast(sa.func.length(category), sa.Text), sa.literal("n", sa.Text))
    return length + sa.literal(":", sa.Text) + sa.func.coalesce(category, sa.literal("", sa.Text)) + tail


def _unpair(text: str) -> tuple[str | None, str | None]:
    """The category and slice value `_pair` wrote."""
    length, rest = text.split(":", 1)
    category = None if length == "n" else rest[:int(length)]
    tail = rest[0 if category is None else int(length):]
    return category, None if tail == "n" else tail[1:]


def _is_null(expression: sa.ColumnElement[Any]) -> bool:
    """Whether `expression` is a NULL constant (a cast of one included)."""
    while isinstance(expression, sa.Cast):
        expression = expression.clause
    return isinstance(expression, sa.Null)


def _sqlite_query(engine: sa.Engine, table: sa.Table, parts: Sequence[_Part],
                  in_window: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """One GROUP BY per part over the window's rows, read once into a materialised CTE with each numeric column's
    reading beside it: SQLite repeats an expression wherever it is written, and a key names the value many times."""
    names = dict.fromkeys(name for part in parts for name in (part.column, part.slice_column) if name)
    numeric = list(dict.fromkeys(p.column for p in parts if isinstance(p.reference, NumericReference)))
    readings = {column: _reading(engine, table.c[column]) for column in numeric}
    read: list[sa.ColumnElement[Any]] = [table.c[name] for name in names]
    for i, name in enumerate(numeric):
        read += [readings[name].x.label(f"x_{i}"),
                 sa.case((readings[name].is_text, table.c[name]), else_=sa.null()).label(f"text_{i}")]
    rows = sa.select(*read).where(in_window).cte("window_rows").prefix_with("MATERIALIZED")
    selects = []
    for index, part in enumerate(parts):
        column = rows.c[part.column]
        slice_value: sa.ColumnElement[Any] = rows.c[part.slice_column] if part.slice_column else sa.null()
        x: sa.ColumnElement[Any]
        category: sa.ColumnElement[Any]
        if isinstance(part.reference, NumericReference):
            i = numeric.index(part.column)
            x, category = rows.c[f"x_{i}"], rows.c[f"text_{i}"]
            key = _key(engine, index, part, x)
        else:
            x, key, category = sa.null(), _key(engine, index, part, None), column
        selects.append(sa.select(key.label("key"), category, slice_value, sa.func.count(), sa.func.sum(x),
                                 sa.func.monitoring_var_samp(x), sa.func.min(x), sa.func.max(x))
                       .group_by(sa.literal_column("key"), category, slice_value))
    return sa.select(sa.union_all(*selects).subquery())


class _SampleVariance:
    """var_samp for SQLite, which has none: Welford's update, stable whatever the values' offset."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def step(self, value: Any) -> None:
        if not isinstance(value, int | float) or not math.isfinite(value):
            return
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)

    def finalize(self) -> float | None:
        return self.m2 / (self.n - 1) if self.n > 1 else None


# The plan cost above which PostgreSQL compiles this query's expressions and tuple deforming (inlined and optimised)
# when the server can (JIT is off in this package's sessions, airflow_adapters.engine_from_url, and on for this
# query): about a million rows of 10 parts. Compiling takes some 0.4 s in every process; at
# 10,000,000 rows it saved a third of the time (bench/pushdown_bench.py), below a million rows it saved less than that.
JIT_ABOVE_COST = 1_000_000


def _prepare(conn: sa.Connection) -> None:
    """SQLite: the variance aggregate. PostgreSQL, for this query's transaction: a partial aggregate in each parallel
    worker, then one of their groups (the planner cannot estimate how few groups the unnested tuples form, a few
    hundred, so it would send every tuple to the leader and group them there; a dearer tuple transfer makes it group
    first), hashed groups (planning for a tenth of the tuples, it may choose to sort every tuple, spilled to disk;
    enable_sort off leaves it the hash tables), and JIT compilation only for a large window (JIT_ABOVE_COST)."""
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.create_aggregate(  # type: ignore[union-attr]
            "monitoring_var_samp", 1, _SampleVariance)
    else:
        conn.execute(sa.text("SET LOCAL parallel_tuple_cost = 1"))
        conn.execute(sa.text("SET LOCAL enable_sort = off"))
        conn.execute(sa.text("SET LOCAL jit = on"))
        for setting in ("jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost"):
            conn.execute(sa.text(f"SET LOCAL {setting} = {JIT_ABOVE_COST}"))


def _row_count(engine: sa.Engine, config: MonitorConfig, table: sa.Table, window: Window) -> int:
    """The window's rows when no column is profiled (the count otherwise comes with the first part's groups)."""
    w = config.warehouse
    query = sa.select(sa.func.count()).where(_in(engine, table.c[w.timestamp_column], window.start, window.end,
                                                 w.timestamp_unit))
    return int(_read(engine, query, f"{config.model} rows of window {window}").iloc[0, 0])


def _reads_as_number(text: Any) -> bool:
    """Whether profiles.to_numbers reads this text as a number (then the query, which did not, cannot count it)."""
    return not pd.isna(pd.to_numeric(pd.Series([text], dtype=object), errors="coerce").iloc[0])


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _window_profiles(config: MonitorConfig, parts: Sequence[_Part],
                     by_part: dict[int, list[_Group]]) -> dict[str, ColumnCounts]:
    return {part.column: _profile(config, part, by_part.get(i, [])) for i, part in enumerate(parts) if not part.slice_column}


def _slice_profiles(config: MonitorConfig, reference: ReferenceProfile, parts: Sequence[_Part],
                    by_part: dict[int, list[_Group]]) -> SliceProfiles:
    """Per slice value the reference knows, with at least max(min_rows, drift.min_slice_rows) rows: its features'
    profiles (window_profiles.slice_profiles' rule). Values are named as pandas names the column's values, and
    raw values with one name (2 and "2" on SQLite) are one slice, as they are there."""
    result: dict[str, dict[str, dict[str, ColumnCounts]]] = {}
    least = max(config.min_rows, config.drift.min_slice_rows)
    for slice_column, by_value in (reference.slice_profiles or {}).items():
        indexed = {p.column: i for i, p in enumerate(parts) if p.slice_column == slice_column}
        if not indexed:
            continue
        # every row is a tuple of each part: any part's groups hold all of the column's values and rows
        every = by_part.get(next(iter(indexed.values())), [])
        names = _slice_names([g.slice_value for g in every], slice_column in config.features.categorical)
        rows: dict[str, int] = defaultdict(int)
        for group in every:
            if group.slice_value is not None and group.slice_value in names:
                rows[names[group.slice_value]] += group.rows
        for value, features in by_value.items():
            if rows.get(value, 0) < least:
                continue
            result.setdefault(slice_column, {})[value] = {
                feature: _profile(config, parts[indexed[feature]], [
                    g for g in by_part.get(indexed[feature], [])
                    if g.slice_value is not None and names.get(g.slice_value) == value])
                for feature in features if feature in indexed}
    return result


def _slice_names(values: Iterable[Any], is_categorical: bool) -> dict[Any, str]:
    """Each raw slice value's name as slice_profiles reads it: `astype("string")` of the column, after a
    categorical feature's values became category names. The dtype pandas infers, and so the spelling, depends on
    all the column's values (an integer column with a null reads as floats): the distinct values decide it alike."""
    distinct = list(dict.fromkeys(values))
    series = pd.DataFrame({"value": distinct})["value"] if distinct else pd.Series([], dtype=object)
    if is_categorical:
        series = profiles.category_names(series).reindex(series.index).astype(object)
    named = series.astype("string")
    return {value: str(name) for value, name in zip(distinct, named, strict=True) if not pd.isna(name)}


def _profile(config: MonitorConfig, part: _Part, groups: list[_Group]) -> ColumnCounts:
    if isinstance(part.reference, NumericReference):
        return _numeric(config, part, part.reference, groups)
    return _categorical(part.reference, groups)


def _numeric(config: MonitorConfig, part: _Part, ref: NumericReference, groups: list[_Group]) -> NumericCounts:
    edges = part.edges
    grid = list(ref.grid_edges or ())
    # bucket b of a finite value (2 <= b <= len(edges) - 2) lies inside one grid bin and one coarse bin: those of its
    # lower edge, edges[b - 1]
    lower = np.asarray(edges[1:-2], dtype="float64")
    to_grid = [0, 0, *np.searchsorted(np.asarray(grid, dtype="float64"), lower, side="right").tolist()]
    to_bins = [0, 0, *np.searchsorted(np.asarray(ref.edges, dtype="float64"), lower, side="right").tolist()]
    threshold = float(config.performance.threshold) if part.is_score else math.nan
    confident = _low_confidence(threshold) if part.is_score else None
    grid_counts, grid_sums = [0] * (len(grid) + 1), [0.0] * (len(grid) + 1)
    counts = [0] * (len(ref.edges) + 1)
    nulls = unparseable = infinite = zeros = positive = low_confidence = 0
    finite = [g for g in groups if 2 <= g.bucket <= len(edges) - 2]
    for group in groups:
        if group.bucket == 0 and group.category is not None:  # text pandas does not read either (checked)
            unparseable += group.rows
        elif group.bucket in (0, len(edges)):  # a null, or NaN (a null as pandas reads it)
            nulls += group.rows
        elif group.bucket in (1, len(edges) - 1):  # -inf, +inf
            infinite += group.rows
    for group in finite:
        low, high = edges[group.bucket - 1], edges[group.bucket]
        grid_counts[to_grid[group.bucket]] += group.rows
        grid_sums[to_grid[group.bucket]] += group.total or 0.0
        counts[to_bins[group.bucket]] += group.rows
        zeros += group.rows if low == 0.0 and high == NEXT_ZERO else 0
        positive += group.rows if low >= threshold else 0
        low_confidence += group.rows if confident and confident[0] <= low and high <= confident[1] else 0
    scored = sum(g.rows for g in finite)
    mean, std = _moments(finite)
    output = OutputSummary(scored, positive, low_confidence, finite_or_none(mean)) if part.is_score else None
    if not grid:  # a reference fitted before the grid: one grid bin holding every finite value, as grid_profile gives
        grid_counts, grid_sums = [scored], [float(sum(g.total or 0.0 for g in finite))]
    return NumericCounts(
        counts=tuple(counts), n=sum(g.rows for g in groups), nulls=nulls, unparseable=unparseable, infinite=infinite, zeros=zeros,
        mean=finite_or_none(mean), std=finite_or_none(std),
        min=finite_or_none(min(g.low for g in finite if g.low is not None)) if finite else None,
        max=finite_or_none(max(g.high for g in finite if g.high is not None)) if finite else None,
        grid_counts=tuple(grid_counts), grid_sums=tuple(grid_sums), bins_key=ref.bins_key, output=output)


def _moments(groups: list[_Group]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation of the union of groups, from each group's count, sum and variance
    (Chan et al.'s pairwise update: the sum of each group's squared deviations plus its mean's from the total)."""
    n = sum(g.rows for g in groups)
    if not n:
        return None, None
    # plain sums: an overflow gives inf (None in the profile), as numpy's does, where fsum would raise
    mean = sum(g.total or 0.0 for g in groups) / n
    if n < 2:
        return mean, None
    squares = sum((g.rows - 1) * (g.variance or 0.0) + g.rows * ((g.total or 0.0) / g.rows - mean) ** 2
                        for g in groups)
    return mean, math.sqrt(squares / (n - 1))


def _categorical(ref: CategoricalReference, groups: list[_Group]) -> CategoryCounts:
    """`categorical_profile` from the distinct values and their counts: pandas infers the values' dtype as it does
    for the rows (so 2 and 2.0, or 2 and "2", are one name as they are there), and the names follow."""
    values = pd.DataFrame({"value": [g.category for g in groups]})["value"] if groups else pd.Series([], dtype=object)
    rows = np.asarray([g.rows for g in groups], dtype="int64")
    missing = values.isna().to_numpy()
    frequencies = profiles.frequencies_of_distinct(values[~missing], rows[~missing].tolist())
    return profiles.categorical_from_frequencies(frequencies, int(rows.sum()), int(rows[missing].sum()),
                                                 ref.categories, ref.pooled or (), ref.bins_key)
