"""Where a train step's time goes: a cost per step, and a cost per token of the batch's width.

`imdb-rnn benchmark --profile` times one recipe's train step (its model, compiled as the trainer compiles
it, one batch per call) on random batches of a few widths, and fits `milliseconds = per_step +
per_token × width`. Plain Keras's own train step (the model compiled as `reports.benchmark.plain_keras`
compiles it: the optimizer with its learning rate alone, Keras's defaults) is timed at `maxlen`, its one
width, in the same round-robin. Plain Keras pads every batch to `maxlen`; length bucketing pads each to its
longest review, so it cuts the per-token share alone. The ratio to plain Keras it can reach is then

    (per_step + per_token × bucketed width) / plain Keras's step at maxlen,

and with no cost per step at all it cannot go below `bucketed width / maxlen`. Every figure is the
fastest step (`STATISTIC`, fixed before measuring: on a shared machine, the step least slowed down by
others), the fits too. A second fit with the embedding frozen shows what the embedding's gradient and
optimizer update cost (Adam updates every row of it, every step). Random token ids stand in for reviews:
a step's cost does not depend on which words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from imdb_rnn.config import Config
from imdb_rnn.data.pipeline import make_dataset
from imdb_rnn.data.splits import Splits, load_splits
from imdb_rnn.reports.benchmark import plain_keras_model, recipe_config
from imdb_rnn.training.recipe import compile_model, resolve_for_backend

WIDTHS = (8, 64, 128, 256)  # and the recipe's maxlen
STATISTIC = "fastest step"  # of the interleaved calls, for every figure and ratio; chosen before measuring


@dataclass(frozen=True)
class Fit:
    """`per_step_ms + per_token_ms × width`: milliseconds of one train step of a batch `width` tokens wide."""

    per_step_ms: float
    per_token_ms: float
    steps_ms: dict[int, list[float]] | None = None  # the raw timings: every timed step, by width

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
    plain_keras_ms: float  # plain Keras's own train step at maxlen, fastest
    plain_keras_steps_ms: list[float] | None = None  # its raw timings

    @property
    def predicted_ratio(self) -> float:
        """Bucketing's step over plain Keras's measured one, if the trainer's costs what its fit says."""
        return self.trained.at(self.bucketed_width) / self.plain_keras_ms

    @property
    def trainer_at_maxlen_ratio(self) -> float | None:
        """The trainer's fastest step at maxlen over plain Keras's (both measured): the trainer's own
        cost, bucketing aside. None without the raw timings."""
        steps = (self.trained.steps_ms or {}).get(self.maxlen)
        return min(steps) / self.plain_keras_ms if steps else None

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


def fit_step(
    config: Config, widths: list[int], repeats: int, freeze_embedding: bool = False, plain: bool = False
) -> tuple[Fit, list[float] | None]:
    """Times `repeats` train steps at each of `widths` (after one that traces), round-robin so that a
    machine that slows down slows every width alike, and fits a line to the fastest step of each width.
    With `plain`, plain Keras's step at the widest of `widths` (maxlen) takes its turn in the same
    round-robin; its timings (milliseconds) come second, else None."""
    keras.utils.set_random_seed(config.train.seed)
    model = compile_model(config.replace(train={"steps_per_execution": 1}))
    if freeze_embedding:
        next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)).trainable = False
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"], jit_compile=model.jit_compile)
    rng = np.random.default_rng(config.train.seed)
    batch = config.train.batch_size
    labels = rng.integers(0, 2, batch).astype("float32")
    tokens = {width: rng.integers(1, config.data.num_words, (batch, width)).astype("int32") for width in widths}
    calls = [(width, model) for width in widths]
    if plain:
        calls.append((None, plain_keras_model(config)))
    seconds: dict[int | None, list[float]] = {width: [] for width, _ in calls}
    for repeat in range(repeats + 1):
        for width, stepping in calls:
            batch_tokens = tokens[width if width is not None else max(widths)]
            started = time.perf_counter()
            stepping.train_on_batch(batch_tokens, labels)
            if repeat:  # the first call at each width traces (and compiles) the step
                seconds[width].append(1000 * (time.perf_counter() - started))
    fastest = [min(seconds[width]) for width in widths]
    per_token, per_step = np.polyfit(widths, fastest, 1)
    steps = {width: seconds[width] for width in widths}
    return Fit(float(per_step), float(per_token), steps), (seconds[None] if plain else None)


def profile(recipe: str, config: Config, splits: Splits, repeats: int = 15) -> StepProfile:
    """The step profile of `config` (a benchmark recipe's, unresolved) on this process's backend."""
    config = resolve_for_backend(config)
    widths = sorted({*[width for width in WIDTHS if width < config.data.maxlen], config.data.maxlen})
    trained, plain = fit_step(config, widths, repeats, plain=True)
    frozen, _ = fit_step(config, widths, repeats, freeze_embedding=True)
    return StepProfile(
        recipe,
        keras.backend.backend(),
        config.train.batch_size,
        config.data.maxlen,
        mean_bucketed_width(config, splits),
        trained,
        frozen,
        min(plain),
        plain,
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
    """A Markdown table of `profiles`: the two fits, the widths, plain Keras's measured step, and the ratios
    to it, every figure by the fastest step (`STATISTIC`), as a note under the table says."""
    lines = [
        "| recipe | backend | batch | ms a step | ms a token | … embedding frozen | maxlen | bucketed width "
        "| predicted ÷ plain Keras, fastest steps | floor (no cost a step) | plain Keras ms a step at maxlen, "
        "fastest | trainer ÷ plain Keras at maxlen, fastest steps |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for found in profiles:
        frozen = found.frozen_embedding
        at_maxlen = found.trainer_at_maxlen_ratio
        lines.append(
            f"| {found.recipe} | {found.backend} | {found.batch_size} | {found.trained.per_step_ms:.1f} "
            f"| {found.trained.per_token_ms:.3f} | {frozen.per_step_ms:.1f} + {frozen.per_token_ms:.3f} a token "
            f"| {found.maxlen} | {found.bucketed_width:.1f} | {found.predicted_ratio:.2f} | {found.floor:.2f} "
            f"| {found.plain_keras_ms:.1f} | {'-' if at_maxlen is None else f'{at_maxlen:.2f}'} |"
        )
    lines.append(
        f"\nEvery figure is the {STATISTIC} of interleaved calls (the fits are to each width's {STATISTIC}); "
        "the predicted ratio is the trainer's fitted step at the bucketed width over plain Keras's measured one."
    )
    return "\n".join(lines)


def raw(profiles: list[StepProfile]) -> list[dict]:
    """Every timed step of `profiles` (milliseconds), with what they were measured on, for the JSON record."""
    return [
        {
            "recipe": found.recipe,
            "backend": found.backend,
            "batch_size": found.batch_size,
            "maxlen": found.maxlen,
            "bucketed_width": found.bucketed_width,
            "trainer_steps_ms": {str(width): steps for width, steps in (found.trained.steps_ms or {}).items()},
            "trainer_frozen_embedding_steps_ms": {
                str(width): steps for width, steps in (found.frozen_embedding.steps_ms or {}).items()
            },
            "plain_keras_steps_ms": found.plain_keras_steps_ms,
            "fit": {"per_step_ms": found.trained.per_step_ms, "per_token_ms": found.trained.per_token_ms},
            "fit_frozen_embedding": {
                "per_step_ms": found.frozen_embedding.per_step_ms,
                "per_token_ms": found.frozen_embedding.per_token_ms,
            },
            "plain_keras_ms": found.plain_keras_ms,
            "predicted_ratio": found.predicted_ratio,
            "trainer_at_maxlen_ratio": found.trainer_at_maxlen_ratio,
            "floor": found.floor,
        }
        for found in profiles
    ]
