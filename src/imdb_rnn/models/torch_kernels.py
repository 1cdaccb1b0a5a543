"""Fused CPU kernels for Keras's LSTM and GRU layers under the PyTorch backend.

Keras's torch backend runs PyTorch's fused recurrent kernels only on CUDA (cuDNN); on a CPU its
`keras.layers.LSTM` and `GRU` step through time in Python (keras-team/keras#20902), about 11× slower
than TensorFlow for the seed LSTM recipe. PyTorch's own `torch.nn.LSTM`/`GRU` run a fused kernel on the
CPU too (oneDNN for dense batches, ATen's for packed ones). `use_fused_kernels(model)` switches every
LSTM and GRU layer of a model whose settings allow it to that kernel:

    model = build(config)
    use_fused_kernels(model)   # under KERAS_BACKEND=torch; elsewhere it changes nothing and returns 0

The layers keep their class, config and weights (Keras's layout: `kernel` `(features, gates × units)`,
`recurrent_kernel` `(units, gates × units)`, `bias`), so `model.keras` is the plain Keras file whatever
the backend, and a run saved under one backend loads under another. Only the instance's `inner_loop` (what
`keras.layers.RNN.call` runs over the time steps) is replaced, per layer; nothing global changes, so the
training and inference entry points call this explicitly (`training.recipe`, `runs.Run.model`, the
language model of `pretraining`).

A layer is switched when Keras would use cuDNN for it on a GPU: tanh and sigmoid activations, a bias, no
`recurrent_dropout`, `unroll: false`, `use_cudnn` "auto" or True, and for the GRU `reset_after: true`.
At each call the kernel runs on a CPU tensor outside `torch.compile` and tracing; its mask (`mask_zero`)
may pad each review on the right or on the left (`data.padding: pre`), or be all True (bucketed batches);
a mask with gaps falls back, for that batch, to Keras's own step-by-step loop. Padded steps give Keras's
outputs exactly: the state holds, and the output repeats the last one (or is 0 with
`zero_output_for_mask`, as inside `Bidirectional`); `go_backwards` reads each review from its end. A
padded batch runs the dense kernel over each review's kept steps moved to the front; only an LSTM whose
final `c` is read (`return_state`, `stateful`) runs packed sequences, several times slower on a CPU.
"""

from __future__ import annotations

from typing import Any

import keras

from imdb_rnn.models.kernels import has_fused_settings, input_dropout, one_mask, replace_inner_loops

__all__ = ["fusable", "gru", "lstm", "use_fused_kernels"]


def use_fused_kernels(model: keras.Layer) -> int:
    """Switches every fusable LSTM/GRU layer of `model` (inside `Bidirectional` wrappers and nested models
    too) to PyTorch's fused kernel under the torch backend; returns how many. Under another backend it
    changes nothing and returns 0. Calling it again changes nothing more."""
    if keras.backend.backend() != "torch":
        return 0
    return replace_inner_loops(model, fusable, _FusedLoop)


def fusable(layer: keras.Layer) -> bool:
    """Whether `layer` is a Keras LSTM or GRU with the settings PyTorch's fused kernel computes (the
    conditions Keras checks for cuDNN: `kernels.has_fused_settings`)."""
    return has_fused_settings(layer)


class _FusedLoop:
    """The `inner_loop` of one LSTM/GRU layer: PyTorch's fused kernel where it applies, else Keras's."""

    def __init__(self, layer: keras.Layer) -> None:
        self.layer = layer

    def __call__(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
        import torch

        layer = self.layer
        keras_loop = type(layer).inner_loop.__get__(layer)
        mask = one_mask(mask)
        states = list(initial_state) if isinstance(initial_state, list | tuple) else [initial_state]
        if isinstance(layer, keras.layers.GRU) and isinstance(states[0], list | tuple):
            states = list(states[0])
        if sequences.device.type == "meta":  # Keras's shape inference (compute_output_spec): shapes alone
            batch, steps, units = sequences.shape[0], sequences.shape[1], layer.cell.units
            outputs = torch.empty(batch, steps if layer.return_sequences else 1, units, device="meta")
            return outputs[:, -1], outputs, [torch.empty(batch, units, device="meta") for _ in states]
        compiling = torch.jit.is_tracing() or torch.compiler.is_compiling()
        if compiling or sequences.device.type != "cpu":
            return keras_loop(sequences, initial_state, mask, training=training)
        cell, dropped = layer.cell, input_dropout(layer, sequences, training)
        options = dict(
            return_sequences=layer.return_sequences,
            go_backwards=layer.go_backwards,
            zero_output_for_mask=layer.zero_output_for_mask,
        )
        weights = (cell.kernel, cell.recurrent_kernel, cell.bias)
        try:
            if isinstance(layer, keras.layers.GRU):
                return gru(dropped, states[0], mask, *weights, **options)
            # Keras's RNN.call reads the final c only to return it or to keep it (stateful).
            return lstm(
                dropped, *states, mask, *weights, final_cell_state=layer.return_state or layer.stateful, **options
            )
        except NotImplementedError:  # a mask with gaps: this batch steps through time
            return keras_loop(sequences, initial_state, mask, training=training)


# The kernels, with the arguments of Keras's backend functions (keras.src.backend.torch.rnn) --------------


def lstm(
    inputs: Any,
    initial_state_h: Any,
    initial_state_c: Any,
    mask: Any,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any,
    return_sequences: bool = False,
    go_backwards: bool = False,
    zero_output_for_mask: bool = False,
    final_cell_state: bool = True,
) -> tuple[Any, Any, list[Any]]:
    """A Keras LSTM over `inputs` `(batch, time, features)` with PyTorch's fused kernel. Keras's gates
    (i, f, c, o) are PyTorch's (i, f, g, o); its single bias is PyTorch's input bias. Returns Keras's
    `(last_output (batch, units), outputs (batch, time or 1, units), [h, c])`; raises
    `NotImplementedError` for a mask with gaps (neither left nor right padding). With
    `final_cell_state=False` (a caller that drops `c`) a padded batch runs the dense kernel and its `c`
    is NaN; with True, packed sequences, several times slower on a CPU."""
    import torch

    kernel, recurrent_kernel, bias = (
        keras.ops.convert_to_tensor(weight) for weight in (kernel, recurrent_kernel, bias)
    )
    params = [kernel.T.contiguous(), recurrent_kernel.T.contiguous(), bias, torch.zeros_like(bias)]

    def step(inputs: Any, batch_sizes: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        hidden = tuple(states)
        if batch_sizes is None:
            outputs, h, c = torch._VF.lstm(inputs, hidden, params, True, 1, 0.0, torch.is_grad_enabled(), False, True)
        else:
            outputs, h, c = torch._VF.lstm(
                inputs, batch_sizes, hidden, params, True, 1, 0.0, torch.is_grad_enabled(), False
            )
        return outputs, [h, c]

    states = [initial_state_h, initial_state_c]
    options = dict(
        return_sequences=return_sequences, go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask
    )
    return _run(step, inputs, states, mask, kernel.dtype, exact_states=final_cell_state, **options)


def gru(
    inputs: Any,
    initial_state: Any,
    mask: Any,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any,
    return_sequences: bool = False,
    go_backwards: bool = False,
    zero_output_for_mask: bool = False,
) -> tuple[Any, Any, list[Any]]:
    """A Keras GRU (`reset_after=True`) over `inputs` `(batch, time, features)` with PyTorch's fused
    kernel. Keras's gates (z, r, h) become PyTorch's (r, z, n); Keras's bias `(2, 3 × units)` is
    PyTorch's input bias (row 0) and recurrent bias (row 1). Returns Keras's `(last_output, outputs,
    [h])`; raises `NotImplementedError` for a mask with gaps."""
    import torch

    kernel, recurrent_kernel, bias = (
        keras.ops.convert_to_tensor(weight) for weight in (kernel, recurrent_kernel, bias)
    )

    def reset_first(weight: Any) -> Any:  # (…, [z r h]) → (…, [r z h])
        update, reset, candidate = torch.chunk(weight, 3, dim=-1)
        return torch.cat([reset, update, candidate], dim=-1)

    params = [reset_first(kernel).T.contiguous(), reset_first(recurrent_kernel).T.contiguous()]
    params += [reset_first(bias[0]), reset_first(bias[1])]

    def step(inputs: Any, batch_sizes: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        if batch_sizes is None:
            outputs, h = torch._VF.gru(inputs, states[0], params, True, 1, 0.0, torch.is_grad_enabled(), False, True)
        else:
            outputs, h = torch._VF.gru(
                inputs, batch_sizes, states[0], params, True, 1, 0.0, torch.is_grad_enabled(), False
            )
        return outputs, [h]

    options = dict(
        return_sequences=return_sequences, go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask
    )
    return _run(step, inputs, [initial_state], mask, kernel.dtype, exact_states=False, **options)


def _run(
    step: Any,
    inputs: Any,
    states: list[Any],
    mask: Any,
    dtype: Any,
    return_sequences: bool,
    go_backwards: bool,
    zero_output_for_mask: bool,
    exact_states: bool,
) -> tuple[Any, Any, list[Any]]:
    """Runs a fused `step(inputs, batch_sizes, states)` (dense when `batch_sizes` is None, else packed) as
    Keras's `backend.rnn` would run the layer's cell over `inputs` under `mask` (see the module docstring).

    Under a padding mask the dense kernel runs over each review's kept steps moved to the front, which
    gives every output and the last one (`h`) exactly, but the other states of a padded review only at
    the padded end: `exact_states` runs packed sequences instead (exact, but several times slower on a
    CPU); without it those states come back as NaN, for a caller that does not read them."""
    import torch

    inputs = keras.ops.convert_to_tensor(inputs).to(dtype)
    # Cloned: a stateful layer assigns its new states into the tensors it started from.
    states = [keras.ops.convert_to_tensor(state).to(dtype).clone().unsqueeze(0) for state in states]
    if go_backwards:
        inputs = torch.flip(inputs, [1])
    if mask is not None:
        mask = keras.ops.convert_to_tensor(mask).bool()
        mask = torch.flip(mask, [1]) if go_backwards else mask
    if mask is None or bool(mask.all()):
        outputs, final = step(inputs, None, states)
        final = [state.squeeze(0) for state in final]
        last = outputs[:, -1]
        return last, outputs if return_sequences else last.unsqueeze(1), final

    start, lengths = _padding(mask)
    steps = mask.shape[1]
    time = torch.arange(steps, device=mask.device)
    if bool(start.any()):  # move each review's kept steps to the front
        inputs = _gather_steps(inputs, (start[:, None] + time).clamp(max=steps - 1))
    if exact_states:
        outputs, final = _packed(step, inputs, lengths, states)
    else:
        outputs, final = step(inputs, None, states)
        last_kept = _gather_steps(outputs, (lengths[:, None] - 1).clamp(min=0)).squeeze(1)
        final = [last_kept] + [torch.full_like(state.squeeze(0), float("nan")) for state in final[1:]]
    has_steps = (lengths > 0)[:, None]  # a review with no kept step keeps its initial state
    final = [torch.where(has_steps, state, initial.squeeze(0)) for state, initial in zip(final, states, strict=True)]
    # Keras's output at a padded step: 0 before the review starts; after it, the last output (or 0).
    kept = mask if zero_output_for_mask else (time >= start[:, None]) & has_steps
    last = torch.where(kept[:, -1:], final[0], torch.zeros_like(final[0]))
    if not return_sequences:
        return last, last.unsqueeze(1), final
    outputs = _gather_steps(
        outputs, torch.minimum((time - start[:, None]).clamp(min=0), (lengths[:, None] - 1).clamp(min=0))
    )
    return last, torch.where(kept[:, :, None], outputs, torch.zeros_like(outputs)), final


def _padding(mask: Any) -> tuple[Any, Any]:
    """`(start, length)` of each row's kept steps, `(batch,)` each, for a mask `(batch, time)` that pads
    every row on the right or on the left; `NotImplementedError` for one with gaps."""
    import torch

    steps = mask.shape[1]
    time = torch.arange(steps, device=mask.device)
    lengths = mask.sum(dim=1)
    right_padded = (mask == (time < lengths[:, None])).all(dim=1)
    left_padded = (mask == (time >= steps - lengths[:, None])).all(dim=1)
    if not bool((right_padded | left_padded).all()):
        raise NotImplementedError("the mask has gaps: neither right nor left padding")
    return torch.where(right_padded, 0, steps - lengths), lengths


def _gather_steps(sequences: Any, index: Any) -> Any:
    """`sequences[b, index[b, t]]`: `(batch, time, features)` by a `(batch, steps)` index of time steps."""
    return sequences.gather(1, index[:, :, None].expand(-1, -1, sequences.shape[-1]))


def _packed(step: Any, inputs: Any, lengths: Any, states: list[Any]) -> tuple[Any, list[Any]]:
    """`step` over packed sequences of `lengths` (0 counts as 1): outputs `(batch, time, units)`, zero past
    each length, and the final states `(batch, units)` at each length."""
    from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

    packed = pack_padded_sequence(inputs, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
    sorted_states = [state.index_select(1, packed.sorted_indices) for state in states]
    data, final = step(packed.data, packed.batch_sizes, sorted_states)
    final = [state.index_select(1, packed.unsorted_indices).squeeze(0) for state in final]
    packed_outputs = PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
    outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=inputs.shape[1])
    return outputs, final
