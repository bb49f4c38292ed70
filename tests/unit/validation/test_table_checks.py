"""The window that counts the table-wide checks of a window's day (validation/results.py `counting_window`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from include.monitoring.types import Window
from include.monitoring.validation.results import counting_window


def _window(start: datetime, hours: float) -> Window:
    return Window(start, start + timedelta(hours=hours))


@pytest.mark.parametrize(("start", "hours", "first"), [
    (datetime(2026, 11, 22, 0, tzinfo=UTC), 1, datetime(2026, 11, 22, 0, tzinfo=UTC)),  # the day's first: itself
    (datetime(2026, 11, 22, 23, tzinfo=UTC), 1, datetime(2026, 11, 22, 0, tzinfo=UTC)),
    (datetime(2026, 11, 22, 17, 30, tzinfo=UTC), 1, datetime(2026, 11, 22, 0, 30, tzinfo=UTC)),  # a grid at :30
    (datetime(2026, 11, 22, 0, 15, tzinfo=UTC), 0.5, datetime(2026, 11, 22, 0, 15, tzinfo=UTC)),
    (datetime(2026, 11, 22, 18, tzinfo=UTC), 6, datetime(2026, 11, 22, 0, tzinfo=UTC)),
    (datetime(2026, 11, 22, 0, tzinfo=UTC), 24, datetime(2026, 11, 22, 0, tzinfo=UTC)),  # daily: every window counts
])
def test_the_counting_window_is_the_first_of_the_utc_day_on_the_same_grid(start, hours, first):
    assert counting_window(_window(start, hours)) == _window(first, hours)
