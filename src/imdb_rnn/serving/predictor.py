"""A run's class probabilities for a batch of raw texts, as `Run.predict` gives them, in few model calls.

    predictor = RunPredictor(load_run("outputs/lstm-20261122-023703"))
    predictor(["A wonderful surprise.", "Two hours I will never get back."])   # (2, classes) float32
    predictor.batching    # "padded", "masked" or "by length": how texts of different lengths share a call

`Run.predict` reads a run trained with length bucketing one review length at a time, unpadded: with
`mask_zero: false` (the shipped configs) padding is read as words, so a review's probability would
change with the company it keeps in a padded batch. A server that batches concurrent requests must not
change anyone's answer, and calling the model once per length would leave nothing to batch. So for a
bucketed run this module builds the model's *masked twin*: the same layers and weights, with the
embedding's `mask_zero` on and Keras's `GlobalMaxPooling1D` (which takes no mask) replaced by
`MaskedGlobalMaxPooling1D`; recurrent layers and average pooling then skip the padding, and a padded
batch gives each review what it gets alone. Whether the twin agrees is not assumed but checked when the
predictor is built: random reviews of many lengths, one batch through the twin against each alone
through the model, within `AGREEMENT` (a convolution, for example, reads padding whatever the mask says;
such a run is read one length at a time, as `Run.predict` reads it: `batching == "by length"`). A run
trained on `maxlen`-wide batches reads its reviews padded anyway (`"padded"`).

TensorFlow backend: the model is called through one `tf.function` whose input is `(None, None)` int32,
traced once for every batch size and length.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from imdb_rnn.runs.run import Run

AGREEMENT = 2e-7  # the largest difference, in probability, the masked twin may show on the check's reviews
PROBE_SEED = 0


class RunPredictor:
    """Callable: raw texts → `(n, classes)` float32 probabilities (two classes: `[1 - p, p]`), each text
    read as `Run.predict(texts, allow_empty=True)` reads it. `chunk` texts at most go through the model
    in one call (default 64)."""

    def __init__(self, run: Run, chunk: int = 64) -> None:
        self.run, self.chunk = run, chunk
        self.data = run.config.data
        self.classes = run.classes
        self._model = _compiled(run.model)
        if not self.data.bucketing:
            self.batching, self._batched = "padded", self._model
        else:
            twin = masked_twin(run.model)
            agrees = twin is not None and _agrees(_compiled(twin), self._model, self.data)
            self.batching = "masked" if agrees else "by length"
            self._batched = _compiled(twin) if agrees else self._model

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        x = self.run.encode(list(texts), allow_empty=True)  # (n, maxlen), padded as in training
        count = len(self.classes)
        probabilities = np.zeros((len(x), 1 if count == 2 else count), dtype=np.float32)
        if self.batching == "padded":
            groups = [np.arange(len(x))]
        else:
            lengths = np.count_nonzero(x, axis=1)
            if self.batching == "masked":  # similar lengths together: less padding to step over
                groups = [np.argsort(lengths, kind="stable")]
            else:
                groups = [np.flatnonzero(lengths == length) for length in np.unique(lengths)]
        for group in groups:
            for start in range(0, len(group), self.chunk):
                rows = group[start : start + self.chunk]
                probabilities[rows] = self._batched(self._trimmed(x[rows])).numpy()
        if count == 2:
            probabilities = np.concatenate([1 - probabilities, probabilities], axis=1)
        return probabilities

    def _trimmed(self, x: np.ndarray) -> np.ndarray:
        """Bucketed runs: the rows cut to the longest of them (padding on the run's side), as bucketing reads them."""
        if self.batching == "padded":
            return x
        longest = max(1, int(np.count_nonzero(x, axis=1).max()))
        return x[:, x.shape[1] - longest :] if self.data.padding == "pre" else x[:, :longest]


def masked_twin(model: keras.Model) -> keras.Model | None:
    """`model` rebuilt with every `Embedding`'s `mask_zero` on and every `GlobalMaxPooling1D` masked, its
    weights copied; None when it cannot be rebuilt so (then no twin is used)."""
    import imdb_rnn.models  # noqa: F401 - registers MaskedGlobalMaxPooling1D and the other custom layers
    from imdb_rnn.models.recurrent import MaskedGlobalMaxPooling1D

    masked_pooling = keras.saving.serialize_keras_object(MaskedGlobalMaxPooling1D())

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: rewrite(value) for key, value in node.items()}
        if node.get("class_name") == "Embedding" and isinstance(node.get("config"), dict):
            node["config"] = {**node["config"], "mask_zero": True}
        elif node.get("class_name") == "GlobalMaxPooling1D" and isinstance(node.get("config"), dict):
            node = {**copy.deepcopy(masked_pooling), "config": node["config"], **_graph_keys(node)}
        return node

    try:
        with warnings.catch_warnings():  # "this layer does not support masking": the check below decides
            warnings.simplefilter("ignore")
            twin = model.__class__.from_config(rewrite(model.get_config()))
            twin.set_weights(model.get_weights())
    except Exception:  # noqa: BLE001 - any architecture this rewrite does not fit: no twin, batches by length
        return None
    return twin


def _graph_keys(node: dict[str, Any]) -> dict[str, Any]:
    """What places a layer in a Functional model's graph (kept when the layer's class is replaced)."""
    return {key: node[key] for key in ("name", "inbound_nodes", "build_config") if key in node}


def _compiled(model: keras.Model) -> Any:
    """`model(x, training=False)` as one `tf.function` for any `(batch, time)` int32 input."""
    signature = [tf.TensorSpec([None, None], tf.int32)]
    return tf.function(lambda x: model(x, training=False), input_signature=signature)


def _agrees(twin: Any, model: Any, data: Any, count: int = 12) -> bool:
    """Whether `twin` on one padded batch of random reviews gives each what `model` gives it alone, unpadded.

    The reviews run from the start token alone to `data.maxlen` ids (random ids from the run's vocabulary)."""
    rng = np.random.default_rng(PROBE_SEED)
    lengths = np.unique(np.linspace(1, data.maxlen, count).astype(int))
    reviews = [np.concatenate([[1], rng.integers(3, data.num_words, size=length - 1)]) for length in lengths]
    padded = keras.utils.pad_sequences(reviews, maxlen=int(lengths.max()), dtype="int32", padding=data.padding)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        together = np.asarray(twin(tf.constant(padded)))
        alone = np.concatenate([np.asarray(model(tf.constant(review[None], tf.int32))) for review in reviews])
    return bool(np.all(np.isfinite(together)) and np.max(np.abs(together - alone)) <= AGREEMENT)
