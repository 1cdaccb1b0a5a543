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

The vocabulary of your own data is built from its training texts, and `data.num_words` (20,000 in the
shipped configs) is more than 1,500 reviews hold: a third of their 23,000 distinct words occur once,
and an embedding row trained on one review can only memorize it. So the vocabulary keeps at most the
words the training texts hold at least `MIN_WORD_COUNT` times (`data.text.vocabulary_size`); a rarer word becomes
the out-of-vocabulary id. `data.num_words` in `config.yaml` records the size used. IMDB's vocabulary is
Keras's word index, of all 25,000 training reviews, and stays as configured.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from imdb_rnn.config import Config
from imdb_rnn.config.sections import OWN_SOURCES

if TYPE_CHECKING:  # the data package imports this module
    from imdb_rnn.data.splits import Splits

MIN_STEPS_PER_EPOCH = 100  # about a third of the shipped configs' full-IMDB epoch (313 steps at batch 64)


def passes_per_epoch(config: Config, train_examples: int) -> int | None:
    """`train.passes_per_epoch`, or its default for `train_examples` training texts: None (one pass) for
    IMDB, and for your own data the fewest whole passes that give at least `MIN_STEPS_PER_EPOCH`
    batches of `train.batch_size`."""
    if config.train.passes_per_epoch is not None or config.data.source not in OWN_SOURCES:
        return config.train.passes_per_epoch
    batches = max(1, math.ceil(train_examples / config.train.batch_size))
    return max(1, math.ceil(MIN_STEPS_PER_EPOCH / batches))


def fit_to_data(config: Config, splits: Splits) -> Config:
    """`config` with the defaults that depend on the size of `splits` resolved, as the run's `config.yaml`
    records them: `train.passes_per_epoch` (see `passes_per_epoch`) and, for your own data,
    `data.num_words` (the vocabulary size its encoding used, see `data.text.vocabulary_size`)."""
    passes = passes_per_epoch(config, len(splits.train))
    data = {} if splits.num_words is None else {"num_words": splits.num_words}
    return config.replace(train={"passes_per_epoch": passes}, data=data)
