"""Where a train step's time goes: a cost per step, and a cost per token of the batch's width.

`imdb-rnn benchmark --profile` times one recipe's train step (its model, compiled as the trainer compiles
it, one batch per call) on random batches of a few widths, and fits `milliseconds = per_step +
per_token × width`. Plain Keras pads every batch to `maxlen`; length bucketing pads each to its longest
review, so it cuts the per-token share alone. The ratio to plain Keras it can reach is then

    (per_step + per_token × bucketed width) / (per_step + per_token × maxlen),

and with no cost per step at all it cannot go below `bucketed width / maxlen`. A second fit with the
embedding frozen shows what the embedding's gradient and optimizer update cost (Adam updates every row of
it, every step). Random token ids stand in for reviews: a step's cost does not depend on which words.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import keras
import numpy as np

from imdb_rnn.config import Config
from imdb_rnn.data.pipeline import make_dataset
from imdb_rnn.data.splits import Splits, load_splits
from imdb_rnn.reports.benchmark import recipe_config
from imdb_rnn.training.recipe import compile_model, resolve_for_backend

WIDTHS = (8, 64, 128, 256)  # and the recipe's maxlen


@dataclass(frozen=True)
class Fit:
    """`per_step_ms + per_token_ms × width`: milliseconds of one train step of a batch `width` tokens wide."""

    per_step_ms: float
    per_token_ms: float

    def at(self, width: float) -> float:
        return self.per_step_ms + self.per_token_ms * width


@dataclass(frozen=True)
class StepProfile:
    recipe: str
    backend: str
    batch_size: int
    maxlen: int
    bucketed_width: float  # mean width of the trainer's bucketed training batches, one epoch
    trained: Fit  # the model as it trains
    frozen_embedding: Fit  # the same with the embedding frozen

    @property
    def predicted_ratio(self) -> float:
        """Bucketing's epoch over plain Keras's, if both cost what the fit says."""
        return self.trained.at(self.bucketed_width) / self.trained.at(self.maxlen)

    @property
    def floor(self) -> float:
        """The ratio with no cost per step at all: bucketing's share of the tokens."""
        return self.bucketed_width / self.maxlen


def mean_bucketed_width(config: Config, splits: Splits) -> float:
    """The mean width of the trainer's bucketed training batches over one epoch (`config` resolved)."""
    batches = make_dataset(
        splits.train,
        config.train.batch_size,
        shuffle=True,
        seed=config.train.seed,
        bucketing=True,
        padding=config.data.padding,
        bucket_width=config.data.bucket_width,
    )
    return float(np.mean([int(tokens.shape[1]) for tokens, _ in batches]))


def fit_step(config: Config, widths: list[int], repeats: int, freeze_embedding: bool = False) -> Fit:
    """Times `repeats` train steps at each of `widths` (after one that traces), round-robin so that a
    machine that slows down slows every width alike; fits a line to the medians."""
    keras.utils.set_random_seed(config.train.seed)
    model = compile_model(config.replace(train={"steps_per_execution": 1}))
    if freeze_embedding:
        next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)).trainable = False
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"], jit_compile=model.jit_compile)
    rng = np.random.default_rng(config.train.seed)
    batch = config.train.batch_size
    labels = rng.integers(0, 2, batch).astype("float32")
    tokens = {width: rng.integers(1, config.data.num_words, (batch, width)).astype("int32") for width in widths}
    seconds: dict[int, list[float]] = {width: [] for width in widths}
    for repeat in range(repeats + 1):
        for width in widths:
            started = time.perf_counter()
            model.train_on_batch(tokens[width], labels)
            if repeat:  # the first call at each width traces (and compiles) the step
                seconds[width].append(time.perf_counter() - started)
    medians = [1000 * statistics.median(seconds[width]) for width in widths]
    per_token, per_step = np.polyfit(widths, medians, 1)
    return Fit(float(per_step), float(per_token))


def profile(recipe: str, config: Config, splits: Splits, repeats: int = 15) -> StepProfile:
    """The step profile of `config` (a benchmark recipe's, unresolved) on this process's backend."""
    config = resolve_for_backend(config)
    widths = sorted({*[width for width in WIDTHS if width < config.data.maxlen], config.data.maxlen})
    return StepProfile(
        recipe,
        keras.backend.backend(),
        config.train.batch_size,
        config.data.maxlen,
        mean_bucketed_width(config, splits),
        fit_step(config, widths, repeats),
        fit_step(config, widths, repeats, freeze_embedding=True),
    )


def profiles(recipes: list[str], limit: int | None, maxlen: int | None, repeats: int = 15) -> list[StepProfile]:
    """The step profile of each benchmark recipe (`limit` training reviews give the bucketed width)."""
    found = []
    for recipe in recipes:
        config = recipe_config(recipe, limit, 1, maxlen)
        print(f"== {recipe}: timing train steps", flush=True)
        found.append(profile(recipe, config, load_splits(config.data), repeats))
    return found


def profile_table(profiles: list[StepProfile]) -> str:
    """A Markdown table of `profiles`: the two fits, the widths, and the ratios they predict."""
    lines = [
        "| recipe | backend | batch | ms a step | ms a token | … embedding frozen | maxlen | bucketed width "
        "| predicted ÷ plain Keras | floor (no cost a step) |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for found in profiles:
        frozen = found.frozen_embedding
        lines.append(
            f"| {found.recipe} | {found.backend} | {found.batch_size} | {found.trained.per_step_ms:.1f} "
            f"| {found.trained.per_token_ms:.3f} | {frozen.per_step_ms:.1f} + {frozen.per_token_ms:.3f} a token "
            f"| {found.maxlen} | {found.bucketed_width:.1f} | {found.predicted_ratio:.2f} | {found.floor:.2f} |"
        )
    return "\n".join(lines)
