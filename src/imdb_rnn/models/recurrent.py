"""The recurrent architectures: Embedding → recurrent layer(s) → pooling over time → classifier.

`simple_rnn`, `lstm`, `gru`, `stacked`, `bidirectional`, `dropout` and `cnn_lstm` (see the module
docstring of `imdb_rnn.models.registry` for the inputs and outputs every builder shares). Each also takes
`region_units` (default 0, none) and `region_size` (5): a frozen pretrained region embedding
(`imdb-rnn pretrain --config region`, named by `model.pretrained`) joined to every word's embedding, so the
recurrent layer reads `(batch, time, embedding_dim + region_units)` (`imdb_rnn.models.inputs`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import keras
from keras import layers

from imdb_rnn.models.inputs import embedded_tokens
from imdb_rnn.models.registry import Builder, classifier, register
from imdb_rnn.schema import NonNegativeInt, PositiveInt, Rate

Cell = Literal["lstm", "gru", "simple_rnn"]
Pooling = Literal["last", "max", "average", "max_average", "concat"]  # concat: last state, max and average
CELLS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}


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


def _recurrent(cell: str, units: int, pooling: str = "last", **options: Any) -> Callable:
    """A recurrent layer plus the pooling of its outputs over time into `(batch, features)`."""
    layer = CELLS[cell](units, return_sequences=pooling != "last", return_state=pooling == "concat", **options)

    def apply(x: keras.KerasTensor) -> keras.KerasTensor:
        return _pool(layer(x), pooling)

    return apply


def _pool(outputs: Any, pooling: str, directions: int = 1) -> keras.KerasTensor:
    """`(batch, features)` from a recurrent layer's outputs: its last state (`last`), the max and/or average
    of its outputs over the time steps the mask keeps, or ULMFiT's concat pooling of all three (`concat`:
    the layer returned `[sequence, *states]`, `directions` sets of states for a bidirectional layer)."""
    if pooling == "last":
        return outputs
    if pooling == "concat":
        sequence, *states = outputs
        per_direction = len(states) // directions
        last = [states[i * per_direction] for i in range(directions)]  # each direction's h
        last = last[0] if directions == 1 else layers.Concatenate(name="last_states")(last)
        return layers.Concatenate(name="concat_pooling")(
            [last, MaskedGlobalMaxPooling1D()(sequence), layers.GlobalAveragePooling1D()(sequence)]
        )
    if pooling == "max":
        return MaskedGlobalMaxPooling1D()(outputs)
    if pooling == "average":
        return layers.GlobalAveragePooling1D()(outputs)
    return layers.Concatenate()([MaskedGlobalMaxPooling1D()(outputs), layers.GlobalAveragePooling1D()(outputs)])


@keras.saving.register_keras_serializable(package="imdb_rnn")
class MaskedGlobalMaxPooling1D(layers.GlobalMaxPooling1D):
    """`GlobalMaxPooling1D` over the steps the mask keeps, `(batch, time, features)` → `(batch, features)`.

    Keras's own layer takes no mask (keras/src/layers/pooling/global_max_pooling1d.py), so padded steps
    enter its max; `GlobalAveragePooling1D` does honour the mask. Without a mask (`mask_zero: false`)
    this is Keras's layer exactly; a review with no unmasked step gets 0s."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return super().call(inputs)
        kept = keras.ops.expand_dims(keras.ops.cast(mask, "bool"), -1)
        lowest = keras.ops.full_like(
            inputs, -6e4 if keras.backend.standardize_dtype(inputs.dtype) == "float16" else -1e30
        )
        pooled = keras.ops.max(keras.ops.where(kept, inputs, lowest), axis=1)
        return keras.ops.where(keras.ops.any(kept, axis=1), pooled, keras.ops.zeros_like(pooled))

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


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
        region_units: NonNegativeInt = 0,
        region_size: PositiveInt = 5,
    ) -> keras.Model:
        tokens, x = embedded_tokens(
            vocab_size, embedding_dim, mask_zero, spatial_dropout, word_dropout, region_units, region_size
        )
        return classifier(tokens, _recurrent(cell, units, pooling)(x), cell, head_dropout, num_classes)

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
    region_units: NonNegativeInt = 0,
    region_size: PositiveInt = 5,
) -> keras.Model:
    """Embedding → `num_layers` recurrent layers (all but the last return sequences) → sigmoid."""
    tokens, x = embedded_tokens(
        vocab_size, embedding_dim, mask_zero, spatial_dropout, word_dropout, region_units, region_size
    )
    for _ in range(num_layers - 1):
        x = CELLS[cell](units, return_sequences=True)(x)
    return classifier(tokens, _recurrent(cell, units, pooling)(x), "stacked", head_dropout, num_classes)


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
    region_units: NonNegativeInt = 0,
    region_size: PositiveInt = 5,
) -> keras.Model:
    """Embedding → Bidirectional(recurrent layer of `units` each way) → sigmoid (Chollet 6.3)."""
    tokens, x = embedded_tokens(
        vocab_size, embedding_dim, mask_zero, spatial_dropout, word_dropout, region_units, region_size
    )
    recurrent = CELLS[cell](units, return_sequences=pooling != "last", return_state=pooling == "concat")
    x = layers.Bidirectional(recurrent)(x)
    return classifier(tokens, _pool(x, pooling, directions=2), "bidirectional", head_dropout, num_classes)


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
    region_units: NonNegativeInt = 0,
    region_size: PositiveInt = 5,
) -> keras.Model:
    """Embedding → recurrent layer with input `dropout` and `recurrent_dropout` → sigmoid (Chollet 6.3).

    A non-zero `recurrent_dropout` rules out the fused cuDNN kernel on a GPU (training is then several
    times slower there); on a CPU it costs little.
    """
    tokens, x = embedded_tokens(
        vocab_size, embedding_dim, mask_zero, spatial_dropout, word_dropout, region_units, region_size
    )
    recurrent = _recurrent(cell, units, pooling, dropout=dropout, recurrent_dropout=recurrent_dropout)
    return classifier(tokens, recurrent(x), "dropout", head_dropout, num_classes)


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
    region_units: NonNegativeInt = 0,
    region_size: PositiveInt = 5,
) -> keras.Model:
    """Embedding → Dropout → Conv1D(relu) → MaxPooling1D → LSTM → sigmoid (keras examples, imdb_cnn_lstm).

    Convolution and pooling pad with 'same', so any padded length (length bucketing) is valid;
    the sequence shrinks by `pool_size` before the recurrent layer.
    """
    tokens, x = embedded_tokens(vocab_size, embedding_dim, region_units=region_units, region_size=region_size)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters, kernel_size, padding="same", activation="relu")(x)
    x = layers.MaxPooling1D(pool_size, padding="same")(x)
    return classifier(tokens, _recurrent(cell, units, pooling)(x), "cnn_lstm", head_dropout, num_classes)
