"""Sampling a window above warehouse.max_rows_per_window: by a hash of the id, so the same rows on every re-run,
database and read order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from include.monitoring.warehouse import sample_by_id


def _frame(ids) -> pd.DataFrame:
    return pd.DataFrame({"prediction_id": ids, "score": np.arange(len(ids), dtype=float)})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=300, unique=True), st.integers(1, 300), st.randoms())
def test_the_sample_is_the_same_rows_in_id_order_whatever_the_read_order(ids, size, random):
    shuffled = list(ids)
    random.shuffle(shuffled)
    first, second = sample_by_id(_frame(ids), "prediction_id", size), sample_by_id(_frame(shuffled), "prediction_id", size)
    assert len(first) == min(size, len(ids))
    assert list(first["prediction_id"]) == list(second["prediction_id"])
    assert set(first["prediction_id"]) <= set(ids)
    assert list(first["prediction_id"].astype(str)) == sorted(first["prediction_id"].astype(str))


def test_an_id_read_as_a_number_or_as_text_is_the_same_draw():
    numbers = sample_by_id(_frame(list(range(1000))), "prediction_id", 50)
    texts = sample_by_id(_frame([str(i) for i in range(1000)]), "prediction_id", 50)
    assert list(numbers["prediction_id"].astype(str)) == list(texts["prediction_id"])


def test_the_sample_spreads_over_the_window_and_does_not_follow_row_order():
    sample = sample_by_id(_frame([f"p{i:06d}" for i in range(100_000)]), "prediction_id", 1_000)
    positions = sample["score"].to_numpy()  # the row's place in the window
    # a hash draw: about 100 sampled rows in each tenth of the window (a prefix or suffix would put 1000 in one)
    per_tenth = np.histogram(positions, bins=10, range=(0, 100_000))[0]
    assert per_tenth.min() > 60 and per_tenth.max() < 140


def test_a_window_without_the_id_column_keeps_its_first_rows():
    frame = pd.DataFrame({"score": [0.1, 0.2, 0.3]})
    assert list(sample_by_id(frame, "prediction_id", 2)["score"]) == [0.1, 0.2]
