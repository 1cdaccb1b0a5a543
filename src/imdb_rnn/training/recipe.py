"""The training recipe: config → data → model → fit → test metrics, all in a run folder.

run = train(load_config("lstm"))        # outputs/lstm-<timestamp>/
run, trained = resume(run)             # after a kill: on from the last completed epoch
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras

from imdb_rnn.config import Config, load_config
from imdb_rnn.data.pipeline import (
    batching,
    bucket_width,
    compiled,
    evaluation_batch_size,
    make_dataset,
    make_test_dataset,
)
from imdb_rnn.data.splits import Splits, load_splits
from imdb_rnn.data.unlabeled import load_unlabeled
from imdb_rnn.data.vocabulary import save_vocabulary
from imdb_rnn.errors import ConfigError, RunError
from imdb_rnn.evaluation.evaluate import predict_dataset, record_evaluation
from imdb_rnn.evaluation.metrics import classification_metrics
from imdb_rnn.models import build_model, count_statistics
from imdb_rnn.models.tf_kernels import use_block_lstm
from imdb_rnn.models.torch_kernels import use_fused_kernels
from imdb_rnn.pretraining.runs import resolve_pretrained
from imdb_rnn.progress import say
from imdb_rnn.runs import folders, status
from imdb_rnn.training import distribution, pretrained
from imdb_rnn.training import records as runs
from imdb_rnn.training.callbacks import EpochTensorBoard, ResumableEarlyStopping, resumable
from imdb_rnn.training.data_size import fit_to_data
from imdb_rnn.training.objectives import MixedObjective, attach, with_unlabeled
from imdb_rnn.training.optimizers import make_optimizer
from imdb_rnn.training.schedules import SlantedTriangular

STEPS_PER_EXECUTION = 16  # the default batches per call into the train step, on one device


def compile_model(
    config: Config,
    steps_per_epoch: int | None = None,
    pretrained_folder: Path | None = None,
    num_classes: int = 2,
    words: Mapping[str, int] | None = None,
) -> keras.Model:
    """Builds `config.model` for `num_classes` classes, copies in the pretraining of `pretrained_folder`
    (when given; `words`, your own data's word → rank, finds each word's pretrained row) and compiles it with `config.train`'s optimizer: binary cross-entropy for two classes,
    sparse categorical cross-entropy for more (labels are class indices either way).

    With `train.ema`, the weights are replaced by their moving average every `steps_per_epoch` steps,
    so each epoch is validated, checkpointed and tested with the averaged weights; the average spans
    about the last third of the epoch (momentum 1 - 3 / steps_per_epoch, at most 0.999)."""
    model = build(config, num_classes)
    use_fused_kernels(model)  # under PyTorch: its fused CPU LSTM/GRU instead of Keras's loop over time steps
    if config.train.fused_lstm and not config.train.jit_compile:
        use_block_lstm(model)  # under TensorFlow: its fused CPU LSTM op (XLA compiles Keras's loop instead)
    if pretrained_folder is not None:
        say(pretrained.initialise(model, Path(pretrained_folder), config.data.num_words, words))
    options = {}
    if config.train.ema:
        momentum = min(max(1 - 3 / (steps_per_epoch or 300), 0.0), 0.999)
        # Under mirrored, Keras's own overwrite fails (a merge_call in a cond): a callback does it.
        overwrite = None if config.train.distribution == "mirrored" else steps_per_epoch
        options.update(use_ema=True, ema_momentum=momentum, ema_overwrite_frequency=overwrite)
    if config.train.weight_decay is not None:
        options["weight_decay"] = config.train.weight_decay
    learning_rate = config.train.learning_rate
    if config.train.schedule == "slanted_triangular":
        total = config.train.epochs * (steps_per_epoch or 1)
        learning_rate = SlantedTriangular(config.train.learning_rate, total, config.train.warmup)
    optimizer = make_optimizer(
        config.train.optimizer,
        config.train.embedding_updates,
        learning_rate=learning_rate,
        clipnorm=config.train.clipnorm,
        **options,
    )
    if num_classes == 2:
        loss, accuracy = "binary_crossentropy", keras.metrics.BinaryAccuracy(name="accuracy")
    else:
        loss, accuracy = "sparse_categorical_crossentropy", keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[accuracy],
        jit_compile=compiled(config.train.jit_compile, keras.backend.backend()),
        steps_per_execution=steps_per_execution(config),
    )
    if config.model.unfreeze_after is not None:
        pretrained.prepare_unfreezing(model, config)
    return model


def dtype_policy(mixed_precision: bool | str) -> str:
    """Keras's dtype policy for `train.mixed_precision`: false → "float32", true or "float16" →
    "mixed_float16", "bfloat16" → "mixed_bfloat16"."""
    if mixed_precision is False:
        return "float32"
    return "mixed_float16" if mixed_precision in (True, "float16") else f"mixed_{mixed_precision}"


def build(config: Config, num_classes: int = 2) -> keras.Model:
    """`config.model` built for `config.data`'s vocabulary and `num_classes` classes, computing in the
    16-bit type `train.mixed_precision` names (`true`: float16) with float32 weights, or in float32.

    Keras's dtype policy is global: it is set for the build only and put back afterwards, so
    building one model never changes the next (the layers keep the policy they were built with)."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(dtype_policy(config.train.mixed_precision))
    try:
        model = build_model(config.model.architecture, config.model.params, config.data.num_words, num_classes)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    pretrained.freeze(model, config)
    return model


def datasets(splits: Splits, config: Config):
    """The train (shuffled), validation and test `tf.data` pipelines for `splits`. Under `multi_worker`,
    training and validation batches are all full (a last, smaller one is left out) so that each splits
    evenly among the processes; the test set, evaluated by the chief alone, keeps every review."""
    options = batching(config.data)
    full = config.train.distribution == "multi_worker"
    train = make_dataset(
        splits.train, config.train.batch_size, shuffle=True, seed=config.train.seed, drop_remainder=full, **options
    )
    if (config.train.passes_per_epoch or 1) > 1:  # an epoch of few texts reads them more than once
        train = train.repeat(config.train.passes_per_epoch)
    evaluation_batch = config.train.batch_size if full else evaluation_batch_size(config.train.batch_size)
    if full and len(splits.validation) < evaluation_batch:
        raise ConfigError(
            f"train.distribution=multi_worker evaluates full batches only: expected at least train.batch_size="
            f"{evaluation_batch} validation reviews, received {len(splits.validation)}."
        )
    return (
        train,
        make_dataset(splits.validation, evaluation_batch, drop_remainder=full, **options),
        make_test_dataset(splits.test, evaluation_batch, config.data.bucketing, config.data.padding),
    )


def counting_dataset(splits: Splits, config: Config):
    """The training reviews once, in order, as `(token ids, labels)` batches: what `count_statistics` reads
    (kept apart from the shuffled training pipeline, so counting never shifts its order)."""
    return make_dataset(splits.train, evaluation_batch_size(config.train.batch_size), **batching(config.data))


def callbacks(
    run: Path, config: Config, history: dict[str, list], model: keras.Model
) -> list[keras.callbacks.Callback]:
    """The run's callbacks, in the order that makes a run resumable (see `imdb_rnn.callbacks`), plus
    TensorBoard logs in `tensorboard/` (per-epoch scalars only: no graph, histograms or profiling)."""
    chosen = [*resumable(run, history), EpochTensorBoard(run / "tensorboard")]
    if config.train.early_stopping is not None:
        chosen.append(ResumableEarlyStopping(config.train.early_stopping, history))
    if config.model.unfreeze_after is not None:
        groups = [[layer.name for layer in group] for group in pretrained.layer_groups(model, config)]
        chosen.insert(
            0, pretrained.UnfreezePretrained(groups, config.model.unfreeze_after, config.model.gradual_unfreezing)
        )
    return chosen


def train(
    config: Config,
    output_dir: str | Path = "outputs",
    splits: Splits | None = None,
    verbose: int | None = None,
    resume: Path | None = None,
    *,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    test: bool = True,
) -> Path:
    """Trains `config` in a new run folder under `output_dir` (or continues the run folder `resume`)
    and returns the folder.

    `extra_callbacks` run after the run's own, so an epoch is committed before they see it (a search
    reports it to its trial). `test=False` (a search trial, chosen on validation alone) never predicts
    the test set: `metrics.json`'s test figures are null and no evaluation is recorded.

    `splits` replaces the IMDB data (tests use a synthetic dataset); `verbose` defaults to Keras's
    progress bar in a terminal and one line per epoch otherwise. A failure is raised as `RunFailed`,
    Ctrl-C or SIGTERM as `RunInterrupted`, after `status.json` says so. With `train.distribution:
    multi_worker` every process of the cluster calls this; process 0 writes the run folder and returns
    it, the others return their hidden copy (see `training.distribution`).
    """
    options = dict(extra_callbacks=extra_callbacks, test=test)
    if config.train.distribution != "multi_worker":
        return _train(config, Path(output_dir), splits, verbose, resume, process=None, **options)
    with distribution.multi_worker() as process:
        return _train(config, Path(output_dir), splits, verbose, resume, process, **options)


def _train(
    config: Config,
    output_dir: Path,
    splits: Splits | None,
    verbose: int | None,
    resume: Path | None,
    process: int | None,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    test: bool = True,
) -> Path:
    """`train`, in one process (`process` None) or as the process `process` of a cluster."""
    config = resolve_for_backend(config)  # a run from before data.bucket_width: as it was trained
    strategy = distribution.strategy(config)  # first: its logical CPU devices precede TensorFlow's runtime
    if resume is None:
        runs.prepare_output_dir(output_dir)  # fail before the data loads
        if config.model.pretrained is not None:  # the run's config.yaml names the folder it started from
            folder = resolve_pretrained(config.model.pretrained, output_dir)
            config = config.replace(model={"pretrained": str(folder)})
    keras.utils.set_random_seed(config.train.seed)
    splits = splits or load_splits(config.data)
    if resume is None:  # a resumed run reads its passes an epoch from its config.yaml (null: one)
        config = fit_to_data(config, splits)
    train_data, validation_data, test_data = datasets(splits, config)
    objective = MixedObjective.of(config)
    if objective.reads_unlabeled:  # each labeled batch travels with a batch of unlabeled reviews
        train_data = with_unlabeled(train_data, load_unlabeled(config.data), config)
    folder = Path(config.model.pretrained) if config.model.pretrained is not None and resume is None else None
    steps = int(train_data.cardinality())
    with distribution.scope(strategy):  # one device unless train.distribution says
        model = compile_model(
            config, steps, pretrained_folder=folder, num_classes=len(splits.classes), words=splits.words
        )
    if resume is None:  # counted weights (NBSVM's naive-Bayes ratios) come from the training reviews
        count_statistics(model, counting_dataset(splits, config))
    objective_callbacks = attach(model, objective) if objective.active else []

    run = _run_folder(output_dir, config.name, resume, process)
    with status.tracking(run, config.name, resumed=resume is not None, backend=keras.backend.backend()):
        if resume:
            # Every process of a cluster starts from the same epoch.
            agreed = distribution.agreed_epoch(run, runs.committed_epochs(run)) if process is not None else None
            history = runs.rewind(run, agreed)
        else:
            history = runs.start_run(run, config, model)
            save_vocabulary(run, splits, config.data)
        chosen = [*callbacks(run, config, history, model), *objective_callbacks, *extra_callbacks]
        if process is not None:
            chosen.append(distribution.StallGuard(run, config.train.stall_timeout))
        if strategy is not None and config.train.ema:
            chosen.append(distribution.AverageEvery(steps))
        model.fit(
            train_data,
            validation_data=validation_data,
            epochs=config.train.epochs,
            callbacks=chosen,
            shuffle=False,  # the training pipeline shuffles
            verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
        )
        if process:  # a worker: the chief evaluates and writes the run's results
            return run
        if not test:  # a search trial: the test set stays unread
            runs.finish_run(run, config, splits, model.count_params(), None, None)
            return run
        with distribution.one_process():
            best = keras.models.load_model(run / "model.keras", compile=False)
            use_fused_kernels(best)
            labels, probabilities = predict_dataset(best, test_data)
        test = classification_metrics(labels, probabilities, classes=splits.classes)
        runs.finish_run(run, config, splits, model.count_params(), test["loss"], test["accuracy"])
        record_evaluation(run, labels, probabilities, classes=splits.classes)
    return run


def _run_folder(output_dir: Path, name: str, resume: Path | None, process: int | None) -> Path:
    """The run folder: `resume`, or a new one; for a worker of a cluster (process > 0), its hidden copy
    of the chief's, which has the chief's folder name."""
    if resume is not None:
        return folders.own_copy(resume, process or 0)
    if process is None:
        return runs.create_run_dir(output_dir, name)
    chief = runs.create_run_dir(output_dir, name) if process == 0 else None
    shared = distribution.share_name(chief.name if chief is not None else "")
    if chief is not None:
        return chief
    folder = folders.worker_folder(output_dir, process) / shared
    try:
        folder.mkdir(parents=True)
    except OSError as error:
        raise RunError(
            f"{folder}: cannot create the worker's copy of the run: expected a new folder, received "
            f"{error.strerror or error}."
        ) from None
    return folder


def resolve_for_backend(config: Config) -> Config:
    """`config` with the defaults that depend on the Keras backend filled in, as its run's config.yaml
    records them: `train.jit_compile` (see `data.pipeline.compiled`), `train.steps_per_execution` and
    `data.bucket_width` (see `data.pipeline.bucket_width`)."""
    backend = keras.backend.backend()
    jit_compile = compiled(config.train.jit_compile, backend)
    width = bucket_width(config.data.bucket_width, jit_compile, backend)
    steps = steps_per_execution(config)
    return config.replace(
        data={"bucket_width": width}, train={"jit_compile": jit_compile, "steps_per_execution": steps}
    )


def steps_per_execution(config: Config) -> int:
    """`train.steps_per_execution`, or its default: `STEPS_PER_EXECUTION` on one device under TensorFlow or
    JAX; 1 under `train.distribution` (see `config.checks.mirrored_runs_one_step_per_call`) or PyTorch,
    whose Keras trainer takes no more (a `ConfigError` if the config asks for more)."""
    steps = config.train.steps_per_execution
    if keras.backend.backend() == "torch":
        if steps is not None and steps > 1:
            raise ConfigError(
                f"train.steps_per_execution: the PyTorch backend runs one batch per call into the train step: "
                f"expected 1 or unset, received {steps}."
            )
        return 1
    if steps is not None:
        return steps
    return STEPS_PER_EXECUTION if config.train.distribution == "none" else 1


def resume(run: Path, verbose: int | None = None) -> tuple[Path, bool]:
    """Continues an interrupted, failed or crashed run in its own folder, with its stored config,
    from the last completed epoch. Returns `(run, False)` without training if it already completed."""
    own = folders.own_copy(run)
    name, state = runs.check_resumable(own)
    if state == "completed":
        return Path(run), False
    trained_with = (status.read(own) or {}).get("backend", "tensorflow")
    if trained_with != keras.backend.backend():
        raise RunError(
            f"{run}: trained with the {trained_with} backend: expected KERAS_BACKEND={trained_with} to resume it "
            f"(imdb-rnn train --resume sets it when unset), received {keras.backend.backend()}."
        )
    config = load_config(own / "config.yaml", name=name)
    return train(config, verbose=verbose, resume=Path(run)), True
