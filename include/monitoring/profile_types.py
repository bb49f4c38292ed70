"""The shapes of profiles: a window's counts of one column, a reference's fitted column, the reference profile.

Frozen dataclasses in the code; JSON only where they meet the store or XCom (`to_json` / `from_json`). The JSON
shape is the stored contract: a reference's id is a hash of its JSON (reference.profile_id), so `to_json` writes
exactly the keys the fitted, merged and window profiles have always held, optional ones only when they are set.
Stdlib only: the drift methods, the validation suite and the UI read these without pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeAlias

Json: TypeAlias = dict[str, Any]
# A drift method's stored noise table (drift/calibration.py), by method name.
Calibration: TypeAlias = Mapping[str, Json]


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(values)  # as stored: a merged column of no windows holds integer zeros, and the hash sees the difference


def _optional(data: Mapping[str, Any], key: str, convert: Any = None) -> Any:
    value = data.get(key)
    return value if value is None or convert is None else convert(value)


@dataclass(frozen=True, slots=True)
class OutputSummary:
    """What a binary model said: scored rows, predicted positives at the threshold, low-confidence rows, mean score."""

    scored: int
    positive: int
    low_confidence: int
    mean: float | None

    def to_json(self) -> Json:
        return {"scored": self.scored, "positive": self.positive, "low_confidence": self.low_confidence,
                "mean": self.mean}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutputSummary:
        return cls(int(data["scored"]), int(data["positive"]), int(data["low_confidence"]), data.get("mean"))


@dataclass(frozen=True, slots=True)
class NumericCounting:
    """What a numeric column's values counted to: the bins and the fine grid, nulls, unparseable and infinite values,
    zeros and moments. Shared by a window's profile (NumericCounts) and a fitted reference column (NumericReference),
    whose counts are the reference's own."""

    counts: tuple[int, ...]
    n: int
    nulls: int
    unparseable: int
    infinite: int
    zeros: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    grid_counts: tuple[int, ...] | None = None  # None in profiles older than the grid
    grid_sums: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class NumericCounts(NumericCounting):
    """A window's numeric column counted in a reference's frozen bins and fine grid."""

    bins_key: str | None = None  # the reference bins it was counted in (profiles.bins_key)
    output: OutputSummary | None = None  # the score column of a binary model
    kind: Literal["numeric"] = field(default="numeric", init=False)

    def to_json(self) -> Json:
        data = {"kind": "numeric", **_counting_json(self), "bins_key": self.bins_key}
        return _with_output(data, self.output)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NumericCounts:
        return cls(**_numeric_counting(data), bins_key=data.get("bins_key"), output=_output(data))


@dataclass(frozen=True, slots=True)
class CategoryCounts:
    """A categorical column counted in a reference's categories (OTHER holds the pooled ones), with the values the
    reference never saw (`unseen`, the most frequent in `unseen_examples`)."""

    counts: tuple[int, ...]
    n: int
    nulls: int
    unseen: int
    unseen_examples: Mapping[str, int]
    categories: tuple[str, ...]
    bins_key: str | None = None
    kind: Literal["categorical"] = field(default="categorical", init=False)

    def to_json(self) -> Json:
        return {"kind": "categorical", "n": self.n, "nulls": self.nulls, "counts": list(self.counts),
                "unseen": self.unseen, "unseen_examples": dict(self.unseen_examples),
                "categories": list(self.categories), "bins_key": self.bins_key}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CategoryCounts:
        return cls(counts=_ints(data["counts"]), n=int(data["n"]), nulls=int(data["nulls"]),
                   unseen=int(data.get("unseen", 0)), unseen_examples=dict(data.get("unseen_examples", {})),
                   categories=tuple(data.get("categories", ())), bins_key=data.get("bins_key"))


ColumnCounts: TypeAlias = NumericCounts | CategoryCounts


@dataclass(frozen=True, slots=True, kw_only=True)
class NumericReference(NumericCounting):
    """A fitted numeric reference column: the frozen edges and grid, its own counts and moments, and the noise
    tables of the distances that may score it. `unseen` is set (0) only in a merged (rolling, seasonal) column."""

    edges: tuple[float, ...]
    grid_edges: tuple[float, ...] | None = None
    bins_key: str | None = None
    calibration: Calibration | None = None
    output: OutputSummary | None = None
    unseen: int | None = None
    kind: Literal["numeric"] = field(default="numeric", init=False)

    def to_json(self) -> Json:
        data: Json = {"kind": "numeric", "edges": list(self.edges), **_counting_json(self)}
        if self.grid_edges is not None:
            data["grid_edges"] = list(self.grid_edges)
        for key, value in (("bins_key", self.bins_key), ("unseen", self.unseen)):
            if value is not None:
                data[key] = value
        if self.calibration is not None:
            data["calibration"] = {name: table for name, table in self.calibration.items()}
        return _with_output(data, self.output)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NumericReference:
        return cls(edges=_floats(data["edges"]), **_numeric_counting(data),
                   grid_edges=_optional(data, "grid_edges", _floats), bins_key=data.get("bins_key"),
                   calibration=data.get("calibration"), output=_output(data), unseen=data.get("unseen"))


@dataclass(frozen=True, slots=True)
class CategoricalReference:
    """A fitted categorical reference column: its top categories (the rest pooled as OTHER, the most frequent of
    them named in `pooled`) and their counts. A merged column also holds the unseen and the numeric-only counts
    (0), as merged profiles always have."""

    categories: tuple[str, ...]
    counts: tuple[int, ...]
    n: int
    nulls: int
    pooled: tuple[str, ...] | None = None
    bins_key: str | None = None
    calibration: Calibration | None = None
    merged_counts: Mapping[str, int] | None = None  # unseen, unparseable, infinite, zeros of a merged column
    kind: Literal["categorical"] = field(default="categorical", init=False)

    @property
    def unseen(self) -> int:
        return (self.merged_counts or {}).get("unseen", 0)

    def to_json(self) -> Json:
        data: Json = {"kind": "categorical", "n": self.n, "nulls": self.nulls, "categories": list(self.categories),
                      "counts": list(self.counts)}
        if self.pooled is not None:
            data["pooled"] = list(self.pooled)
        if self.bins_key is not None:
            data["bins_key"] = self.bins_key
        if self.calibration is not None:
            data["calibration"] = dict(self.calibration)
        return {**data, **(self.merged_counts or {})}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CategoricalReference:
        merged = {key: int(data[key]) for key in MERGED_ONLY if key in data}
        return cls(categories=tuple(data["categories"]), counts=_ints(data["counts"]), n=int(data["n"]),
                   nulls=int(data["nulls"]), pooled=_optional(data, "pooled", tuple), bins_key=data.get("bins_key"),
                   calibration=data.get("calibration"), merged_counts=merged or None)


MERGED_ONLY = ("unparseable", "infinite", "zeros", "unseen")
ReferenceColumn: TypeAlias = NumericReference | CategoricalReference
# {slice column: {slice value: {feature: counts in the reference's bins}}}
SliceProfiles: TypeAlias = Mapping[str, Mapping[str, Mapping[str, ColumnCounts]]]


def column_counts_from_json(data: Mapping[str, Any]) -> ColumnCounts:
    return NumericCounts.from_json(data) if data["kind"] == "numeric" else CategoryCounts.from_json(data)


def reference_column_from_json(data: Mapping[str, Any]) -> ReferenceColumn:
    return NumericReference.from_json(data) if data["kind"] == "numeric" else CategoricalReference.from_json(data)


def slices_to_json(slices: SliceProfiles) -> Json:
    return {column: {value: {feature: counts.to_json() for feature, counts in features.items()}
                     for value, features in by_value.items()}
            for column, by_value in slices.items()}


def slices_from_json(data: Mapping[str, Any]) -> SliceProfiles:
    return {column: {value: {feature: column_counts_from_json(counts) for feature, counts in features.items()}
                     for value, features in by_value.items()}
            for column, by_value in data.items()}


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """What every window of a model is compared with: per column the fitted bins and counts, per slice value the
    features counted in them, and the performance the reference labels showed (performance/evaluation.py fits
    those sections; performance/rescoring.py reads them). A merged (rolling, seasonal) profile carries the table
    reference's performance and slices and says where it came from (`source`)."""

    model: str
    rows: int
    columns: Mapping[str, ReferenceColumn]
    baseline: Mapping[str, float | None] = field(default_factory=dict)  # metric -> value on the reference labels
    baseline_labels: int = 0
    # The sections below are absent without reference labels (or, for classification and score_calibration,
    # for other than binary models): None.
    baseline_statistics: Json | None = None  # counts behind the exact tests (performance/significance.py)
    classification: Json | None = None  # how the reference rows were classified (served class or threshold)
    performance_bands: Json | None = None  # each metric's band by label count (evaluation.fit_bands)
    score_calibration: Json | None = None  # score -> probability of the label, for estimated performance
    slice_baselines: Mapping[str, Mapping[str, Mapping[str, float | None]]] | None = None
    slice_bands: Mapping[str, Mapping[str, Json]] | None = None
    slice_statistics: Mapping[str, Mapping[str, Json]] | None = None
    slice_profiles: SliceProfiles | None = None
    source: Json | None = None  # a merged profile's origin: kind, base id, period, windows

    def column(self, name: str) -> ReferenceColumn:
        return self.columns[name]

    def to_json(self) -> Json:
        data: Json = {"model": self.model, "rows": self.rows,
                      "columns": {name: column.to_json() for name, column in self.columns.items()},
                      "baseline": dict(self.baseline), "baseline_labels": self.baseline_labels}
        for name in OPTIONAL_SECTIONS:
            value = getattr(self, name)
            if value is not None:
                data[name] = slices_to_json(value) if name == "slice_profiles" else value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReferenceProfile:
        sections = {name: data.get(name) for name in OPTIONAL_SECTIONS}
        if sections["slice_profiles"] is not None:
            sections["slice_profiles"] = slices_from_json(sections["slice_profiles"])
        return cls(model=data["model"], rows=int(data["rows"]),
                   columns={name: reference_column_from_json(column) for name, column in data["columns"].items()},
                   baseline=dict(data.get("baseline", {})), baseline_labels=int(data.get("baseline_labels", 0)),
                   **sections)


OPTIONAL_SECTIONS = tuple(f.name for f in fields(ReferenceProfile)
                          if f.name not in ("model", "rows", "columns", "baseline", "baseline_labels"))


@dataclass(frozen=True, slots=True)
class CalibrationPoint:
    """One size of a slice's noise table (drift/slice_calibration.py), as the metric store keeps it: the band of
    `method` at `size` rows for the table `table_key` (a digest of what it is drawn from), and, to read it by, the
    slice, column and reference it was first computed for."""

    table_key: str
    size: int
    noise: float
    method: str
    quantile: float
    column: str
    slice_key: str
    slice_value: str
    reference_id: str


def _counting_json(profile: NumericCounting) -> Json:
    data: Json = {"counts": list(profile.counts), "n": profile.n, "nulls": profile.nulls,
                  "unparseable": profile.unparseable, "infinite": profile.infinite, "zeros": profile.zeros,
                  "mean": profile.mean, "std": profile.std, "min": profile.min, "max": profile.max}
    if profile.grid_counts is not None and profile.grid_sums is not None:
        data["grid_counts"], data["grid_sums"] = list(profile.grid_counts), list(profile.grid_sums)
    return data


def _numeric_counting(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"counts": _ints(data["counts"]), "n": int(data["n"]), "nulls": int(data["nulls"]),
            "unparseable": int(data.get("unparseable", 0)), "infinite": int(data.get("infinite", 0)),
            "zeros": int(data.get("zeros", 0)), "mean": data.get("mean"), "std": data.get("std"),
            "min": data.get("min"), "max": data.get("max"),
            "grid_counts": _optional(data, "grid_counts", _ints), "grid_sums": _optional(data, "grid_sums", _floats)}


def _output(data: Mapping[str, Any]) -> OutputSummary | None:
    return OutputSummary.from_json(data["output"]) if data.get("output") else None


def _with_output(data: Json, output: OutputSummary | None) -> Json:
    return {**data, "output": output.to_json()} if output is not None else data
