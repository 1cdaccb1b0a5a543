"""Integrated gradients (Sundararajan et al. 2017) of a classifier's probability, credited to its input tokens.

    attribution = attribute(model, tokens, steps=50)   # tokens: one review's ids (time,), as the model reads it
    attribution.contributions   # (time,) float64: each position's share of P(class) - P(class | baseline)
    attribution.probabilities   # (classes,): the model's probabilities for the review; class_index: the largest

The target is the probability of the predicted class (with two classes P(positive) or 1 - P(positive)).
The path runs in a straight line from a baseline to the review, and the integral is the trapezoid rule
over `steps` equal intervals (`steps + 1` points, one batch through the model), so the contributions sum
to `f(review) - f(baseline)` up to the rule's error: it shrinks as `1 / steps**2` for a smooth model, as
`1 / steps` where max pooling switches steps (the integrand jumps there).

What is interpolated, for each kind of model:
- a model with an `Embedding` layer (every recurrent architecture, `bag_of_ngrams`; the cnn with a region
  embedding has two, read side by side on one path): the embedded words. The
  baseline gives each *word* a zero embedding vector, the baseline for text in the paper; padding and the
  start token keep their own vectors on the whole path (they are in every review, not words of this one,
  and with `mask_zero` the padding is masked anyway). Zero rather than padding's vector: with `mask_zero`
  the padding row is never trained, and a zero vector means the same in every model. The model is cut at
  the embedding's output (a Functional model from the token ids and the embedded words to the output,
  so a mask is still computed from the ids); gradients come from `tf.GradientTape`.
- NBSVM (`NaiveBayesLogits`): each distinct feature's presence, from absent (0) to present (1); the
  logit is linear in the presences, so this is exact for the logit and integrated for the probability.
- an ensemble (`MemberInput` layers): the sum over members of `weight * member's attribution`, each
  member's positions mapped back to the ensemble's input. The ensemble is a weighted sum of its members,
  and each member reads only its own embedded words, so this *is* integrated gradients over all members'
  embeddings at once.
An n-gram feature (hashed bigrams, trigrams) is credited equally to the words it covers; a feature of
NBSVM that occurs several times in a review, equally to each occurrence.

Why not a library: captum is PyTorch's; alibi's integrated gradients needs TensorFlow < 2.15 and NumPy < 2
(and is under the Business Source License); xplique pins TensorFlow <= 2.20 and feeds a model one input,
so it can neither carry a mask nor keep padding fixed; tf-explain (2021) is for images under tf.keras.
The method itself is the few lines of `integrated_gradients`. TensorFlow backend only.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from imdb_rnn.errors import UserError
from imdb_rnn.models.ensemble import AVERAGE, MemberInput
from imdb_rnn.models.linear import DistinctIds, HashedNgrams, NaiveBayesLogits

START, OOV = 1, 2  # imdb_rnn.data.text: ids below OOV (padding 0, start 1) are not words
CHUNK = 64  # points of the path through the model at a time


@dataclass(frozen=True)
class Attribution:
    """One review: `contributions` `(time,)` toward `class_index`, `probabilities` `(classes,)` of the review,
    `baseline_probability`: P(class_index) with every word at the baseline."""

    contributions: np.ndarray
    probabilities: np.ndarray
    class_index: int
    baseline_probability: float


def check_backend() -> None:
    """A `UserError` unless Keras runs on TensorFlow (the gradients are `tf.GradientTape`'s)."""
    if keras.backend.backend() != "tensorflow":
        raise UserError(
            "explanations are computed with TensorFlow's gradients: expected KERAS_BACKEND=tensorflow, "
            f"received {keras.backend.backend()}."
        )


def attribute(model: keras.Model, tokens: np.ndarray, steps: int = 50) -> Attribution:
    """Integrated gradients of `model` (token ids `(batch, time)` → probabilities) for one review `tokens`
    `(time,)`, toward its most probable class; see the module docstring. A `UserError` for a model with
    nothing to interpolate."""
    check_backend()
    tokens = np.asarray(tokens, dtype=np.int32).reshape(-1)
    # Keras's compiled predict step, as Run.predict reads a review (an eager call of a recurrent model is slow)
    probabilities = class_probabilities(model.predict_on_batch(tokens[None]))[0]
    class_index = int(np.argmax(probabilities))
    contributions, _, at_baseline = _attribute(model, tokens, class_index, steps)
    return Attribution(contributions, probabilities, class_index, at_baseline)


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """A model's outputs `(batch, 1)` (P(second class)) or `(batch, classes)` → `(batch, classes)` float64."""
    outputs = np.asarray(outputs, dtype=np.float64)
    return np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[-1] == 1 else outputs


def _attribute(model: keras.Model, tokens: np.ndarray, class_index: int, steps: int) -> tuple[np.ndarray, float, float]:
    """(contributions `(time,)`, f(review), f(baseline)) for the probability of `class_index`."""
    layers = {type(layer) for layer in model.layers}
    if MemberInput in layers:
        return _ensemble(model, tokens, class_index, steps)
    if NaiveBayesLogits in layers:
        return _naive_bayes(model, tokens, class_index, steps)
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    if embeddings and all(layer.input is embeddings[0].input for layer in embeddings):
        return _embedded(model, embeddings, tokens, class_index, steps)
    raise UserError(
        f"model {model.name!r}: cannot explain it: expected a model whose Embedding layers read the same ids, "
        f"NBSVM's NaiveBayesLogits or an ensemble of such models, received one with {len(embeddings)} Embedding "
        f"layers{' reading different inputs' if embeddings else ''}."
    )


def integrated_gradients(
    gradient: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    inputs: np.ndarray,
    baseline: np.ndarray,
    steps: int,
) -> tuple[np.ndarray, float, float]:
    """Integrated gradients from `baseline` to `inputs` (both of one shape) of a function f given by
    `gradient`: points `(steps + 1, *shape)` → (f at each `(steps + 1,)`, its gradient at each). Returns the
    attribution `(inputs - baseline) * mean gradient on the straight path` (trapezoid rule), f(inputs) and
    f(baseline). The points go to `gradient` `CHUNK` at a time, so memory does not grow with `steps`."""
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32).reshape(-1, *[1] * np.ndim(inputs))
    path = (baseline[None] + alphas * (inputs - baseline)[None]).astype(np.float32)
    size = min(len(path), CHUNK)  # every call the same batch size: traced once
    padded = np.concatenate([path, np.repeat(path[-1:], -len(path) % size, axis=0)])
    answers = [gradient(padded[start : start + size]) for start in range(0, len(padded), size)]
    values, gradients = (np.concatenate(parts)[: len(path)] for parts in zip(*answers))
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2  # trapezoid rule
    mean = np.tensordot(weights, np.asarray(gradients, dtype=np.float64), axes=1)
    values = np.asarray(values, dtype=np.float64)
    return (inputs - baseline).astype(np.float64) * mean, float(values[-1]), float(values[0])


def _target(outputs, class_index):  # noqa: ANN001, ANN202 - TensorFlow tensors in and out
    """The probability of `class_index` from a model's outputs `(batch, 1 | classes)` → `(batch,)`."""
    import tensorflow as tf

    if outputs.shape[-1] == 1:
        return tf.where(tf.equal(class_index, 1), outputs[:, 0], 1 - outputs[:, 0])
    return tf.gather(outputs, class_index, axis=1)


# Models with an embedding ------------------------------------------------------------------------


def _embedded(
    model: keras.Model, embeddings: list[keras.layers.Embedding], tokens: np.ndarray, class_index: int, steps: int
) -> tuple[np.ndarray, float, float]:
    """Integrated gradients over every embedding at once (the cnn's own and its region embedding's): their
    vectors side by side `(features, dims…)` on one straight path."""
    ids = _features(model, embeddings[0].input, tokens)  # what the embeddings read: (features,)
    covers = feature_words(model, tokens, len(ids))  # (features, time)
    parts = [np.asarray(embedding(ids[None]))[0] for embedding in embeddings]  # each (features, dim)
    embedded = np.concatenate(parts, axis=1)
    baseline = np.where(covers.any(axis=1, keepdims=True), 0.0, embedded).astype(np.float32)
    compiled = _above_embedding(model, embeddings)
    splits = np.cumsum([part.shape[1] for part in parts])[:-1]

    def gradient(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pieces = np.split(path, splits, axis=2)
        values, gradients = compiled(np.repeat(tokens[None], len(path), axis=0), pieces, np.int32(class_index))
        return values.numpy(), gradients.numpy()

    attributions, at_review, at_baseline = integrated_gradients(gradient, embedded, baseline, steps)
    return _spread(attributions.sum(axis=1), covers), at_review, at_baseline


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model → its gradient function


def _above_embedding(model: keras.Model, embeddings: list[keras.layers.Embedding]) -> Callable:
    """`(tokens (batch, time), [embedded (batch, features, dim) of each embedding], class index)` → (P(class)
    `(batch,)`, its gradient with respect to the embedded words, side by side `(batch, features, dims…)`), a
    `tf.function` made once a model: the part of `model` above `embeddings`, a Functional model of the token
    ids (from which a mask is still computed) and the embedded words. Traced again for new lengths until it
    generalises them (`reduce_retracing`)."""
    if model not in _COMPILED:
        import tensorflow as tf

        cuts = [model.inputs[0], *(embedding.output for embedding in embeddings)]
        above = keras.Model(cuts, model.outputs[0], name=f"{model.name}_above")

        @tf.function(reduce_retracing=True)
        def gradient(tokens, embedded, class_index):  # noqa: ANN001, ANN202
            with tf.GradientTape() as tape:
                tape.watch(embedded)
                values = _target(above([tokens, *embedded], training=False), class_index)
            return values, tf.concat(tape.gradient(values, embedded), axis=-1)

        _COMPILED[model] = gradient
    return _COMPILED[model]


def _features(model: keras.Model, tensor: keras.KerasTensor, tokens: np.ndarray) -> np.ndarray:
    """The values of `tensor` (a tensor of `model`'s graph, ids `(batch, features)`) for `tokens` `(features,)`."""
    if tensor is model.inputs[0]:
        return tokens
    return np.asarray(keras.Model(model.inputs[0], tensor)(tokens[None], training=False))[0]


def feature_words(model: keras.Model, tokens: np.ndarray, features: int) -> np.ndarray:
    """Which words `(features, time)` bool each feature covers: the tokens themselves, then (when the model
    has a `HashedNgrams` layer of order n) every bigram in order, then every trigram … up to order n. Padding
    and the start token are not words: a feature that covers no word is held fixed (not interpolated)."""
    time = len(tokens)
    is_word = tokens >= OOV
    orders = [layer.order for layer in model.layers if isinstance(layer, HashedNgrams)]
    spans = [(start, 1) for start in range(time)]
    for order in range(2, (orders[0] if orders else 1) + 1):
        spans += [(start, order) for start in range(time - order + 1)]
    if len(spans) != features:
        raise UserError(
            f"model {model.name!r}: cannot explain it: expected its features to be the tokens and their n-grams "
            f"({len(spans)} for {time} tokens), received {features}."
        )
    covers = np.zeros((features, time), dtype=bool)
    for row, (start, width) in enumerate(spans):
        covers[row, start : start + width] = is_word[start : start + width]
    return covers


def _spread(feature_contributions: np.ndarray, covers: np.ndarray) -> np.ndarray:
    """Each feature's contribution `(features,)` shared equally among the words it covers → `(time,)`."""
    counts = covers.sum(axis=1, keepdims=True)
    shares = np.divide(covers, counts, out=np.zeros(covers.shape), where=counts > 0)
    return feature_contributions @ shares


# NBSVM -------------------------------------------------------------------------------------------


def _naive_bayes(
    model: keras.Model, tokens: np.ndarray, class_index: int, steps: int
) -> tuple[np.ndarray, float, float]:
    logits_layer = next(layer for layer in model.layers if isinstance(layer, NaiveBayesLogits))
    distinct = next((layer for layer in model.layers if isinstance(layer, DistinctIds)), None)
    ids = _features(model, distinct.input if distinct is not None else logits_layer.input, tokens)
    covers = feature_words(model, tokens, len(ids))
    present = np.unique(ids[ids > 0])  # the review's distinct features
    ratios, weights = (
        keras.ops.take(table, present, axis=0) for table in (logits_layer.ratios, logits_layer.feature_weights)
    )
    terms = np.asarray(ratios * weights, dtype=np.float32)  # (distinct, outputs): each feature's term of the logit
    bias = np.asarray(logits_layer.bias, dtype=np.float32)
    occurrences = ids[None, :] == present[:, None]  # (distinct, features)
    varied = (occurrences & covers.any(axis=1)[None, :]).any(axis=1)  # covers a word somewhere
    binary = terms.shape[1] == 1

    def gradient(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # presences (steps + 1, distinct)
        import tensorflow as tf

        path = tf.constant(path)
        with tf.GradientTape() as tape:
            tape.watch(path)
            logits = tf.matmul(path, terms) + bias
            values = _target(tf.sigmoid(logits) if binary else tf.nn.softmax(logits), class_index)
        return values.numpy(), tape.gradient(values, path).numpy()

    inputs = np.ones(len(present), dtype=np.float32)
    baseline = np.where(varied, 0.0, 1.0).astype(np.float32)
    attributions, at_review, at_baseline = integrated_gradients(gradient, inputs, baseline, steps)
    # a feature's share goes to its occurrences that cover words, then to their words
    occurrences &= covers.any(axis=1)[None, :]
    counts = occurrences.sum(axis=1, keepdims=True)
    per_feature = attributions @ np.divide(occurrences, counts, out=np.zeros(occurrences.shape), where=counts > 0)
    return _spread(per_feature, covers), at_review, at_baseline


# Ensembles ---------------------------------------------------------------------------------------


def _ensemble(model: keras.Model, tokens: np.ndarray, class_index: int, steps: int) -> tuple[np.ndarray, float, float]:
    weights = model.get_layer(AVERAGE).member_weights
    total, at_review, at_baseline = np.zeros(len(tokens)), 0.0, 0.0
    for index, weight in enumerate(weights, 1):
        cut = model.get_layer(f"member_{index}_input")
        member = model.get_layer(f"member_{index}")
        own = np.asarray(cut(tokens[None]))[0]
        contributions, review, baseline = _attribute(member, own, class_index, steps)
        total += weight * contributions @ _member_positions(cut, tokens)
        at_review, at_baseline = at_review + weight * review, at_baseline + weight * baseline
    return total, at_review, at_baseline


def _member_positions(cut: MemberInput, tokens: np.ndarray) -> np.ndarray:
    """`(member's time, time)`: 1 where the member's input position reads the ensemble's. The member's own
    `MemberInput` cuts a copy of the review whose tokens are their positions (from 1; the vocabulary
    unbounded), so the positions it keeps are the ones it keeps of the review."""
    numbered = np.where(tokens > 0, np.arange(1, len(tokens) + 1), 0).astype(np.int32)
    settings = {key: getattr(cut, key) for key in ("maxlen", "padding", "truncating", "bucketing", "input_padding")}
    positions = np.asarray(MemberInput(num_words=np.iinfo(np.int32).max, **settings)(numbered[None]))[0]
    mapping = np.zeros((len(positions), len(tokens)))
    kept = np.flatnonzero(positions > 0)
    mapping[kept, positions[kept] - 1] = 1.0
    return mapping
