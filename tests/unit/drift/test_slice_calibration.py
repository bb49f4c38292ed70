"""The slices' noise bands (drift/slice_calibration.py): the band a slice's table gives is the band its full
calibration table gives at the same effective size, the points are computed once per (table, size), and a table's key
changes with anything its points are drawn from."""

from __future__ import annotations

import numpy as np
import pytest

from include.monitoring.drift import get_method
from include.monitoring.drift import slice_calibration as sc
from include.monitoring.drift.calibration import CALIBRATION_SIZES, bracket, calibrate, noise_at

QUANTILE = 0.999
CATEGORY_COUNTS = (5_000, 3_000, 1_500, 500, 0)  # the last: the column for unseen categories, as scoring passes it
GRID = 40


def _numeric() -> tuple[list[int], dict[str, object]]:
    """A skewed numeric slice on a coarse grid: its counts, where each bin's mass sits, and the scale."""
    counts = np.random.default_rng(4).poisson(np.linspace(400, 20, GRID)).tolist()
    return counts, {"reference_locations": np.linspace(0.0, 3.9, GRID).tolist(), "scale": 0.9}


def _request(method: str, counts, inputs, size: float, quantile: float = QUANTILE) -> sc.BandRequest:
    return sc.band_request(get_method(method), counts, inputs, quantile, size, "x", "segment", "a")


class CountingPoints(sc.InMemoryPoints):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[str, int]] = []

    def write(self, points) -> None:
        self.written += [(p.table_key, p.size) for p in points]
        super().write(points)


@pytest.mark.parametrize("size", [4.0, 250.0, 2_074.5, 45_000.0, 3_000_000.0],
                         ids=["below-the-sizes", "between", "between-2", "large", "beyond-the-sizes"])
@pytest.mark.parametrize("method", ["jensen_shannon", "wasserstein"])
def test_slice_band_equals_the_full_tables_band_at_the_effective_size(method, size):
    counts, inputs = (list(CATEGORY_COUNTS), {}) if method == "jensen_shannon" else _numeric()
    full = calibrate(get_method(method), counts, QUANTILE, **inputs)
    [band] = sc.slice_bands([_request(method, counts, inputs, size)], sc.InMemoryPoints(), "ref")
    assert band == noise_at(full, size)


def test_bracket_is_the_segment_noise_at_reads():
    assert bracket(2_074.5) == (1_000, 3_000)
    assert bracket(1_000) == (300, 1_000)
    assert bracket(3) == (10, 30) and bracket(5e6) == (300_000, 1_000_000)
    assert all(size in CALIBRATION_SIZES for n in (1, 77, 1e4, 1e9) for size in bracket(n))


def test_points_are_computed_once_per_table_and_size():
    points = CountingPoints()
    counts = list(CATEGORY_COUNTS)
    first = sc.slice_bands([_request("jensen_shannon", counts, {}, 1_500), _request("jensen_shannon", counts, {}, 2_500)],
                           points, "ref")
    assert len(points.written) == 2  # both slices read the segment [1000, 3000] of one table
    again = sc.slice_bands([_request("jensen_shannon", counts, {}, 2_500)], points, "ref")
    assert len(points.written) == 2 and again == first[1:]
    sc.slice_bands([_request("jensen_shannon", counts, {}, 5_000)], points, "ref")
    assert points.written[2:] == [(points.written[0][0], 10_000)]  # [3000, 10000]: only the new size


def test_an_empty_slice_has_no_band_and_costs_nothing():
    points = CountingPoints()
    assert sc.slice_bands([_request("jensen_shannon", list(CATEGORY_COUNTS), {}, 0.0)], points, "ref") == [None]
    assert points.written == []


def test_the_table_key_changes_with_anything_the_points_are_drawn_from():
    counts, inputs = _numeric()
    key = _request("wasserstein", counts, inputs, 100).table_key
    assert _request("wasserstein", counts, inputs, 5_000).table_key == key  # the size is a point's, not the table's
    others = {
        "counts": _request("wasserstein", [c + (i == 0) for i, c in enumerate(counts)], inputs, 100),
        "locations": _request("wasserstein", counts, {**inputs, "reference_locations": np.linspace(0, 4, GRID).tolist()},
                              100),
        "scale": _request("wasserstein", counts, {**inputs, "scale": 0.91}, 100),
        "quantile": _request("wasserstein", counts, inputs, 100, quantile=0.99),
        "method": _request("ks", counts, {}, 100),
    }
    assert {name: r.table_key == key for name, r in others.items()} == dict.fromkeys(others, False)
