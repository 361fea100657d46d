# Set up a fresh machine and run the offline plan, the tests, the policy check or the benchmark.
PYTHON ?= python3
VENV   ?= .venv
STACK  ?= multi-zone-ha
BIN    := $(VENV)/bin

.PHONY: plan test lint check bench clean

$(BIN)/milvus-zones: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $@

plan: $(BIN)/milvus-zones  ## offline plan of STACK (default multi-zone-ha)
	$(BIN)/milvus-zones plan $(STACK)

test: $(BIN)/milvus-zones  ## the unit and mock tests
	$(BIN)/python -m pytest -n auto

lint: $(BIN)/milvus-zones  ## ruff and mypy, configured in pyproject.toml
	$(BIN)/ruff check .
	$(BIN)/mypy

check: $(BIN)/milvus-zones  ## the policy pack, offline, on every stack in stacks/
	@set -e; for f in stacks/Pulumi.*.yaml; do $(BIN)/milvus-zones check $$f; done

bench: $(BIN)/milvus-zones  ## ratios measured in the same run: commands / SDK import, one process / N, shortcuts on / off
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) build *.egg-info
