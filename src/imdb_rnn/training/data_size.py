"""Defaults that fit the size of the data: the one place where a run's schedule depends on how many
training texts it has.

The shipped configs count their schedule in epochs (`train.epochs`, `train.early_stopping`, the span of
`train.ema`) and were tuned on IMDB's 20,000 training reviews: 157 to 625 optimizer steps an epoch. On a
user's 1,500 texts the same config gets 24 steps an epoch, so ten epochs are 240 steps and a patience of
two epochs is 48: measured on 2,400 IMDB reviews (docs/TUNING.md), the GRU was stopped before it had
learned anything. So an epoch of your own data (`data.source` directory, csv or jsonl) reads its
training texts `train.passes_per_epoch` times, each pass reshuffled; unset, as many whole passes as make
at least `MIN_STEPS_PER_EPOCH` steps. The resolved number is written into the run's `config.yaml`, so a
resumed or repeated run trains the same. IMDB runs keep one pass an epoch (`null` in `config.yaml`):
their configs resolve as before, and their `data.limit` subsets stay quick smoke runs.
"""

from __future__ import annotations

import math

from imdb_rnn.config import Config
from imdb_rnn.config.sections import OWN_SOURCES

MIN_STEPS_PER_EPOCH = 100  # about a third of the shipped configs' full-IMDB epoch (313 steps at batch 64)


def passes_per_epoch(config: Config, train_examples: int) -> int | None:
    """`train.passes_per_epoch`, or its default for `train_examples` training texts: None (one pass) for
    IMDB, and for your own data the fewest whole passes that give at least `MIN_STEPS_PER_EPOCH`
    batches of `train.batch_size`."""
    if config.train.passes_per_epoch is not None or config.data.source not in OWN_SOURCES:
        return config.train.passes_per_epoch
    batches = max(1, math.ceil(train_examples / config.train.batch_size))
    return max(1, math.ceil(MIN_STEPS_PER_EPOCH / batches))


def fit_to_data(config: Config, train_examples: int) -> Config:
    """`config` with `train.passes_per_epoch` resolved for `train_examples` training texts (see
    `passes_per_epoch`), as the run's `config.yaml` records it."""
    return config.replace(train={"passes_per_epoch": passes_per_epoch(config, train_examples)})
