# hubdesk: `make run` starts the service on SQLite, `make test` runs the whole suite.
# Both work from a fresh clone: they create .venv and install what they need first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
STAMP_FUZZ := $(VENV)/.installed-fuzz
# make fuzz FUZZ_TARGET=parse|ingest FUZZ_SECONDS=N
FUZZ_TARGET ?= parse
FUZZ_SECONDS ?= 300
HOST ?= 127.0.0.1
# pytest workers (pytest-xdist); 0 runs everything in one process. Three on this 2-core
# machine: with two, the suite kept 1.43 cores busy on average (it waits on fsync, child
# processes and browsers); with three 1.52-1.57 (bench/README.md, 2026-12-06 second session).
TEST_WORKERS ?= 3
PORT ?= 8001

.PHONY: run compile test test-long lint typecheck install install-dev clean bench system-packages fuzz

# Packages go in with uv (from PyPI into the venv: about 5 s for the dev set against pip's
# 40 s); where uv cannot be had or fails, pip does the same install.
PIP_INSTALL = $(BIN)/python -m pip install --quiet
INSTALL = scripts/install-packages $(BIN)/python

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hubdesk needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	-$(PIP_INSTALL) uv

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(INSTALL) -e .
	@touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(INSTALL) -e '.[dev]'
	@touch $@ $(STAMP_RUN)

$(STAMP_FUZZ): $(STAMP_DEV)
	$(INSTALL) -e '.[dev,fuzz]'
	@touch $@

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

# hubdesk's own modules compiled to bytecode (seconds the first time, then only what
# changed): where PYTHONDONTWRITEBYTECODE is set, Python would compile them again in every
# process, each test's child processes included.
compile: $(STAMP_RUN)
	@$(BIN)/python -m compileall -q src >/dev/null

run: $(STAMP_RUN) compile
	$(BIN)/hubdesk db upgrade
	$(BIN)/hubdesk bootstrap
	$(BIN)/hubdesk serve --host $(HOST) --port $(PORT) --with-workers

lint: $(STAMP_DEV)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/ruff format --check src tests bench fuzz

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

# Real peers the tests drive (a browser, an IMAP server), installed when missing.
system-packages:
	scripts/ensure-system-packages

test: $(STAMP_DEV) system-packages compile
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/lint-imports
	$(BIN)/mypy
	HUBDESK_ARTIFACTS_DIR=$(CURDIR)/test-artifacts $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
	@echo "screenshots and other test artifacts: $(CURDIR)/test-artifacts"

test-long: $(STAMP_DEV)
	$(BIN)/python -m pytest -m long $(PYTEST_ARGS)

# Coverage-guided fuzzing (RELIABILITY T01); findings land in fuzz/regressions/.
fuzz: $(STAMP_FUZZ)
	$(BIN)/python -m fuzz.run --target $(FUZZ_TARGET) --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
