"""TensorFlow's fused CPU LSTM (`BlockLSTM`) for Keras's LSTM layers: `train.fused_lstm` (default true).

Keras's TensorFlow backend fuses an LSTM only with cuDNN on a GPU (`keras.src.backend.tensorflow.rnn.lstm`
raises `NotImplementedError` elsewhere); on a CPU, `keras.layers.LSTM` steps through time in a
`tf.while_loop` of small ops, forward and backward. TensorFlow also has one op for a whole sequence on a CPU,
`tf.raw_ops.BlockLSTM`, with its gradient op. `use_block_lstm(model)` switches every LSTM layer of a model
whose settings allow it to that op:

    model = build(config)
    use_block_lstm(model)   # under KERAS_BACKEND=tensorflow; elsewhere it changes nothing and returns 0

As with `torch_kernels`, only the instance's `inner_loop` is replaced (`kernels.replace_inner_loops`); the
layer keeps its class, config and weights (Keras's layout), so `model.keras` is the plain Keras file.
`BlockLSTM` orders its gates (i, c, f, o) where Keras has (i, f, c, o): the kernel and bias are reordered at
each call, inside the graph, so gradients reach Keras's weights. Its forget bias is set to 0 (Keras's unit
forget bias is in the bias weight) and its cell clipping is off. `BlockLSTMV2` reads Keras's gate order, but
its gradient disagreed with a step-by-step LSTM's by up to 0.97 on a 6-step toy under TensorFlow 2.21 (forward
outputs equal), while V1's agrees with Keras's loop to float rounding (tests/test_tf_kernels.py), so V1 it is.

A layer is switched when it is an LSTM with tanh and sigmoid activations, a bias, no `recurrent_dropout`,
`unroll: false` and `use_cudnn` "auto" or True (the settings Keras fuses on a GPU). At each call the op runs
when there is no mask (`mask_zero: false`: bucketed or padded batches read as they are, as Keras's loop reads
them); a masked batch runs Keras's own loop. The op computes in float32: under a mixed policy
(`train.mixed_precision: bfloat16`, where the convolution and dense layers run in bfloat16) the LSTM's
inputs, states and weights (as the call reads them: autocast to bfloat16) are cast to float32 and its outputs
back to the layer's compute dtype, so the recurrence is computed more precisely than Keras's bfloat16 loop
would, and fused all the same. The layer is
marked as not compilable with XLA (as Keras marks its cuDNN path), since the op has no XLA kernel.
"""

from __future__ import annotations

from typing import Any

import keras

from imdb_rnn.models.kernels import has_fused_settings, input_dropout, one_mask, replace_inner_loops

__all__ = ["block_lstm", "fusable", "use_block_lstm"]


def use_block_lstm(model: keras.Layer) -> int:
    """Switches every fusable LSTM layer of `model` (inside `Bidirectional` wrappers and nested models too)
    to TensorFlow's fused `BlockLSTM` op under the TensorFlow backend; returns how many. Under another
    backend it changes nothing and returns 0. Calling it again changes nothing more."""
    if keras.backend.backend() != "tensorflow":
        return 0
    return replace_inner_loops(model, fusable, _BlockLoop)


def fusable(layer: keras.Layer) -> bool:
    """Whether `layer` is a Keras LSTM with the settings `BlockLSTM` computes."""
    return isinstance(layer, keras.layers.LSTM) and has_fused_settings(layer)


class _BlockLoop:
    """The `inner_loop` of one LSTM layer: `BlockLSTM` where it applies, else Keras's loop."""

    def __init__(self, layer: keras.Layer) -> None:
        self.layer = layer
        layer.supports_jit = False  # the op has no XLA kernel (Keras marks its cuDNN path the same way)

    def __call__(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
        layer = self.layer
        mask = one_mask(mask)
        dtype = keras.backend.standardize_dtype(sequences.dtype)
        if mask is not None or dtype not in ("float32", "bfloat16", "float16"):
            return type(layer).inner_loop(layer, sequences, initial_state, mask, training=training)
        cell = layer.cell

        def float32(tensor: Any) -> Any:  # the op computes in float32 (weights read in the call come autocast)
            return keras.ops.cast(tensor, "float32")

        last, outputs, states = block_lstm(
            float32(input_dropout(layer, sequences, training)),
            float32(initial_state[0]),
            float32(initial_state[1]),
            float32(cell.kernel),
            float32(cell.recurrent_kernel),
            float32(cell.bias),
            return_sequences=layer.return_sequences,
            go_backwards=layer.go_backwards,
        )
        if dtype == "float32":
            return last, outputs, states
        back = [keras.ops.cast(tensor, dtype) for tensor in (last, outputs, *states)]  # the layer's compute dtype
        return back[0], back[1], back[2:]


def block_lstm(
    inputs: Any,
    initial_state_h: Any,
    initial_state_c: Any,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any,
    return_sequences: bool = False,
    go_backwards: bool = False,
) -> tuple[Any, Any, list[Any]]:
    """A Keras LSTM over `inputs` `(batch, time, features)`, unmasked, with TensorFlow's fused `BlockLSTM`.
    Returns Keras's `(last_output (batch, units), outputs (batch, time or 1, units), [h, c])`; with
    `go_backwards` the outputs are in the order the steps were read (last word first), as Keras's."""
    import tensorflow as tf

    def gates(weight: Any) -> Any:  # (…, [i f c o]) → (…, [i c f o])
        i, f, c, o = tf.split(weight, 4, axis=-1)
        return tf.concat([i, c, f, o], axis=-1)

    kernel, recurrent_kernel, bias = (tf.convert_to_tensor(weight) for weight in (kernel, recurrent_kernel, bias))
    steps = tf.transpose(inputs, [1, 0, 2])  # time major
    if go_backwards:
        steps = tf.reverse(steps, axis=[0])
    units = tf.shape(recurrent_kernel)[0]
    peephole = tf.zeros([units], dtype=steps.dtype)
    _, cells, _, _, _, _, hidden = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.cast(tf.shape(steps)[0], tf.int64),
        x=steps,
        cs_prev=initial_state_c,
        h_prev=initial_state_h,
        w=gates(tf.concat([kernel, recurrent_kernel], axis=0)),
        wci=peephole,
        wcf=peephole,
        wco=peephole,
        b=gates(bias),
        forget_bias=0.0,
        cell_clip=-1.0,
        use_peephole=False,
    )
    last_h, last_c = hidden[-1], cells[-1]
    outputs = tf.transpose(hidden, [1, 0, 2]) if return_sequences else tf.expand_dims(last_h, 1)
    return last_h, outputs, [last_h, last_c]
