"""The architectures: a registry of builders, each a Functional model from token ids to class probabilities.

Every builder takes `vocab_size` (the data's `num_words`) and `num_classes` (the data's labels, 2 for
IMDB), then its own keyword parameters. Those
keyword parameters, with their type hints and defaults, *are* the `model:` section of a config for
that architecture: `parameters(name)` reads them and the config is checked against them, so a
builder and its parameters live together.

Inputs are int32 token ids of shape `(batch, time)`; `time` is left open (`None`) so that batches
padded to different lengths (length bucketing) run through the same model. Outputs: `(batch, 1)`,
P(positive) — with more than two classes `(batch, num_classes)`, a softmax.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal

import keras
from keras import layers

from imdb_rnn.errors import invalid
from imdb_rnn.schema import PositiveInt, Rate

Builder = Callable[..., keras.Model]
ARCHITECTURES: dict[str, Builder] = {}

Cell = Literal["lstm", "gru", "simple_rnn"]
Pooling = Literal["last", "max", "average", "max_average"]
CELLS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}


def register(name: str) -> Callable[[Builder], Builder]:
    """Adds a builder to `ARCHITECTURES` under `name`."""

    def add(builder: Builder) -> Builder:
        ARCHITECTURES[name] = builder
        return builder

    return add


def get(name: str, where: str = "") -> Builder:
    """The builder registered as `name`; a `ConfigError` listing the valid names otherwise."""
    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise invalid(where, "model.architecture", "one of " + ", ".join(ARCHITECTURES), name)
    return ARCHITECTURES[name]


def parameters(name: str) -> dict[str, tuple[Any, Any]]:
    """`{parameter: (type hint, default)}` for the architecture `name`, in signature order."""
    builder = get(name)
    hints = typing.get_type_hints(builder, include_extras=True)
    return {
        param.name: (hints[param.name], param.default)
        for param in inspect.signature(builder).parameters.values()
        if param.kind is inspect.Parameter.KEYWORD_ONLY
    }


def build_model(architecture: str, params: Mapping[str, Any], vocab_size: int, num_classes: int = 2) -> keras.Model:
    """Builds `architecture` with `params` (already checked by the config) for `num_classes` classes; see
    the module docstring."""
    return get(architecture)(vocab_size, num_classes, **params)


def encoder_cell(architecture: str, params: Mapping[str, Any]) -> str | None:
    """The cell of the recurrent layer(s) reading the embedding directly (what a pretrained language
    model can initialise), or None when something else reads it (a convolution, an average)."""
    if architecture in CELLS:
        return architecture
    if architecture in ("stacked", "bidirectional", "dropout"):
        return params.get("cell", "lstm")
    return None


def encoder_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The recurrent layers of `model` in order from the embedding up; of a bidirectional layer, its
    forward half (the direction a language model reads in)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, layers.Bidirectional):
            found.append(layer.forward_layer)
        elif isinstance(layer, layers.RNN):
            found.append(layer)
    return found


# Shared pieces ---------------------------------------------------------------------------------


def _embedded_tokens(
    vocab_size: int,
    embedding_dim: int,
    mask_zero: bool = False,
    spatial_dropout: float = 0.0,
    word_dropout: float = 0.0,
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Token ids `(batch, time)` and their embeddings `(batch, time, embedding_dim)`.

    `spatial_dropout` drops whole embedding channels, `word_dropout` whole words (while training)."""
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=mask_zero, name="embedding")(tokens)
    if spatial_dropout:
        x = layers.SpatialDropout1D(spatial_dropout, name="spatial_dropout")(x)
    if word_dropout:
        x = layers.Dropout(word_dropout, noise_shape=(None, None, 1), name="word_dropout")(x)
    return tokens, x


def _recurrent(cell: str, units: int, pooling: str = "last", **options: Any) -> Callable:
    """A recurrent layer plus the pooling of its outputs over time into `(batch, features)`."""
    layer = CELLS[cell](units, return_sequences=pooling != "last", **options)

    def apply(x: keras.KerasTensor) -> keras.KerasTensor:
        return _pool(layer(x), pooling)

    return apply


def _pool(x: keras.KerasTensor, pooling: str) -> keras.KerasTensor:
    if pooling == "last":
        return x
    if pooling == "max":
        return layers.GlobalMaxPooling1D()(x)
    if pooling == "average":
        return layers.GlobalAveragePooling1D()(x)
    return layers.Concatenate()([layers.GlobalMaxPooling1D()(x), layers.GlobalAveragePooling1D()(x)])


def _classifier(
    tokens: keras.KerasTensor, features: keras.KerasTensor, name: str, dropout: float = 0.0, num_classes: int = 2
) -> keras.Model:
    """The output layer on `features` `(batch, features)`, in float32 under mixed precision too: with two
    classes one sigmoid unit, P(second class) `(batch, 1)` (IMDB: P(positive)); with more, a softmax over
    them `(batch, num_classes)`."""
    if dropout:
        features = layers.Dropout(dropout, name="head_dropout")(features)
    if num_classes == 2:
        outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="positive")(features)
    else:
        outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="classes")(features)
    return keras.Model(tokens, outputs, name=name)


# Architectures ---------------------------------------------------------------------------------


def _single_layer(cell: str, reference: str) -> Builder:
    def builder(
        vocab_size: int,
        num_classes: int = 2,
        *,
        embedding_dim: PositiveInt = 32,
        units: PositiveInt = 32,
        pooling: Pooling = "last",
        spatial_dropout: Rate = 0.0,
        word_dropout: Rate = 0.0,
        head_dropout: Rate = 0.0,
        mask_zero: bool = False,
    ) -> keras.Model:
        tokens, x = _embedded_tokens(vocab_size, embedding_dim, mask_zero, spatial_dropout, word_dropout)
        return _classifier(tokens, _recurrent(cell, units, pooling)(x), cell, head_dropout, num_classes)

    builder.__name__ = cell
    builder.__doc__ = f"Embedding → {CELLS[cell].__name__} → sigmoid ({reference})."
    return builder


register("simple_rnn")(_single_layer("simple_rnn", "Chollet, Deep Learning with Python, 6.2"))
register("lstm")(_single_layer("lstm", "Chollet 6.2; keras-io 'Bidirectional LSTM on IMDB' without the Bidirectional"))
register("gru")(_single_layer("gru", "Chollet 6.3"))


@register("stacked")
def stacked(
    vocab_size: int,
    num_classes: int = 2,
    *,
    embedding_dim: PositiveInt = 32,
    units: PositiveInt = 32,
    num_layers: PositiveInt = 2,
    cell: Cell = "lstm",
    pooling: Pooling = "last",
    spatial_dropout: Rate = 0.0,
    word_dropout: Rate = 0.0,
    head_dropout: Rate = 0.0,
    mask_zero: bool = False,
) -> keras.Model:
    """Embedding → `num_layers` recurrent layers (all but the last return sequences) → sigmoid."""
    tokens, x = _embedded_tokens(vocab_size, embedding_dim, mask_zero, spatial_dropout, word_dropout)
    for _ in range(num_layers - 1):
        x = CELLS[cell](units, return_sequences=True)(x)
    return _classifier(tokens, _recurrent(cell, units, pooling)(x), "stacked", head_dropout, num_classes)


@register("bidirectional")
def bidirectional(
    vocab_size: int,
    num_classes: int = 2,
    *,
    embedding_dim: PositiveInt = 32,
    units: PositiveInt = 32,
    cell: Cell = "lstm",
    pooling: Pooling = "last",
    spatial_dropout: Rate = 0.0,
    word_dropout: Rate = 0.0,
    head_dropout: Rate = 0.0,
    mask_zero: bool = False,
) -> keras.Model:
    """Embedding → Bidirectional(recurrent layer of `units` each way) → sigmoid (Chollet 6.3)."""
    tokens, x = _embedded_tokens(vocab_size, embedding_dim, mask_zero, spatial_dropout, word_dropout)
    x = layers.Bidirectional(CELLS[cell](units, return_sequences=pooling != "last"))(x)
    return _classifier(tokens, _pool(x, pooling), "bidirectional", head_dropout, num_classes)


@register("dropout")
def dropout(
    vocab_size: int,
    num_classes: int = 2,
    *,
    embedding_dim: PositiveInt = 32,
    units: PositiveInt = 32,
    cell: Cell = "lstm",
    dropout: Rate = 0.2,
    recurrent_dropout: Rate = 0.2,
    pooling: Pooling = "last",
    spatial_dropout: Rate = 0.0,
    word_dropout: Rate = 0.0,
    head_dropout: Rate = 0.0,
    mask_zero: bool = False,
) -> keras.Model:
    """Embedding → recurrent layer with input `dropout` and `recurrent_dropout` → sigmoid (Chollet 6.3).

    A non-zero `recurrent_dropout` rules out the fused cuDNN kernel on a GPU (training is then several
    times slower there); on a CPU it costs little.
    """
    tokens, x = _embedded_tokens(vocab_size, embedding_dim, mask_zero, spatial_dropout, word_dropout)
    recurrent = _recurrent(cell, units, pooling, dropout=dropout, recurrent_dropout=recurrent_dropout)
    return _classifier(tokens, recurrent(x), "dropout", head_dropout, num_classes)


@register("cnn_lstm")
def cnn_lstm(
    vocab_size: int,
    num_classes: int = 2,
    *,
    embedding_dim: PositiveInt = 128,
    dropout: Rate = 0.25,
    filters: PositiveInt = 64,
    kernel_size: PositiveInt = 5,
    pool_size: PositiveInt = 4,
    units: PositiveInt = 70,
    cell: Cell = "lstm",
    pooling: Pooling = "last",
    head_dropout: Rate = 0.0,
) -> keras.Model:
    """Embedding → Dropout → Conv1D(relu) → MaxPooling1D → LSTM → sigmoid (keras examples, imdb_cnn_lstm).

    Convolution and pooling pad with 'same', so any padded length (length bucketing) is valid;
    the sequence shrinks by `pool_size` before the recurrent layer.
    """
    tokens, x = _embedded_tokens(vocab_size, embedding_dim)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters, kernel_size, padding="same", activation="relu")(x)
    x = layers.MaxPooling1D(pool_size, padding="same")(x)
    return _classifier(tokens, _recurrent(cell, units, pooling)(x), "cnn_lstm", head_dropout, num_classes)


# The yardstick ---------------------------------------------------------------------------------


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
    return _classifier(
        tokens, layers.GlobalAveragePooling1D(name="average")(x), "bag_of_ngrams", head_dropout, num_classes
    )
