# The two set-up commands of the README: `make demo` (install, then run the main job on built-in
# data) and `make test` (install, then ruff, mypy and the whole test suite). Both create the local
# virtual environment .venv on first use and reinstall when pyproject.toml changes. `make test`
# first installs the system packages the tests need when one is missing (Chromium for the browser
# tests; scripts/install-system-deps.sh, a no-op on a ready machine).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test system-deps lint typecheck pytest slow course-docs benchmarks clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "neuralab needs Python 3.10 or newer"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/neuralab train --data digits --model cnn

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

system-deps:
	@scripts/install-system-deps.sh

test: system-deps lint typecheck pytest

slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

course-docs: $(STAMP)  # the course companion's slow examples (docs/course/), which CI runs too
	$(BIN)/python -m pytest -m slow -q -n 2 tests/test_docs_examples.py -k course

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
