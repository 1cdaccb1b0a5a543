"""The training recipe: config → data → model → fit → test metrics, all in a new run folder."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import keras
from imdb_rnn import runs
from imdb_rnn.config import Config, save_config
from imdb_rnn.data import Splits, load_splits
from imdb_rnn.evaluate import predict_dataset, record_evaluation
from imdb_rnn.models import build_model
from imdb_rnn.pipeline import make_dataset
from imdb_rnn.vocabulary import save_vocabulary

OPTIMIZERS = {
    "rmsprop": keras.optimizers.RMSprop,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "nadam": keras.optimizers.Nadam,
    "sgd": keras.optimizers.SGD,
}


class EpochTimer(keras.callbacks.Callback):
    """Adds `seconds` (wall-clock time of the epoch, validation included) to each epoch's logs."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["seconds"] = time.perf_counter() - self.started


class HistoryCSV(keras.callbacks.CSVLogger):
    """Keras's CSVLogger, counting epochs from 1 as the progress bar does."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch + 1, logs)


def compile_model(config: Config, vocab_size: int) -> keras.Model:
    """Builds `config.model` and compiles it with `config.train`'s optimizer (binary cross-entropy)."""
    keras.mixed_precision.set_global_policy("mixed_float16" if config.train.mixed_precision else "float32")
    model = build_model(config.model.architecture, config.model.params, vocab_size, config.data.maxlen)
    optimizer = OPTIMIZERS[config.train.optimizer](
        learning_rate=config.train.learning_rate, clipnorm=config.train.clipnorm
    )
    model.compile(
        optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"], jit_compile=config.train.jit_compile
    )
    return model


def datasets(splits: Splits, config: Config):
    """The train (shuffled), validation and test `tf.data` pipelines for `splits`."""
    options = dict(batch_size=config.train.batch_size, bucketing=config.data.bucketing, padding=config.data.padding)
    train = make_dataset(splits.train, shuffle=True, seed=config.train.seed, **options)
    return train, make_dataset(splits.validation, **options), make_dataset(splits.test, **options)


def callbacks(run: Path, config: Config) -> list[keras.callbacks.Callback]:
    """Timing, NaN guard, best-epoch checkpoint (`model.keras`), `history.csv`, optional early stopping."""
    chosen = [
        EpochTimer(),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(run / "model.keras", monitor="val_accuracy", save_best_only=True),
        HistoryCSV(run / "history.csv"),
    ]
    if config.train.early_stopping is not None:
        chosen.append(keras.callbacks.EarlyStopping("val_accuracy", patience=config.train.early_stopping))
    return chosen


def train(config: Config, output_dir: str | Path = "outputs", splits: Splits | None = None, verbose: int | None = None) -> Path:
    """Trains `config` in a new run folder under `output_dir` and returns that folder.

    `splits` replaces the IMDB data (tests use a synthetic dataset); `verbose` defaults to Keras's
    progress bar in a terminal and one line per epoch otherwise.
    """
    keras.utils.set_random_seed(config.train.seed)
    splits = splits or load_splits(config.data)
    model = compile_model(config, config.data.num_words)
    train_data, validation_data, test_data = datasets(splits, config)

    run = runs.create_run_dir(output_dir, config.name)
    runs.start_run(run, config, model)
    save_vocabulary(run, splits, config.data)

    started = time.perf_counter()
    model.fit(
        train_data,
        validation_data=validation_data,
        epochs=config.train.epochs,
        callbacks=callbacks(run, config),
        shuffle=False,  # the training pipeline shuffles
        verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
    )
    training_seconds = time.perf_counter() - started

    best = keras.models.load_model(run / "model.keras")
    test_loss, test_accuracy = best.evaluate(test_data, verbose=0)
    runs.finish_run(run, config, splits, model.count_params(), training_seconds, test_loss, test_accuracy)
    record_evaluation(run, *predict_dataset(best, test_data))
    return run
