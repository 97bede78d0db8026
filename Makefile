# One-command set-up for the course. `make lab` opens it; `make test` checks it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed

.PHONY: setup test lab validate benchmark lint clean

# Installed once; repeated only when pyproject.toml or constraints.txt change.
setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --constraint constraints.txt torch
	$(PIP) install --quiet --constraint constraints.txt --editable ".[dev]"
	# d2l 1.0.3 pins numpy 1.23.5 and friends: install it alone, for the cross-check test only.
	$(PIP) install --quiet --no-deps d2l==1.0.3
	touch $(STAMP)

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lab: setup
	$(BIN)/jupyter lab chapters/

validate: setup
	$(BIN)/python -m course_lib validate

benchmark: setup
	$(BIN)/python benchmarks/step_time.py

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
