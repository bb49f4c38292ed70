"""The README's configuration table documents every key a monitor file accepts."""

from __future__ import annotations

import dataclasses
import re

from include.monitoring.config import MonitorConfig
from tests.conftest import ROOT


def config_keys(cls=MonitorConfig, prefix: str = "") -> set[str]:
    keys = set()
    for field in dataclasses.fields(cls):
        if field.name == "source_file":
            continue
        hint = cls.__annotations__[field.name]
        nested = field.default if dataclasses.is_dataclass(field.default) else None
        if nested is not None and hint not in ("Tiers",):
            keys |= config_keys(type(nested), f"{prefix}{field.name}.")
        else:
            keys.add(f"{prefix}{field.name}")
    return keys


def test_readme_configuration_table_names_every_key():
    table = ROOT.joinpath("README.md").read_text().split("| key | default | meaning |", 1)[1].split("\n\n", 1)[0]
    documented = set()
    for cell in re.findall(r"^\| ([^|]+) \|", table, flags=re.M):
        names = re.findall(r"`([a-z0-9_.]+)`", cell)
        section = names[0].rsplit(".", 1)[0] + "." if names and "." in names[0] else ""
        documented |= {name if "." in name or not section else section + name for name in names}
    missing = sorted(config_keys() - documented)
    assert missing == [], f"keys missing from the README's configuration table: {missing}"


def test_readme_ranges_table_gives_every_numeric_key_the_range_validate_enforces():
    from include.monitoring.config import NUMERIC_RANGES

    table = ROOT.joinpath("README.md").read_text().split("| key | allowed values |", 1)[1].split("\n\n", 1)[0]
    documented = {}
    for cell, allowed in re.findall(r"^\| ([^|]+) \| `([^`]+)` \|", table, flags=re.M):
        names = re.findall(r"`([a-z0-9_.*]+)`", cell)
        section = names[0].rsplit(".", 1)[0] + "." if "." in names[0] else ""
        documented |= {name if "." in name or not section else section + name: allowed for name in names}
    assert documented == {key: str(allowed) for key, allowed in NUMERIC_RANGES.items()}
