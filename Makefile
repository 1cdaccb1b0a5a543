# Everything runs in .venv, created and filled on first use.
PYTHON ?= python3
VENV ?= .venv
CONFIG ?= lstm
BIN := $(VENV)/bin
# The shared data folder beside the project, when there is one (IMDB_DATA_DIR from the environment wins).
IMDB_DATA_DIR ?= $(wildcard $(abspath ../shared/data))
ifneq ($(IMDB_DATA_DIR),)
export IMDB_DATA_DIR
endif

.PHONY: install train compare test test-all benchmark results clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

train: install  ## make train CONFIG=lstm ARGS="--set train.epochs=3"
	$(BIN)/python scripts/train.py --config $(CONFIG) $(ARGS)

compare: install  ## make compare ARGS="--filter architecture=lstm --last 5"
	$(BIN)/python scripts/compare.py $(ARGS)

test: install  ## the default suite (slow tests excluded)
	$(BIN)/python -m pytest $(ARGS)

test-all: install  ## every test, full-data ones included
	$(BIN)/python -m pytest -m "" $(ARGS)

benchmark: install  ## time plain Keras vs the trainer vs length bucketing: make benchmark ARGS="--limit 5000"
	$(BIN)/python scripts/benchmark.py $(ARGS)

results: install  ## train every config with seeds 1 2 3 on the full data, write docs/RESULTS.md (hours)
	$(BIN)/python scripts/reproduce.py $(ARGS)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
