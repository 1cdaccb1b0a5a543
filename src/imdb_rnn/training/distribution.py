"""Training on several devices with `tf.distribute`: the strategy a run's `train.distribution` asks for.

- `none`: TensorFlow's default, one device;
- `mirrored`: `tf.distribute.MirroredStrategy`, one replica per local GPU, or, on a machine without one,
  per logical CPU device (`train.cpu_devices`, made from the one physical CPU device; they share its
  cores, so this proves the path rather than speeding it up). Each global batch of `train.batch_size`
  is split among the replicas and their gradients are summed, so a run learns as on one device. The
  replicas' batches must have equal shapes, so length bucketing is off (`config.checks`). The input
  pipeline that `tf.distribute` makes of the training set shuffles in another (still seeded) order than
  the single-device one: with the same batches in the same order, the losses agree to float rounding.

Logical CPU devices exist only if they are made before TensorFlow's runtime starts: a process that has
already run TensorFlow with another number of them gets a one-line `ConfigError` saying so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from imdb_rnn.config import Config
from imdb_rnn.errors import ConfigError


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
    if config.train.distribution == "none":
        return None
    if keras.backend.backend() != "tensorflow":
        raise ConfigError(
            f"train.distribution={config.train.distribution}: tf.distribute needs the TensorFlow backend: expected "
            f"KERAS_BACKEND=tensorflow, received {keras.backend.backend()}."
        )
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    devices = [device.name for device in gpus] if gpus else cpu_devices(config.train.cpu_devices)
    return tf.distribute.MirroredStrategy(devices)


@contextlib.contextmanager
def scope(chosen) -> Iterator[None]:
    """`chosen.scope()`, or nothing for no strategy: the model and its optimizer are built inside."""
    if chosen is None:
        yield
    else:
        with chosen.scope():
            yield
