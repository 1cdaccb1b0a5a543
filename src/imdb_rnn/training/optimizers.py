"""The optimizers a config names (`train.optimizer`), and Adam's lazy embedding updates (`train.embedding_updates`).

    optimizer = make_optimizer("adam", "lazy", learning_rate=1e-3)   # LazyAdam

Keras 3's Adam updates every row of an embedding at every step: its moments decay everywhere, so a
vocabulary of 20,000 × 128 weights is read and written three times a step whatever few hundred words the
batch holds (keras-team/keras#19992; on this project's CPUs, most of cnn_lstm's cost a step,
docs/BENCHMARK.md). `LazyAdam` is the variant TensorFlow 1's `contrib.opt.LazyAdamOptimizer`, TF Addons'
`LazyAdam` and PyTorch's `SparseAdam` implement: where a gradient arrives as row slices
(`tf.IndexedSlices`: TensorFlow's gradient of an `Embedding` lookup), only the rows the batch read are
updated, moments and weights alike, by Adam's formula; a row no review of the batch reads keeps its
weights and moments unchanged. Every dense gradient (the recurrent and output layers; every gradient
under JAX or PyTorch, which have no row slices) takes Adam's own update. With every row read at every step
the two are equal; otherwise the numerics differ from Adam's (a rare word's momentum is not spent while it
is absent), which is why it is a key and its accuracy is measured beside its speed.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from imdb_rnn.config.sections import LAZY_OPTIMIZERS
from imdb_rnn.errors import ConfigError

OPTIMIZERS = {
    "rmsprop": keras.optimizers.RMSprop,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "nadam": keras.optimizers.Nadam,
    "sgd": keras.optimizers.SGD,
}


def _row_slices(gradient: Any) -> bool:
    """Whether `gradient` is TensorFlow's `IndexedSlices` (rows of a variable), without importing TensorFlow."""
    return type(gradient).__name__ == "IndexedSlices"


def _resource(variable: Any) -> Any:
    """The `tf.Variable` behind a Keras variable (the optimizer's own update step may hold either)."""
    return variable.value if isinstance(variable, keras.Variable) else variable


class _LazyRows:
    """Mixin for Adam and AdamW: row-slice gradients update only their rows (see the module's docstring)."""

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if not _row_slices(gradient) or self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf  # row slices exist only under TensorFlow

        dtype = variable.dtype
        # A lookup's gradient holds one slice per token: sum those of the same row first.
        rows, position = tf.unique(gradient.indices)
        values = tf.math.unsorted_segment_sum(tf.cast(gradient.values, dtype), position, tf.shape(rows)[0])
        step = ops.cast(self.iterations + 1, dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, dtype), step)
        beta_2_power = ops.power(ops.cast(self.beta_2, dtype), step)
        alpha = ops.cast(learning_rate, dtype) * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        index = self._get_variable_index(variable)
        momentum, velocity = self._momentums[index], self._velocities[index]
        momentum_rows = self.beta_1 * tf.gather(_resource(momentum), rows) + (1 - self.beta_1) * values
        velocity_rows = self.beta_2 * tf.gather(_resource(velocity), rows) + (1 - self.beta_2) * tf.square(values)
        shape = tf.shape(_resource(variable), out_type=rows.dtype)
        self.assign(momentum, tf.IndexedSlices(momentum_rows, rows, shape))
        self.assign(velocity, tf.IndexedSlices(velocity_rows, rows, shape))
        step_rows = alpha * momentum_rows / (tf.sqrt(velocity_rows) + self.epsilon)
        self.assign_sub(variable, tf.IndexedSlices(step_rows, rows, shape))


@keras.saving.register_keras_serializable(package="imdb_rnn")
class LazyAdam(_LazyRows, keras.optimizers.Adam):
    """Adam whose row-slice gradients (an `Embedding`'s, under TensorFlow) update only the rows they hold."""


@keras.saving.register_keras_serializable(package="imdb_rnn")
class LazyAdamW(_LazyRows, keras.optimizers.AdamW):
    """AdamW with `LazyAdam`'s row updates (its decoupled weight decay still shrinks every weight)."""


LAZY = {"adam": LazyAdam, "adamw": LazyAdamW}


def make_optimizer(name: str, embedding_updates: str = "dense", **options: Any) -> keras.optimizers.Optimizer:
    """The optimizer `name` of `OPTIMIZERS` built with Keras's `options`; with `embedding_updates="lazy"`,
    its lazy twin (`LazyAdam`, `LazyAdamW`: for `LAZY_OPTIMIZERS` only, else a `ConfigError`)."""
    if embedding_updates == "lazy":
        if name not in LAZY_OPTIMIZERS:
            raise ConfigError(
                f"train.embedding_updates: lazy updates are Adam's: expected train.optimizer "
                f"{' or '.join(LAZY_OPTIMIZERS)}, received {name!r}."
            )
        return LAZY[name](**options)
    return OPTIMIZERS[name](**options)
