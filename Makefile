# Everything runs in .venv, created and filled on first use.
PYTHON ?= python3
VENV ?= .venv
CONFIG ?= lstm
PRETRAIN ?= word2vec
BIN := $(VENV)/bin
# The shared data folder beside the project, when there is one (IMDB_DATA_DIR from the environment wins).
IMDB_DATA_DIR ?= $(wildcard $(abspath ../shared/data))
ifneq ($(IMDB_DATA_DIR),)
export IMDB_DATA_DIR
endif

.PHONY: install train pretrain compare test test-all lint format package-check benchmark results results-tables clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

train: install  ## make train CONFIG=lstm ARGS="--set train.epochs=3"
	$(BIN)/imdb-rnn train --config $(CONFIG) $(ARGS)

pretrain: install  ## make pretrain PRETRAIN=word2vec (or language_model): into outputs/pretrain/
	$(BIN)/imdb-rnn pretrain --config $(PRETRAIN) $(ARGS)

compare: install  ## make compare ARGS="--filter architecture=lstm --last 5"
	$(BIN)/imdb-rnn compare $(ARGS)

TEST_WORKERS ?= 2  # pytest-xdist processes (one a file): a test's TensorFlow work leaves a core half idle
test: install  ## the default suite (slow tests excluded)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

test-all: install  ## every test, full-data ones included
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "" $(ARGS)

lint: install  ## ruff: lint and format check
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

format: install  ## ruff: fix what it can and format
	$(BIN)/ruff check --fix src tests scripts
	$(BIN)/ruff format src tests scripts

package-check: install  ## build the wheel, install it in a fresh venv outside the checkout, use the shipped configs
	bash .ci/package-check

benchmark: install  ## time plain Keras vs the trainer vs length bucketing: make benchmark ARGS="--limit 5000"
	$(BIN)/imdb-rnn benchmark $(ARGS)

results: install  ## every config from scratch and from word2vec, seeds 1 2 3, full data → docs/RESULTS.md and README's table (hours)
	$(BIN)/imdb-rnn reproduce --readme README.md $(ARGS)

results-tables: install  ## docs/RESULTS.md and README's table written again from docs/RESULTS.json, training nothing
	$(BIN)/imdb-rnn reproduce --tables-only --readme README.md

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
