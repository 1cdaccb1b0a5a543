"""The mixed objective (training.objectives): the adversarial perturbation follows the loss gradient, the
unlabeled reviews never hold a test review, and every part trains end to end and shows in the history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import TINY_OVERRIDES, tiny_review, write
from imdb_rnn import models
from imdb_rnn.config import load_config
from imdb_rnn.data.aclimdb import UNLABELED, pretraining_texts
from imdb_rnn.data.splits import load_splits
from imdb_rnn.data.unlabeled import load_unlabeled
from imdb_rnn.errors import ConfigError
from imdb_rnn.training.objectives import perturbation
from imdb_rnn.training.recipe import train

UNLABELED_REVIEWS = 24


@pytest.fixture(scope="module")
def corpus_with_unlabeled(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny corpus plus `train/unsup`: 24 unlabeled reviews and one copy of a test review."""
    root = tmp_path_factory.mktemp("unlabeled") / "data"
    shutil.copytree(tiny_corpus, root)
    rng = np.random.default_rng(7)
    for number in range(UNLABELED_REVIEWS):
        write(root / "aclImdb" / "train" / "unsup" / f"{number}_0.txt", tiny_review(rng, number % 2))
    test_review = (root / "aclImdb" / "test" / "pos" / "3_8.txt").read_bytes()
    (root / "aclImdb" / "train" / "unsup" / f"{UNLABELED_REVIEWS}_0.txt").write_bytes(test_review)
    return root


def test_the_perturbation_follows_the_loss_gradient_on_the_words_only() -> None:
    keras.utils.set_random_seed(0)
    model = models.build_model("lstm", {"embedding_dim": 8, "units": 8, "pooling": "max_average"}, 100)
    embedding = model.get_layer("embedding")
    head = keras.Model(embedding.output, model.output)
    tokens = tf.constant(np.random.default_rng(0).integers(3, 100, size=(4, 12)).astype("int32"))
    tokens = tf.concat([tf.zeros((4, 3), tf.int32), tokens], axis=1)  # pre-padding: never perturbed
    labels = tf.constant([[0.0], [1.0], [1.0], [0.0]])
    embedded = embedding(tokens)
    loss = keras.losses.BinaryCrossentropy(reduction=None)

    with tf.GradientTape() as tape:
        tape.watch(embedded)
        clean = loss(labels, head(embedded))
        summed = tf.reduce_sum(clean)
    gradient = tape.gradient(summed, embedded)
    r = perturbation(gradient, embedded, tokens, 0.01)

    assert np.all(np.asarray(r)[:, :3] == 0)
    words = np.asarray(embedded)[:, 3:]
    np.testing.assert_allclose(
        np.linalg.norm(np.asarray(r).reshape(4, -1), axis=1),
        0.01 * np.linalg.norm(words.reshape(4, -1), axis=1),
        rtol=1e-4,
    )
    flat_r, flat_g = np.asarray(r)[:, 3:].reshape(4, -1), np.asarray(gradient)[:, 3:].reshape(4, -1)
    cosine = (flat_r * flat_g).sum(1) / np.linalg.norm(flat_r, axis=1) / np.linalg.norm(flat_g, axis=1)
    np.testing.assert_allclose(cosine, 1.0, rtol=1e-5)  # the gradient's direction, review by review
    adversarial = np.asarray(loss(labels, head(embedded + r)))
    random = perturbation(tf.random.normal(tf.shape(embedded), seed=1), embedded, tokens, 0.01)
    assert np.all(adversarial > np.asarray(clean))  # it raises every review's loss
    assert np.all(
        adversarial - np.asarray(clean) > np.asarray(loss(labels, head(embedded + random))) - np.asarray(clean)
    )


def test_an_adversarial_step_descends_the_clean_loss_plus_the_loss_at_the_perturbed_embeddings() -> None:
    """One training step with `train.adversarial` moves every weight (the embedding's rows included) by the
    gradient of clean loss + loss at `embedded + r`, r from the clean loss's gradient and held constant."""
    from imdb_rnn.training.objectives import MixedObjective, attach

    keras.utils.set_random_seed(0)
    model = models.build_model("lstm", {"embedding_dim": 8, "units": 8, "pooling": "max_average"}, 50)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="binary_crossentropy")
    tokens = tf.constant(np.random.default_rng(1).integers(3, 50, size=(4, 10)).astype("int32"))
    tokens = tf.concat([tf.zeros((4, 2), tf.int32), tokens], axis=1)
    labels = tf.constant([[1.0], [0.0], [1.0], [0.0]])
    before = [np.array(weight) for weight in model.trainable_weights]

    embedding = model.get_layer("embedding")
    head = keras.Model(embedding.output, model.output)
    loss = keras.losses.BinaryCrossentropy()
    with tf.GradientTape() as tape:  # the reference: both losses in one tape
        embedded = embedding(tokens)
        mask = embedding.compute_mask(tokens)
        with tf.GradientTape() as probe:
            probe.watch(embedded)
            clean = loss(labels, head(embedded, mask=mask))
        r = perturbation(probe.gradient(clean, embedded), embedded, tokens, 0.05)
        total = clean + loss(labels, head(embedded + r, mask=mask))
    gradients = [tf.convert_to_tensor(g) for g in tape.gradient(total, model.trainable_weights)]

    attach(model, MixedObjective(adversarial=0.05))
    logs = model.train_step((tokens, labels))
    assert float(logs["adversarial_loss"]) > 0
    for weight, start, gradient in zip(model.trainable_weights, before, gradients, strict=True):
        np.testing.assert_allclose(np.array(weight), start - 0.5 * np.array(gradient), rtol=1e-4, atol=1e-6)
    assert np.any(np.array(model.get_layer("embedding").embeddings) != before[0])  # the embedding moved too


def test_the_unlabeled_reviews_hold_no_test_review(corpus_with_unlabeled: Path) -> None:
    members = [member for member, _ in pretraining_texts(corpus_with_unlabeled / "aclImdb", UNLABELED)]
    assert len(members) == UNLABELED_REVIEWS and all("/unsup/" in member for member in members)
    config = load_config("lstm", [*TINY_OVERRIDES, f"data.path={corpus_with_unlabeled}", "data.maxlen=64"])
    unlabeled, splits = load_unlabeled(config.data), load_splits(config.data)
    assert len(unlabeled) == UNLABELED_REVIEWS
    test_reviews = {tuple(row[row > 0]) for row in splits.test.x}
    assert not any(tuple(row[row > 0]) in test_reviews for row in unlabeled.x)


@pytest.mark.parametrize("config", ["gru", "cnn"])  # a recurrent model, and the convolution that keeps its mask
def test_each_part_of_the_mixed_objective_trains_and_shows_in_the_history(
    config: str, corpus_with_unlabeled: Path, tmp_path: Path
) -> None:
    tiny = [item.replace("model.units=", "model.filters=") if config == "cnn" else item for item in TINY_OVERRIDES]
    overrides = [*tiny, f"data.path={corpus_with_unlabeled}", "train.epochs=2"]
    overrides += ["train.adversarial=0.05", "train.virtual_adversarial=0.05", "train.entropy_minimisation=0.5"]
    run = train(load_config(config, overrides), tmp_path, verbose=0)
    history = json.loads((run / "history.json").read_text())
    for key in ("adversarial_loss", "virtual_adversarial_loss", "entropy"):
        assert len(history[key]) == 2 and all(np.isfinite(history[key])), key
    assert "val_adversarial_loss" not in history  # validation is Keras's own
    # The loss is the labeled loss plus each part: more than the adversarial loss alone.
    assert all(total > adversarial for total, adversarial in zip(history["loss"], history["adversarial_loss"]))
    saved = keras.models.load_model(run / "model.keras")
    assert type(saved).__name__ == "Functional"  # a plain classifier: the objective is training's alone
    assert json.loads((run / "metrics.json").read_text())["test_accuracy"] is not None


@pytest.mark.parametrize(
    "overrides, words",
    [
        (
            ["data.source=csv", "data.path=x.csv", "train.virtual_adversarial=0.1"],
            "expected data.source auto or aclimdb",
        ),
        (["model.architecture=nbsvm", "train.adversarial=0.1"], "expected an architecture with an embedding"),
        (["train.distribution=mirrored", "data.bucketing=false", "train.adversarial=0.1"], "train.distribution: none"),
        (["train.adversarial=-1"], "train.adversarial"),
    ],
)
def test_combinations_the_mixed_objective_cannot_train_are_refused(overrides: list[str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_config("baseline_nbsvm" if "model.architecture=nbsvm" in overrides else "lstm", overrides)
