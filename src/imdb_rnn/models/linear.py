"""The linear yardsticks every recurrent model is measured against: a bag of n-grams (fastText).

Both read the same token ids as the recurrent models, so length bucketing, saving, evaluation and
prediction from raw text need nothing else.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from imdb_rnn.models.registry import classifier, register
from imdb_rnn.schema import PositiveInt, Rate


@keras.saving.register_keras_serializable(package="imdb_rnn")
class HashedBigrams(layers.Layer):
    """Token ids `(batch, time)` → ids of each pair of neighbours `(batch, time - 1)`, int32.

    The pair (a, b) gets `offset + (a * 1_000_003 + b) mod buckets` when both are words (> 0), and 0
    (padding, masked later) when either is padding. Hashing inside the model keeps it a model of
    token ids: length bucketing, saving and prediction from raw text need nothing else."""

    def __init__(self, offset: int, buckets: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offset, self.buckets = int(offset), int(buckets)

    def call(self, tokens: Any) -> Any:
        first = keras.ops.cast(tokens[:, :-1], "int64")
        second = keras.ops.cast(tokens[:, 1:], "int64")
        hashed = (first * 1_000_003 + second) % self.buckets + self.offset
        both_words = keras.ops.logical_and(first > 0, second > 0)
        return keras.ops.cast(keras.ops.where(both_words, hashed, 0), "int32")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        time = input_shape[1]
        return (input_shape[0], None if time is None else max(time - 1, 0))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "offset": self.offset, "buckets": self.buckets}


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
