"""The model's own expectation suite: GX 1.24 suite JSON in `include/expectations/<model>.json`, beside the
monitors folder. Part of the model's configuration: the loader checks the file's shape at DAG parse time, the
validation step runs it beside the generated suite (validation/suite.py). Stdlib only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from include.monitoring.catalogue import GENERATED_CHECKS, PIPELINE_CHECKS
from include.monitoring.errors import ConfigError

if TYPE_CHECKING:
    from include.monitoring.config.schema import MonitorConfig

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True, slots=True)
class ExpectationSpec:
    type: str
    check: str
    column: str  # "" for table-level expectations
    severity: str
    kwargs: dict[str, Any] = field(default_factory=dict)  # without the column
    origin: str = "generated"  # or the custom suite's file name
    expected: str = ""  # what a passing window looks like, for the alert text

    @property
    def expected_text(self) -> str:
        """What a passing window looks like: `expected`, else the arguments (a value set is too long to show)."""
        return self.expected or ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items()
                                          if key != "value_set") or self.type

    def as_gx_dict(self) -> dict[str, Any]:
        kwargs = {"column": self.column, **self.kwargs} if self.column else dict(self.kwargs)
        return {"type": self.type, "kwargs": kwargs, "severity": self.severity,
                "meta": {"check": self.check, "column": self.column, "origin": self.origin, "expected": self.expected_text}}


def custom_suite_path(config: MonitorConfig) -> Path:
    """`include/expectations/<model>.json` for `include/monitors/<model>.yaml`: the folder beside the monitors'."""
    if config.source_file:
        return Path(config.source_file).resolve().parent.parent / "expectations" / f"{config.model}.json"
    return EXPECTATIONS_DIR / f"{config.model}.json"


def load_custom_suite(path: Path) -> list[ExpectationSpec]:
    """The expectations of a GX 1.24 suite file, or [] when there is none. The shape is checked here (each
    expectation an object with a `type`, optional `kwargs`, `severity` and `meta`); whether GX knows the
    type and its arguments is checked when the suite runs, because importing GX here would slow DAG parsing."""
    if not path.exists():
        return []
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid JSON: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("expectations"), list):
        raise ConfigError(f'{path.name}: expected a GX suite object with an "expectations" list')
    specs: list[ExpectationSpec] = []
    taken: set[tuple[str, str]] = set()
    for index, item in enumerate(raw["expectations"]):
        where = f"{path.name}: expectations[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str) or not item["type"].startswith("expect_"):
            raise ConfigError(f'{where}: expected an object with a "type" such as "expect_column_values_to_be_between"')
        kwargs, meta = item.get("kwargs", {}), item.get("meta", {})
        if not isinstance(kwargs, dict) or not isinstance(meta, dict):
            raise ConfigError(f'{where}: "kwargs" and "meta" must be objects')
        severity = item.get("severity", "critical")  # GX's own default
        if severity not in SEVERITIES:
            raise ConfigError(f"{where}: severity {severity!r} is not one of {list(SEVERITIES)}")
        column = kwargs.get("column", "")
        if not isinstance(column, str):
            raise ConfigError(f'{where}: "column" must be a column name')
        check = str(meta.get("check") or item["type"].removeprefix("expect_"))
        if check in GENERATED_CHECKS or check in PIPELINE_CHECKS:
            raise ConfigError(f"{where}: check name {check!r} is taken by a generated check; pick another meta.check")
        name, suffix = check, 2
        while (name, column) in taken:  # results are keyed by (check, column): keep each expectation's own row
            name, suffix = f"{check}_{suffix}", suffix + 1
        taken.add((name, column))
        specs.append(ExpectationSpec(item["type"], name, column, severity,
                                     {k: v for k, v in kwargs.items() if k != "column"}, origin=path.name))
    return specs
