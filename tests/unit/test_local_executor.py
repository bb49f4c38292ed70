"""What `make run`'s executor prepares for its task processes (scripts/local_executor.py): the third-party modules a
monitor task imports are preloaded, and the project's modules are byte-compiled, so that a task process neither
imports the former nor compiles the latter, while an edited module still runs from its source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from scripts.local_executor import compile_project
from tests.conftest import ROOT

# A fresh interpreter: preload, then what a monitor task process imports (the DAG file's modules and the tasks).
FIRST_IMPORTS = """
import json, sys
from scripts.local_executor import preload
preload()
before = set(sys.modules)
import include.monitoring.tasks
new = {name.split(".")[0] for name in set(sys.modules) - before}
print(json.dumps(sorted(new - set(sys.stdlib_module_names) - {"include"})))
"""


def test_a_monitor_task_imports_no_third_party_module_the_executor_has_not_preloaded():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    found = subprocess.run([sys.executable, "-c", FIRST_IMPORTS], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True)
    assert json.loads(found.stdout.strip().splitlines()[-1]) == []


def test_compile_project_writes_each_pyc_once_and_an_edited_module_runs_from_its_source(tmp_path, monkeypatch):
    package = tmp_path / "compiled_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "answer.py"
    module.write_text("VALUE = 1\n")
    assert compile_project([tmp_path])
    compiled = package / "__pycache__" / f"answer.{sys.implementation.cache_tag}.pyc"
    written = compiled.stat().st_mtime_ns
    assert compile_project([tmp_path]) and compiled.stat().st_mtime_ns == written  # up to date: not rewritten

    time.sleep(0.01)
    module.write_text("VALUE = 22\n")  # an edit after the executor started
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # as under PYTHONDONTWRITEBYTECODE
    monkeypatch.syspath_prepend(str(tmp_path))
    import compiled_pkg.answer

    assert compiled_pkg.answer.VALUE == 22
    sys.modules.pop("compiled_pkg.answer")
    sys.modules.pop("compiled_pkg")


def test_compile_project_reports_a_module_it_cannot_compile_and_compiles_the_others(tmp_path):
    (tmp_path / "good.py").write_text("VALUE = 1\n")
    (tmp_path / "broken.py").write_text("def broken(:\n")
    assert not compile_project([tmp_path])
    assert (tmp_path / "__pycache__" / f"good.{sys.implementation.cache_tag}.pyc").is_file()
