# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_VENV := .venv-bench
CONFIG ?= config/default.toml

.PHONY: help install run test lint typecheck unit bench docs clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with its dev extras

run: $(STAMP)  ## run the daemon on the embedded simulated exchange (Ctrl-C stops it)
	$(BIN)/alvh run --config $(CONFIG)

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check .

typecheck: $(STAMP)  ## mypy on the packages
	$(BIN)/mypy

unit: $(STAMP)  ## pytest
	$(BIN)/pytest

test: lint typecheck unit  ## ruff, mypy and pytest

$(BENCH_VENV)/.installed: pyproject.toml bench/requirements.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r bench/requirements.txt
	touch $@

bench: $(BENCH_VENV)/.installed  ## benchmarks against the best alternatives (own venv)
	$(BENCH_VENV)/bin/python bench/pricing.py
	$(BENCH_VENV)/bin/python bench/soak.py --cycles 5000 --idle-seconds 10

docs: $(STAMP)  ## redraw the charts of docs/market-model.md from the simulator
	$(BIN)/python docs/make_charts.py

clean:  ## remove virtual environments, caches and local run state
	rm -rf $(VENV) $(BENCH_VENV) .mypy_cache .ruff_cache .pytest_cache var logs
