# dtsim: quick start is `make run` and `make test`.
# `make run` installs only what running needs; `make test` (and lint, bench) add the test extra.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# The core compiled with mypyc (scripts/compile_core.py); rebuilt when a source it
# depends on changes. Without a C compiler the step says so and dtsim runs as Python.
COMPILED := build/compiled-core/manifest.json
CORE_SOURCES := $(wildcard sim/common/*.py sim/scenario/*.py sim/core/*.py)

.PHONY: run test lint bench clean setup compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[compiled]'
	$(BIN)/python -m compileall -q sim viz
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,compiled]'
	$(BIN)/python -m compileall -q sim viz
	touch $(TEST_STAMP) $(RUN_STAMP)

$(COMPILED): $(CORE_SOURCES) scripts/compile_core.py | $(BIN)/python
	$(BIN)/python scripts/compile_core.py

setup: $(TEST_STAMP) $(COMPILED)

run: $(RUN_STAMP) $(COMPILED)
	$(BIN)/dtsim run baseline --out out/baseline

test: $(TEST_STAMP) $(COMPILED)
	$(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check sim viz tests bench scripts
	$(BIN)/mypy

bench: $(TEST_STAMP) $(COMPILED)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/experiments.py
	$(BIN)/python bench/planning.py

compile: $(COMPILED)

clean:
	rm -rf $(VENV) out build *.egg-info
