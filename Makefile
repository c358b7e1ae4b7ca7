# vulnops: `make serve` runs the demo, `make test` runs the suite. Both need only Python >= 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# Semgrep (code variant hunts) runs as a command from its own environment: its package pins
# an OpenTelemetry that FastAPI's does not admit.
SEMGREP_VENV := $(VENV)/tools-semgrep
SEMGREP_STAMP := $(VENV)/.installed-semgrep
SEMGREP_SPEC ?= semgrep>=1.150,<2

.PHONY: serve test lint bench screenshots messages clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "vulnops needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

$(SEMGREP_STAMP): | $(BIN)/python
	$(PYTHON) -m venv $(SEMGREP_VENV)
	$(SEMGREP_VENV)/bin/python -m pip install --quiet '$(SEMGREP_SPEC)'
	touch $@

serve: $(RUN_STAMP) $(SEMGREP_STAMP)
	$(BIN)/vulnops serve --demo

test: $(DEV_STAMP) $(SEMGREP_STAMP)
	$(BIN)/pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs
	$(BIN)/mypy

bench: $(DEV_STAMP) $(SEMGREP_STAMP)
	$(BIN)/python -m benchmarks

screenshots: $(DEV_STAMP) $(SEMGREP_STAMP)
	$(BIN)/python docs/screenshots.py

# The interface's text: extract what is marked, then merge it into every language's catalog
# (translate what is new or fuzzy; tests/ui/test_catalogs.py fails until it is).
messages: $(DEV_STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --sort-output --width 100 \
		--project vulnops --version 1 --copyright-holder "the vulnops authors" \
		--msgid-bugs-address security-response@vulnops.example \
		-o src/vulnops/locale/messages.pot .
	$(BIN)/pybabel -q update --ignore-obsolete --width 100 \
		-i src/vulnops/locale/messages.pot -d src/vulnops/locale

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
