# One task runner. `make run` and `make test` each set up what they need (virtualenv, install,
# index) on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch, installed before sentence-transformers so no resolver pulls CUDA.
TORCH_SPEC ?= torch==2.13.0
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: run test test-fast lint bench index clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "playbook needs Python 3.11 or newer (PYTHON=python3.11 make ...)")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(PIP) install "$(TORCH_SPEC)"
	$(PIP) install -e '.[dev,sentence-transformers]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/playbook serve

index: $(VENV)/.run-installed
	$(BIN)/playbook index

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The edit-test loop: the core's tests without the site's (under 90 s on 2 cores).
test-fast: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests/core -m "not site" -q $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.run-installed
	$(BIN)/python bench/bench_answer.py
	$(BIN)/python bench/bench_cold.py
	$(BIN)/python bench/bench_index.py

clean:
	rm -rf $(VENV) .playbook .pytest_cache .ruff_cache
