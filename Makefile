# dtsim: quick start is `make run` and `make test`.
# `make run` installs only what running needs; `make test` (and lint, bench) add the test extra.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint bench clean setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q sim viz
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q sim viz
	touch $(TEST_STAMP) $(RUN_STAMP)

setup: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(BIN)/dtsim run baseline --out out/baseline

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check sim viz tests bench scripts
	$(BIN)/mypy

bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/experiments.py
	$(BIN)/python bench/planning.py

clean:
	rm -rf $(VENV) out build *.egg-info
