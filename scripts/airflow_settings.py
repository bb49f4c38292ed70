"""Apply an Astro CLI `airflow_settings.yaml` to plain Airflow.

The Astro CLI applies the file on `astro dev start`; plain Airflow has no loader, but its
`connections|pools|variables import` commands take JSON. This module maps the Astro keys onto those
shapes, and onto `AIRFLOW_CONN_<ID>` environment variables for processes that should not need the
metadata database.

    python scripts/airflow_settings.py apply   # into the Airflow of the current environment (AIRFLOW_HOME, ...)
    eval "$(python scripts/airflow_settings.py env)"   # export the connections as AIRFLOW_CONN_* variables
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = ROOT / "airflow_settings.yaml"

# Astro key -> key of `airflow connections import` / of the AIRFLOW_CONN_<ID> JSON form.
CONNECTION_KEYS = {
    "conn_type": "conn_type", "conn_host": "host", "conn_schema": "schema", "conn_login": "login",
    "conn_password": "password", "conn_port": "port", "conn_extra": "extra",
}
POOL_KEYS = ("pool_name", "pool_slot", "pool_description")
VARIABLE_KEYS = ("variable_name", "variable_value")


class SettingsError(ValueError):
    """The settings file cannot be applied; the message names the file, the entry and the key."""


def _entries(settings: Mapping[str, Any], section: str, path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The section's entries with a label for messages. Entries whose values are all empty are skipped:
    the Astro template ships such placeholders."""
    entries = settings.get(section) or []
    if not isinstance(entries, list):
        raise SettingsError(f"{path}: airflow.{section} must be a list of entries")
    labelled = []
    for index, entry in enumerate(entries):
        label = f"{path}: airflow.{section}[{index}]"
        if not isinstance(entry, dict):
            raise SettingsError(f"{label} must be a mapping of keys to values")
        if any(value not in (None, "") for value in entry.values()):
            labelled.append((label, entry))
    return labelled


def _check_keys(label: str, entry: Mapping[str, Any], known: tuple[str, ...] | Mapping[str, str],
                required: tuple[str, ...]) -> None:
    unknown = sorted(set(entry) - set(known))
    if unknown:  # a typo such as conn_hots would otherwise be dropped silently
        raise SettingsError(f"{label}: unknown key(s) {unknown}; valid keys: {sorted(known)}")
    for key in required:
        if entry.get(key) in (None, ""):
            raise SettingsError(f"{label}: missing required key {key!r}")


def _extra(label: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        parsed = None
    if not isinstance(parsed, dict):
        raise SettingsError(f"{label}: conn_extra must be a mapping or a JSON object string, got {value!r}")
    return parsed


def _connection(label: str, entry: Mapping[str, Any], project_root: Path) -> dict[str, Any] | str:
    """One connection as `airflow connections import` takes it: a field mapping, or a URI string."""
    _check_keys(label, entry, ("conn_id", "conn_uri", *CONNECTION_KEYS), ("conn_id",))
    fields = {key: value for key, value in entry.items() if key in CONNECTION_KEYS and value not in (None, "")}
    if not fields and entry.get("conn_uri"):
        return str(entry["conn_uri"])  # Astro uses the URI only when no other field is set
    if not fields.get("conn_type"):
        raise SettingsError(f"{label}: missing required key 'conn_type' (or give conn_uri alone)")
    conn = {CONNECTION_KEYS[key]: value for key, value in fields.items()}
    if "port" in conn:
        try:
            conn["port"] = int(conn["port"])
        except (TypeError, ValueError):
            raise SettingsError(f"{label}: conn_port must be an integer, got {conn['port']!r}") from None
    if "extra" in conn:
        conn["extra"] = _extra(label, conn["extra"])
    host = conn.get("host")
    if conn["conn_type"] == "sqlite" and host and host != ":memory:" and not Path(host).is_absolute():
        # The file is the same whatever directory Airflow's components start in.
        conn["host"] = str((project_root / host).resolve())
    return conn


def _pool(label: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    _check_keys(label, entry, POOL_KEYS, ("pool_name", "pool_slot"))
    try:
        slots = int(entry["pool_slot"])
    except (TypeError, ValueError):
        raise SettingsError(f"{label}: pool_slot must be an integer, got {entry['pool_slot']!r}") from None
    return {"slots": slots, "description": str(entry.get("pool_description") or ""), "include_deferred": False}


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    settings = document.get("airflow") if isinstance(document, dict) else None
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise SettingsError(f"{path}: the top-level key 'airflow' must be a mapping")
    return settings


def _add(target: dict[str, Any], name: str, value: Any, message: str) -> None:
    # Two entries with one id (say, both commented-out alternatives enabled) would otherwise apply the last one silently.
    if name in target:
        raise SettingsError(f"{message} {name!r}")
    target[name] = value


def load_settings(path: Path | str, project_root: Path | str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(connections, pools, variables) in the shapes of `airflow connections|pools|variables import`."""
    path, project_root = Path(path), Path(project_root)
    settings = _read(path)
    connections: dict[str, Any] = {}
    for label, entry in _entries(settings, "connections", path):
        conn = _connection(label, entry, project_root)  # validates the entry before its id is read
        _add(connections, str(entry["conn_id"]), conn, f"{label}: duplicate conn_id")
    pools: dict[str, Any] = {}
    for label, entry in _entries(settings, "pools", path):
        pool = _pool(label, entry)  # validates the entry before its name is read
        _add(pools, str(entry["pool_name"]), pool, f"{label}: duplicate pool_name")
    variables: dict[str, Any] = {}
    for label, entry in _entries(settings, "variables", path):
        _check_keys(label, entry, VARIABLE_KEYS, ("variable_name",))
        value = entry.get("variable_value")
        variables[str(entry["variable_name"])] = "" if value is None else value
    return connections, pools, variables


def connection_env(path: Path | str, project_root: Path | str) -> dict[str, str]:
    """`AIRFLOW_CONN_<ID>` variables for the file's connections (JSON, or the URI as given)."""
    connections, _, _ = load_settings(path, project_root)
    return {f"AIRFLOW_CONN_{conn_id.upper()}": conn if isinstance(conn, str) else json.dumps(conn)
            for conn_id, conn in connections.items()}


def airflow_executable() -> str:
    """The `airflow` of the running interpreter's environment, so an un-activated venv works too."""
    return str(Path(sys.executable).parent / "airflow")


def _run(command: list[str], env: Mapping[str, str]) -> None:
    result = subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise SettingsError(f"`{' '.join(command[1:3])}` failed (exit {result.returncode}):\n{output}")


def settings_commands(path: Path | str, project_root: Path | str,
                      directory: Path | str) -> tuple[list[list[str]], dict[str, list[str]]]:
    """The `airflow` commands (argument lists) that import the file, reading JSON files written to `directory`,
    and the names they apply. Existing connections and variables are overwritten; pools are always set."""
    connections, pools, variables = load_settings(path, project_root)
    sections = (
        ("connections", connections, ["connections", "import", "--overwrite"]),
        ("pools", pools, ["pools", "import"]),
        ("variables", variables, ["variables", "import", "-a", "overwrite"]),
    )
    commands = []
    for section, content, command in sections:
        if not content:
            continue
        file = Path(directory) / f"{section}.json"
        file.write_text(json.dumps(content, indent=2))
        commands.append([*command, str(file)])
    return commands, {"connections": sorted(connections), "pools": sorted(pools), "variables": sorted(variables)}


def apply_settings(path: Path | str, project_root: Path | str, env: Mapping[str, str]) -> dict[str, list[str]]:
    """Import the file into the metadata database of the Airflow described by `env` (which must be migrated).
    Existing connections and variables are overwritten; pools are always set. Returns the names applied."""
    with tempfile.TemporaryDirectory(prefix="airflow_settings_") as tmp:
        commands, applied = settings_commands(path, project_root, tmp)
        for command in commands:
            _run([airflow_executable(), *command], env)
    return applied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("apply", "env"),
                        help="apply: import into the current Airflow; env: print export lines for the connections")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--project-root", type=Path, default=ROOT, help="base of relative SQLite paths")
    args = parser.parse_args(argv)
    try:
        if args.action == "env":
            for name, value in connection_env(args.file, args.project_root).items():
                print(f"export {name}={shlex.quote(value)}")
        else:
            applied = apply_settings(args.file, args.project_root, os.environ)
            print("; ".join(f"{section}: {', '.join(names) or '-'}" for section, names in applied.items()))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
