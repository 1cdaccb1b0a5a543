"""Training on several devices or machines: what a run's `train.distribution` asks for.

- `none`: TensorFlow's default, one device;
- `mirrored`: `tf.distribute.MirroredStrategy`, one replica per local GPU, or, on a machine without one,
  per logical CPU device (`train.cpu_devices`, made from the one physical CPU device; they share its
  cores, so this proves the path rather than speeding it up). Each global batch of `train.batch_size`
  is split among the replicas and their gradients are summed, so a run learns as on one device. The
  replicas' batches must have equal shapes, so length bucketing is off (`config.checks`). The input
  pipeline that `tf.distribute` makes of the training set shuffles in another (still seeded) order than
  the single-device one: with the same batches in the same order, the losses agree to float rounding.

- `multi_worker`: several processes, usually one a machine, train one run together with
  `keras.distribution` on JAX (`DataParallel` over every process's devices); the cluster comes from
  the variables Keras reads, `KERAS_DISTRIBUTION_JOB_ADDRESSES` (the chief's host:port first),
  `KERAS_DISTRIBUTION_NUM_PROCESSES` and `KERAS_DISTRIBUTION_PROCESS_ID`. Process 0, the chief,
  writes the run folder; every other one keeps its own checkpoint in a hidden `.worker-<id>/` copy
  under the same output folder, so that `--resume` on every machine takes the run up again.
  TensorFlow's `MultiWorkerMirroredStrategy` is not used: under Keras 3 its `fit` fails
  (keras-team/keras#20585, reproduced with TensorFlow 2.21 and Keras 3.15).

Logical CPU devices exist only if they are made before TensorFlow's runtime starts (building a `tf.data`
pipeline starts it, and so does listing logical devices): `recipe.train` asks for the strategy before it
loads any data, and `imdb-rnn train` makes the devices before its first run (`prepare`). A process that
has already run TensorFlow with another number of them gets a one-line `ConfigError` saying so.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np

from imdb_rnn.config import Config
from imdb_rnn.errors import ConfigError, RunError


def cpu_devices(count: int) -> list[str]:
    """Names of `count` logical CPU devices, made now if TensorFlow's runtime has not started."""
    import tensorflow as tf

    physical = tf.config.list_physical_devices("CPU")[0]
    try:
        if len(tf.config.get_logical_device_configuration(physical) or [None]) != count:
            tf.config.set_logical_device_configuration(physical, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:  # the runtime has started: the devices are what they are
        pass
    logical = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(logical) != count:
        raise ConfigError(
            f"train.cpu_devices={count}: TensorFlow already runs in this process with {len(logical)} CPU "
            f"device(s): expected a process that has not run TensorFlow yet (the command line is one), "
            f"received one with {len(logical)}."
        )
    return logical


def strategy(config: Config):
    """The `tf.distribute.Strategy` for `config.train.distribution`; None for `none`."""
    if config.train.distribution in ("none", "multi_worker"):  # multi_worker: keras.distribution, below
        return None
    if keras.backend.backend() != "tensorflow":
        raise ConfigError(
            f"train.distribution={config.train.distribution}: tf.distribute needs the TensorFlow backend: expected "
            f"KERAS_BACKEND=tensorflow, received {keras.backend.backend()}."
        )
    import tensorflow as tf

    # The physical list does not start TensorFlow's runtime (the logical one does): without a GPU, the
    # logical CPU devices can still be made.
    if tf.config.list_physical_devices("GPU"):
        devices = [device.name for device in tf.config.list_logical_devices("GPU")]
    else:
        devices = cpu_devices(config.train.cpu_devices)
    print(f"Mirrored over {len(devices)} devices: {', '.join(devices)}", flush=True)
    return tf.distribute.MirroredStrategy(devices)


def prepare(configs: list[Config]) -> None:
    """Before anything of a command starts TensorFlow's runtime: the logical CPU devices that the first
    `mirrored` config of `configs` needs on a machine without a GPU (a sweep whose first run is not
    mirrored would start the runtime with one device). Nothing for any other config or backend."""
    mirrored = [config for config in configs if config.train.distribution == "mirrored"]
    if not mirrored or keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        cpu_devices(mirrored[0].train.cpu_devices)


class AverageEvery(keras.callbacks.Callback):
    """`train.ema` under `mirrored`: the model's weights become their moving average every `steps` steps,
    as the optimizer's `ema_overwrite_frequency` does on one device. Keras's own overwrite calls
    `extended.update` inside a `cond` of the replicated step, which `tf.distribute` refuses ("`merge_call`
    called while defining a new graph"); here it runs between steps, in the cross-replica context, at the
    same iterations (the optimizer's count after the step, a multiple of `steps`)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        optimizer = self.model.optimizer
        if int(optimizer.iterations.numpy()) % self.steps == 0:
            with self.model.distribute_strategy.scope():
                optimizer._overwrite_model_variables_with_average_value(optimizer._trainable_variables)


@contextlib.contextmanager
def scope(chosen) -> Iterator[None]:
    """`chosen.scope()`, or nothing for no strategy: the model and its optimizer are built inside."""
    if chosen is None:
        yield
    else:
        with chosen.scope():
            yield


# Several processes (machines): JAX and keras.distribution -----------------------------------------

CLUSTER_VARIABLES = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)
NAME_BYTES = 512  # the longest run folder name the chief can hand to the other workers


def cluster() -> tuple[int, int]:
    """`(process id, number of processes)` from the variables `keras.distribution.initialize` reads; a
    one-line `ConfigError` naming the missing ones."""
    missing = [name for name in CLUSTER_VARIABLES if not os.environ.get(name)]
    if missing:
        raise ConfigError(
            "train.distribution=multi_worker: no cluster: expected the environment variables "
            f"{', '.join(CLUSTER_VARIABLES)} (coordinator host:port, process count, this process's id), "
            f"received none for {', '.join(missing)}."
        )
    try:
        process, count = int(os.environ[CLUSTER_VARIABLES[2]]), int(os.environ[CLUSTER_VARIABLES[1]])
    except ValueError:
        raise ConfigError(
            f"{CLUSTER_VARIABLES[1]}, {CLUSTER_VARIABLES[2]}: expected integers, received "
            f"{os.environ[CLUSTER_VARIABLES[1]]!r} and {os.environ[CLUSTER_VARIABLES[2]]!r}."
        ) from None
    if not 0 <= process < count:
        raise ConfigError(f"{CLUSTER_VARIABLES[2]}: expected a process id from 0 to {count - 1}, received {process}.")
    return process, count


@contextlib.contextmanager
def multi_worker() -> Iterator[int]:
    """Joins the cluster (`keras.distribution.initialize`, JAX's coordination service and, on CPUs, gloo
    collectives) and trains data-parallel over every process's devices (`keras.distribution.DataParallel`:
    each process reads its share of each global batch). Yields this process's id; 0 is the chief."""
    if keras.backend.backend() != "jax":
        raise ConfigError(
            "train.distribution=multi_worker runs on keras.distribution (JAX); TensorFlow's "
            "MultiWorkerMirroredStrategy fails under Keras 3 (keras-team/keras#20585): expected "
            f"KERAS_BACKEND=jax, received {keras.backend.backend()}."
        )
    import jax

    process, _ = cluster()
    if not jax.distributed.is_initialized():
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
    try:
        with warnings.catch_warnings():
            # Every process's data are full batches of a known count: the input ends early only when a
            # peer died, whose error follows; Keras's "Your input ran out of data" would mislead.
            warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)
            yield process
    finally:
        keras.distribution.set_distribution(None)


def leave_failed_cluster(code: int) -> None:
    """Ends this process now with `code` when it joined a cluster (`multi_worker`) and its run failed.

    As Python exits, JAX's distributed client waits at a shutdown barrier for every process of the
    cluster, which a dead peer never reaches: the process sat there, its error already said, until the
    stall guard ended it `train.stall_timeout` seconds later. The run's status and the error are written
    by then; only output buffers are left to flush."""
    import jax

    if not jax.distributed.is_initialized():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@contextlib.contextmanager
def one_process() -> Iterator[None]:
    """No distribution for the block (then the one before it): what one process computes alone, as the
    chief's test-set evaluation after training."""
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(previous)


def share_name(name: str) -> str:
    """The chief's `name` (a run folder's), on every process."""
    from jax.experimental import multihost_utils

    encoded = name.encode("utf-8")[:NAME_BYTES]
    buffer = np.zeros(NAME_BYTES, dtype=np.uint8)
    buffer[: len(encoded)] = np.frombuffer(encoded, dtype=np.uint8)
    shared = np.asarray(multihost_utils.broadcast_one_to_all(buffer))
    return bytes(shared[shared > 0].astype(np.uint8)).decode("utf-8")


def agreed_epoch(run: Path, committed: int) -> int:
    """The epoch every process of the cluster resumes from: the earliest any of them committed, when
    they are at most one apart (a process that failed or was killed between two processes' commits of
    an epoch is one behind; the others go back to their previous backup, see `records.rewind`). A
    `RunError` on each process otherwise."""
    from jax.experimental import multihost_utils

    epochs = [int(value) for value in np.asarray(multihost_utils.process_allgather(np.array([committed]))).reshape(-1)]
    if max(epochs) - min(epochs) > 1:
        found = ", ".join(f"process {index} at epoch {epoch}" for index, epoch in enumerate(epochs))
        raise RunError(
            f"{run}: cannot resume together: expected every process's checkpoint within one epoch of the "
            f"others, received {found}; start the run again."
        )
    return min(epochs)


class StallGuard(keras.callbacks.Callback):
    """Fails the run when no step (training or validation) has ended for `timeout` seconds once one has:
    a worker that stopped leaves the others waiting in a collective that never returns. The run is marked
    failed (and stays resumable) and the process exits with status 1. The clock restarts at each epoch's
    start and end, so the saving between epochs (local work, no collective) does not count."""

    def __init__(self, run: Path, timeout: float) -> None:
        super().__init__()
        self.run, self.timeout = Path(run), timeout
        self.last: float | None = None
        self.done = threading.Event()

    def on_train_begin(self, logs=None) -> None:
        threading.Thread(target=self._watch, daemon=True, name="stall-guard").start()

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.last = time.monotonic()

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        self.last = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.last = time.monotonic() if self.last is not None else None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.last = time.monotonic()

    def on_train_end(self, logs=None) -> None:
        self.done.set()

    def _watch(self) -> None:
        from imdb_rnn.runs import status

        while not self.done.wait(1.0):
            if self.last is not None and time.monotonic() - self.last > self.timeout:
                message = (
                    f"no training step ended for {self.timeout:g} s (train.stall_timeout): a worker stopped or "
                    "cannot be reached"
                )
                if (status.read(self.run) or {}).get("state") == "running":  # else the failure is said already
                    status.update(self.run, state="failed", error=message)
                print(
                    f"error: {self.run}: {message}; resume with --resume on every worker.", file=sys.stderr, flush=True
                )
                os._exit(1)
