# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_VENV := .venv-bench
# The IB tests again on ib_insync 0.9.86, in a venv of their own: ib_async's aeventkit and
# ib_insync's eventkit both install the package `eventkit` (tws-protocol.md, pitfall 12).
INSYNC_VENV := .venv-insync
INSYNC_REQUIREMENTS := tests/ib/requirements-insync.txt
# Tests of the raw client that expect ib_async's own answers (tws-protocol.md, pitfall 8 and
# ib_insync's Trade.isDone() ignoring Inactive): not run on ib_insync.
INSYNC_DESELECT := \
	--deselect tests/ib/test_fake_gateway_contracts.py::test_unknown_contract_gives_error_200_and_none \
	--deselect tests/ib/test_fake_gateway_contracts.py::test_spx_option_without_trading_class_is_ambiguous_on_a_monthly \
	--deselect tests/ib/test_fake_gateway_orders.py::test_reject_knob_gives_201_and_the_venue_never_sees_the_order \
	--deselect tests/ib/test_fake_gateway_orders.py::test_venue_refusal_is_a_201_too \
	--deselect tests/ib/test_fake_gateway_orders.py::test_refused_fields_are_a_201
CONFIG ?= config/default.toml

.PHONY: help install run test lint typecheck unit test-ib-insync bench docs clean

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

test: lint typecheck unit test-ib-insync  ## ruff, mypy, pytest, and the IB tests on ib_insync

$(INSYNC_VENV)/.installed: pyproject.toml $(INSYNC_REQUIREMENTS)
	test -x $(INSYNC_VENV)/bin/python || $(PYTHON) -m venv $(INSYNC_VENV)
	$(INSYNC_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INSYNC_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(INSYNC_VENV)/bin/python -m pip install --quiet -r $(INSYNC_REQUIREMENTS)
	@if $(INSYNC_VENV)/bin/python -m pip show --quiet ib_async aeventkit 2>/dev/null; then \
		echo "ib_async or aeventkit is installed in $(INSYNC_VENV): its eventkit is not" \
			"ib_insync's. Remove $(INSYNC_VENV) and run make again."; exit 1; fi
	touch $@

test-ib-insync: $(INSYNC_VENV)/.installed  ## the IB tests (end to end included) on ib_insync 0.9.86
	$(INSYNC_VENV)/bin/pytest tests/ib $(INSYNC_DESELECT)

$(BENCH_VENV)/.installed: pyproject.toml bench/requirements.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r bench/requirements.txt
	touch $@

bench: $(BENCH_VENV)/.installed  ## benchmarks against the best alternatives (own venv)
	$(BENCH_VENV)/bin/python bench/pricing.py
	$(BENCH_VENV)/bin/python bench/replay.py
	$(BENCH_VENV)/bin/python bench/soak.py --cycles 5000 --idle-seconds 10

docs: $(STAMP)  ## redraw the charts of docs/market-model.md from the simulator
	$(BIN)/python docs/make_charts.py

clean:  ## remove virtual environments, caches and local run state
	rm -rf $(VENV) $(BENCH_VENV) $(INSYNC_VENV) .mypy_cache .ruff_cache .pytest_cache var logs
