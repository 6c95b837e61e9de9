# Two commands do all the set-up on a fresh machine:
#   make run   — create .venv, install, ingest corpus/, answer a sample question, start the service
#   make test  — create .venv, install with dev extras, run the test suite (+ the eval quality gate)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export OMP_WAIT_POLICY ?= PASSIVE
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install run ingest ask serve test test-fast test-reliability load lint bench bench-scale eval eval-splits eval-ncpqa clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: the CPU wheel on this machine; then nothing else can pull a CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	touch $@

ingest: install
	$(BIN)/assistant ingest

ask: ingest
	$(BIN)/assistant ask "“虹桥人才荟”是做什么的？"

run: ask
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not slow"

# Fuzzing, load and fault tests (marked `reliability`, left out of `make test`), then the 5-minute load test.
test-reliability: install
	$(BIN)/pytest -m reliability
	$(PY) eval/load.py --minutes $(LOAD_MINUTES)

# Loopback load: concurrency 32 on /v1/ask and /wechat; fails on any error or RSS growth > 10 % (eval/load.py).
LOAD_MINUTES ?= 5
load: install
	$(PY) eval/load.py --minutes $(LOAD_MINUTES)

eval: install
	$(BIN)/assistant eval

# Fit the sentence and decision models on the tune splits (dev-tune + gold), write assistant/data/fitted.json.
tune: install
	$(BIN)/assistant eval --fit

# every split of eval/splits.toml whose files exist (eval/README.md); dev-test is not for tuning
eval-splits: install
	$(BIN)/assistant eval --all-splits

# the ncpqa table on ../shared/external/ncpqa_dev (or $$ASSISTANT_NCPQA_DIR); skipped when absent
eval-ncpqa: install
	$(BIN)/assistant eval --ncpqa

bench: install
	$(BIN)/assistant bench

# benchmarks at size (eval/bench/): SIZES=1000,10000,100000 by default; writes eval/reports/bench-scale.{json,png}
bench-scale: install
	$(PY) -m eval.bench.scale $(if $(SIZES),--sizes $(SIZES),)

lint: install
	$(BIN)/ruff check assistant embeddings api eval tests

clean:
	rm -rf .data .pytest_cache
