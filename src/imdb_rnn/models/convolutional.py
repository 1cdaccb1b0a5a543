"""A convolution over the embedded words with max pooling over time, no recurrent layer: `cnn`.

Each of `filters` feature maps reads a region of `kernel_size` consecutive words (Kim 2014; Johnson &
Zhang 2015's region embeddings: many maps on short regions, a max over the whole review). It is the
convolutional yardstick beside the recurrent architectures, and a different member for an ensemble.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import layers

from imdb_rnn.models.inputs import MaskedConv1D, MaskedRegionSum, embedded_tokens, region_features
from imdb_rnn.models.recurrent import MaskedGlobalMaxPooling1D
from imdb_rnn.models.registry import classifier, register
from imdb_rnn.schema import NonNegativeInt, PositiveInt, Rate


@register("cnn")
def cnn(
    vocab_size: int,
    num_classes: int = 2,
    *,
    embedding_dim: PositiveInt = 64,
    filters: PositiveInt = 256,
    kernel_size: PositiveInt = 3,
    regions: Literal["sequence", "bag"] = "sequence",
    pooling: Literal["max", "max_average"] = "max",
    spatial_dropout: Rate = 0.0,
    word_dropout: Rate = 0.0,
    head_dropout: Rate = 0.5,
    mask_zero: bool = True,
    region_units: NonNegativeInt = 0,
    region_size: PositiveInt = 5,
) -> keras.Model:
    """Embedding → Conv1D(`filters`, `kernel_size`, relu, 'same') → max (and average) over the words the
    mask keeps → Dropout → sigmoid. With `mask_zero`, padding never wins the max; any padded length is
    valid (length bucketing).

    With `region_units`, a pretrained region embedding (`imdb-rnn pretrain --config region`, named by
    `model.pretrained`) reads the tokens too: its own embedding "region_words" and convolution
    "region_embedding" (`region_units` maps over `region_size` words), both frozen, and a linear map of its
    `(batch, time, region_units)` features joins the convolution's before the relu (Johnson & Zhang
    2015: σ(W·r + V·u(r) + b)).

    `regions: bag` reads each region as a bag of words (Johnson & Zhang 2015's bow-CNN): every word has its
    own `filters` weights (the embedding is `filters` wide), a region's maps are the sum of its
    `kernel_size` words' weights plus a bias — a convolution of one-hot words with no `embedding_dim`
    bottleneck, at the cost of a lookup. `embedding_dim` is then the width of the word vectors the region
    embedding reads (and a pretraining's vectors go there only)."""
    width = filters if regions == "bag" else embedding_dim
    tokens, x = embedded_tokens(vocab_size, width, mask_zero, spatial_dropout, word_dropout)
    linear = MaskedRegionSum(kernel_size, name="regions") if regions == "bag" else None
    if region_units:
        x = linear(x) if linear else MaskedConv1D(filters, kernel_size, padding="same", name="regions")(x)
        region_maps = region_features(tokens, vocab_size, embedding_dim, mask_zero, region_units, region_size)
        features = layers.Dense(filters, use_bias=False, name="region_weights")(region_maps)
        x = layers.Activation("relu", name="regions_relu")(layers.Add(name="with_region_embedding")([x, features]))
    elif linear:
        x = layers.Activation("relu", name="regions_relu")(linear(x))
    else:
        x = MaskedConv1D(filters, kernel_size, padding="same", activation="relu", name="regions")(x)
    pooled = MaskedGlobalMaxPooling1D(name="max_over_time")(x)
    if pooling == "max_average":
        pooled = layers.Concatenate()([pooled, layers.GlobalAveragePooling1D()(x)])
    return classifier(tokens, pooled, "cnn", head_dropout, num_classes)
