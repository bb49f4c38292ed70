"""What the e2e modules share: an `airflow standalone` that is stopped, and shown, whatever happens."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from scripts import standalone


@contextmanager
def running_standalone(env: Mapping[str, str], log_path: Path, port: int) -> Iterator[subprocess.Popen]:
    """Start standalone with `env`; on the way out stop its whole process group, print the log's tail (pytest
    shows captured output only when a test fails) and check that nothing still listens on `port`."""
    proc = standalone.start(env, log_path)
    try:
        yield proc
    finally:
        standalone.stop(proc)
        print(log_path.read_text(errors="replace")[-5000:])
    assert not standalone.port_listening(port), f"something still listens on port {port}"
