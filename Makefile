# Rådsassistenten: two commands on a fresh machine.
#   make run   create .venv, install, ingest the sample corpus, serve UI+API on 127.0.0.1:$(COUNCIL_PORT)
#   make test  create/update .venv and run the test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
COUNCIL_PORT ?= 8000
export COUNCIL_PORT
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test install ingest serve eval bench scale-sim clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) saknas; sätt PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# torch first, pinned: the CPU wheel on this machine's disk (an unpinned torch pulls CUDA).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

ingest: install
	$(BIN)/council ingest --local --sync data/corpus

serve: install
	$(BIN)/council serve --port $(COUNCIL_PORT)

run: ingest serve

test: install
	$(BIN)/python -m pytest -p no:cacheprovider

eval: install
	$(BIN)/council eval

clean:
	rm -rf data/store

# bench: the server under 20 concurrent clients (idle, during an ingest) and its memory under a
# fuzz (eval/load.py, port $(BENCH_PORT)); then ingest and answer latency at 1x, 10x, 100x.
BENCH_SCALES ?= 1,10,100
BENCH_PORT ?= 8401
bench: install
	$(BIN)/python -m eval.load --port $(BENCH_PORT)
	$(BIN)/python -m eval.load --port $(BENCH_PORT) --workers 2
	$(BIN)/python -m eval.bench --scales $(BENCH_SCALES)

# the query path at 1M chunks: BM25, Chroma and SQLite measured on synthetic passages (long)
scale-sim: install
	$(BIN)/python -m eval.scale_sim --chunks 1000000
