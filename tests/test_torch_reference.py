"""Way (r) of the benchmark: the seed LSTM recipe in plain PyTorch is the same model as Keras's, and learns."""

from __future__ import annotations

import numpy as np
import pytest

from imdb_rnn.config import load_config
from imdb_rnn.data.splits import Split, Splits
from imdb_rnn.reports.benchmark import plain_keras_model
from imdb_rnn.reports.torch_reference import native_pytorch, reference_fits, torch_model

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install -e '.[torch]'; CI installs it)")


def seed_lstm(*overrides: str):
    return load_config(None, ["data.num_words=40", *overrides], name="seed-lstm")


def test_the_pytorch_twin_computes_what_the_keras_model_computes() -> None:
    config = seed_lstm()
    keras_model = plain_keras_model(config)
    tokens = np.random.default_rng(0).integers(0, 40, size=(5, 17)).astype("int32")
    expected = np.asarray(keras_model(tokens)).ravel()
    with torch.inference_mode():
        found = torch.sigmoid(torch_model(keras_model)(torch.from_numpy(tokens.astype(np.int64)))).numpy()
    np.testing.assert_allclose(found, expected, atol=1e-5)


def test_only_the_recipes_it_writes_fit() -> None:
    assert reference_fits(seed_lstm())
    assert not reference_fits(seed_lstm("train.optimizer=adam"))
    assert not reference_fits(seed_lstm("model.pooling=max_average"))
    assert not reference_fits(load_config("cnn_lstm", []))


def learnable(count: int, seed: int) -> Split:
    """Reviews of 12 ids: positive ones hold id 5 somewhere, negative ones id 6 (ids 7-39 are noise)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(7, 40, size=(count, 12)).astype("int32")
    y = (np.arange(count) % 2).astype("float32")
    x[np.arange(count), rng.integers(0, 12, size=count)] = np.where(y > 0, 5, 6)
    return Split(x, y, np.full(count, 12, dtype="int32"))


def test_it_trains_times_each_epoch_and_tests_the_best_one() -> None:
    config = seed_lstm("train.epochs=4", "train.batch_size=32", "train.learning_rate=0.01")
    splits = Splits(learnable(512, 1), learnable(128, 2), learnable(256, 3), source="keras", location="synthetic")
    seconds, accuracy = native_pytorch(plain_keras_model(config), config, splits)
    assert len(seconds) == 4 and all(second > 0 for second in seconds)
    assert accuracy > 0.9  # a guess is 0.5: the twin learns which id decides
