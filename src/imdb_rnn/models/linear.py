"""The linear yardsticks every recurrent model is measured against: a bag of n-grams (fastText).

Both read the same token ids as the recurrent models, so length bucketing, saving, evaluation and
prediction from raw text need nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import keras
import numpy as np
from keras import layers

from imdb_rnn.models.registry import classifier, register
from imdb_rnn.schema import PositiveInt, Range, Rate

HASH_MULTIPLIER = 1_000_003  # a prime: the n-gram (a, b, c) hashes as ((a * P + b) mod B * P + c) mod B


@keras.saving.register_keras_serializable(package="imdb_rnn")
class HashedNgrams(layers.Layer):
    """Token ids `(batch, time)` → ids of the n-grams of orders 2 … `order`, int32, of shape
    `(batch, (time - 1) + … + (time - order + 1))`: first every bigram in word order, then every trigram….

    An n-gram of words (all > 0) gets `offset + hash mod buckets`, folding each next word in as
    `hash = (hash * HASH_MULTIPLIER + word) mod buckets` from `hash = first word`; an n-gram that
    touches padding gets 0 (padding, left out later). Hashing inside the model keeps it a model of
    token ids: length bucketing, saving and prediction from raw text need nothing else."""

    def __init__(self, offset: int, buckets: int, order: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offset, self.buckets, self.order = int(offset), int(buckets), int(order)

    def call(self, tokens: Any) -> Any:
        words = keras.ops.cast(tokens, "int64")
        hashed, valid, pieces = words, words > 0, []
        for n in range(2, self.order + 1):
            following = words[:, n - 1 :]
            hashed = (hashed[:, :-1] * HASH_MULTIPLIER + following) % self.buckets
            valid = keras.ops.logical_and(valid[:, :-1], following > 0)
            pieces.append(keras.ops.where(valid, hashed + self.offset, 0))
        ngrams = pieces[0] if len(pieces) == 1 else keras.ops.concatenate(pieces, axis=1)
        return keras.ops.cast(ngrams, "int32")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        time = input_shape[1]
        if time is None:
            return (input_shape[0], None)
        return (input_shape[0], sum(max(time - n + 1, 0) for n in range(2, self.order + 1)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "offset": self.offset, "buckets": self.buckets, "order": self.order}


@keras.saving.register_keras_serializable(package="imdb_rnn")
class HashedBigrams(HashedNgrams):
    """`HashedNgrams` of order 2, `(batch, time)` → `(batch, time - 1)`: the pair (a, b) gets
    `offset + (a * 1_000_003 + b) mod buckets` (the bag-of-bigrams yardstick; its saved models name it)."""

    def __init__(self, offset: int, buckets: int, **kwargs: Any) -> None:
        kwargs.pop("order", None)
        super().__init__(offset, buckets, order=2, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("order")
        return config


@keras.saving.register_keras_serializable(package="imdb_rnn")
class DistinctIds(layers.Layer):
    """Ids `(batch, n)` → the same ids sorted, each repeat within a row replaced by 0 `(batch, n)`: a
    review's set of features (binarized counts, as naive Bayes and NBSVM read them)."""

    def call(self, ids: Any) -> Any:
        ordered = keras.ops.sort(ids, axis=-1)
        previous = keras.ops.pad(ordered[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
        return keras.ops.where(ordered == previous, 0, ordered)


@keras.saving.register_keras_serializable(package="imdb_rnn")
class NaiveBayesLogits(layers.Layer):
    """Feature ids `(batch, n)` (0: none) → logits `(batch, outputs)`, NBSVM's linear model on naive-Bayes
    scaled binary features (Wang & Manning 2012, with logistic loss as in Mesnil et al. 2014):

        logit = bias + sum over the review's features f of ratios[f] * weights[f]

    `ratios` are the naive-Bayes log-count ratios, counted from the labeled training reviews by
    `count_from` before training (not learned by gradient); `weights` start at 0 and are learned. The
    ratios scale each feature's step (and its share of any weight decay): NBSVM's prior. Starting from
    naive Bayes itself (weights at 1) fails: its ratios, counted on the same reviews, already separate
    them (training accuracy 0.999, validation 0.876), leaving no loss to learn from. With two classes
    `outputs` is 1 (positive against negative); with more, one column per class against the rest."""

    def __init__(self, rows: int, outputs: int = 1, smoothing: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.rows, self.outputs, self.smoothing = int(rows), int(outputs), float(smoothing)

    def build(self, input_shape: tuple) -> None:
        self.ratios = self.add_weight(
            name="ratios", shape=(self.rows, self.outputs), initializer="zeros", trainable=False
        )
        self.feature_weights = self.add_weight(name="weights", shape=(self.rows, self.outputs), initializer="zeros")
        self.bias = self.add_weight(name="bias", shape=(self.outputs,), initializer="zeros")

    def call(self, ids: Any) -> Any:
        present = keras.ops.expand_dims(keras.ops.cast(ids > 0, self.compute_dtype), -1)
        ratios = keras.ops.take(self.ratios, ids, axis=0)
        weights = keras.ops.take(self.feature_weights, ids, axis=0)
        return keras.ops.sum(present * ratios * weights, axis=1) + self.bias

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.outputs)

    def count_from(self, batches: Iterable[tuple[Any, Any]]) -> None:
        """Sets `ratios` from `(ids, labels)` batches: this layer's input ids `(batch, n)` (distinct per
        review) and their class indices `(batch,)`, read once: per class c, p = smoothing + the number of class-c reviews holding
        each feature, q the same over the other classes, ratio = log(p / |p|_1) - log(q / |q|_1)."""
        classes = max(self.outputs, 2)
        counts = np.zeros((classes, self.rows))
        for batch_ids, batch_labels in batches:
            batch_ids, batch_labels = np.asarray(batch_ids), np.asarray(batch_labels).reshape(-1).astype(int)
            for c in range(classes):
                counts[c] += np.bincount(batch_ids[batch_labels == c].ravel(), minlength=self.rows)[: self.rows]
        counts[:, 0] = 0  # id 0: no feature
        columns = [1] if self.outputs == 1 else range(classes)
        ratios = np.zeros((self.rows, self.outputs), dtype="float32")
        for column, c in enumerate(columns):
            p = self.smoothing + counts[c]
            q = self.smoothing + counts.sum(axis=0) - counts[c]
            ratios[:, column] = np.log(p / p.sum()) - np.log(q / q.sum())
        ratios[0] = 0.0
        self.ratios.assign(ratios)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rows": self.rows,
            "outputs": self.outputs,
            "smoothing": self.smoothing,
        }


def count_statistics(model: keras.Model, batches: Iterable[tuple[Any, Any]]) -> bool:
    """Sets the counted weights of `model`'s `NaiveBayesLogits` layers from `batches` of
    `(token ids (batch, time), class indices (batch,))` — the training reviews, before training. Returns
    whether the model has any (False: nothing to count, `batches` is not read)."""
    counted = [layer for layer in model.layers if isinstance(layer, NaiveBayesLogits)]
    for layer in counted:
        features = keras.Model(model.input, layer.input)
        layer.count_from((features(tokens, training=False), labels) for tokens, labels in batches)
    return bool(counted)


@register("bag_of_ngrams")
def bag_of_ngrams(
    vocab_size: int,
    num_classes: int = 2,
    *,
    embedding_dim: PositiveInt = 50,
    bigram_buckets: PositiveInt = 262_144,
    head_dropout: Rate = 0.0,
) -> keras.Model:
    """Unigram and hashed bigram ids → Embedding → average over the review → sigmoid: the fastText
    recipe of the keras examples (imdb_fasttext), the linear yardstick every recurrent model is
    measured against. Padding is masked, so it is not averaged in. `bigram_buckets` rows are added to
    the `vocab_size` rows of the embedding (2**18 keeps model.keras near 50 MB at 50 dimensions)."""
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    bigrams = HashedBigrams(vocab_size, bigram_buckets, name="bigrams")(tokens)
    ids = layers.Concatenate(axis=1, name="unigrams_and_bigrams")([tokens, bigrams])
    x = layers.Embedding(vocab_size + bigram_buckets, embedding_dim, mask_zero=True, name="embedding")(ids)
    return classifier(
        tokens, layers.GlobalAveragePooling1D(name="average")(x), "bag_of_ngrams", head_dropout, num_classes
    )


@register("nbsvm")
def nbsvm(
    vocab_size: int,
    num_classes: int = 2,
    *,
    order: Annotated[int, Range(min=1, max=5)] = 3,
    buckets: PositiveInt = 4_194_304,
) -> keras.Model:
    """Unigram ids and hashed n-gram ids up to `order` → the review's set of them → naive-Bayes log-count
    ratios × learned weights, summed → sigmoid: NBSVM (Wang & Manning 2012, 0.9122 with
    bigrams; 0.9187 with trigrams in Mesnil et al. 2014), the second linear yardstick. The ratios are
    counted from the training reviews before the first epoch (`count_statistics`); `buckets` rows hold
    the hashed n-grams (2**22: few of IMDB's bigrams and trigrams share one)."""
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    ids = tokens
    if order > 1:
        ngrams = HashedNgrams(vocab_size, buckets, order, name="ngrams")(tokens)
        ids = layers.Concatenate(axis=1, name="unigrams_and_ngrams")([tokens, ngrams])
    features = DistinctIds(name="distinct")(ids)
    outputs = 1 if num_classes == 2 else num_classes
    rows = vocab_size + (buckets if order > 1 else 0)
    logits = NaiveBayesLogits(rows, outputs, name="naive_bayes")(features)
    activation = "sigmoid" if num_classes == 2 else "softmax"
    probabilities = layers.Activation(activation, dtype="float32", name="positive" if num_classes == 2 else "classes")(
        logits
    )
    return keras.Model(tokens, probabilities, name="nbsvm")
