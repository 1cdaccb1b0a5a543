"""The region embedding (Johnson & Zhang 2015's tv-embedding, `imdb-rnn pretrain --config region`): a run like
any other pretraining, read only from training and unlabeled reviews, whose neighbours are the right words,
and which the `cnn` then reads frozen beside its own convolution, the mixed objective included. Tiny
corpora, seconds."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import TINY_NUM_WORDS, TINY_OVERRIDES
from imdb_rnn import models
from imdb_rnn.config import load_config
from imdb_rnn.config.pretraining import load_pretrain_config
from imdb_rnn.errors import ConfigError
from imdb_rnn.files import read_json
from imdb_rnn.pretraining.regions import NeighbourLogits, load_regions, negative_table, neighbour_offsets
from imdb_rnn.pretraining.runs import pretrain
from imdb_rnn.pretraining.word_vectors import load_vectors
from test_language_model import interrupted_pretraining_resumes
from test_objectives import UNLABELED_REVIEWS, corpus_with_unlabeled  # noqa: F401 (a fixture)

TINY_REGION = [
    f"corpus.num_words={TINY_NUM_WORDS}",
    "region.word_vectors=null",
    "region.embedding_dim=8",
    "region.units=6",
    "region.region_size=3",
    "region.context=2",
    "region.negatives=8",
    "region.sequence_length=16",
    "region.batch_size=16",
    "region.epochs=2",
    "region.validation_share=0.1",
]
# the tiny cnn that reads it: the tiny classifier's sizes, 16 maps, and the region embedding's shape
TINY_PLAIN_CNN = [item.replace("model.units=", "model.filters=") for item in TINY_OVERRIDES]
TINY_CNN = [*TINY_PLAIN_CNN, "model.region_units=6", "model.region_size=3"]


@pytest.fixture(scope="module")
def tiny_regions(corpus_with_unlabeled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    config = load_pretrain_config("region", [f"corpus.path={corpus_with_unlabeled}", *TINY_REGION])
    folder, _ = pretrain(config, tmp_path_factory.mktemp("regions"), out=str)
    return folder


def test_the_region_embedding_is_a_run_of_the_training_and_unlabeled_reviews(tiny_regions: Path) -> None:
    for name in ("config.yaml", "status.json", "history.csv", "model.keras", "vectors.npz", "regions.npz"):
        assert (tiny_regions / name).is_file(), name
    metrics = read_json(tiny_regions / "metrics.json")
    assert metrics["method"] == "region" and metrics["epochs_run"] == 2
    # 160 training and 24 unlabeled reviews; the unlabeled copy of a test review is left out
    assert metrics["corpus"]["reviews"] == 160 + UNLABELED_REVIEWS
    regions = load_regions(tiny_regions)
    assert load_vectors(tiny_regions).shape == (TINY_NUM_WORDS, 8)
    assert regions["kernel"].shape == (3, 8, 6) and regions["bias"].shape == (6,)


def test_each_region_scores_its_own_neighbours_and_words_drawn_by_frequency() -> None:
    # A region of 3 words at t reads t-1..t+1; with context 2 its neighbours are t-2, t-3 and t+2, t+3.
    assert neighbour_offsets(3, 2) == [-2, -3, 2, 3]
    assert neighbour_offsets(4, 1) == [-2, 3]  # an even region reads t-1..t+2
    layer = NeighbourLogits(num_words=10, region_size=3, context=2, negatives=5)
    tokens = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9]], dtype="int32")
    regions = np.random.default_rng(0).normal(size=(1, 9, 4)).astype("float32")
    layer.build([regions.shape, tokens.shape])
    vectors = np.random.default_rng(1).normal(size=(10, 4)).astype("float32")
    layer.context_vectors.assign(vectors)
    layer.table.assign(negative_table(np.array([7, 7, 7, 0, 0]), 10))  # only word 7 occurs (padding is never drawn)
    logits = np.asarray(layer([regions, tokens]))
    assert logits.shape == (1, 9 - 3 - 3, 4 + 5)  # positions 3, 4, 5: their neighbours lie in the window
    for row, t in enumerate(range(3, 6)):
        expected = [regions[0, t] @ vectors[tokens[0, t + offset]] for offset in (-2, -3, 2, 3)]
        np.testing.assert_allclose(logits[0, row, :4], expected, rtol=1e-5)
        np.testing.assert_allclose(logits[0, row, 4:], regions[0, t] @ vectors[7], rtol=1e-5)  # drawn: 7 only


def test_negatives_are_drawn_in_proportion_to_count_to_the_three_quarters() -> None:
    table = negative_table(np.array([1] * 16 + [2] * 1 + [0] * 50), 4, size=9000)
    assert set(np.unique(table)) == {1, 2}  # never padding (0), never a word that does not occur (3)
    assert (table == 1).sum() / (table == 2).sum() == pytest.approx(16**0.75, rel=1e-3)


@pytest.mark.parametrize(
    "config, shape",
    [
        ("cnn", TINY_CNN),
        ("cnn", [*TINY_CNN, "model.regions=bag"]),  # its own embedding is a region's maps wide, at random
        ("lstm", [*TINY_OVERRIDES, "model.mask_zero=true", "model.region_units=6", "model.region_size=3"]),
    ],
)
def test_a_classifier_reads_the_region_embedding_frozen_and_trains_with_the_mixed_objective(
    config: str,
    shape: list[str],
    tiny_regions: Path,
    corpus_with_unlabeled: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from imdb_rnn.training.recipe import train

    overrides = [*shape, f"data.path={corpus_with_unlabeled}", f"model.pretrained={tiny_regions}", "train.epochs=2"]
    overrides += ["train.adversarial=0.05", "train.virtual_adversarial=0.05", "train.entropy_minimisation=0.5"]
    run = train(load_config(config, overrides), tmp_path, verbose=0)
    model = keras.models.load_model(run / "model.keras")
    regions = load_regions(tiny_regions)
    np.testing.assert_array_equal(model.get_layer("region_words").get_weights()[0], load_vectors(tiny_regions))
    if "model.regions=bag" in shape:
        assert model.get_layer("embedding").output_dim == model.get_layer("region_weights").units
    kernel, bias = model.get_layer("region_embedding").get_weights()
    np.testing.assert_array_equal(kernel, regions["kernel"])
    np.testing.assert_array_equal(bias, regions["bias"])
    history = read_json(run / "history.json")
    assert len(history["adversarial_loss"]) == 2 and all(np.isfinite(history["virtual_adversarial_loss"]))
    # padding changes no output: the region embedding keeps the mask too
    tokens = np.array([[5, 6, 7, 8, 9, 10]], dtype="int32")
    padded = np.concatenate([tokens, np.zeros((1, 7), dtype="int32")], axis=1)
    np.testing.assert_allclose(model(padded), model(tokens), atol=1e-6)


def test_your_own_words_read_the_region_embedding_rows_of_the_same_words(
    tiny_regions: Path,
    corpus_with_unlabeled: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    import csv
    import json

    from conftest import tiny_test_texts
    from imdb_rnn.runs import Run
    from imdb_rnn.training.recipe import train

    texts = tiny_test_texts(corpus_with_unlabeled)
    with open(tmp_path / "reviews.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("text", "label"), *((t, i % 2) for i, t in enumerate(texts * 2))])
    overrides = [*TINY_CNN, "data.source=csv", f"data.path={tmp_path / 'reviews.csv'}", "train.epochs=1"]
    run = train(load_config("cnn", [*overrides, f"model.pretrained={tiny_regions}"]), tmp_path / "runs", verbose=0)
    rows = Run(run).model.get_layer("region_words").get_weights()[0]
    ours = json.loads((run / "vocabulary.json").read_text(encoding="utf-8"))["words"]
    keras_index = json.loads((corpus_with_unlabeled / "imdb_word_index.json").read_text(encoding="utf-8"))
    pretrained = load_vectors(tiny_regions)
    shared = [w for w in ours if ours[w] + 3 < len(rows) and keras_index.get(w, 10**9) + 3 < len(pretrained)]
    assert len(shared) >= 5 and any(ours[w] != keras_index[w] for w in shared), "the ranks should differ"
    for word in shared:
        np.testing.assert_array_equal(rows[ours[word] + 3], pretrained[keras_index[word] + 3], err_msg=word)


@pytest.mark.parametrize(
    "architecture", ["lstm", "gru", "simple_rnn", "stacked", "bidirectional", "dropout", "cnn_lstm"]
)
def test_a_recurrent_layer_reads_each_word_beside_its_region_embedding(architecture: str) -> None:
    params = {"embedding_dim": 4, "units": 5, "region_units": 3, "region_size": 5}
    model = models.build_model(architecture, params, 100)
    assert not model.get_layer("region_words").trainable and not model.get_layer("region_embedding").trainable
    joined = model.get_layer("with_region_embedding")
    assert joined.output.shape[-1] == 4 + 3
    assert [tensor.shape[-1] for tensor in joined.input] == [4, 3]
    plain = models.build_model(architecture, {"embedding_dim": 4, "units": 5}, 100)
    assert not {"region_words", "with_region_embedding"} & {layer.name for layer in plain.layers}
    # what the recurrent layer reads moves with the region embedding
    tokens = np.array([[5, 6, 7, 8, 9, 10]], dtype="int32")
    before = keras.ops.convert_to_numpy(model(tokens))
    kernel, bias = model.get_layer("region_embedding").get_weights()
    model.get_layer("region_embedding").set_weights([kernel, bias + 1.0])
    assert not np.allclose(keras.ops.convert_to_numpy(model(tokens)), before)


def test_the_region_embedding_adds_to_the_convolution_before_its_relu() -> None:
    params = {"embedding_dim": 4, "filters": 6, "region_units": 3, "region_size": 5}
    model = models.build_model("cnn", params, 100)
    assert not model.get_layer("region_words").trainable and not model.get_layer("region_embedding").trainable
    assert model.get_layer("regions").activation.__name__ == "linear"
    plain = models.build_model("cnn", {"embedding_dim": 4, "filters": 6}, 100)
    assert plain.get_layer("regions").activation.__name__ == "relu"
    assert "region_words" not in [layer.name for layer in plain.layers]


@pytest.mark.parametrize(
    "config, overrides, words",
    [
        ("cnn", ["model.region_units=6"], "expected model.pretrained naming a region pretraining"),
        (
            "cnn",
            ["model.region_units=7", "model.region_size=3"],
            "expected model.region_units=6 and model.region_size=3",
        ),
        ("cnn", [], "received region_units=0, region_size=5"),  # a region pretraining, but no region_units
        ("lstm", [], "received region_units=0, region_size=5"),
        ("baseline_bigrams", [], "received architecture bag_of_ngrams .no region embedding"),
    ],
)
def test_a_region_embedding_that_does_not_fit_is_refused(
    config: str, overrides: list[str], words: str, tiny_regions: Path
) -> None:
    start = [] if overrides == ["model.region_units=6"] else [f"model.pretrained={tiny_regions}"]
    with pytest.raises(ConfigError, match=words):
        tiny = {
            "cnn": TINY_PLAIN_CNN,
            "lstm": TINY_OVERRIDES,
            "baseline_bigrams": [f"data.num_words={TINY_NUM_WORDS}", "model.embedding_dim=8"],
        }
        load_config(config, [*tiny[config], *start, *overrides])


def test_an_interrupted_region_embedding_resumes_from_its_last_epoch(
    corpus_with_unlabeled: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
) -> None:
    overrides = [f"corpus.path={corpus_with_unlabeled}", *TINY_REGION]
    folder = interrupted_pretraining_resumes("region", overrides, tmp_path, monkeypatch, capsys)
    assert (folder / "regions.npz").is_file()
