"""A window's profiles counted in the warehouse ("pushdown"): one aggregate query returns what window_profiles.py
counts in memory, and only its groups leave the warehouse, however many rows the window holds.

Every row of the window is turned into one tuple per profiled column (a *part*): the whole window's numeric and
categorical columns, and per slice column each feature its reference slices count. A tuple carries

    key   the grid bucket of a number times 8 plus its flags (1 zero, 2 at or above the decision threshold, 4 closer to
          it than LOW_CONFIDENCE_MARGIN: the score's outputs), or NULL_KEY / POS_INF_KEY / NEG_INF_KEY / TEXT_KEY;
          0 for a category
    x     the number as float8 (aggregated per group: count, sum, sample variance, min, max)
    cat   the category's value, as stored (an integer column's as text on PostgreSQL)
    sval  the slice column's value, for a slice part

and the query groups them by (part, key, cat, sval). Buckets are those of the union of the reference's grid and
coarse edges (`bin i holds edges[i-1] <= x < edges[i]`), so both the grid's and the bins' counts follow by adding
buckets; the moments are combined from the groups' counts, means and variances (Chan et al.), which is stable
because each group's variance is computed stably by the database (PostgreSQL's var_samp; on SQLite a registered
Welford aggregate).

PostgreSQL reads the window once: parallel workers scan it and `unnest` each row's tuples from arrays, and one hash
table groups them (bench/pushdown_bench.py measures it against a bare scan; grouping sets, which need no tuples, were
slower still: every set updates every aggregate). SQLite has neither arrays nor grouping sets: one GROUP BY per part
over the window's rows, read once into a materialised CTE, joined by UNION ALL (the same shape of result).

What stays in memory, and why (`NotPushed` says which applies): a numeric column stored as text (the in-memory path
parses "12" and counts "n/a" as unparseable; SQL cannot parse as pandas does), and on PostgreSQL a categorical or
slice column that is neither text nor integer (a float's or a date's text spelling differs from pandas'). The caller
then reads the window's rows as before.
"""

from __future__ import annotations

import math
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

NULL_KEY, POS_INF_KEY, NEG_INF_KEY, TEXT_KEY = -1, -2, -3, -4  # NaN is a null, as pandas reads it
ZERO, POSITIVE, LOW_CONFIDENCE = 1, 2, 4
FLAGS = 8  # key = bucket * FLAGS + flags


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


@dataclass(frozen=True, slots=True)
class _Group:
    key: int
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
    for part, key, category, slice_value, rows, total, variance, low, high in frame.itertuples(index=False):
        by_part[int(part)].append(_Group(int(key), _none(category), _none(slice_value), int(rows), _float(total),
                                         _float(variance), _float(low), _float(high)))
    for i, groups in by_part.items():
        numbers = [g.category for g in groups if g.key == TEXT_KEY and _reads_as_number(g.category)]
        if numbers:
            return NotPushed(f"numeric column {parts[i].column!r} holds text pandas reads as a number but this query "
                             f"does not ({numbers[0]!r}): the window is profiled from its rows")
    row_count = _row_count(engine, config, table, window) if not parts else sum(g.rows for g in by_part.get(0, []))
    return PushedProfiles(row_count, _window_profiles(config, parts, by_part), _slice_profiles(config, reference, parts, by_part))


def _parts(config: MonitorConfig, reference: ReferenceProfile, table: sa.Table) -> list[_Part]:
    """The profiled columns present in the table, in window_profiles' order, then the slices' features."""
    score = config.warehouse.score_column
    numeric = [c for c in dict.fromkeys((*config.features.numeric, score)) if c and c in table.c]
    parts = [_Part(c, reference.columns[c], is_score=c == score and config.task == TaskType.BINARY_CLASSIFICATION)
             for c in numeric]
    parts += [_Part(c, reference.columns[c]) for c in config.features.categorical if c in table.c]
    read = monitored_columns(config)  # the columns a window's read holds: the in-memory path slices by these only
    for slice_column, by_value in (reference.slice_profiles or {}).items():
        if slice_column not in table.c or slice_column not in read:
            continue
        features = dict.fromkeys(f for features in by_value.values() for f in features if f in table.c)
        parts += [_Part(f, reference.columns[f], slice_column=slice_column) for f in features]
    return parts


def _obstacle(engine: sa.Engine, table: sa.Table, parts: Sequence[_Part]) -> str:
    """Why the query cannot count these columns as pandas would ("" when it can). SQLite columns hold any type in
    any row: text in a numeric column shows in the result instead (TEXT_KEY)."""
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
    """How many of `edges` are <= x (np.searchsorted side='right'): PostgreSQL's width_bucket over the sorted
    edges; on SQLite a binary search written as nested CASEs (about log2(len(edges)) comparisons a value)."""
    if engine.dialect.name != "sqlite":
        return sa.func.width_bucket(x, sa.literal(list(edges), postgresql.ARRAY(postgresql.DOUBLE_PRECISION)))

    def search(low: int, high: int) -> sa.ColumnElement[Any]:
        if low == high:
            return sa.literal(low)
        middle = (low + high) // 2
        return sa.case((x < edges[middle], search(low, middle)), else_=search(middle + 1, high))

    return search(0, len(edges))


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


def _key(engine: sa.Engine, config: MonitorConfig, raw: sa.ColumnElement[Any], part: _Part,
         reading: _Reading | None = None) -> sa.ColumnElement[Any]:
    """The tuple's key (module docstring); `reading`: the column already read (SQLite reads each column once)."""
    reading = reading or _reading(engine, raw)
    x = reading.x
    ref = part.reference
    assert isinstance(ref, NumericReference)
    flags: sa.ColumnElement[Any] = sa.case((x == 0, ZERO), else_=0)
    if part.is_score:
        threshold = config.performance.threshold
        flags = (flags + sa.case((x >= threshold, POSITIVE), else_=0)
                 + sa.case((sa.func.abs(x - threshold) < profiles.LOW_CONFIDENCE_MARGIN, LOW_CONFIDENCE), else_=0))
    return sa.case((raw.is_(None), NULL_KEY), (reading.is_text, TEXT_KEY),
                   (x == math.nan, NULL_KEY),  # PostgreSQL's NaN (equal to itself there); SQLite stores NaN as NULL
                   (x == math.inf, POS_INF_KEY), (x == -math.inf, NEG_INF_KEY),
                   else_=_bucket(engine, x, _union_edges(ref)) * FLAGS + flags)


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
        return _sqlite_query(engine, config, table, parts, in_window)
    keys, numbers, categories, slice_values = [], [], [], []
    for part in parts:
        column = table.c[part.column]
        numeric = isinstance(part.reference, NumericReference)
        keys.append(_key(engine, config, column, part) if numeric else sa.literal(0))
        numbers.append(_reading(engine, column).x if numeric else sa.cast(sa.null(), postgresql.DOUBLE_PRECISION))
        categories.append(_text(engine, column) if numeric else _as_text(engine, column))
        slice_values.append(_as_text(engine, table.c[part.slice_column]) if part.slice_column
                            else sa.cast(sa.null(), sa.Text))
    # unnest in the select list: a ProjectSet node, which streams (several unnests advance together), in the parallel
    # workers; the leader alone hashes the tuples (the planner, not knowing how few groups they form, plans no partial
    # aggregation). Tried and slower (bench/pushdown_bench.py, 300,000 rows, against 1.75 s): unnest in FROM (a
    # Function Scan fills a tuplestore for every row; 2.3 s), a LATERAL VALUES list (its expressions are set up again
    # for every row; 4.2 s), a join with the part numbers and a CASE per column (3.0-3.3 s), unnest in a LATERAL
    # subquery (minutes); at 1,000,000 rows, the window cut into two UNION ALL branches (7.4 s against 5.3 s: each
    # branch gathered on its own, no Parallel Append); grouping sets over a plain table of 1,000,000 rows took 24.8 s
    # against 0.19 s for its bare scan (every set updates every aggregate).
    columns = {"part": postgresql.array([sa.literal(i) for i in range(len(parts))]), "key": postgresql.array(keys),
               "x": postgresql.array(numbers), "cat": postgresql.array(categories),
               "sval": postgresql.array(slice_values)}
    tuples = sa.select(*(sa.func.unnest(array).label(name) for name, array in columns.items())).where(
        in_window).subquery("tuples")
    group = (tuples.c.part, tuples.c.key, tuples.c.cat, tuples.c.sval)
    x = tuples.c.x
    return sa.select(*group, sa.func.count(), sa.func.sum(x), sa.func.var_samp(x), sa.func.min(x),
                     sa.func.max(x)).group_by(*group)


def _sqlite_query(engine: sa.Engine, config: MonitorConfig, table: sa.Table, parts: Sequence[_Part],
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
        key: sa.ColumnElement[Any]
        category: sa.ColumnElement[Any]
        if isinstance(part.reference, NumericReference):
            i = numeric.index(part.column)
            x, text = rows.c[f"x_{i}"], rows.c[f"text_{i}"]
            key = _key(engine, config, column, part, _Reading(x, text.is_not(None)))
            category = text
        else:
            x, key, category = sa.null(), sa.literal(0), column
        selects.append(sa.select(sa.literal(index), key.label("key"), category, slice_value, sa.func.count(),
                                 sa.func.sum(x), sa.func.monitoring_var_samp(x), sa.func.min(x), sa.func.max(x))
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


def _prepare(conn: sa.Connection) -> None:
    """SQLite: the variance aggregate. PostgreSQL, for this query's transaction: hash the groups (it cannot estimate
    how few groups the unnested tuples form, a few hundred, and plans for a tenth of the tuples: a sort of every
    tuple, spilled to disk; enable_sort off leaves it the hash table), and no JIT (compiling the large expressions
    took 2 s, more than it saved)."""
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.create_aggregate(  # type: ignore[union-attr]
            "monitoring_var_samp", 1, _SampleVariance)
    else:
        conn.execute(sa.text("SET LOCAL enable_sort = off"))
        conn.execute(sa.text("SET LOCAL jit = off"))


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
    return {part.column: _profile(part, by_part.get(i, [])) for i, part in enumerate(parts) if not part.slice_column}


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
                feature: _profile(parts[indexed[feature]], [
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


def _profile(part: _Part, groups: list[_Group]) -> ColumnCounts:
    if isinstance(part.reference, NumericReference):
        return _numeric(part.reference, groups, part.is_score)
    return _categorical(part.reference, groups)


def _numeric(ref: NumericReference, groups: list[_Group], is_score: bool) -> NumericCounts:
    union = _union_edges(ref)
    grid = list(ref.grid_edges or ())
    # each union bucket inside one grid bin and one coarse bin: the bin of its lower edge
    to_grid = [0, *np.searchsorted(np.asarray(grid, dtype="float64"), union, side="right").tolist()]
    to_bins = [0, *np.searchsorted(np.asarray(ref.edges, dtype="float64"), union, side="right").tolist()]
    grid_counts, grid_sums = [0] * (len(grid) + 1), [0.0] * (len(grid) + 1)
    counts = [0] * (len(ref.edges) + 1)
    nulls = unparseable = infinite = zeros = positive = low_confidence = 0
    finite = [g for g in groups if g.key >= 0]
    for group in groups:
        if group.key == NULL_KEY:
            nulls += group.rows
        elif group.key == TEXT_KEY:  # text pandas does not read either (pushed_profiles checked)
            unparseable += group.rows
        elif group.key in (POS_INF_KEY, NEG_INF_KEY):
            infinite += group.rows
    for group in finite:
        bucket, flags = divmod(group.key, FLAGS)
        grid_counts[to_grid[bucket]] += group.rows
        grid_sums[to_grid[bucket]] += group.total or 0.0
        counts[to_bins[bucket]] += group.rows
        zeros += group.rows if flags & ZERO else 0
        positive += group.rows if flags & POSITIVE else 0
        low_confidence += group.rows if flags & LOW_CONFIDENCE else 0
    scored = sum(g.rows for g in finite)
    mean, std = _moments(finite)
    output = OutputSummary(scored, positive, low_confidence, finite_or_none(mean)) if is_score else None
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
