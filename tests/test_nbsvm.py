"""The NBSVM yardstick: hashed n-gram ids of every order, each review's set of features, naive-Bayes
ratios counted from the training reviews alone before the first epoch, and learning."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from imdb_rnn import models
from imdb_rnn.config import load_config
from imdb_rnn.data.splits import Split
from imdb_rnn.models.linear import HASH_MULTIPLIER, DistinctIds, HashedNgrams, NaiveBayesLogits
from imdb_rnn.training.recipe import train
from test_train import synthetic_splits

VOCABULARY, BUCKETS = 100, 1_000


def test_ngram_ids_fold_each_word_into_the_hash_and_skip_padding() -> None:
    layer = HashedNgrams(VOCABULARY, BUCKETS, order=3)
    ids = np.asarray(layer(np.array([[0, 5, 7, 9]], dtype="int32")))
    assert ids.shape == (1, 3 + 2) and ids.dtype == np.int32
    bigram = (5 * HASH_MULTIPLIER + 7) % BUCKETS
    trigram = (((5 * HASH_MULTIPLIER + 7) % BUCKETS) * HASH_MULTIPLIER + 9) % BUCKETS
    second_bigram = (7 * HASH_MULTIPLIER + 9) % BUCKETS
    # Bigrams (0 5) (5 7) (7 9), then trigrams (0 5 7) (5 7 9); any touching padding is 0.
    assert ids[0].tolist() == [0, VOCABULARY + bigram, VOCABULARY + second_bigram, 0, VOCABULARY + trigram]
    # The bag of bigrams' layer is the order-2 case, id for id (its saved models keep loading).
    tokens = np.random.default_rng(0).integers(0, VOCABULARY, size=(4, 12)).astype("int32")
    np.testing.assert_array_equal(
        np.asarray(models.HashedBigrams(VOCABULARY, BUCKETS)(tokens)),
        np.asarray(HashedNgrams(VOCABULARY, BUCKETS, order=2)(tokens)),
    )


def test_distinct_ids_keep_each_feature_once() -> None:
    ids = np.asarray(DistinctIds()(np.array([[7, 3, 7, 0, 3, 9], [1, 1, 1, 1, 1, 1]], dtype="int32")))
    assert sorted(ids[0].tolist()) == [0, 0, 0, 3, 7, 9]
    assert sorted(ids[1].tolist()) == [0, 0, 0, 0, 0, 1]


def test_ratios_are_naive_bayes_log_count_ratios_of_the_reviews_holding_each_feature() -> None:
    layer = NaiveBayesLogits(rows=4)
    layer.build((None, None))
    # Feature 1 in both positive reviews, feature 2 in the negative one, feature 3 in all three.
    ids = np.array([[1, 3, 0], [1, 3, 0], [2, 3, 0]], dtype="int32")
    layer.count_from([(ids[:2], np.array([1, 1])), (ids[2:], np.array([0]))])
    p = 1 + np.array([0, 2, 0, 2])  # smoothing 1; id 0 is no feature
    q = 1 + np.array([0, 0, 1, 1])
    p[0] = q[0] = 1
    expected = np.log(p / p.sum()) - np.log(q / q.sum())
    expected[0] = 0
    np.testing.assert_allclose(np.asarray(layer.ratios)[:, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("order", [1, 3])
def test_padding_changes_nothing_and_the_saved_model_predicts_the_same(tmp_path: Path, order: int) -> None:
    model = models.build_model("nbsvm", {"buckets": BUCKETS, "order": order}, VOCABULARY)
    layer = model.get_layer("naive_bayes")
    layer.ratios.assign(np.random.default_rng(1).normal(size=layer.ratios.shape).astype("float32"))
    layer.feature_weights.assign(np.random.default_rng(2).normal(size=layer.ratios.shape).astype("float32"))
    review = [1, 14, 15, 92, 6, 6, 33, 14, 15, 92]  # repeated n-grams count once
    short = np.array([[0] * 3 + review], dtype="int32")
    long = np.array([[0] * 23 + review], dtype="int32")
    np.testing.assert_allclose(model.predict(short, verbose=0), model.predict(long, verbose=0), rtol=1e-6)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(model.predict(long, verbose=0), loaded.predict(long, verbose=0))


def test_the_synthetic_task_is_learned_from_ratios_of_the_training_reviews_only(tmp_path: Path) -> None:
    splits = synthetic_splits(1600, 0, 30)
    overrides = ["data.maxlen=30", "data.num_words=50", "train.epochs=4"]
    overrides += ["model.buckets=512", "train.learning_rate=0.01"]
    config = load_config("baseline_nbsvm", overrides)
    run = train(config, tmp_path, splits=splits, verbose=0)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9, metrics

    def counted(*parts: Split) -> np.ndarray:
        fresh = models.build_model("nbsvm", config.model.params, 50)
        tokens = np.concatenate([part.x for part in parts])
        labels = np.concatenate([part.y for part in parts])
        models.count_statistics(fresh, [(tokens, labels)])
        return np.asarray(fresh.get_layer("naive_bayes").ratios)

    trained = np.asarray(keras.models.load_model(run / "model.keras").get_layer("naive_bayes").ratios)
    np.testing.assert_allclose(trained, counted(splits.train), rtol=1e-5, atol=1e-6)
    assert not np.allclose(trained, counted(splits.train, splits.test), atol=1e-3)
