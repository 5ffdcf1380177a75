# Spotdesk: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
MANAGE := $(PY) manage.py
TEST_SETTINGS := config.settings.test
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test test-slow test-chaos test-e2e bench mutation bench-baseline lint fmt migrate shell venv \
        services system-packages compose-check messages requirements clean vendor

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# --- environment -----------------------------------------------------------------
$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) not found. Fix: install Python 3.11 or run make PYTHON=/path/to/python3.11 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstalls only when a pinned requirements file changes.
$(VENV)/.installed: requirements/dev.txt requirements/base.txt | $(PY)
	$(BIN)/pip install -q -r requirements/dev.txt
	@touch $@

venv: $(VENV)/.installed  ## Create or update the virtualenv

# The dashboard's front-end packages: `npm ci` installs the locked versions and its
# postinstall copies the built files to static/vendor/ (ignored by git).
static/vendor/.installed: package.json package-lock.json
	@bash deploy/local/system-packages.sh
	npm ci --no-audit --no-fund
	@touch $@

vendor: static/vendor/.installed  ## Install the dashboard's front-end packages (npm ci)

system-packages:
	@bash deploy/local/system-packages.sh

services:  ## Make sure PostgreSQL and Redis answer (starts local ones if installed)
	@bash deploy/local/ensure-services.sh

messages: venv system-packages  ## Compile translations (en, pt-BR, es)
	@$(MANAGE) compilemessages -v 0 --ignore '.venv' --ignore 'var'

requirements: venv  ## Re-pin requirements/*.txt from the *.in files
	for f in base dev production; do \
	  $(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links \
	    -o requirements/$$f.txt requirements/$$f.in; done

# --- the two commands ------------------------------------------------------------
run: venv messages vendor  ## Start the whole platform on the embedded default, with demo data
	$(MANAGE) standalone

test: venv system-packages services messages vendor  ## Lint, validate compose, run the test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory compose-check
	@bash deploy/local/nginx-check.sh
	@# Line coverage of both processes and the processes they start ([tool.coverage.*]).
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(BIN)/pytest --durations=20 --cov --cov-report= $(PYTEST_ARGS)
	@# The browser tests in their own process (Playwright drives its own event loop).
	@bash deploy/local/system-packages.sh chromium
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(BIN)/pytest -m e2e --durations=10 --cov --cov-append --cov-report= $(PYTEST_ARGS)
	$(PY) deploy/local/coverage_gate.py

# --- suites kept out of `make test` ----------------------------------------------
test-slow: venv services  ## Long-running tests
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(BIN)/pytest -m slow --durations=20 $(PYTEST_ARGS)

test-chaos: venv services  ## Fault-injection and soak tests
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(BIN)/pytest -m chaos --durations=20 $(PYTEST_ARGS)

test-e2e: venv services vendor  ## Headless Chromium end-to-end tests
	@bash deploy/local/system-packages.sh chromium
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(BIN)/pytest -m e2e --durations=20 $(PYTEST_ARGS)

# Every bench script (not report.py, compare.py, bench/_*.py modules or the profiles)
# appends its ratios to a fresh results file under var/bench/, which bench/compare.py
# judges against bench/baseline.json.
# A baseline is the median of BENCH_ROUNDS runs: one run on a shared machine is noisy.
BENCH_SCRIPTS = $(filter-out bench/_%.py bench/report.py bench/compare.py bench/profile_%.py,$(wildcard bench/*.py))
BENCH_ROUNDS ?= 3
BENCH_RUN = mkdir -p var/bench; results=var/bench/results-$$(date -u +%Y%m%dT%H%M%SZ).jsonl; \
	: > $$results; for round in $$(seq $$rounds); do for script in $(BENCH_SCRIPTS); do \
	echo "== $$script"; BENCH_RESULTS=$$results $(PY) $$script || exit 1; done; done

bench: venv services  ## Benchmarks: ratios against references, compared with bench/baseline.json
	@rounds=1; $(BENCH_RUN); echo "== compare ($$results)"; $(PY) bench/compare.py $$results

bench-baseline: venv services  ## Record bench/baseline.json (median of BENCH_ROUNDS runs)
	@rounds=$(BENCH_ROUNDS); $(BENCH_RUN); $(PY) bench/compare.py $$results --write-baseline \
	  --note "$${BENCH_NOTE:-make bench-baseline, median of $(BENCH_ROUNDS) runs}"

mutation: venv  ## Mutation testing of the risk engine and the filter quantization (mutmut)
	$(BIN)/mutmut run
	$(BIN)/mutmut results

compose-check: system-packages  ## Validate docker-compose.yml for every profile
	@bash deploy/local/compose-check.sh

# --- conveniences ----------------------------------------------------------------
lint: venv  ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv  ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: venv  ## Apply database migrations (embedded default unless DATABASE_URL is set)
	$(MANAGE) migrate

shell: venv  ## Django shell
	$(MANAGE) shell

clean:  ## Remove the virtualenv and local state (var/)
	rm -rf $(VENV) var
