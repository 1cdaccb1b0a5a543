"""What the fused CPU kernels share (`tf_kernels` under TensorFlow, `torch_kernels` under PyTorch): which
recurrent layers a fused kernel may compute, how one layer's loop over time steps is replaced, and the two
lines of Keras's `inner_loop` that every replacement repeats (the mask it receives, its input dropout).

Only a layer instance's `inner_loop` (what `keras.layers.RNN.call` runs over the time steps) is replaced;
its class, config and weights stay Keras's, so nothing global changes and a saved model is a plain Keras
file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

__all__ = ["has_fused_settings", "input_dropout", "one_mask", "recurrent_layers", "replace_inner_loops"]


def replace_inner_loops(model: keras.Layer, applies: Callable[[keras.Layer], bool], loop: Callable) -> int:
    """Gives every layer of `model` (and of its wrappers and nested models) that `applies` and has not had
    it yet its own `inner_loop = loop(layer)`; returns how many. `RNN.call` calls `self.inner_loop`, so a
    per-instance attribute changes that layer alone and its class stays Keras's."""
    switched = 0
    for layer in recurrent_layers(model):
        if applies(layer) and "inner_loop" not in vars(layer):
            object.__setattr__(layer, "inner_loop", loop(layer))
            switched += 1
    return switched


def has_fused_settings(layer: keras.Layer) -> bool:
    """Whether `layer` is a Keras LSTM or GRU with the settings a fused kernel computes, the conditions
    Keras checks for cuDNN: tanh and sigmoid activations, a bias, no `recurrent_dropout`, `unroll: false`,
    `use_cudnn` "auto" or True, and for the GRU `reset_after: true`."""
    from keras import activations, ops

    if not isinstance(layer, keras.layers.LSTM | keras.layers.GRU):
        return False
    cell = layer.cell
    return (
        layer.use_cudnn in ("auto", True)
        and not layer.unroll
        and not cell.recurrent_dropout
        and cell.use_bias
        and cell.activation in (activations.tanh, ops.tanh)
        and cell.recurrent_activation in (activations.sigmoid, ops.sigmoid)
        and (isinstance(layer, keras.layers.LSTM) or cell.reset_after)
    )


def recurrent_layers(layer: keras.Layer) -> list[keras.Layer]:
    """`layer` and the layers inside it, depth first: a model's layers, a wrapper's (Bidirectional) halves."""
    found = [layer]
    inner = list(getattr(layer, "layers", None) or [])
    inner += [getattr(layer, name) for name in ("forward_layer", "backward_layer") if hasattr(layer, name)]
    for child in inner:
        found += recurrent_layers(child)
    return found


def one_mask(mask: Any) -> Any:
    """The `(batch, time)` mask `inner_loop` receives, which Keras passes as a one-item list."""
    return mask[0] if isinstance(mask, list | tuple) else mask


def input_dropout(layer: keras.Layer, sequences: Any, training: bool) -> Any:
    """`sequences` `(batch, time, features)` under the layer's input `dropout` as Keras's loop applies it
    (one mask for every time step, while training); unchanged otherwise."""
    if not (training and layer.dropout):
        return sequences
    return sequences * keras.ops.expand_dims(layer.cell.get_dropout_mask(sequences[:, 0, :]), 1)
