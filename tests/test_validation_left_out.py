"""Pretraining that leaves out a classifier's validation reviews (`corpus.leave_out_validation`), so that
validation accuracy is read on texts the pretraining never saw: the reviews left out are exactly the
classifier's validation reviews, they give no word a vector, a region embedding's word vectors leave out
the same, old pretraining folders are still reused, and a classifier must validate on the same split."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import write, write_tiny_corpus
from imdb_rnn.config import DataConfig, load_config
from imdb_rnn.config.pretraining import load_pretrain_config
from imdb_rnn.data.aclimdb import validation_files
from imdb_rnn.data.splits import load_splits
from imdb_rnn.errors import ConfigError
from imdb_rnn.pretraining import runs
from imdb_rnn.pretraining.runs import find_pretraining, pretrain
from imdb_rnn.pretraining.word_vectors import VECTORS_FILE, corpus_texts

SENTINEL = "zzvalidationzz"  # written into the validation reviews only
SPLIT = ["corpus.validation_split=0.25", "corpus.validation_seed=5"]
TINY_VECTORS = ["word2vec.vector_size=8", "word2vec.min_count=1", "word2vec.window=3", "word2vec.epochs=3"]


def corpus_with_movies(root: Path) -> Path:
    """The tiny corpus (20 training reviews a class), each group of three reviews about one movie
    (`train/urls_*.txt`), ten unlabeled reviews, and `SENTINEL` in the word index (rank 2), written into
    the validation reviews of `validation_split=0.25, seed=5`, by movie, alone."""
    write_tiny_corpus(root, train=20, test=10)
    for label in ("neg", "pos"):
        lines = [
            f"http://www.imdb.com/title/tt{(1 if label == 'pos' else 100) + number // 3:07d}/usercomments"
            for number in range(20)
        ]
        write(root / "aclImdb" / "train" / f"urls_{label}.txt", "\n".join(lines) + "\n")
    for number in range(10):
        write(root / "aclImdb" / "train" / "unsup" / f"{number}_0.txt", "the film was a story of this plot")
    index = json.loads((root / "imdb_word_index.json").read_text(encoding="utf-8"))
    ranks = {word: rank + 1 if rank >= 2 else rank for word, rank in index.items()}
    write(root / "imdb_word_index.json", json.dumps({**ranks, SENTINEL: 2}))
    for key in validation_files(root / "aclImdb", 0.25, 5, by_movie=True):
        file = root / "aclImdb" / key
        file.write_text(f"{SENTINEL} " + file.read_text(encoding="utf-8"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return corpus_with_movies(tmp_path_factory.mktemp("movies"))


@pytest.mark.parametrize("by", ["movie", "review"])
def test_the_reviews_left_out_are_the_classifiers_validation_reviews(corpus: Path, by: str) -> None:
    chosen = validation_files(corpus / "aclImdb", 0.25, 5, by_movie=by == "movie")
    data = DataConfig(
        source="aclimdb",
        path=str(corpus),
        num_words=40,
        maxlen=20,
        validation_split=0.25,
        validation_split_by=by,
        seed=5,
    )
    splits = load_splits(data)
    assert len(chosen) == len(splits.validation.y) and 0 < len(chosen) < 40
    if by == "movie":  # the corpus marked exactly these reviews: the classifier validates on them all, trains on none
        sentinel_id = 2 + 3
        assert (splits.validation.x == sentinel_id).any(axis=1).all()
        assert not (splits.train.x == sentinel_id).any()
    archive = corpus / "aclImdb_v1.tar.gz"
    if not archive.exists():
        with tarfile.open(archive, "w:gz") as packed:
            packed.add(corpus / "aclImdb", arcname="aclImdb")
    assert validation_files(archive, 0.25, 5, by_movie=by == "movie") == chosen


def test_the_corpus_leaves_them_out_and_nothing_else(corpus: Path) -> None:
    everything = list(corpus_texts(corpus / "aclImdb", load_pretrain_config("word2vec").corpus, out=str))
    config = load_pretrain_config("word2vec", ["corpus.leave_out_validation=true", *SPLIT])
    said: list[str] = []
    kept = list(corpus_texts(corpus / "aclImdb", config.corpus, out=said.append))
    left_out = len(validation_files(corpus / "aclImdb", 0.25, 5, by_movie=True))
    assert len(everything) == 40 + 10 and len(kept) == 40 + 10 - left_out
    assert sum(SENTINEL in review for review in everything) == left_out
    assert not any(SENTINEL in review for review in kept)
    assert said == [
        f"leaving out the {left_out} validation reviews of data.validation_split=0.25, validation_split_by=movie, seed=5"
    ]


@pytest.mark.parametrize("leave_out", [True, False])
def test_a_left_out_review_gives_no_word_a_vector(corpus: Path, tmp_path: Path, leave_out: bool) -> None:
    overrides = [f"corpus.path={corpus}", "corpus.num_words=40", *TINY_VECTORS, *SPLIT]
    config = load_pretrain_config("word2vec", [*overrides, f"corpus.leave_out_validation={str(leave_out).lower()}"])
    folder, _ = pretrain(config, tmp_path, out=str)
    with np.load(folder / VECTORS_FILE) as content:
        trained = content["trained"]
    assert trained[2 + 3] == (not leave_out), "the validation reviews' own word: a vector only when they are read"
    assert trained[1 + 3]


def test_a_region_embedding_starts_from_word_vectors_that_left_out_the_same(tmp_path: Path, monkeypatch) -> None:
    made: list = []
    monkeypatch.setattr(runs, "pretrain", lambda config, *args, **kwargs: (made.append(config), (tmp_path, True))[1])
    region = load_pretrain_config("region", ["corpus.leave_out_validation=true", *SPLIT])
    assert runs.start_vectors(region, tmp_path, out=str) == tmp_path
    assert made[0].method == "word2vec" and made[0].corpus.left_out == (0.25, "movie", 5)

    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "config.yaml").write_text("corpus: {num_words: 30000}\nword2vec: {vector_size: 64}\n")
    folder = load_pretrain_config(
        "region", ["corpus.leave_out_validation=true", f"region.word_vectors={tmp_path / 'plain'}"]
    )
    with pytest.raises(
        ConfigError, match=r"region.word_vectors: the word vectors of .* read other reviews than this corpus"
    ):
        runs.start_vectors(folder, tmp_path, out=str)


def test_a_folder_made_before_the_keys_existed_is_still_reused(tmp_path: Path) -> None:
    folder = tmp_path / "pretrain" / "word2vec-20261201-000000"
    folder.mkdir(parents=True)
    write(
        folder / "config.yaml",
        "corpus:\n  path: null\n  num_words: 30000\n  limit: null\nword2vec:\n  vector_size: 64\n",
    )
    write(folder / "status.json", json.dumps({"state": "completed", "name": "word2vec"}))
    np.savez(folder / VECTORS_FILE, vectors=np.zeros((2, 2), np.float32))
    assert find_pretraining(load_pretrain_config("word2vec"), tmp_path / "pretrain") == folder
    honest = load_pretrain_config("word2vec", ["corpus.leave_out_validation=true"])
    assert find_pretraining(honest, tmp_path / "pretrain") is None


def test_a_classifier_must_validate_on_the_reviews_its_pretraining_left_out(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "configs" / "pretrain" / "honest.yaml", "corpus:\n  leave_out_validation: true\nword2vec: {}\n")
    fits = ["model.pretrained=honest", "model.embedding_dim=64"]
    load_config(None, fits)  # data.validation_split, validation_split_by and seed at the corpus's defaults
    with pytest.raises(ConfigError, match=r"honest left out the validation reviews of another split: expected "):
        load_config(None, [*fits, "data.seed=7"])
    load_config(None, [*fits, "data.seed=7", "data.source=csv", "data.path=reviews.csv"])  # your data: not IMDB's


def test_on_the_real_archive_they_are_the_validation_reviews_of_the_shipped_split(real_data: Path) -> None:
    """aclImdb's 25,000 training reviews: the 5,001 reviews of data.validation_split 0.2 by movie, seed 113."""
    from imdb_rnn.data.aclimdb import training_files
    from imdb_rnn.data.reviews import validation_indices
    from imdb_rnn.data.sources import load_reviews

    train, _, location = load_reviews(DataConfig())
    keys, movies = training_files(Path(location.path))
    assert np.array_equal(movies, train.movies) and len(keys) == len(train) == 25_000
    chosen = validation_indices(train, 0.2, 113, by_movie=True)
    assert validation_files(Path(location.path), 0.2, 113, by_movie=True) == {keys[index] for index in chosen}
    assert len(chosen) == 5_001
