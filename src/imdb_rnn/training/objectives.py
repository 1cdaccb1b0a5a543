"""The mixed objective: adversarial training on the labeled reviews' embeddings, and virtual adversarial
training plus entropy minimisation on unlabeled reviews (TensorFlow backend).

    train:
      adversarial: 0.02            # Miyato, Dai & Goodfellow 2017 (0: off)
      virtual_adversarial: 0.02    # the same against the model's own prediction, on unlabeled reviews
      entropy_minimisation: 1.0    # Sachan, Zaheer & Salakhutdinov 2019 (0: off)

Each size is relative: a review's perturbation has `size` times the L2 norm of the review's embedded words
(padding neither perturbed nor counted), so a model cannot escape it by growing its embedding. Per batch:

- the labeled loss on the clean embeddings, plus, with `adversarial`, the same loss on embeddings moved
  by `size · ‖e‖ · g / ‖g‖`, g the gradient of the clean loss with respect to them (one more forward and
  backward pass: the clean loss's one backward pass gives g and its weights' gradients together);
- with `virtual_adversarial`, on a batch of unlabeled reviews (`train.unlabeled_batch_size`, default
  `train.batch_size`), `unlabeled_weight ×` the KL divergence between the model's prediction on them and
  on their embeddings moved the way that changes it most (found by one power iteration from a random
  direction, as Miyato et al.);
- with `entropy_minimisation`, that weight × the entropy of the prediction on the unlabeled reviews.

Keras calls `model.train_step` for every batch; `attach` gives the compiled Functional model this step
in place of Keras's own, so the saved model stays the plain classifier. Validation, the test pass and
prediction are Keras's own. The history gains `adversarial_loss`, `virtual_adversarial_loss` and
`entropy` (each the epoch's mean) for what is switched on.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from imdb_rnn.config import Config
from imdb_rnn.data.pipeline import batching, make_dataset
from imdb_rnn.data.splits import Split
from imdb_rnn.errors import ConfigError

TINY = 1e-12
XI = 1e-3  # the random probe's relative size in VAT's power iteration


@dataclass(frozen=True)
class MixedObjective:
    """The mixed objective's settings, from `config.train` (see the module docstring)."""

    adversarial: float = 0.0
    virtual_adversarial: float = 0.0
    entropy_minimisation: float = 0.0
    unlabeled_weight: float = 1.0

    @classmethod
    def of(cls, config: Config) -> MixedObjective:
        train = config.train
        return cls(train.adversarial, train.virtual_adversarial, train.entropy_minimisation, train.unlabeled_weight)

    @property
    def active(self) -> bool:
        return bool(self.adversarial or self.reads_unlabeled)

    @property
    def reads_unlabeled(self) -> bool:
        return bool(self.virtual_adversarial or self.entropy_minimisation)


def attach(model: keras.Model, objective: MixedObjective) -> list[keras.callbacks.Callback]:
    """Makes `model` (compiled, with a layer named `embedding`) train on `objective`; returns the callback
    that starts each epoch's means of its losses afresh. Batches are `(tokens, labels)`, or
    `((tokens, unlabeled tokens), labels)` when the objective reads unlabeled reviews."""
    if keras.backend.backend() != "tensorflow":
        raise ConfigError(
            f"train.adversarial, virtual_adversarial, entropy_minimisation: the mixed objective's train step is "
            f"TensorFlow's: expected KERAS_BACKEND=tensorflow, received {keras.backend.backend()}."
        )
    embedding = model.get_layer("embedding")
    # The head above the embedding takes its output and, with `mask_zero`, its mask (a tensor Keras made from
    # the tokens and keeps as the output's `_keras_mask`). Any other layer that reads the tokens (the cnn's
    # frozen region embedding) is cut off the same way: the head takes its output and mask too, unperturbed.
    tokens_input = model.inputs[0]
    readers = [
        layer
        for layer in model.layers
        if layer is not embedding
        and any(tensor is tokens_input for node in layer._inbound_nodes for tensor in node.input_tensors)
    ]
    inputs = [
        cut
        for layer in (embedding, *readers)
        for cut in (layer.output, getattr(layer.output, "_keras_mask", None))
        if cut is not None
    ]
    head = keras.Model(inputs, model.output, name=f"{model.name}_above_embedding")
    loss = (
        keras.losses.BinaryCrossentropy()
        if model.output.shape[-1] == 1
        else keras.losses.SparseCategoricalCrossentropy()
    )
    trackers = {
        name: keras.metrics.Mean(name=name)
        for name, on in (
            ("adversarial_loss", objective.adversarial),
            ("virtual_adversarial_loss", objective.virtual_adversarial),
            ("entropy", objective.entropy_minimisation),
        )
        if on
    }

    def forward(tokens: tf.Tensor, perturbation: tf.Tensor | None = None, embedded: tf.Tensor | None = None):
        embedded = embedding(tokens, training=True) if embedded is None else embedded
        moved = embedded if perturbation is None else embedded + perturbation
        given = [moved, *(reader(tokens, training=True) for reader in readers)]
        # tf.identity: tensors without the masks Keras attached to them, which the head takes explicitly
        given = [
            cut
            for layer, value in zip((embedding, *readers), given, strict=True)
            for cut in (tf.identity(value), layer.compute_mask(tokens))
            if cut is not None
        ]
        return embedded, head(given[0] if len(given) == 1 else given, training=True)

    def train_step(data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        tokens, unlabeled = x if isinstance(x, (tuple, list)) else (x, None)
        unlabeled = unlabeled if objective.reads_unlabeled else None
        weights = model.trainable_weights
        with tf.GradientTape() as tape:
            embedded = embedding(tokens, training=True)
            if objective.adversarial:
                tape.watch(embedded)  # its gradient is the perturbation's direction
            _, y_pred = forward(tokens, embedded=embedded)
            total = model.compute_loss(x=tokens, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            if unlabeled is not None and not objective.adversarial:
                total += unlabeled_loss(unlabeled, tape)
            scaled = model.optimizer.scale_loss(total)
        if objective.adversarial:
            # One backward pass gives the clean loss's gradients and the direction of the perturbation; the
            # rest of the objective is a second graph (the words looked up again, so their rows learn from it).
            *gradients, direction = tape.gradient(scaled, [*weights, embedded])
            r = perturbation(direction, embedded, tokens, objective.adversarial)
            with tf.GradientTape() as second:
                _, adversarial_pred = forward(tokens, r)
                adversarial_loss = loss(y, adversarial_pred, sample_weight=sample_weight)
                trackers["adversarial_loss"].update_state(adversarial_loss)
                rest = adversarial_loss if unlabeled is None else adversarial_loss + unlabeled_loss(unlabeled, second)
                scaled_rest = model.optimizer.scale_loss(rest)
            more = second.gradient(scaled_rest, weights)
            gradients = [_add(first, other) for first, other in zip(gradients, more, strict=True)]
            total += rest
        else:
            gradients = tape.gradient(scaled, weights)
        model._loss_tracker.update_state(total, sample_weight=tf.shape(tokens)[0])
        model.optimizer.apply_gradients(zip(gradients, weights))
        logs = model.compute_metrics(tokens, y, y_pred, sample_weight=sample_weight)
        return {**logs, **{name: tracker.result() for name, tracker in trackers.items()}}

    def unlabeled_loss(unlabeled: tf.Tensor, recording: tf.GradientTape) -> tf.Tensor:
        embedded, prediction = forward(unlabeled)
        added = tf.constant(0.0)
        if objective.entropy_minimisation:
            entropy = tf.reduce_mean(_entropy(prediction))
            trackers["entropy"].update_state(entropy)
            added += objective.entropy_minimisation * entropy
        if objective.virtual_adversarial:
            target = tf.stop_gradient(prediction)
            fixed = tf.stop_gradient(embedded)
            with recording.stop_recording(), tf.GradientTape() as probe:  # the probe's own pass only
                random = perturbation(tf.random.normal(tf.shape(fixed)), fixed, unlabeled, XI)
                probe.watch(random)
                _, probed = forward(unlabeled, random, fixed)
                divergence = tf.reduce_mean(_kl(target, probed))
            direction = tf.stop_gradient(probe.gradient(divergence, random))
            r = perturbation(direction, embedded, unlabeled, objective.virtual_adversarial)
            _, moved = forward(unlabeled, r, embedded)
            vat = tf.reduce_mean(_kl(target, moved))
            trackers["virtual_adversarial_loss"].update_state(vat)
            added += objective.unlabeled_weight * vat
        return added

    model.train_step = train_step  # Keras's trainer calls self.train_step: this one, for this model only
    return [ResetMeans(list(trackers.values()))]


def with_unlabeled(train: tf.data.Dataset, unlabeled: Split, config: Config) -> tf.data.Dataset:
    """`((tokens, unlabeled tokens), labels)` batches: each labeled batch of `train` with a batch of
    `train.unlabeled_batch_size` (default `train.batch_size`) unlabeled reviews, drawn shuffled and
    length-bucketed like the labeled ones, round after round (an epoch is still one pass of the labeled)."""
    batches = make_dataset(
        unlabeled,
        config.train.unlabeled_batch_size or config.train.batch_size,
        shuffle=True,
        seed=config.train.seed + 1,
        **batching(config.data),
    ).repeat()
    return tf.data.Dataset.zip((train, batches)).map(lambda labeled, other: ((labeled[0], other[0]), labeled[1]))


def perturbation(direction: tf.Tensor, embedded: tf.Tensor, tokens: tf.Tensor, size: float) -> tf.Tensor:
    """`direction` `(batch, time, dim)` on the review's words only, scaled per review to `size` times the L2
    norm of its embedded words; constant (no gradient flows through it)."""
    words = tf.cast(tf.expand_dims(tokens > 0, -1), direction.dtype)
    direction = tf.stop_gradient(direction) * words
    scale = tf.stop_gradient(_norm(tf.cast(embedded, direction.dtype) * words))
    return tf.cast(size * scale * direction / (_norm(direction) + TINY), embedded.dtype)


def _add(first: tf.Tensor | tf.IndexedSlices | None, other: tf.Tensor | tf.IndexedSlices | None):
    """The sum of two gradients of one weight; an embedding's row slices stay row slices (concatenated: the
    optimizer sums a row's slices), so an update still touches only the rows read."""
    if first is None or other is None:
        return other if first is None else first
    if isinstance(first, tf.IndexedSlices) and isinstance(other, tf.IndexedSlices):
        values = tf.concat([first.values, tf.cast(other.values, first.values.dtype)], axis=0)
        return tf.IndexedSlices(values, tf.concat([first.indices, other.indices], axis=0), first.dense_shape)
    return tf.convert_to_tensor(first) + tf.convert_to_tensor(other)


def _norm(x: tf.Tensor) -> tf.Tensor:
    return tf.sqrt(tf.reduce_sum(tf.square(x), axis=[1, 2], keepdims=True))


def _distribution(probabilities: tf.Tensor) -> tf.Tensor:
    """`(batch, classes)` from the model's output: a sigmoid's P(positive) `(batch, 1)` becomes two columns."""
    probabilities = tf.clip_by_value(tf.cast(probabilities, tf.float32), 1e-7, 1 - 1e-7)
    if probabilities.shape[-1] == 1:
        return tf.concat([1 - probabilities, probabilities], axis=-1)
    return probabilities


def _kl(target: tf.Tensor, prediction: tf.Tensor) -> tf.Tensor:
    p, q = _distribution(target), _distribution(prediction)
    return tf.reduce_sum(p * (tf.math.log(p) - tf.math.log(q)), axis=-1)


def _entropy(prediction: tf.Tensor) -> tf.Tensor:
    p = _distribution(prediction)
    return -tf.reduce_sum(p * tf.math.log(p), axis=-1)


class ResetMeans(keras.callbacks.Callback):
    """Starts the objective's epoch means afresh at each epoch (Keras resets only the model's metrics)."""

    def __init__(self, means: list[keras.metrics.Mean]) -> None:
        super().__init__()
        self.means = means

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        for mean in self.means:
            mean.reset_state()
