"""Monitor files (`include/monitors/<model>.yaml`) -> validated, frozen config objects (schema.py).

Every key has a default documented next to its field, and every numeric key a range in NUMERIC_RANGES; an
unknown key, a wrong type, an unknown choice or a number outside its range raises `ConfigError` naming the file,
the key path and the valid options. Stdlib + PyYAML only, because DAG files load these at parse time.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml

from include.monitoring.config.checks import check_monitor, duplicate_models
from include.monitoring.config.schema import MonitorConfig
from include.monitoring.errors import ConfigError

MONITORS_DIR = Path(__file__).resolve().parents[2] / "monitors"


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so an impossible date (2026-02-30) is reported by the
    key check that names it, instead of failing inside the YAML parser."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_monitor_config(path: str | Path) -> MonitorConfig:
    """Read and validate one monitor file."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=_TextDatesLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: expected a mapping of keys at the top level, got {type(raw).__name__}")
    raw.setdefault("model", path.stem)
    config: MonitorConfig = _build(MonitorConfig, raw, path.name, "")
    config = dataclasses.replace(config, source_file=str(path))
    check_monitor(config, path.name)
    return config


def monitors_dir() -> Path:
    """Where the monitor files are: include/monitors, or $MONITORING_MONITORS_DIR when set."""
    return Path(os.environ.get("MONITORING_MONITORS_DIR") or MONITORS_DIR)


def load_all_monitors(directory: Path | None = None) -> tuple[list[MonitorConfig], dict[str, ConfigError]]:
    """Every monitor file in `directory` (default: `monitors_dir()`): the valid configs and, per broken file
    (by file name), its error. No file's content can stop the others from loading."""
    directory = directory or monitors_dir()
    configs: list[MonitorConfig] = []
    errors: dict[str, ConfigError] = {}
    for path in sorted(directory.glob("*.y*ml")):
        try:
            configs.append(load_monitor_config(path))
        except ConfigError as exc:
            errors[path.name] = exc
        except Exception as exc:  # noqa: BLE001 (a bug or a YAML oddity in one file must not cost the other models)
            errors[path.name] = ConfigError(f"{path.name}: could not be loaded: {type(exc).__name__}: {exc}")
    duplicates = duplicate_models(configs)
    errors |= duplicates
    return [config for config in configs if Path(config.source_file).name not in duplicates], errors


def _build(cls: type[Any], raw: Any, file: str, prefix: str, default: Any = None) -> Any:
    """`cls` from the mapping `raw`; keys it omits keep the values of `default` (the section's default),
    so `psi: {warning: 0.15}` keeps PSI's default CRITICAL tier instead of dropping it."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: {prefix.rstrip('.') or 'top level'}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source_file"]
    unknown = sorted(set(raw) - set(names), key=str)  # YAML keys may be numbers: `1: x` beside `owner: me`
    if unknown:
        raise ConfigError(f"{file}: unknown key {prefix}{unknown[0]}; valid keys here: {sorted(names)}")
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    values = {name: _coerce(hints[name], raw[name], file, f"{prefix}{name}", defaults[name])
              for name in names if name in raw}
    if default is not None:
        values = {name: getattr(default, name) for name in names} | values
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{file}: {prefix.rstrip('.') or 'top level'}: {exc}") from exc


def _coerce(hint: Any, value: Any, file: str, key: str, default: Any = None) -> Any:
    origin, args = get_origin(hint), get_args(hint)

    def fail(expected: str) -> typing.NoReturn:
        raise ConfigError(f"{file}: {key}: expected {expected}, got {value!r}")

    if origin is Literal:
        if isinstance(value, bool) and {"on", "off"} <= set(args):
            # YAML 1.1 reads an unquoted on/off as true/false; a choice spelled on/off means what was written
            value = "on" if value else "off"
        if value not in args:
            fail(f"one of {list(args)}")
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):  # a str enum (TaskType): its values, as a Literal's
        choices = [member.value for member in hint]
        if value not in choices:
            fail(f"one of {choices}")
        return hint(value)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _coerce(next(a for a in args if a is not type(None)), value, file, key)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, file, f"{key}.", default if dataclasses.is_dataclass(default) else None)
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, list):
            fail("a list")
        return tuple(_coerce(args[0], item, file, f"{key}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            fail("a mapping")
        return {str(k): _coerce(args[1], v, file, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            fail("true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail("an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail("a number")
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            fail("a number of at most 1e308")
    if hint is str:
        if not isinstance(value, str):
            fail("a string")
        return value
    raise ConfigError(f"{file}: {key}: unsupported type {hint!r}")  # a bug in this module, not in the file
