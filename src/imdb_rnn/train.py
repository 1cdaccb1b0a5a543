"""The training recipe: config → data → model → fit → test metrics, all in a run folder."""

from __future__ import annotations

import sys
from pathlib import Path

import keras

from imdb_rnn import runs, status
from imdb_rnn.callbacks import (
    BestModel,
    EpochTimer,
    HistoryCSV,
    NaNGuard,
    ResumableEarlyStopping,
    StatusUpdate,
)
from imdb_rnn.config import Config, load_config
from imdb_rnn.data import Splits, load_splits
from imdb_rnn.evaluate import classification_metrics, predict_dataset, record_evaluation
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


def compile_model(config: Config) -> keras.Model:
    """Builds `config.model` and compiles it with `config.train`'s optimizer (binary cross-entropy)."""
    keras.mixed_precision.set_global_policy("mixed_float16" if config.train.mixed_precision else "float32")
    model = build_model(config.model.architecture, config.model.params, config.data.num_words, config.data.maxlen)
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


def callbacks(run: Path, config: Config, history: dict[str, list]) -> list[keras.callbacks.Callback]:
    """The run's callbacks, in the order that makes a run resumable (see `imdb_rnn.callbacks`), plus
    TensorBoard logs in `tensorboard/` (per-epoch scalars only: no graph, histograms or profiling)."""
    chosen = [
        EpochTimer(),
        NaNGuard(),
        HistoryCSV(run / "history.csv", append=True),
        keras.callbacks.BackupAndRestore(run / runs.BACKUP, double_checkpoint=True),
        BestModel(run, history),
        StatusUpdate(run),
        keras.callbacks.TensorBoard(log_dir=run / "tensorboard", write_graph=False, update_freq="epoch", profile_batch=0),
    ]
    if config.train.early_stopping is not None:
        chosen.append(ResumableEarlyStopping(config.train.early_stopping, history))
    return chosen


def train(
    config: Config,
    output_dir: str | Path = "outputs",
    splits: Splits | None = None,
    verbose: int | None = None,
    resume: Path | None = None,
) -> Path:
    """Trains `config` in a new run folder under `output_dir` (or continues the run folder `resume`)
    and returns the folder.

    `splits` replaces the IMDB data (tests use a synthetic dataset); `verbose` defaults to Keras's
    progress bar in a terminal and one line per epoch otherwise. A failure is raised as `RunFailed`,
    Ctrl-C or SIGTERM as `RunInterrupted`, after `status.json` says so.
    """
    if resume is None:
        runs.prepare_output_dir(output_dir)  # fail before the data loads
    keras.utils.set_random_seed(config.train.seed)
    splits = splits or load_splits(config.data)
    model = compile_model(config)
    train_data, validation_data, test_data = datasets(splits, config)

    run = Path(resume) if resume else runs.create_run_dir(output_dir, config.name)
    with status.tracking(run, config.name, resumed=resume is not None):
        if resume:
            history = runs.rewind(run)
        else:
            history = runs.start_run(run, config, model)
            save_vocabulary(run, splits, config.data)
        model.fit(
            train_data,
            validation_data=validation_data,
            epochs=config.train.epochs,
            callbacks=callbacks(run, config, history),
            shuffle=False,  # the training pipeline shuffles
            verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
        )
        best = keras.models.load_model(run / "model.keras")
        labels, probabilities = predict_dataset(best, test_data)
        test = classification_metrics(labels, probabilities)
        runs.finish_run(run, config, splits, model.count_params(), test["loss"], test["accuracy"])
        record_evaluation(run, labels, probabilities)
    return run


def resume(run: Path, verbose: int | None = None) -> tuple[Path, bool]:
    """Continues an interrupted, failed or crashed run in its own folder, with its stored config,
    from the last completed epoch. Returns `(run, False)` without training if it already completed."""
    name, state = runs.check_resumable(Path(run))
    if state == "completed":
        return Path(run), False
    config = load_config(Path(run) / "config.yaml")
    config.name = name
    return train(config, verbose=verbose, resume=Path(run)), True
