#!/usr/bin/env bash
# Create the isolated Evidently venv for the drift benchmark (idempotent).
#
#   bash bench/evidently_env.sh [VENV_DIR]      # default: <repo root>/.bench/evidently-venv
#
# Installs bench/requirements-evidently.txt into VENV_DIR with that venv's own pip, then touches
# VENV_DIR/.installed; later calls return at once while that marker exists (delete it, or the venv,
# to reinstall after changing the pins). Interpreter: $PYTHON, default python3.11.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.bench/evidently-venv}"
PYTHON="${PYTHON:-python3.11}"
REQUIREMENTS="$ROOT/bench/requirements-evidently.txt"

if [[ -f "$VENV/.installed" ]]; then
    exit 0
fi

mkdir -p "$(dirname "$VENV")"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
touch "$VENV/.installed"
