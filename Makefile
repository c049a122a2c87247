# Two commands: `make audit` (the default audit and its report) and `make test` (the test suite).
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
SEED   ?= 20261123

.PHONY: audit test venv clean bench

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

audit: $(VENV)/.installed
	$(BIN)/verify run --seed $(SEED) --workers 2 --json reports/out/results.json
	$(BIN)/verify report --results reports/out/results.json

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/verify bench --json reports/out/bench.json

clean:
	rm -rf $(VENV) reports/out .pytest_cache .hypothesis
