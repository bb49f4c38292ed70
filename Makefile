# The two commands: `make run` (Airflow + demo on http://localhost:8080) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint bench install clean screenshots

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) scripts/run_local.py

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

# Everything but the statistical simulations and the Airflow standalone tests (marked slow): a quick loop while editing.
test-fast: lint
	$(PY) -m pytest -m "not slow"

# The README's pictures of the Model health views, taken by the browser test (needs Debian's chromium).
screenshots: $(STAMP)
	MODEL_HEALTH_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/e2e/model_health/test_browser.py

bench: $(STAMP)
	$(PY) bench/pipeline_bench.py
	$(PY) bench/validation_bench.py
	$(PY) bench/drift_bench.py
	$(PY) bench/detection_scorecard.py
	$(PY) bench/false_pages.py
	$(PY) bench/scale_bench.py --days 1,30  # needs the PostgreSQL server; 90 days: --days 1,30,90
	$(PY) bench/pushdown_bench.py --rows 1000000  # needs the PostgreSQL server; 10 million rows: the default
	$(PY) bench/dag_overhead.py  # starts a standalone Airflow of its own

clean:
	rm -rf $(VENV) .airflow .data
