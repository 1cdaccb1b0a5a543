"""Data sources, the cache, subsets, the validation split and padding."""

from __future__ import annotations

import json
import tarfile
import urllib.error
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import write
from imdb_rnn.config import DataConfig
from imdb_rnn.data import sources as data_module
from imdb_rnn.data.aclimdb import read_aclimdb
from imdb_rnn.data.reviews import Reviews, balanced_subset
from imdb_rnn.data.sources import load_reviews, locate
from imdb_rnn.data.splits import load_splits, pad, validation_indices
from imdb_rnn.data.text import START
from imdb_rnn.errors import DataError, ImdbRnnWarning

WORDS = ["the", "a", "movie", "great", "bad", "and", "br", "plot", "acting", "boring", "loved", "it"]
REVIEWS = {
    ("train", "pos"): ["A great movie!", "Loved it.<br />Great acting", "great great plot"],
    ("train", "neg"): ["A bad movie.", "Boring plot, bad acting", "bad, bad, BAD"],
    ("test", "pos"): ["Loved the acting", "The plot: great"],
    ("test", "neg"): ["Boring and bad", "the movie was bad"],
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A tiny Large-Movie-Review-Dataset folder plus word index in `tmp_path/raw`."""
    root = tmp_path / "raw"
    for (split, label), texts in REVIEWS.items():
        for number, review in enumerate(texts):
            write(root / "aclImdb" / split / label / f"{number}_{7 if label == 'pos' else 2}.txt", review)
    write(root / "aclImdb" / "train" / "unsup" / "0_0.txt", "unlabeled reviews are ignored")
    for split in ("train", "test"):  # line i: the movie of review i
        for label, movies in (("pos", [11, 11, 12]), ("neg", [13, 12, 14])):
            urls = [f"http://www.imdb.com/title/tt{movie:07d}/usercomments" for movie in movies]
            write(
                root / "aclImdb" / split / f"urls_{label}.txt", "\n".join(urls[: len(REVIEWS[(split, label)])]) + "\n"
            )
    write(root / "imdb_word_index.json", json.dumps({word: rank for rank, word in enumerate(WORDS, 1)}))
    return root


def archive(corpus: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / "aclImdb_v1.tar.gz", "w:gz") as tar:
        tar.add(corpus / "aclImdb", arcname="aclImdb")
    (folder / "imdb_word_index.json").write_bytes((corpus / "imdb_word_index.json").read_bytes())
    return folder / "aclImdb_v1.tar.gz"


def test_folder_and_archive_encode_the_same(corpus: Path, tmp_path: Path) -> None:
    tar = archive(corpus, tmp_path / "packed")
    from_folder = read_aclimdb(corpus / "aclImdb", corpus / "imdb_word_index.json")
    from_archive = read_aclimdb(tar, corpus / "imdb_word_index.json")
    for a, b in zip(from_folder, from_archive):
        assert [s.tolist() for s in a.sequences] == [s.tolist() for s in b.sequences]
        assert a.labels.tolist() == b.labels.tolist()
    train, test = from_folder
    assert len(train) == 6 and len(test) == 4  # unsup left out
    assert train.movies.tolist() == [13, 12, 14, 11, 11, 12] and test.movies.tolist() == [13, 12, 11, 11]
    assert train.labels.tolist() == [0, 0, 0, 1, 1, 1]
    great = WORDS.index("great") + 1 + 3
    assert train.sequences[3].tolist() == [START, WORDS.index("a") + 4, great, WORDS.index("movie") + 4]


def test_keras_and_aclimdb_sources_give_the_same_sequences(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    """An imdb.npz made the Keras way (ranks, no start, no offset) loads, through our reader and through
    `keras.datasets.imdb.load_data` itself, to what the aclimdb source encodes from the raw text."""
    train, test = read_aclimdb(corpus / "aclImdb", corpus / "imdb_word_index.json")

    def ranks(reviews: Reviews) -> np.ndarray:
        return np.array([(s[1:] - 3).tolist() for s in reviews.sequences], dtype=object)

    npz = tmp_path / "imdb.npz"
    np.savez(npz, x_train=ranks(train), y_train=train.labels, x_test=ranks(test), y_test=test.labels)
    ours_train, ours_test, location = load_reviews(DataConfig(source="keras", path=str(tmp_path), num_words=8))
    assert location.source == "keras" and location.path == npz
    monkeypatch.setattr(keras.src.datasets.imdb, "get_file", lambda *args, **kwargs: str(npz))
    (keras_x, keras_y), _ = keras.datasets.imdb.load_data(num_words=8)
    acl_train, acl_test, _ = load_reviews(DataConfig(source="aclimdb", path=str(corpus), num_words=8))

    def pairs(sequences, labels) -> list:
        return sorted((list(map(int, s)), int(label)) for s, label in zip(sequences, labels))

    assert pairs(ours_train.sequences, ours_train.labels) == pairs(keras_x, keras_y)
    assert pairs(ours_train.sequences, ours_train.labels) == pairs(acl_train.sequences, acl_train.labels)
    assert pairs(ours_test.sequences, ours_test.labels) == pairs(acl_test.sequences, acl_test.labels)


def test_unreadable_keras_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "imdb.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="cannot read the Keras IMDB file"):
        load_reviews(DataConfig(source="keras", path=str(tmp_path)))


def test_cache_is_reused_and_rebuilt_when_corrupt(corpus: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("IMDB_RNN_CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    real_read = data_module.read_aclimdb
    monkeypatch.setattr(data_module, "read_aclimdb", lambda *a: calls.append(a) or real_read(*a))
    config = DataConfig(source="aclimdb", path=str(corpus))
    first = load_reviews(config)[0]
    second = load_reviews(DataConfig(source="aclimdb", path=str(corpus), num_words=6))[0]
    assert len(calls) == 1  # the second run, even with another num_words, read the cache
    assert [s.tolist() for s in second.sequences] == [np.where(s >= 6, 2, s).tolist() for s in first.sequences]

    (cached,) = (tmp_path / "cache").glob("aclimdb-*.npz")
    cached.write_bytes(b"not a zip file")
    with pytest.warns(ImdbRnnWarning, match="unreadable cache"):
        again = load_reviews(config)[0]
    assert len(calls) == 2
    assert [s.tolist() for s in again.sequences] == [s.tolist() for s in first.sequences]


def test_locate_rules(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    tar = archive(corpus, tmp_path / "packed")
    assert locate(DataConfig(path=str(tar))).path == tar
    assert locate(DataConfig(path=str(tar))).word_index == tar.parent / "imdb_word_index.json"
    assert locate(DataConfig(path=str(corpus))).path == corpus / "aclImdb"
    monkeypatch.setenv("IMDB_DATA_DIR", str(tmp_path / "packed"))
    assert locate(DataConfig()).path == tar
    (tmp_path / "packed" / "imdb.npz").write_bytes(b"")
    assert locate(DataConfig()).source == "keras"  # auto prefers the already-encoded copy
    assert locate(DataConfig(source="aclimdb")).path == tar


@pytest.mark.parametrize("variable", ["data.path", "IMDB_DATA_DIR"])
def test_a_path_that_does_not_exist_is_named(variable: str, tmp_path: Path, monkeypatch) -> None:
    missing = tmp_path / "nowhere"
    if variable == "IMDB_DATA_DIR":
        monkeypatch.setenv("IMDB_DATA_DIR", str(missing))
    config = DataConfig(path=str(missing) if variable == "data.path" else None)
    with pytest.raises(DataError, match=f"{variable}={missing}: no such file or folder"):
        locate(config)


@pytest.mark.parametrize("source", ["auto", "keras", "aclimdb"])
def test_failed_download_says_where_it_looked(source: str, tmp_path: Path, monkeypatch) -> None:
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(keras.src.utils.file_utils, "urlretrieve", offline)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setenv("IMDB_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError) as caught:
        load_reviews(DataConfig(source=source))
    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path) in message and "IMDB_DATA_DIR" in message and "download" in message


def test_truncated_archive_is_a_data_error(corpus: Path, tmp_path: Path) -> None:
    tar = archive(corpus, tmp_path / "packed")
    tar.write_bytes(tar.read_bytes()[: tar.stat().st_size // 2])
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_aclimdb(tar, corpus / "imdb_word_index.json")


def test_balanced_subset() -> None:
    reviews = Reviews([np.array([i]) for i in range(100)], np.array([1] * 80 + [0] * 20, dtype=np.int8))
    subset = balanced_subset(reviews, 11, seed=0)
    assert (subset.labels == 1).sum() == 6 and (subset.labels == 0).sum() == 5
    assert balanced_subset(reviews, 11, seed=0).sequences[0].tolist() == subset.sequences[0].tolist()
    assert len(balanced_subset(reviews, 500, seed=0)) == 100


def test_padding_keeps_the_end_of_long_reviews_and_puts_zeros_first() -> None:
    reviews = Reviews([np.arange(1, 4), np.arange(1, 10)], np.array([0, 1], dtype=np.int8))
    split = pad(reviews, DataConfig(maxlen=5))
    assert split.x.tolist() == [[0, 0, 1, 2, 3], [5, 6, 7, 8, 9]]
    assert split.lengths.tolist() == [3, 5] and split.x.dtype == np.int32


def test_validation_comes_from_training_reviews(corpus: Path) -> None:
    config = DataConfig(source="aclimdb", path=str(corpus), validation_split=0.5, maxlen=6)
    splits = load_splits(config)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (3, 3, 4)
    train_rows = {tuple(row) for row in splits.train.x}
    assert not train_rows & {tuple(row) for row in splits.validation.x}
    again = load_splits(config)
    assert np.array_equal(again.validation.x, splits.validation.x)  # the split is seeded


def test_validation_by_movie_keeps_every_movie_on_one_side() -> None:
    rng = np.random.default_rng(0)
    movies = rng.integers(0, 300, size=3000)
    reviews = Reviews([np.array([1])] * 3000, (movies % 2).astype(np.int8), movies)
    chosen = validation_indices(reviews, 0.2, seed=5, by_movie=True)
    rest = np.setdiff1d(np.arange(3000), chosen)
    assert not set(movies[chosen]) & set(movies[rest])
    assert 0.18 < len(chosen) / 3000 < 0.24
    assert np.array_equal(chosen, validation_indices(reviews, 0.2, seed=5, by_movie=True))
    assert not np.array_equal(chosen, validation_indices(reviews, 0.2, seed=6, by_movie=True))


def test_without_movies_validation_is_drawn_by_review() -> None:
    reviews = Reviews([np.array([1])] * 100, np.zeros(100, dtype=np.int8))
    with pytest.warns(ImdbRnnWarning, match="validation reviews are drawn one by one"):
        assert len(validation_indices(reviews, 0.2, seed=0, by_movie=True)) == 20
    assert len(validation_indices(reviews, 0.25, seed=0, by_movie=False)) == 25


def test_data_sources_are_a_registry_that_names_the_valid_ones() -> None:
    """`splits.get` returns a source's loader, or a one-line `ConfigError` listing every valid name (as
    `models.get` does for architectures); the registry holds exactly the names `data.source` accepts."""
    import typing

    from imdb_rnn.config.sections import OWN_SOURCES
    from imdb_rnn.data import splits
    from imdb_rnn.errors import ConfigError

    accepted = typing.get_args(typing.get_type_hints(DataConfig)["source"])
    assert list(splits.SOURCES) == list(accepted)
    assert splits.get("keras") is splits.load_imdb_splits
    assert all(splits.get(name) is splits.load_own_splits for name in OWN_SOURCES)
    with pytest.raises(ConfigError) as raised:
        splits.get("parquet", where="configs/mine.yaml")
    assert str(raised.value) == (
        "configs/mine.yaml: invalid value for `data.source`: expected one of auto, keras, aclimdb, directory, "
        "csv, jsonl, received 'parquet'."
    )
    with pytest.raises(ConfigError, match=r"^invalid value for `data.source`: expected one of auto, keras"):
        load_splits(DataConfig(source="parquet"))  # a DataConfig made in code is not checked until its data loads
