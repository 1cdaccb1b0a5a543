"""An ensemble of trained classifiers as one Keras model: token ids in, the weighted mean of the members'
class probabilities out.

    model = build_ensemble([(lstm, {"num_words": 10000, "maxlen": 500, ...}), (gru, {...})], [0.5, 0.5])

The ensemble reads token ids `(batch, time)` int32 encoded with the largest vocabulary of its members
(`num_words`) and cut to the longest of their `maxlen`, padded with zeros on the side `input_padding`
says (or not padded at all: a batch of reviews of one length, as length bucketing reads them). Before
each member, a `MemberInput` layer makes that member's own input from it: ids the member's vocabulary
does not hold become OOV (2), the review is cut to the member's `maxlen` on its `truncating` side and
padded on its `padding` side, to `maxlen` (`(batch, maxlen)`), or, for a member trained with length
bucketing, to the longest review of the batch (`(batch, min(time, maxlen))`: unpadded when the batch
holds reviews of one length). `WeightedAverage` then takes `sum(w_i * p_i)` of the members' outputs
`(batch, classes)` (`(batch, 1)`, P(second class), for two). Both layers are registered with Keras
(package `imdb_rnn`), so the saved `model.keras`, prediction and the exported SavedModel need nothing else.
Importing this module registers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers, ops

OOV = 2  # `imdb_rnn.data.text.OOV` (this layer sits below the data package)
AVERAGE = "average"  # the name of the ensemble's `WeightedAverage` layer


@keras.saving.register_keras_serializable(package="imdb_rnn")
class MemberInput(layers.Layer):
    """The ensemble's token ids `(batch, time)` → one member's input, int32: `(batch, maxlen)`, or
    `(batch, min(time, maxlen))` when `bucketing` (see the module docstring).

    `num_words`: ids `>= num_words` become OOV (2); `maxlen`, `padding` and `truncating` (`pre` or
    `post`): as the member's `data` section; `input_padding`: the side of the zeros in the ensemble's
    input. Id 0 is padding only (a review's ids are >= 1), so each row's length is its count of non-zeros."""

    def __init__(
        self,
        num_words: int,
        maxlen: int,
        padding: str = "pre",
        truncating: str = "pre",
        bucketing: bool = True,
        input_padding: str = "pre",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for key, value in (("padding", padding), ("truncating", truncating), ("input_padding", input_padding)):
            if value not in ("pre", "post"):
                raise ValueError(f"MemberInput: invalid {key}: expected 'pre' or 'post', received {value!r}.")
        self.num_words, self.maxlen = int(num_words), int(maxlen)
        self.padding, self.truncating, self.input_padding = padding, truncating, input_padding
        self.bucketing = bool(bucketing)

    def call(self, tokens: Any) -> Any:
        tokens = ops.cast(tokens, "int32")
        width = ops.shape(tokens)[1]
        lengths = ops.sum(ops.cast(ops.not_equal(tokens, 0), "int32"), axis=1)  # (batch,)
        kept = ops.minimum(lengths, self.maxlen)  # the member's tokens of each review
        out = ops.minimum(width, self.maxlen) if self.bucketing else self.maxlen
        position = ops.expand_dims(ops.arange(out, dtype="int32"), 0)  # (1, out)
        # q: the index among the kept tokens shown at each output position (invalid: padding there).
        q = position - ops.expand_dims(out - kept, 1) if self.padding == "pre" else position
        valid = ops.logical_and(q >= 0, q < ops.expand_dims(kept, 1))
        first = lengths - kept if self.truncating == "pre" else ops.zeros_like(lengths)  # first kept token
        start = width - lengths if self.input_padding == "pre" else ops.zeros_like(lengths)  # token 0 in the input
        source = ops.expand_dims(start + first, 1) + q
        source = ops.clip(source, 0, ops.maximum(width - 1, 0))
        ids = ops.take_along_axis(tokens, source, axis=1)
        ids = ops.where(valid, ids, ops.zeros_like(ids))
        return ops.where(ids >= self.num_words, ops.full_like(ids, OOV), ids)

    def compute_output_spec(self, tokens: Any) -> keras.KerasTensor:
        width = tokens.shape[1]
        if not self.bucketing:
            out = self.maxlen
        else:
            out = None if width is None else min(width, self.maxlen)
        return keras.KerasTensor((tokens.shape[0], out), dtype="int32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_words": self.num_words,
            "maxlen": self.maxlen,
            "padding": self.padding,
            "truncating": self.truncating,
            "bucketing": self.bucketing,
            "input_padding": self.input_padding,
        }


@keras.saving.register_keras_serializable(package="imdb_rnn")
class WeightedAverage(layers.Layer):
    """A list of `len(weights)` probability tensors `(batch, classes)` → their weighted sum, float32,
    `(batch, classes)`. The weights are fixed (not trained): non-negative, summing to 1."""

    def __init__(self, weights: Sequence[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        values = [float(weight) for weight in weights]
        if not values or min(values) < 0 or abs(sum(values) - 1) > 1e-6:
            raise ValueError(f"WeightedAverage: expected non-negative weights summing to 1, received {values}.")
        self.member_weights = values

    def call(self, probabilities: Sequence[Any]) -> Any:
        total = None
        for weight, member in zip(self.member_weights, probabilities):
            term = ops.cast(member, "float32") * weight
            total = term if total is None else total + term
        return total

    def compute_output_spec(self, probabilities: Sequence[Any]) -> keras.KerasTensor:
        return keras.KerasTensor(probabilities[0].shape, dtype="float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weights": self.member_weights}


def build_ensemble(
    members: Sequence[tuple[keras.Model, Mapping[str, Any]]],
    weights: Sequence[float],
    input_padding: str = "pre",
    name: str = "ensemble",
) -> keras.Model:
    """The ensemble of `members` as one Functional model from token ids `(batch, time)` int32 to
    `sum(w_i * p_i)` `(batch, classes)` float32 (`(batch, 1)` for two classes), `weights` fixed.

    Each member is a trained model and its `MemberInput` keywords (`num_words`, `maxlen`, `padding`,
    `truncating`, `bucketing`); `input_padding` is the side of the zeros in the ensemble's own input.
    Member `i` (from 1) is nested as `member_<i>`, frozen, fed by the layer `member_<i>_input`."""
    if len(members) != len(weights):
        raise ValueError(f"build_ensemble: expected one weight a member ({len(members)}), received {len(weights)}.")
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    outputs = []
    for index, (model, settings) in enumerate(members, 1):
        member = keras.Model(model.inputs[0], model.outputs[0], name=f"member_{index}")
        member.trainable = False
        cut = MemberInput(**settings, input_padding=input_padding, name=f"member_{index}_input")
        outputs.append(member(cut(tokens)))
    average = WeightedAverage(list(weights), name=AVERAGE)(outputs)
    return keras.Model(tokens, average, name=name)


def member_outputs(ensemble: keras.Model) -> keras.Model:
    """A model of the same layers that returns each member's probabilities instead of their mean: a list of
    `(batch, classes)` tensors, in the members' order (to choose the weights from validation predictions)."""
    return keras.Model(ensemble.inputs, list(ensemble.get_layer(AVERAGE).input), name=f"{ensemble.name}_members")
