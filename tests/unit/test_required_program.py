"""required_program(): a missing real program skips its tests locally, and fails them where CI requires it."""

from __future__ import annotations

import pytest

from tests.conftest import required_program

MISSING = "no-such-program-f3c1"


def test_a_present_program_is_found_by_path():
    assert required_program("python3", "REQUIRE_NOTHING").endswith("python3")


def test_a_missing_program_skips_naming_the_package(monkeypatch):
    monkeypatch.delenv("REQUIRE_SOMETHING", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"apt-get install -y {MISSING}"):
        required_program(MISSING, "REQUIRE_SOMETHING")


def test_a_missing_program_fails_when_its_variable_requires_it(monkeypatch):
    monkeypatch.setenv("REQUIRE_SOMETHING", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_SOMETHING=1"):
        required_program(MISSING, "REQUIRE_SOMETHING")
