"""The bag-of-ngrams yardstick: hashed bigram ids, padding masked out, saved and loaded whole, and learning."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from imdb_rnn import models
from imdb_rnn.config import load_config
from imdb_rnn.training.recipe import train
from test_train import synthetic_splits

VOCABULARY, BUCKETS = 100, 1_000


def bigram_ids(tokens: list[list[int]]) -> np.ndarray:
    layer = models.HashedBigrams(VOCABULARY, BUCKETS)
    return np.asarray(layer(np.array(tokens, dtype="int32")))


def test_bigram_ids_follow_word_order_and_skip_padding() -> None:
    ids = bigram_ids([[0, 0, 5, 7, 9], [0, 7, 5, 0, 3]])
    assert ids.shape == (2, 4) and ids.dtype == np.int32
    assert ids[0, 0] == ids[0, 1] == 0  # (pad, pad) and (pad, first word): no bigram
    assert ids[0, 2] == VOCABULARY + (5 * 1_000_003 + 7) % BUCKETS  # (5, 7)
    assert ids[1, 1] == VOCABULARY + (7 * 1_000_003 + 5) % BUCKETS != ids[0, 2]  # (7, 5) is another bigram
    assert ids[1, 2] == ids[1, 3] == 0  # either side is padding
    assert np.all((ids == 0) | ((ids >= VOCABULARY) & (ids < VOCABULARY + BUCKETS)))  # never a word's id


def test_padding_changes_nothing_and_the_saved_model_predicts_the_same(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = models.build_model("bag_of_ngrams", {"embedding_dim": 8, "bigram_buckets": BUCKETS}, VOCABULARY)
    review = [1, 14, 15, 92, 6, 6, 33]
    short = np.array([[0] * 3 + review], dtype="int32")
    long = np.array([[0] * 23 + review], dtype="int32")
    np.testing.assert_allclose(model.predict(short, verbose=0), model.predict(long, verbose=0), rtol=1e-6)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(model.predict(long, verbose=0), loaded.predict(long, verbose=0))


def test_the_synthetic_task_is_learned(tmp_path: Path) -> None:
    overrides = ["data.maxlen=30", "data.num_words=50", "train.epochs=8", "train.batch_size=32"]
    overrides += ["model.bigram_buckets=512", "train.learning_rate=0.01"]
    run = train(load_config("baseline_bigrams", overrides), tmp_path, splits=synthetic_splits(1600, 0, 30), verbose=0)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9, metrics  # three class words among ~30 neutral ones: a bag of words suffices
