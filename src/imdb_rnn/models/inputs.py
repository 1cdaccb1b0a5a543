"""What every builder reads its tokens with: the embedding and its dropouts, and a frozen pretrained region
embedding (`imdb-rnn pretrain --config region`) beside it.

`embedded_tokens` gives the token ids `(batch, time)` and what the layers above read, `(batch, time,
embedding_dim)`, or `(batch, time, embedding_dim + region_units)` with a region embedding joined to each
word (Johnson & Zhang 2016 feed an LSTM the words and their regions' embeddings side by side).
`region_features` is that region embedding alone, for the `cnn`, which adds it to its own convolution.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="imdb_rnn")
class MaskedConv1D(layers.Conv1D):
    """`Conv1D` with `padding="same"` that reads the steps its input's mask drops as zeros (as the edge of
    the sequence is), so a region at a review's edge reads the same where the padding is or whether there
    is any; it keeps the mask for the layers above (output step `t` is the region around input step `t`).
    `(batch, time, channels)` → `(batch, time, filters)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is not None:
            inputs = inputs * keras.ops.expand_dims(keras.ops.cast(mask, inputs.dtype), -1)
        return super().call(inputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask


@keras.saving.register_keras_serializable(package="imdb_rnn")
class MaskedRegionSum(layers.Layer):
    """The sum of each `size`-word region's vectors plus a bias, the steps the mask drops read as zeros:
    `(batch, time, channels)` → `(batch, time, channels)`, output step `t` the region around input step `t`
    (as `MaskedConv1D` with `padding="same"`). Over words embedded `filters` wide this is Johnson & Zhang's
    (2015) bow-CNN: a convolution of the one-hot bag of words of each region, at the cost of a lookup and
    `size` additions a word instead of a matrix product. Keeps the mask."""

    def __init__(self, size: int = 3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = size
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is not None:
            inputs = inputs * keras.ops.expand_dims(keras.ops.cast(mask, inputs.dtype), -1)
        before = (self.size - 1) // 2
        padded = keras.ops.pad(inputs, [(0, 0), (before, self.size - 1 - before), (0, 0)])
        length = keras.ops.shape(inputs)[1]
        total = sum(padded[:, offset : offset + length] for offset in range(1, self.size))
        return padded[:, :length] + total + keras.ops.cast(self.bias, inputs.dtype)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


def region_features(
    tokens: keras.KerasTensor,
    vocab_size: int,
    embedding_dim: int,
    mask_zero: bool,
    region_units: int,
    region_size: int = 5,
) -> keras.KerasTensor:
    """`(batch, time, region_units)`: the tokens read by a region embedding's own words ("region_words") and
    convolution ("region_embedding": `region_units` relu maps over the `region_size` words around each word),
    both frozen; `training.pretrained.initialise` copies a region pretraining into them."""
    words = layers.Embedding(vocab_size, embedding_dim, mask_zero=mask_zero, trainable=False, name="region_words")
    convolution = MaskedConv1D(
        region_units, region_size, padding="same", activation="relu", trainable=False, name="region_embedding"
    )
    return convolution(words(tokens))


def embedded_tokens(
    vocab_size: int,
    embedding_dim: int,
    mask_zero: bool = False,
    spatial_dropout: float = 0.0,
    word_dropout: float = 0.0,
    region_units: int = 0,
    region_size: int = 5,
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Token ids `(batch, time)` and their embeddings `(batch, time, embedding_dim)`, with `region_units` the
    region embedding of each word's `region_size`-word region joined to it (`(batch, time, embedding_dim +
    region_units)`; default 0, none).

    `spatial_dropout` drops whole channels, `word_dropout` whole words (while training), region channels
    included."""
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=mask_zero, name="embedding")(tokens)
    if region_units:
        regions = region_features(tokens, vocab_size, embedding_dim, mask_zero, region_units, region_size)
        x = layers.Concatenate(name="with_region_embedding")([x, regions])
    if spatial_dropout:
        x = layers.SpatialDropout1D(spatial_dropout, name="spatial_dropout")(x)
    if word_dropout:
        x = layers.Dropout(word_dropout, noise_shape=(None, None, 1), name="word_dropout")(x)
    return tokens, x
