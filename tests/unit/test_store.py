"""The store's shortening of values longer than a column holds (PostgreSQL rejects them, SQLite keeps them)."""

from __future__ import annotations

import pytest

from include.monitoring.store import TRUNCATION_MARKER, bounded


def test_bounded_value_that_fits_is_unchanged():
    assert bounded("self-employed", 256) == "self-employed"
    assert bounded("x" * 256, 256) == "x" * 256


def test_bounded_long_value_keeps_its_head_and_ends_with_the_marker_and_a_digest():
    shortened = bounded("self-employed " + "x" * 300, 256)
    assert len(shortened) == 256
    head, marker, digest = shortened.rpartition(TRUNCATION_MARKER)
    assert ("self-employed " + "x" * 300).startswith(head) and marker and len(digest) == 10


@pytest.mark.parametrize("length", [256, 128, 512], ids=["slice_value", "model", "alert_key"])
def test_bounded_long_values_sharing_a_head_stay_apart_and_are_stable(length):
    first, second = "x" * length + "a", "x" * length + "b"
    assert bounded(first, length) != bounded(second, length)
    assert bounded(first, length) == bounded(first, length)
    assert bounded(bounded(first, length), length) == bounded(first, length)  # a shortened value is a fixed point


def test_bounded_to_fewer_characters_than_the_marker_and_digest_is_cut_to_the_length():
    assert len(bounded("critical-and-more", 8)) == 8


def test_bounded_string_drops_nul_characters_that_postgresql_text_cannot_hold():
    from include.monitoring.store import BoundedString

    assert BoundedString(16).process_bind_param("a\x00b", None) == "ab"
    assert BoundedString(4).process_bind_param("\x00abcdefgh", None) == bounded("abcdefgh", 4)
