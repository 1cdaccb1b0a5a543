"""Speed of the training pipeline against plain Keras, on the same data, in one process.

For each recipe (the seed LSTM recipe, and `configs/cnn_lstm.yaml`), the same model (same builder,
same seed) is trained three ways for a fixed number of epochs:
  (a) plain Keras, as the keras-io examples write it: `model.fit` on NumPy arrays padded to
      `maxlen`, `validation_data=(x_val, y_val)`, then `model.evaluate` on the test arrays;
  (b) this project's trainer (`imdb_rnn.train.train`: tf.data, callbacks, run folder) with length
      bucketing turned off: the pipeline alone, against hand-written Keras;
  (c) the same trainer with `data.bucketing: true`, its default;
  (d) with `jit`, under TensorFlow: (c) with `train.jit_compile: true` (XLA; batch widths rounded up to
      multiples of 32, so that each is compiled once). Under JAX, (b) and (c) are compiled already;
  (r) where PyTorch is installed, in the TensorFlow process, for the seed LSTM recipe: the same model written
      in plain PyTorch (its fused CPU LSTM), from (a)'s initial weights, on (a)'s padded arrays
      (`reports.torch_reference`), the reference a PyTorch user would hold the trainer to.
Seconds per epoch include the validation pass, as a user waits for it. The table reports the fastest
epoch, its ratio to (a)'s fastest epoch, training samples per second in it, the median epoch, and test
accuracy. Every ratio is of fastest epochs (`STATISTIC`, fixed before measuring: on a shared machine the
epoch least slowed down by others; the ways are interleaved, see `run_benchmark`), for every goal alike.

With several Keras backends (`backends`), each backend trains in its own Python process (the backend is
chosen when Keras is imported), once per repeat; the backends take turns, in reverse order every other
repeat. Plain Keras (a) is then TensorFlow's alone, the baseline every ratio is to; under JAX and PyTorch
the trainer's ways (b) and (c) run (plain Keras under PyTorch steps through time in Python on a CPU,
keras-team/keras#20902: some 11× TensorFlow's epoch, an hour of a 3-epoch run spent on a way no goal reads).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

import keras

from imdb_rnn.config import Config, load_config
from imdb_rnn.data.splits import Splits, load_splits
from imdb_rnn.environment import commit, machine, versions
from imdb_rnn.errors import ConfigError, RunError
from imdb_rnn.files import new_folder, read_json, write_text
from imdb_rnn.reports.torch_reference import native_pytorch, reference_fits
from imdb_rnn.training.callbacks import EpochTimer
from imdb_rnn.training.optimizers import OPTIMIZERS
from imdb_rnn.training.recipe import build, train

RECIPES = {
    "seed LSTM": None,  # the typed defaults: vocabulary 10,000, Embedding 32 → LSTM 32, rmsprop, batch 128
    "cnn_lstm": "cnn_lstm",  # the shipped configs/cnn_lstm.yaml
}
WAYS = ("(a) plain Keras", "(b) trainer, no bucketing", "(c) trainer (bucketing)")
COMPILED_WAY = "(d) trainer (bucketing, XLA)"  # with --jit, under TensorFlow
REFERENCE_WAY = "(r) native PyTorch"  # the seed LSTM recipe in plain PyTorch, where torch is installed
ALL_WAYS = (*WAYS, COMPILED_WAY, REFERENCE_WAY)
BACKENDS = ("tensorflow", "jax", "torch")
STATISTIC = "fastest epoch"  # of each way, over its interleaved repeats: every ratio's; chosen before measuring


@dataclass
class Result:
    recipe: str
    way: str
    train_examples: int
    maxlen: int
    epoch_seconds: list[float] = field(default_factory=list)  # every epoch of every repeat
    test_accuracies: list[float] = field(default_factory=list)  # one per repeat (seed)
    backend: str = "tensorflow"

    @property
    def median(self) -> float:
        return statistics.median(self.epoch_seconds)

    @property
    def fastest(self) -> float:  # on a shared machine, the epoch least slowed down by others
        return min(self.epoch_seconds)

    @property
    def test_accuracy(self) -> float:
        return statistics.mean(self.test_accuracies)


def recipe_config(
    recipe: str, limit: int | None, epochs: int, maxlen: int | None, overrides: list[str] | None = None
) -> Config:
    """The recipe's config with the benchmark's settings; no early stopping, so every way runs `epochs`.
    `maxlen=None` keeps the recipe's own; `overrides` (`--set` strings, for the trainer's ways) follow the
    benchmark's epochs and early stopping and precede `maxlen` and `limit`, which win over them."""
    overrides = [f"train.epochs={epochs}", "train.early_stopping=null", "data.bucketing=false", *(overrides or [])]
    overrides += [f"data.maxlen={maxlen}"] if maxlen else []
    if limit:
        overrides += [f"data.limit={limit}", f"data.test_limit={limit}"]
    return load_config(RECIPES[recipe], overrides, name="seed-lstm" if RECIPES[recipe] is None else None)


def plain_keras_model(config: Config) -> keras.Model:
    """The model of way (a), compiled as the keras-io examples compile it: the optimizer with its learning
    rate alone, Keras's defaults otherwise (the step profile times its train step too)."""
    keras.utils.set_random_seed(config.train.seed)
    model = build(config)
    optimizer = OPTIMIZERS[config.train.optimizer](learning_rate=config.train.learning_rate)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def plain_keras(config: Config, splits: Splits) -> tuple[list[float], float]:
    """Way (a): the keras-io recipe on NumPy arrays. Returns seconds per epoch and test accuracy."""
    model = plain_keras_model(config)
    timer = EpochTimer()
    # Like the trainer, evaluate the weights of the best epoch by validation accuracy.
    best = keras.callbacks.EarlyStopping("val_accuracy", patience=config.train.epochs, restore_best_weights=True)
    history = model.fit(
        splits.train.x,
        splits.train.y,
        batch_size=config.train.batch_size,
        epochs=config.train.epochs,
        validation_data=(splits.validation.x, splits.validation.y),
        callbacks=[timer, best],
        verbose=2,
    )
    _, accuracy = model.evaluate(splits.test.x, splits.test.y, batch_size=config.train.batch_size, verbose=0)
    return history.history["seconds"], float(accuracy)


def trainer(
    config: Config, splits: Splits, bucketing: bool, output_dir: Path, jit_compile: bool | None = None
) -> tuple[list[float], float]:
    """Ways (b), (c) and (d): the project's trainer, in a run folder under `output_dir`."""
    config = config.replace(data={"bucketing": bucketing}, train={"jit_compile": jit_compile})
    run = train(config, output_dir, splits=splits, verbose=2)
    return read_json(run / "history.json")["seconds"], read_json(run / "metrics.json")["test_accuracy"]


def run_benchmark(
    limit: int | None,
    epochs: int,
    maxlen: int | None,
    recipes: list[str],
    output_dir: Path,
    repeats: int = 1,
    first_seed: int | None = None,
    jit: bool = False,
    plain: bool = True,
    overrides: list[str] | None = None,
) -> list[Result]:
    """Each recipe trained each way `repeats` times (seed 42, 43, …, or from `first_seed`), the ways in
    turn and in reverse order every other repeat, so that a machine that slows down or speeds up favours
    none of them; on this process's Keras backend. `plain=False` leaves out way (a) (a child of
    `run_backends` beside TensorFlow's, whose (a) is the baseline). `jit` adds way (d) under TensorFlow;
    way (r) runs beside TensorFlow's ways where PyTorch is installed and the recipe is one it writes
    (`reference_fits`). `overrides` (`--set` strings) change the trainer's ways only: (a) and (r) stay the
    keras-io recipe."""
    results = []
    backend = keras.backend.backend()
    compiled_ways = (*WAYS, COMPILED_WAY) if jit and backend == "tensorflow" else WAYS
    compiled_ways = compiled_ways if plain else compiled_ways[1:]
    has_torch = importlib.util.find_spec("torch") is not None
    for recipe in recipes:
        base = recipe_config(recipe, limit, epochs, maxlen)
        changed = recipe_config(recipe, limit, epochs, maxlen, overrides)  # the trainer's ways
        reference = has_torch and backend == "tensorflow" and reference_fits(base)
        ways = (*compiled_ways, REFERENCE_WAY) if reference else compiled_ways
        splits = load_splits(base.data)
        by_way = {way: Result(recipe, way, len(splits.train), base.data.maxlen, backend=backend) for way in ways}
        for repeat in range(repeats):
            for way in ways if repeat % 2 == 0 else ways[::-1]:
                seed = (first_seed if first_seed is not None else base.train.seed) + repeat
                config = base.replace(train={"seed": seed})
                trained = changed.replace(train={"seed": seed})
                print(f"== {recipe}: {way}, seed {config.train.seed}", flush=True)
                keras.backend.clear_session(free_memory=True)
                if way.startswith("(a)"):
                    seconds, accuracy = plain_keras(config, splits)
                elif way == REFERENCE_WAY:
                    seconds, accuracy = native_pytorch(plain_keras_model(config), config, splits)
                elif way == COMPILED_WAY:
                    seconds, accuracy = trainer(trained, splits, True, output_dir, jit_compile=True)
                else:
                    seconds, accuracy = trainer(trained, splits, way.startswith("(c)"), output_dir)
                by_way[way].epoch_seconds += seconds
                by_way[way].test_accuracies.append(accuracy)
        results += by_way.values()
    return results


def run_backends(
    backends: list[str],
    limit: int | None,
    epochs: int,
    maxlen: int | None,
    recipes: list[str],
    folder: Path,
    repeats: int = 1,
    jit: bool = False,
    overrides: list[str] | None = None,
) -> list[Result]:
    """`run_benchmark` under each of `backends`, each repeat in a child process per backend, the backends
    in turn and in reverse order every other repeat. A backend that is not installed is a `ConfigError`
    before anything runs; a child that fails, a `RunError` naming its log."""
    missing = [name for name in backends if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"--backends: expected installed backends, received {', '.join(missing)}, not installed "
            f"(pip install 'imdb-rnn[{missing[0]}]')."
        )
    merged: dict[tuple[str, str, str], Result] = {}
    for repeat in range(repeats):
        for backend in backends if repeat % 2 == 0 else backends[::-1]:
            print(f"== {backend}, repeat {repeat + 1} of {repeats}", flush=True)
            plain = backend == "tensorflow" or "tensorflow" not in backends  # (a): the baseline's backend only
            for found in _child(backend, limit, epochs, maxlen, recipes, folder, 42 + repeat, jit, plain, overrides):
                key = (found.recipe, found.backend, found.way)
                if key in merged:
                    merged[key].epoch_seconds += found.epoch_seconds
                    merged[key].test_accuracies += found.test_accuracies
                else:
                    merged[key] = found
    order = {name: index for index, name in enumerate(backends)}
    return sorted(merged.values(), key=lambda r: (recipes.index(r.recipe), order[r.backend], ALL_WAYS.index(r.way)))


def _child(
    backend: str,
    limit: int | None,
    epochs: int,
    maxlen: int | None,
    recipes: list[str],
    folder: Path,
    seed: int,
    jit: bool,
    plain: bool = True,
    overrides: list[str] | None = None,
) -> list[Result]:
    results_file = folder / f"{backend}-seed{seed}.json"
    log = folder / f"{backend}-seed{seed}.log"
    command = [sys.executable, "-m", "imdb_rnn", "benchmark", "--epochs", str(epochs), "--recipes", *recipes]
    command += ["--limit", str(limit)] if limit else []
    command += ["--maxlen", str(maxlen)] if maxlen else []
    command += ["--jit"] if jit else []
    command += [] if plain else ["--without-plain"]
    command += [word for override in overrides or [] for word in ("--set", override)]
    command += ["--first-seed", str(seed), "--results-json", str(results_file), "--output-dir", str(folder / backend)]
    with open(log, "w", encoding="utf-8") as handle:
        done = subprocess.run(
            command, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, "KERAS_BACKEND": backend}
        )
    if done.returncode != 0 or not results_file.is_file():
        raise RunError(
            f"{log}: the {backend} benchmark failed (exit {done.returncode}): expected results, see its log."
        )
    return [Result(**item) for item in read_json(results_file)]


def save_results(results: list[Result], path: Path) -> None:
    """The results as JSON, for the parent process of `run_backends`."""
    write_text(path, json.dumps([dataclasses.asdict(result) for result in results]))


def table(results: list[Result]) -> str:
    """A Markdown table: the fastest epoch, its ratio to (a)'s fastest epoch (`STATISTIC`, the one ratio),
    training samples per second in it, the median epoch (no ratio), test accuracy and its difference to
    (a); a note under it names the statistic. With several backends, a backend column, and (a) is
    TensorFlow's plain Keras where it ran. Where way (r) ran, a column of ratios to its fastest epoch."""
    several = len({result.backend for result in results}) > 1
    referenced = any(result.way == REFERENCE_WAY for result in results)
    backend_head, backend_rule = ("| backend ", "|---") if several else ("", "")
    reference_head, reference_rule = ("÷ (r), fastest epoch | ", "---:|") if referenced else ("", "")
    lines = [
        f"| recipe | maxlen {backend_head}| way | fastest s/epoch | ÷ (a), fastest epoch | {reference_head}"
        "samples/s, fastest epoch | median s/epoch | test accuracy | Δ accuracy vs (a) |",
        f"|---|---:{backend_rule}|---|---:|---:|{reference_rule}---:|---:|---:|---:|",
    ]
    for result in results:
        plain = [r for r in results if r.recipe == result.recipe and r.way.startswith("(a)")]
        base = next((r for r in plain if r.backend == "tensorflow"), None) or next(
            r for r in plain if r.backend == result.backend
        )
        backend = f" {result.backend} |" if several else ""
        ratio_to_reference = ""
        if referenced:
            native = next((r for r in results if r.recipe == result.recipe and r.way == REFERENCE_WAY), None)
            ratio_to_reference = f" {result.fastest / native.fastest:.2f} |" if native else " - |"
        lines.append(
            f"| {result.recipe} | {result.maxlen} |{backend} {result.way} | {result.fastest:.2f} "
            f"| {result.fastest / base.fastest:.2f} |{ratio_to_reference} {result.train_examples / result.fastest:,.0f} "
            f"| {result.median:.2f} | {result.test_accuracy:.4f} "
            f"| {100 * (result.test_accuracy - base.test_accuracy):+.2f} pts |"
        )
    lines.append(
        f"\nRatios: each way's {STATISTIC} over plain Keras's (a) {STATISTIC}"
        + (" (and over (r)'s, the native PyTorch reference)" if referenced else "")
        + ", the ways interleaved; the statistic was fixed before measuring. Median epochs are shown, not compared."
    )
    return "\n".join(lines)


def describe(
    limit: int | None, epochs: int, repeats: int, backends: list[str] | None = None, overrides: list[str] | None = None
) -> str:
    """Where, when and how the benchmark ran (machine, date, commit, settings, the other backends' versions,
    the trainer's `overrides`)."""
    installed = versions()
    others = [name for name in backends or [] if name != "tensorflow"]
    extra = "".join(f", {name} {metadata.version(name)}" for name in others)
    return (
        f"{datetime.now():%Y-%m-%d %H:%M}, commit {commit()}, {machine()}, "
        f"TensorFlow {installed['tensorflow']}, Keras {installed['keras']}{extra}; "
        f"{'all 25,000' if not limit else f'{limit:,}'} training reviews (20% for validation), "
        f"{epochs} epochs per way, {repeats} repeat{'s' if repeats > 1 else ''} (seeds 42…{41 + repeats}); "
        "test accuracy: the mean over repeats, of the best epoch by validation accuracy"
        + (f"; the trainer's ways with {', '.join(overrides)}" if overrides else "")
    )


def report_text(description: str, results: list[Result], started: float) -> str:
    """The whole report, made once so that every copy of it says the same (elapsed seconds included)."""
    return f"# Benchmark\n\n{description} ({time.monotonic() - started:.0f} s in all).\n\n{table(results)}\n"


def benchmark(
    limit: int | None = None,
    epochs: int = 3,
    maxlen: int | None = None,
    recipes: list[str] | None = None,
    output_dir: Path = Path("outputs/benchmarks"),
    repeats: int = 1,
    out: Path | None = None,
    backends: list[str] | None = None,
    jit: bool = False,
    overrides: list[str] | None = None,
) -> tuple[list[Result], list[Path]]:
    """Runs the benchmark in a new folder `benchmark-<timestamp>` under `output_dir` and writes its
    report there (and to `out`); returns the results and the reports written. `backends` (e.g.
    `["tensorflow", "jax"]`) runs each in its own process; None: this process's backend only. `jit` adds
    way (d), the trainer compiled with XLA, under TensorFlow; `overrides` (`--set` strings) change the
    trainer's ways only, each checked (a one-line `ConfigError`) before anything runs."""
    started = time.monotonic()
    recipes = recipes or list(RECIPES)
    for recipe in recipes:
        recipe_config(recipe, limit, epochs, maxlen, overrides)
    folder = new_folder(output_dir, "benchmark", what="benchmark folder")
    if backends:
        results = run_backends(backends, limit, epochs, maxlen, recipes, folder, repeats, jit, overrides)
    else:
        results = run_benchmark(limit, epochs, maxlen, recipes, folder / "runs", repeats, jit=jit, overrides=overrides)
    reports = [folder / "benchmark.md"] + ([out] if out else [])
    text = report_text(describe(limit, epochs, repeats, backends, overrides), results, started)
    for report in reports:
        report.parent.mkdir(parents=True, exist_ok=True)
        write_text(report, text)
    return results, reports
