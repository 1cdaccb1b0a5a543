"""TensorFlow's fused CPU LSTM (`train.fused_lstm`, `imdb_rnn.models.tf_kernels`): the same outputs and
gradients as Keras's loop over time steps, Keras's loop kept where the op does not apply, and a run that
trains with it saves a plain Keras model. Tiny shapes, seconds."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import TINY_OVERRIDES

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the op is TensorFlow's")


def _twins(**options) -> tuple[keras.Model, keras.Model, int]:
    """Two copies of Input(7 steps, 3 features) → LSTM(5, **options) with the same weights; the first fused."""
    from imdb_rnn.models.tf_kernels import use_block_lstm

    def build() -> keras.Model:
        inputs = keras.Input((7, 3))
        return keras.Model(inputs, keras.layers.LSTM(5, **options)(inputs))

    keras.utils.set_random_seed(3)
    fused, plain = build(), build()
    plain.set_weights(fused.get_weights())
    return fused, plain, use_block_lstm(fused)


@pytest.mark.parametrize(
    "options",
    [{}, {"return_sequences": True}, {"go_backwards": True, "return_sequences": True}, {"return_state": True}],
    ids=["last", "sequences", "backwards", "states"],
)
def test_the_fused_lstm_gives_keras_outputs_and_gradients(options: dict) -> None:
    fused, plain, switched = _twins(**options)
    assert switched == 1
    x = tf.random.stateless_normal((4, 7, 3), seed=(1, 2))
    results = []
    for model in (fused, plain):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = tf.nest.flatten(model(x))
            loss = sum(tf.reduce_sum(output**2) for output in outputs)
        results.append((outputs, tape.gradient(loss, [x, *model.trainable_weights])))
    (fused_outputs, fused_gradients), (plain_outputs, plain_gradients) = results
    for ours, keras_own in zip(fused_outputs + fused_gradients, plain_outputs + plain_gradients, strict=True):
        np.testing.assert_allclose(ours.numpy(), keras_own.numpy(), atol=2e-5)


def test_a_masked_batch_keeps_keras_loop_and_dropout_still_drops() -> None:
    fused, plain, _ = _twins(dropout=0.5)
    x = tf.random.stateless_normal((4, 7, 3), seed=(3, 4))
    mask = tf.constant([[True] * 7, [True] * 4 + [False] * 3] * 2)
    layer, plain_layer = fused.layers[-1], plain.layers[-1]
    np.testing.assert_allclose(layer(x, mask=mask).numpy(), plain_layer(x, mask=mask).numpy(), atol=1e-6)
    assert not np.allclose(layer(x, training=True).numpy(), layer(x).numpy())  # its input dropout applies


def test_under_bfloat16_the_op_runs_in_float32_and_answers_in_bfloat16() -> None:
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        fused, bfloat16_loop, switched = _twins(return_sequences=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    float32_loop = _twins(return_sequences=True)[1]  # float32 throughout, the same weights (the same seed)
    x = tf.random.stateless_normal((4, 7, 3), seed=(5, 6))
    ours = fused(x)
    assert switched == 1 and ours.dtype == tf.bfloat16
    graph = tf.function(fused).get_concrete_function(tf.TensorSpec((4, 7, 3))).graph
    assert "BlockLSTM" in {op.type for op in graph.get_operations()}
    exact = float32_loop(x).numpy()
    ours_error = np.abs(tf.cast(ours, tf.float32).numpy() - exact).max()
    keras_error = np.abs(tf.cast(bfloat16_loop(x), tf.float32).numpy() - exact).max()
    assert ours_error < 0.02 and ours_error <= keras_error  # only the inputs and the answer are rounded


def test_only_fusable_lstm_layers_are_switched_once() -> None:
    from imdb_rnn.models.tf_kernels import use_block_lstm

    inputs = keras.Input((7, 3))
    x = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))(inputs)
    x = keras.layers.LSTM(4, recurrent_dropout=0.2, return_sequences=True)(x)
    x = keras.layers.GRU(4)(x)
    model = keras.Model(inputs, x)
    assert use_block_lstm(model) == 2  # both halves of the Bidirectional; not recurrent_dropout, not the GRU
    assert use_block_lstm(model) == 0


@pytest.mark.parametrize("fused", [True, False])
def test_a_run_uses_the_fused_lstm_by_default_and_saves_a_plain_keras_model(
    fused: bool, tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imdb_rnn.config import load_config
    from imdb_rnn.files import read_json
    from imdb_rnn.runs.provenance import config_hash
    from imdb_rnn.training import recipe

    switched, use_block_lstm = [], recipe.use_block_lstm

    def counting(model: keras.Model) -> int:
        switched.append(use_block_lstm(model))
        return switched[-1]

    monkeypatch.setattr(recipe, "use_block_lstm", counting)
    overrides = [*TINY_OVERRIDES, f"data.path={tiny_corpus}", "train.epochs=2"]
    config = load_config("lstm", [*overrides, *([] if fused else ["train.fused_lstm=false"])])
    run = recipe.train(config, tmp_path, verbose=0)
    assert switched == ([1] if fused else [])
    assert f"fused_lstm: {str(fused).lower()}" in (run / "config.yaml").read_text(encoding="utf-8")
    assert len(read_json(run / "history.json")["loss"]) == 2
    model = keras.models.load_model(run / "model.keras")
    assert "inner_loop" not in vars(next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)))
    # another kernel for the same arithmetic: the experiment, and so its ledger row, is the same
    other = load_config("lstm", [*overrides, f"train.fused_lstm={str(not fused).lower()}"])
    assert config_hash(config.to_dict()) == config_hash(other.to_dict())
