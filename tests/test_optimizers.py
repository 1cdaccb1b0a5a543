"""Adam's lazy embedding updates (`train.embedding_updates: lazy`, `imdb_rnn.training.optimizers`): under
TensorFlow a batch moves only the embedding rows it reads; with every row read it is Adam exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from imdb_rnn.config import load_config
from imdb_rnn.errors import ConfigError
from imdb_rnn.training.optimizers import LazyAdam, LazyAdamW, make_optimizer
from imdb_rnn.training.recipe import compile_model

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="row-slice gradients are TensorFlow's")


def embedding_model(vocabulary: int = 12) -> keras.Model:
    """Embedding(vocabulary, 3) → average → sigmoid, the same weights every call."""
    keras.utils.set_random_seed(0)
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(vocabulary, 3, name="embedding")(tokens)
    pooled = keras.layers.GlobalAveragePooling1D()(embedded)
    return keras.Model(tokens, keras.layers.Dense(1, activation="sigmoid")(pooled))


def train(optimizer: keras.optimizers.Optimizer, batches: list[list[list[int]]]) -> list[np.ndarray]:
    """The embedding's weights after each batch (label 1 for the first review of a batch, 0 for the rest)."""
    model = embedding_model()
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    weights = [model.get_layer("embedding").get_weights()[0].copy()]
    for batch in batches:
        labels = np.array([1.0] + [0.0] * (len(batch) - 1))
        model.train_on_batch(np.array(batch, dtype="int32"), labels)
        weights.append(model.get_layer("embedding").get_weights()[0].copy())
    return weights


def dense_gradient(batch: list[list[int]]) -> np.ndarray:
    """The embedding's gradient for `batch` at `embedding_model`'s first weights, as one dense array."""
    import tensorflow as tf

    model = embedding_model()
    labels = np.array([1.0] + [0.0] * (len(batch) - 1))
    with tf.GradientTape() as tape:
        loss = keras.losses.binary_crossentropy(labels[:, None], model(np.array(batch, dtype="int32")))
        loss = tf.reduce_mean(loss)
    gradient = tape.gradient(loss, model.get_layer("embedding").embeddings.value)
    return tf.convert_to_tensor(gradient).numpy()  # IndexedSlices → dense: a row's slices summed


def test_rows_the_batch_does_not_read_keep_their_weights() -> None:
    # Step 1 reads rows 3, 4, 5 (4 and 5 more than once); step 2 reads 6 and 7 only.
    batches = [[[3, 4, 5], [5, 5, 4]], [[6, 7, 7], [7, 6, 6]]]
    lazy, dense = train(LazyAdam(0.01), batches), train(keras.optimizers.Adam(0.01), batches)
    for weights in (lazy, dense):  # step 1: both move exactly the rows read
        assert set(np.flatnonzero(np.any(weights[1] != weights[0], axis=1))) == {3, 4, 5}
    # Step 2: Adam's momentum moves rows 3-5 again; the lazy update leaves them as they were.
    assert set(np.flatnonzero(np.any(lazy[2] != lazy[1], axis=1))) == {6, 7}
    assert set(np.flatnonzero(np.any(dense[2] != dense[1], axis=1))) == {3, 4, 5, 6, 7}


def test_rows_read_get_adams_update_of_their_summed_gradient() -> None:
    # Adam's first step, from the dense gradient: m = (1 - b1) g, v = (1 - b2) g², step = alpha m / (sqrt(v) + eps).
    batch = [[3, 4, 5], [5, 5, 4]]
    gradient = dense_gradient(batch)
    beta_1, beta_2, epsilon, rate = 0.9, 0.999, 1e-7, 0.01
    alpha = rate * np.sqrt(1 - beta_2) / (1 - beta_1)
    expected = -alpha * (1 - beta_1) * gradient / (np.sqrt((1 - beta_2) * gradient**2) + epsilon)
    lazy = train(LazyAdam(rate), [batch])
    np.testing.assert_allclose(lazy[1] - lazy[0], expected, atol=1e-6)
    # Keras 3.15's own Adam under TensorFlow squares each token's slice before summing a row's slices
    # (`ops.square` maps an IndexedSlices' values): row 4, read twice with opposite pulls, gets a
    # second moment of g1² + g2² instead of (g1 + g2)², and a smaller step than Adam's.
    dense = train(keras.optimizers.Adam(rate), [batch])
    assert abs((dense[1] - dense[0])[4]).max() < abs(expected[4]).max() / 2


def test_with_every_row_read_every_step_it_is_adam() -> None:
    # Each batch reads every row once (Keras's Adam is exact without repeated rows, see above).
    every_row = [[0, 2, 4, 6, 8, 10], [11, 9, 7, 5, 3, 1]]
    batches = [every_row, every_row[::-1], every_row]
    lazy, dense = train(LazyAdam(0.05), batches), train(keras.optimizers.Adam(0.05), batches)
    assert np.any(lazy[-1] != lazy[0])
    np.testing.assert_allclose(lazy[-1], dense[-1], atol=1e-6)


def test_adamw_twin_still_decays_every_weight() -> None:
    weights = train(LazyAdamW(0.01, weight_decay=0.5), [[[3, 4], [4, 3]], [[6, 7], [7, 6]]])
    moved = set(np.flatnonzero(np.any(weights[2] != weights[1], axis=1)))
    assert moved == set(range(12))  # the decay shrinks all rows; the moments only 6 and 7


def test_config_key_chooses_the_lazy_twin_and_resumes_from_a_saved_model(tmp_path) -> None:
    config = load_config(None, ["train.optimizer=adam", "train.embedding_updates=lazy", "data.num_words=50"])
    model = compile_model(config, steps_per_epoch=4)
    assert type(model.optimizer) is LazyAdam
    model.train_on_batch(np.array([[1, 5, 6, 7]], dtype="int32"), np.array([1.0]))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert type(loaded.optimizer) is LazyAdam
    assert int(loaded.optimizer.iterations) == 1
    dense = compile_model(load_config(None, ["train.optimizer=adam"]), steps_per_epoch=4)
    assert type(dense.optimizer) is keras.optimizers.Adam


def test_lazy_updates_of_another_optimizer_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"expected train.optimizer adam or adamw, received 'rmsprop'"):
        make_optimizer("rmsprop", "lazy", learning_rate=1e-3)
