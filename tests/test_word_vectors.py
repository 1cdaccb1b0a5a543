"""Word-vector pretraining (issue 12, item 2): `imdb-rnn pretrain`, its run folder and its reuse, the
alignment with the Keras word index, and classifiers that start from the vectors (frozen, trainable,
unfrozen after N epochs). Everything runs on corpora the tests write, in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_NUM_WORDS, TINY_OVERRIDES, run_command, tiny_test_texts, write, write_tiny_corpus
from imdb_rnn.config import load_config
from imdb_rnn.config.pretraining import load_pretrain_config
from imdb_rnn.errors import ConfigError
from imdb_rnn.files import read_json
from imdb_rnn.pretraining.runs import pretrain
from imdb_rnn.pretraining.word_vectors import VECTORS_FILE, aligned_vectors, load_vectors

SENTINEL = "zzsentinelzz"  # written into every test review only: it must not get a vector
TINY_VECTORS = ["word2vec.vector_size=8", "word2vec.min_count=1", "word2vec.window=3", "word2vec.epochs=3"]


def sentinel_corpus(root: Path) -> Path:
    """The tiny corpus, with unlabeled reviews, test reviews that all contain `SENTINEL`, and `SENTINEL`
    in the word index (rank 2), so a leak could only be the test reviews' doing."""
    write_tiny_corpus(root, train=20, test=10)
    for number in range(10):
        write(root / "aclImdb" / "train" / "unsup" / f"{number}_0.txt", "the film was a story of this plot")
    for file in (root / "aclImdb" / "test").rglob("*.txt"):
        file.write_text(f"{SENTINEL} {SENTINEL} " + file.read_text(encoding="utf-8"), encoding="utf-8")
    index = json.loads((root / "imdb_word_index.json").read_text(encoding="utf-8"))
    ranks = {word: rank + 1 if rank >= 2 else rank for word, rank in index.items()}
    write(root / "imdb_word_index.json", json.dumps({**ranks, SENTINEL: 2}))
    return root


@pytest.fixture(scope="module")
def tiny_vectors(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Vectors for `tiny_corpus` that fit the tiny classifier (8 dimensions, `TINY_NUM_WORDS` rows)."""
    overrides = [f"corpus.path={tiny_corpus}", f"corpus.num_words={TINY_NUM_WORDS}", *TINY_VECTORS]
    folder, _ = pretrain(load_pretrain_config("word2vec", overrides), tmp_path_factory.mktemp("vectors"), out=str)
    return folder


def test_pretraining_never_gives_a_test_review_word_a_vector(tmp_path: Path, capsys) -> None:
    corpus = sentinel_corpus(tmp_path / "data")
    output = tmp_path / "outputs"
    argv = ["--config", "word2vec", "--output-dir", str(output), "--set", f"corpus.path={corpus}"]
    argv += ["--set", "corpus.num_words=40", *(item for key in TINY_VECTORS for item in ("--set", key))]
    assert run_command("pretrain", argv) == 0
    (folder,) = (output / "pretrain").iterdir()
    with np.load(folder / VECTORS_FILE) as content:
        vectors, trained = content["vectors"], content["trained"]
    assert vectors.shape == (40, 8) and vectors.dtype == np.float32
    sentinel_row = 2 + 3
    assert not trained[sentinel_row], "a word found only in test reviews got a trained vector"
    assert trained[1 + 3], "the most frequent word ('the') should have a trained vector"
    metrics = read_json(folder / "metrics.json")
    assert metrics["corpus"]["reviews"] == 20 * 2 + 10  # training + unlabeled reviews, no test review
    assert metrics["rows_trained"] == int(trained.sum())
    assert "boring" in metrics["neighbours"] and len(metrics["neighbours"]["boring"]) == 8
    assert "| boring |" in (folder / "neighbours.md").read_text(encoding="utf-8")
    assert set(json.dumps(metrics)) and SENTINEL not in json.dumps(metrics)
    assert "Pretraining folder:" in capsys.readouterr().out


def test_the_same_config_reuses_its_folder_and_force_trains_again(
    tiny_corpus: Path, tiny_vectors: Path, capsys
) -> None:
    output = tiny_vectors.parent.parent
    tiny = [f"corpus.path={tiny_corpus}"]
    argv = ["--config", "word2vec", "--output-dir", str(output)]
    for key in [f"corpus.num_words={TINY_NUM_WORDS}", *TINY_VECTORS]:
        argv += ["--set", key]
    assert run_command("pretrain", [*argv, "--set", tiny[0]]) == 0
    assert f"Reusing {tiny_vectors}" in capsys.readouterr().out
    assert run_command("pretrain", [*argv, "--set", "word2vec.epochs=4", "--set", tiny[0]]) == 0
    assert len(list((output / "pretrain").iterdir())) == 2  # another config: another folder
    assert run_command("pretrain", [*argv, "--set", tiny[0], "--force"]) == 0
    assert len(list((output / "pretrain").iterdir())) == 3


def test_vectors_are_aligned_with_the_keras_word_index() -> None:
    from gensim.models import KeyedVectors

    keyed = KeyedVectors(vector_size=2)
    keyed.add_vectors(["good", "bad", "unranked"], np.array([[1, 0], [0, 1], [5, 5]], dtype=np.float32))
    vectors, trained = aligned_vectors(keyed, {"good": 1, "bad": 3, "rare": 2, "far": 50}, num_words=8, seed=0)
    assert vectors.shape == (8, 2)
    np.testing.assert_array_equal(vectors[1 + 3], [1, 0])  # rank 1 → id 4, as keras.datasets.imdb
    np.testing.assert_array_equal(vectors[3 + 3], [0, 1])
    assert trained.tolist() == [False, False, False, False, True, False, True, False]
    assert np.all(np.abs(vectors[~trained]) < 5 * vectors[trained].std() + 1e-6)  # random rows, the trained scale


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["word2vec.vector_sise=8"], r"unknown key `word2vec.vector_sise` \(did you mean `word2vec.vector_size`\?\)"),
        (["word2vec.window=0"], r"word2vec.window.*expected an integer >= 1, received 0"),
        (["corpus.num_words=two"], r"corpus.num_words.*expected an integer >= 4, received 'two'"),
        (["glove.epochs=2"], r"unknown key `glove`.*expected one of corpus, word2vec"),
    ],
)
def test_bad_pretraining_config_values_are_named(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_pretrain_config("word2vec", overrides)


def test_a_pretraining_config_without_a_method_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "corpus_only.yaml", "corpus:\n  num_words: 100\n")
    with pytest.raises(ConfigError, match=r"corpus_only.yaml: a pretraining config needs one method: expected one"):
        load_pretrain_config(path)


def test_a_method_section_without_keys_takes_every_default(tmp_path: Path) -> None:
    config = load_pretrain_config(write(tmp_path / "plain.yaml", "word2vec:\n"))
    assert config.method == "word2vec" and config.settings.vector_size == 64 and config.corpus.num_words == 30_000


def test_a_pretraining_config_is_not_a_classifier_config() -> None:
    with pytest.raises(ConfigError, match=r"config file not found"):
        load_config("word2vec")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.pretrained=word2vecc"], r"model.pretrained.*expected a pretraining run folder or a pretraining"),
        (
            ["model.pretrained=word2vec", "model.embedding_dim=32"],
            r"expected model.embedding_dim=64 .*received embedding_dim=32",
        ),
        (
            ["model.pretrained=word2vec", "data.num_words=40000"],
            r"expected data.num_words <= 30000 .*received num_words=40000",
        ),
        (
            ["model.pretrained=word2vec", "model.unfreeze_after=2"],
            r"expected model.pretrained_trainable: false with it",
        ),
        (
            ["model.pretrained=word2vec", "model.pretrained_trainable=false", "model.unfreeze_after=10"],
            r"fewer than train.epochs=10",
        ),
        (["model.pretrained_trainable=maybe"], r"model.pretrained_trainable.*expected true or false"),
    ],
)
def test_pretrained_embedding_keys_are_checked_together(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config("lstm", overrides)


def test_a_folder_that_is_not_a_pretraining_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"expected a pretraining run folder .* received the folder"):
        load_config("lstm", [f"model.pretrained={tmp_path}"])


def embedding_after(tiny_corpus: Path, tiny_vectors: Path, tmp_path: Path, extra: list[str]) -> tuple[Path, np.ndarray]:
    from imdb_rnn.runs import Run
    from imdb_rnn.training.recipe import train

    overrides = [*TINY_OVERRIDES, f"data.path={tiny_corpus}", f"model.pretrained={tiny_vectors}", *extra]
    run = train(load_config("lstm", overrides), tmp_path, verbose=0)
    return run, Run(run).model.get_layer("embedding").get_weights()[0]


def test_a_frozen_pretrained_embedding_keeps_the_vectors(tiny_corpus: Path, tiny_vectors: Path, tmp_path: Path) -> None:
    extra = ["model.pretrained_trainable=false", "train.epochs=2"]
    run, embedding = embedding_after(tiny_corpus, tiny_vectors, tmp_path, extra)
    np.testing.assert_array_equal(embedding, load_vectors(tiny_vectors))
    assert load_config(run / "config.yaml").model.pretrained == str(tiny_vectors)  # the folder it started from


def test_a_trainable_pretrained_embedding_starts_from_the_vectors(
    tiny_corpus: Path, tiny_vectors: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imdb_rnn.training.callbacks import EpochTimer

    at_start = []
    real = EpochTimer.on_epoch_begin

    def record(self, epoch: int, logs=None) -> None:
        if epoch == 0:
            at_start.append(self.model.get_layer("embedding").get_weights()[0].copy())
        real(self, epoch, logs)

    monkeypatch.setattr(EpochTimer, "on_epoch_begin", record)
    _, embedding = embedding_after(tiny_corpus, tiny_vectors, tmp_path, ["train.epochs=2"])
    vectors = load_vectors(tiny_vectors)
    np.testing.assert_array_equal(at_start[0], vectors)  # the first step starts from the vectors
    assert not np.allclose(embedding, vectors)  # and training moved them


def test_unfreezing_trains_the_embedding_from_the_chosen_epoch(
    tiny_corpus: Path, tiny_vectors: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imdb_rnn.training.pretrained import UnfreezePretrained

    at_epoch_begin = {}
    real = UnfreezePretrained.on_epoch_begin

    def record(self, epoch: int, logs=None) -> None:
        real(self, epoch, logs)
        layer = self.model.get_layer("embedding")
        at_epoch_begin[epoch] = (layer.trainable, layer.get_weights()[0].copy())

    monkeypatch.setattr(UnfreezePretrained, "on_epoch_begin", record)
    extra = ["model.pretrained_trainable=false", "model.unfreeze_after=2", "train.epochs=4"]
    _, embedding = embedding_after(tiny_corpus, tiny_vectors, tmp_path, extra)
    vectors = load_vectors(tiny_vectors)
    assert [at_epoch_begin[epoch][0] for epoch in range(4)] == [False, False, True, True]
    np.testing.assert_array_equal(at_epoch_begin[2][1], vectors)  # frozen through epochs 1 and 2
    assert not np.allclose(at_epoch_begin[3][1], vectors)  # trained in epoch 3


@pytest.mark.slow
def test_vectors_of_the_real_reviews_put_sentiment_words_together(real_data: Path, tmp_path: Path) -> None:
    """On the first 10,000 pretraining reviews of the real archive (a few seconds of Word2Vec), the
    neighbours of "awful" and "excellent" are words of the same sentiment."""
    folder, _ = pretrain(load_pretrain_config("word2vec", ["corpus.limit=10000"]), tmp_path, out=str)
    near = {
        word: [other for other, _ in pairs] for word, pairs in read_json(folder / "metrics.json")["neighbours"].items()
    }
    assert {"terrible", "horrible", "dreadful", "atrocious", "horrid", "horrendous"} & set(near["awful"])
    assert {"outstanding", "superb", "exceptional", "terrific", "fantastic", "brilliant"} & set(near["excellent"])


def test_matching_rows_find_each_own_word_in_the_keras_index() -> None:
    from imdb_rnn.training.pretrained import matching_rows

    ours, theirs = matching_rows({"film": 1, "good": 2, "zzz": 3, "bad": 9}, {"good": 5, "film": 2, "bad": 1}, 8, 10)
    # specials 0-2 keep theirs; film 4 ← 5, good 5 ← 8; zzz is not in Keras's index; bad's id 12 is past 8 rows
    assert ours.tolist() == [0, 1, 2, 4, 5] and theirs.tolist() == [0, 1, 2, 5, 8]
    ours, theirs = matching_rows({"good": 1}, {"good": 9}, 8, 10)  # Keras's row 12 is past the 10 vectors
    assert ours.tolist() == [0, 1, 2] and theirs.tolist() == [0, 1, 2]


def test_your_own_words_start_from_the_vectors_of_the_same_words(
    tiny_corpus: Path, tiny_vectors: Path, tmp_path: Path, capsys
) -> None:
    """Your own data's vocabulary is ranked by its own counts, not Keras's: each word's row must be the
    pretrained row of that word (found through Keras's word index), not the row of the same rank."""
    import csv

    from imdb_rnn.runs import Run
    from imdb_rnn.training.recipe import train

    texts = tiny_test_texts(tiny_corpus)
    with open(tmp_path / "reviews.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("text", "label"), *((t, i % 2) for i, t in enumerate(texts * 2))])
    overrides = [*TINY_OVERRIDES, "data.source=csv", f"data.path={tmp_path / 'reviews.csv'}", "train.epochs=1"]
    overrides += [f"model.pretrained={tiny_vectors}", "model.pretrained_trainable=false"]
    run = train(load_config("lstm", overrides), tmp_path / "runs", verbose=0)
    embedding = Run(run).model.get_layer("embedding").get_weights()[0]
    ours = json.loads((run / "vocabulary.json").read_text(encoding="utf-8"))["words"]
    keras_index = json.loads((tiny_corpus / "imdb_word_index.json").read_text(encoding="utf-8"))
    vectors = load_vectors(tiny_vectors)
    shared = [w for w in ours if ours[w] + 3 < len(embedding) and keras_index.get(w, 10**9) + 3 < len(vectors)]
    assert len(shared) >= 5 and any(ours[w] != keras_index[w] for w in shared), "the ranks should differ"
    for word in shared:
        np.testing.assert_array_equal(embedding[ours[word] + 3], vectors[keras_index[word] + 3], err_msg=word)
    assert f"word vectors of {tiny_vectors} for {len(shared)} of your" in capsys.readouterr().out
