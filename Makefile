# rcflow: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PY    ?= python3.11
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
# Prefect's settings (analytics off, quiet logs) live in rcflow/prefect_env.py.

.PHONY: demo test test-fast worker lint bench chromium clean

# Libraries are compiled to bytecode once, here: uv does not compile by default (pip does), and where
# PYTHONDONTWRITEBYTECODE is set nothing is ever cached, so every process (each CLI run, each
# Prefect server, each test's subprocess) compiled Prefect, dbt and the rest from source again:
# a failing `rcflow run` on a fresh Prefect home took 20-22 s of CPU, 13-15 s compiled.
$(STAMP): requirements.lock pyproject.toml Makefile
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.8
	@$(BIN)/uv pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

chromium:
	@command -v chromium >/dev/null || { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser tests will be skipped"; }

# Both hubs' simulators on loopback (eFACT; FACe with its connector), one warehouse in data/demo,
# one report over every entity.
demo: $(STAMP)
	@$(BIN)/rcflow demo

# The suite in parallel (pytest-xdist): one worker per core, at most 4; one file (or one folder
# sharing a costly fixture, see tests/conftest.py) per worker at a time, the longest dealt first.
# `make test JOBS=0` runs it in one process.
JOBS  ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n : 4 )))
XDIST := $(if $(filter 0,$(JOBS)),-p no:xdist,-n $(JOBS) --dist loadfile)

test: $(STAMP) chromium
	@$(BIN)/ruff check .
	@$(BIN)/pytest $(XDIST)

test-fast: $(STAMP)   # what a developer runs between edits: the suite without the real-server tests
	@$(BIN)/ruff check .
	@$(BIN)/pytest $(XDIST) -m "not slow"

worker: $(STAMP)      # the Prefect process worker for prefect.yaml's deployments (README "Scheduling")
	@exec $(BIN)/python -m rcflow.prefect_worker

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) data/*.duckdb* data/store data/gx reports/target reports/logs
