"""Column profiles: counts per frozen reference bin or category, nulls, and summary statistics.

A profile holds counts (profile_types.py has the shapes), so window profiles can be stored, merged and compared
without touching raw rows again. The reference profile fixes the bins; every window is counted in them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd

from include.monitoring.profile_types import (
    CategoricalReference,
    CategoryCounts,
    ColumnCounts,
    NumericCounting,
    NumericCounts,
    NumericReference,
    OutputSummary,
    ReferenceColumn,
)
from include.monitoring.types import finite_or_none

OTHER = "__other__"  # reference categories beyond the top k, pooled
GRID_BINS = 100  # numeric features: the fine percentile grid of the CDF-based methods (ks, wasserstein)
MAX_POOLED = 10_000  # pooled names kept to tell "pooled" from "never seen"; beyond it, rare names count as unseen


def to_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a numeric feature that may arrive as text.

    Returns the values as float64 (NaN where missing or unparseable) and a mask of the values that were
    present but could not be parsed ("n/a", "12 months").
    """
    if values.dtype.kind in "biuf":  # already numbers (nullable ones too): nothing to parse
        return values.to_numpy(dtype="float64", na_value=np.nan), np.zeros(len(values), dtype=bool)
    numbers = pd.to_numeric(values, errors="coerce")
    unparseable = numbers.isna().to_numpy() & values.notna().to_numpy()
    return numbers.to_numpy(dtype="float64", na_value=np.nan), unparseable


def bin_edges(values: np.ndarray, bins: int) -> list[float]:
    """Inner edges at the reference quantiles 1/bins .. (bins-1)/bins, duplicates removed.

    Bin i holds edges[i-1] <= x < edges[i], with -inf and +inf outside, so no value falls outside
    the bins and the edges never move after the reference is fitted.
    """
    return [float(edge) for edge in np.unique(_quantiles(values, bins))]


def _quantiles(values: np.ndarray, bins: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.empty(0)
    return np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1], method="linear")


def bin_counts(values: np.ndarray, edges: tuple[float, ...] | list[float]) -> tuple[int, ...]:
    """Counts of the finite values in the bins that `edges` define (len(edges) + 1 bins)."""
    finite = values[np.isfinite(values)]
    index = np.searchsorted(np.asarray(edges, dtype="float64"), finite, side="right")
    return tuple(int(c) for c in np.bincount(index, minlength=len(edges) + 1))


def grid_profile(values: np.ndarray, grid_edges: tuple[float, ...] | list[float]) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Counts and sums of the finite values per fine grid bin: the CDF on the grid (ks), and where each
    bin's mass sits (wasserstein). Sums, not means, so profiles of several windows add up."""
    finite = values[np.isfinite(values)]
    index = np.searchsorted(np.asarray(grid_edges, dtype="float64"), finite, side="right")
    size = len(grid_edges) + 1
    return (tuple(int(c) for c in np.bincount(index, minlength=size)),
            tuple(float(v) for v in np.bincount(index, weights=finite, minlength=size)))


def counts_from_grid(grid_counts: tuple[int, ...], grid_edges: tuple[float, ...],
                     edges: tuple[float, ...]) -> tuple[int, ...] | None:
    """The coarse bin counts summed from the grid's, when every coarse edge is a grid edge (the grid is fitted
    that way), so a window's values are searched once, not twice; None when they are not."""
    grid, coarse = np.asarray(grid_edges, dtype="float64"), np.asarray(edges, dtype="float64")
    positions = np.searchsorted(grid, coarse)
    if np.any(positions >= grid.size) or not np.array_equal(grid[np.minimum(positions, grid.size - 1)], coarse):
        return None
    return tuple(int(c) for c in np.add.reduceat(np.asarray(grid_counts), np.concatenate([[0], positions + 1])))


def grid_locations(profile: NumericCounting, fallback: list[float] | None = None) -> list[float]:
    """The mean value in each grid bin; an empty bin sits at `fallback` (the reference's location), or for
    the reference itself at the nearest grid edge (its weight is 0, so only the order matters)."""
    counts, sums = profile.grid_counts or (), profile.grid_sums or ()
    edges = (profile.grid_edges or ()) if isinstance(profile, NumericReference) else ()
    locations = []
    for i, (count, total) in enumerate(zip(counts, sums, strict=True)):
        if count:
            locations.append(total / count)
        elif fallback is not None:
            locations.append(fallback[i])
        else:
            locations.append(edges[min(max(i - 1, 0), len(edges) - 1)] if edges else 0.0)
    return locations


def numeric_summary(values: np.ndarray, unparseable: np.ndarray) -> dict[str, Any]:
    """The nulls, unparseable, infinite and zero counts and the moments of a numeric column's values."""
    finite = values[np.isfinite(values)]
    return {
        "n": int(values.size),
        "nulls": int(np.isnan(values).sum() - unparseable.sum()),
        "unparseable": int(unparseable.sum()),
        "infinite": int(np.isinf(values).sum()),
        "zeros": int((finite == 0).sum()),
        "mean": finite_or_none(finite.mean()) if finite.size else None,
        "std": finite_or_none(finite.std(ddof=1)) if finite.size > 1 else None,
        "min": finite_or_none(finite.min()) if finite.size else None,
        "max": finite_or_none(finite.max()) if finite.size else None,
    }


def numeric_profile(values: pd.Series, edges: tuple[float, ...], grid_edges: tuple[float, ...],
                    bins_key: str | None = None) -> NumericCounts:
    numbers, unparseable = to_numbers(values)
    grid_counts, grid_sums = grid_profile(numbers, grid_edges)
    counts = counts_from_grid(grid_counts, grid_edges, edges) if grid_edges else None
    return NumericCounts(counts=counts if counts is not None else bin_counts(numbers, edges), grid_counts=grid_counts,
                         grid_sums=grid_sums, **numeric_summary(numbers, unparseable), bins_key=bins_key)


def category_names(values: pd.Series) -> pd.Series:
    """Non-null values as category names. Integer codes read as floats (because of a null) keep their
    integer spelling, so 2 and 2.0 are the same category."""
    present = values.dropna()
    if present.dtype.kind == "f" and np.all(np.isfinite(present)) and (present == np.round(present)).all():
        present = present.astype("int64")
    return present.astype(str)


def category_frequencies(values: pd.Series) -> pd.Series:
    """Counts per category name, most frequent first, ties broken by name (so row order never matters).
    Values are counted first and only the distinct ones are turned into names: a million rows of ten
    categories cost one counting pass (and text values, the usual case, are their own names)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    counted = np.bincount(codes[codes >= 0], minlength=len(distinct))
    return frequencies_of_distinct(pd.Series(distinct, dtype=values.dtype), counted.tolist())


def frequencies_of_distinct(distinct: pd.Series, counted: list[int]) -> pd.Series:
    """`category_frequencies` of a column given as its distinct non-null values and how often each occurs (as a
    GROUP BY returns them): the names follow from the distinct values alone, so both give the same result."""
    if all(isinstance(value, str) for value in distinct):
        names = np.asarray(distinct, dtype=object)
    else:
        names = category_names(distinct).to_numpy()
    totals: dict[str, int] = {}
    for name, count in zip(names, counted, strict=True):
        totals[name] = totals.get(name, 0) + count  # 2 and 2.0 are one category
    order = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return pd.Series([count for _, count in order], index=[name for name, _ in order], dtype="int64")


def categorical_profile(values: pd.Series, categories: tuple[str, ...], pooled: tuple[str, ...],
                        bins_key: str | None = None) -> CategoryCounts:
    """Counts of the reference categories (OTHER counts the pooled ones) and of never-seen values."""
    return categorical_from_frequencies(category_frequencies(values), int(values.size), int(values.isna().sum()),
                                        categories, pooled, bins_key)


def categorical_from_frequencies(frequencies: pd.Series, n: int, nulls: int, categories: tuple[str, ...],
                                 pooled: tuple[str, ...], bins_key: str | None = None) -> CategoryCounts:
    """`categorical_profile` of a column given as its `category_frequencies`, row count and nulls."""
    table = dict(zip(frequencies.index, frequencies.tolist(), strict=True))  # most frequent first
    pooled_names = set(pooled)
    known = set(categories) | pooled_names
    unseen = [(name, count) for name, count in table.items() if name not in known]
    return CategoryCounts(
        n=n,
        nulls=nulls,
        counts=tuple(sum(count for name, count in table.items() if name in pooled_names) if name == OTHER
                     else table.get(name, 0) for name in categories),
        unseen=sum(count for _, count in unseen),
        unseen_examples={str(name): count for name, count in unseen[:5]},
        categories=categories, bins_key=bins_key,
    )


def profile_in_bins(values: pd.Series, reference_column: ReferenceColumn) -> ColumnCounts:
    """`values` counted in a reference column's frozen bins, grid or categories (the layout drift reads)."""
    ref = reference_column
    if isinstance(ref, NumericReference):
        return numeric_profile(values, ref.edges, ref.grid_edges or (), ref.bins_key)
    return categorical_profile(values, ref.categories, ref.pooled or (), ref.bins_key)


def fit_numeric(values: pd.Series, bins: int) -> NumericReference:
    """The reference side of a numeric feature: frozen edges plus the reference's own counts."""
    numbers, unparseable = to_numbers(values)
    # One set of quantiles for both: every coarse edge is also a grid edge, so a window's values are searched
    # once (counts_from_grid). With the default 10 bins the grid is the percentiles.
    per_bin = -(-GRID_BINS // bins)
    quantiles = _quantiles(numbers, bins * per_bin)
    edges = tuple(float(edge) for edge in np.unique(quantiles[per_bin - 1::per_bin]))
    grid_edges = tuple(float(edge) for edge in np.unique(quantiles))
    grid_counts, grid_sums = grid_profile(numbers, grid_edges)
    return NumericReference(edges=edges, counts=bin_counts(numbers, edges), grid_edges=grid_edges, grid_counts=grid_counts,
                            grid_sums=grid_sums, **numeric_summary(numbers, unparseable))


def fit_categorical(values: pd.Series, top_k: int) -> CategoricalReference:
    """The reference side of a categorical feature: its top-k categories, the rest pooled as OTHER."""
    frequencies = category_frequencies(values)
    top = sorted(frequencies.index[:top_k])
    counts = [int(frequencies[name]) for name in top]
    rest = frequencies.iloc[top_k:]
    pooled = sorted(rest.index[:MAX_POOLED])  # the most frequent of the rest
    if len(rest):
        top, counts = [*top, OTHER], [*counts, int(rest.sum())]
    return CategoricalReference(n=int(values.size), nulls=int(values.isna().sum()), categories=tuple(top),
                                pooled=tuple(pooled), counts=tuple(counts))


LOW_CONFIDENCE_MARGIN = 0.1  # a score this close to the decision threshold is a low-confidence prediction


def output_summary(scores: pd.Series, threshold: float) -> OutputSummary:
    """What the model said: scored rows, predicted positives at `threshold`, low-confidence predictions,
    and the mean score. Counts, so windows can be merged and compared with the reference."""
    values = to_numbers(scores)[0]
    finite = values[np.isfinite(values)]
    return OutputSummary(
        scored=int(finite.size),
        positive=int((finite >= threshold).sum()),
        low_confidence=int((np.abs(finite - threshold) < LOW_CONFIDENCE_MARGIN).sum()),
        mean=finite_or_none(finite.mean()) if finite.size else None,
    )


# --- merging window profiles into a reference (rolling and seasonal sources) -------------------------------------------

# What fixes a column's bins: windows counted in the same bins can be added up.
BIN_KEYS = ("edges", "grid_edges", "categories", "pooled")


def bins_key(column: ReferenceColumn) -> str:
    """A short hash of a fitted column's frozen bins, copied into every window profile counted in them."""
    data = column.to_json()
    frozen = {key: data[key] for key in BIN_KEYS if key in data}
    return hashlib.sha256(json.dumps(frozen, sort_keys=True).encode()).hexdigest()[:12]


def restricted(whole: ReferenceColumn, part: ColumnCounts, calibration: Any) -> ReferenceColumn:
    """A reference column whose counts are those of one slice of the reference (`part`, counted in the column's
    bins), with `calibration` as its noise tables: what a slice of a window is compared with."""
    if isinstance(whole, NumericReference) and isinstance(part, NumericCounts):
        counting = {name: getattr(part, name) for name in NUMERIC_COUNTING}
        return dataclasses.replace(whole, **counting, calibration=calibration)
    return dataclasses.replace(whole, counts=part.counts, n=part.n, nulls=part.nulls, calibration=calibration)


NUMERIC_COUNTING = tuple(f.name for f in dataclasses.fields(NumericCounting))


def _add(lists: list[tuple[Any, ...]], size: int) -> tuple[Any, ...]:
    """Element-wise sums of equally long lists (zeros when there are none)."""
    return tuple(sum(values) for values in zip(*lists, strict=True)) if lists else (0,) * size


def _pooled_moments(windows: list[NumericCounts]) -> tuple[float | None, float | None, float | None, float | None]:
    """Mean, sample standard deviation, min and max of the union of windows, from each one's finite count,
    mean and standard deviation (the parallel-variance formula)."""
    parts = [(sum(w.counts), w.mean, w.std) for w in windows if w.mean is not None]
    total = sum(count for count, _, _ in parts)
    if not total:
        return None, None, None, None
    mean = sum(count * m for count, m, _ in parts) / total
    squares = sum((count - 1) * (sd or 0.0) ** 2 + count * (m - mean) ** 2 for count, m, sd in parts)
    return (mean, finite_or_none(np.sqrt(squares / (total - 1))) if total > 1 else None,
            min(w.min for w in windows if w.min is not None), max(w.max for w in windows if w.max is not None))


def merge_column(base: ReferenceColumn, windows: list[ColumnCounts]) -> ReferenceColumn:
    """A reference column from window profiles counted in `base`'s bins: counts, sums and null counts added,
    moments pooled; the frozen bins, the calibration and the bins key stay those of `base`."""
    counts = _add([w.counts for w in windows], len(base.counts))
    n, nulls = sum(w.n for w in windows), sum(w.nulls for w in windows)
    unseen = sum(w.unseen for w in windows if isinstance(w, CategoryCounts))
    if isinstance(base, CategoricalReference):
        return dataclasses.replace(base, counts=counts, n=n, nulls=nulls,
                                   merged_counts={"unparseable": 0, "infinite": 0, "zeros": 0, "unseen": unseen})
    numeric = [w for w in windows if isinstance(w, NumericCounts)]
    outputs = [w.output for w in numeric if w.output is not None]
    scored = sum(o.scored for o in outputs)
    output = OutputSummary(scored, sum(o.positive for o in outputs), sum(o.low_confidence for o in outputs),
                           sum(o.mean * o.scored for o in outputs if o.mean is not None) / scored if scored else None
                           ) if outputs else None
    mean, std, low, high = _pooled_moments(numeric)
    return dataclasses.replace(
        base, counts=counts, n=n, nulls=nulls, unseen=unseen, output=output,
        unparseable=sum(w.unparseable for w in numeric), infinite=sum(w.infinite for w in numeric),
        zeros=sum(w.zeros for w in numeric),
        grid_counts=_add([w.grid_counts or () for w in numeric], len(base.grid_counts or ())),
        grid_sums=_add([w.grid_sums or () for w in numeric], len(base.grid_sums or ())),
        mean=mean, std=std, min=low, max=high)
