"""The noise bands of the slices' distances, from calibration tables kept between runs in the metric store.

A whole column's band is read from the table stored with the reference profile (calibration.py). A slice of the
window (a model version, a customer segment) is compared with the same slice of the reference: other counts, so
another table, which the profile does not hold (fitting one per slice value, feature and method at every size would
multiply the reference fit's resampling by the number of slice values). A slice's table is filled on first use
instead, and only where it is read: `noise_at` reads a table at the two calibrated sizes around the effective size
(calibration.bracket), so a run computes those two points that are not kept yet, each exactly as `calibrate`
computes that size (NOISE_DRAWS windows, the generator seeded by the size), and writes them to the metric store.
Later runs (each Airflow task is a new process) read them there: a slice of about the same size as before costs
one small query instead of 4000 draws per feature.

Statistically this is the whole column's band: `noise_at` of the slice's table at the slice's effective size
n m / (n + m) (m the slice's reference rows), log-log between half-decades, so the interpolation error is the
same as for whole columns (exact up to the resampling error for a band that is a power of n). It is deterministic:
a point depends only on its table's key and its size, so every run, first or later, concurrent or not, reads
the same band.

A table's key is a digest of everything its points are drawn from: the method, the quantile, the slice's reference
counts and the method's extra inputs (wasserstein: where each grid bin's mass sits and the scale), and the number of
draws. A new reference whose slice counts differ gets new keys and never reads an old reference's points; the
rolling and seasonal references merged from a table reference keep its slices (reference.merge_windows), so they
share its tables instead of filling one per slot. Concurrent runs (a backfill) that compute the same point insert
it idempotently (the store keeps the first; both computed the same value).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from include.monitoring.drift.base import DriftMethod
from include.monitoring.drift.calibration import bracket, noise_at, noise_quantiles
from include.monitoring.drift.noise import NOISE_DRAWS
from include.monitoring.profile_types import CalibrationPoint

log = logging.getLogger(__name__)

# Part of every table key: change it when the resampling behind a point changes, so that no run reads old points.
RESAMPLING_SCHEME = 1


class CalibrationPoints(Protocol):
    """Where the slices' calibration points are kept between runs (store.SliceCalibrations: the metric store)."""

    @property
    def source(self) -> str:
        """Where the points are kept, as a banded row's details.calibration says."""
        ...

    def read(self, keys: Collection[str]) -> dict[tuple[str, int], float]:
        """The kept points of the tables `keys`: the band by (table key, size)."""
        ...

    def write(self, points: Sequence[CalibrationPoint]) -> None:
        """Keep `points`; a point kept already (by a concurrent run) is left as it is."""
        ...


class InMemoryPoints:
    """Points kept for the life of the process: what compute_drift uses when no store is given (tests, benches)."""

    source = "slice calibration table computed in this process (no metric store given)"

    def __init__(self) -> None:
        self._points: dict[tuple[str, int], float] = {}

    def read(self, keys: Collection[str]) -> dict[tuple[str, int], float]:
        wanted = set(keys)
        return {point: noise for point, noise in self._points.items() if point[0] in wanted}

    def write(self, points: Sequence[CalibrationPoint]) -> None:
        for point in points:
            self._points.setdefault((point.table_key, point.size), point.noise)


IN_PROCESS = InMemoryPoints()


@dataclass(frozen=True, slots=True)
class BandRequest:
    """A slice's distance whose band is wanted: what its table is drawn from, and the size it is read at."""

    table_key: str
    method: DriftMethod
    reference_counts: tuple[int, ...]
    inputs: Mapping[str, Any]
    quantile: float
    size: float  # the effective size n m / (n + m)
    column: str
    slice_key: str
    slice_value: str


def band_request(method: DriftMethod, reference_counts: Sequence[int], inputs: Mapping[str, Any], quantile: float,
                 size: float, column: str, slice_key: str, slice_value: str) -> BandRequest:
    return BandRequest(table_key(method, reference_counts, inputs, quantile), method, tuple(reference_counts),
                       inputs, quantile, size, column, slice_key, slice_value)


def table_key(method: DriftMethod, reference_counts: Sequence[int], inputs: Mapping[str, Any], quantile: float) -> str:
    """The digest of what a table's points are drawn from (floats by their exact repr)."""
    drawn_from = {"method": method.name, "quantile": quantile, "counts": [int(c) for c in reference_counts],
                  "inputs": dict(inputs), "draws": NOISE_DRAWS, "scheme": RESAMPLING_SCHEME}
    return hashlib.sha256(json.dumps(drawn_from, sort_keys=True, default=float).encode()).hexdigest()[:32]


def slice_bands(requests: Sequence[BandRequest], points: CalibrationPoints, reference_id: str) -> list[float | None]:
    """The band of each request (None for an empty slice), from the points `points` keeps; the missing ones are
    resampled and given to `points` to keep. One read and at most one write, whatever the number of requests."""
    wanted = {(r.table_key, size): r for r in requests if r.size > 0 for size in bracket(r.size)}
    known = points.read(sorted({key for key, _ in wanted})) if wanted else {}
    computed = [CalibrationPoint(key, size, noise_quantiles(r.method, r.reference_counts, [size], r.quantile,
                                                            **r.inputs)[0],
                                 r.method.name, r.quantile, r.column, r.slice_key, r.slice_value, reference_id)
                for (key, size), r in sorted(wanted.items(), key=lambda item: item[0]) if (key, size) not in known]
    if computed:
        points.write(computed)  # sorted by (key, size): concurrent writers take their row locks in the same order
        known.update({(p.table_key, p.size): p.noise for p in computed})
    if wanted:
        log.info("slice noise bands: %d calibration points, %d read and %d computed; from the %s", len(wanted),
                 len(wanted) - len(computed), len(computed), points.source)
    bands: list[float | None] = []
    for r in requests:
        sizes = bracket(r.size)
        bands.append(noise_at({"sizes": list(sizes), "noise": [known[r.table_key, s] for s in sizes]}, r.size)
                     if r.size > 0 else None)
    return bands
