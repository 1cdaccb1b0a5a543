"""Training, validation and test arrays: reviews padded to `data.maxlen`, validation split off the training set.

`load_splits(config.data)` is all the pipeline needs: `Splits(train, validation, test)`, each a
`Split` of padded ids `(n, maxlen)`, labels `(n,)` and true lengths `(n,)`. The validation reviews
come from the training set (seeded); the 25,000 test reviews are only used for the final evaluation.

The data sources (`data.source`) are a registry, `SOURCES`: each name maps to the function that makes
its splits (IMDB's reviews, `load_imdb_splits`, or your texts, `load_own_splits`); `get(name)` returns
it, or a `ConfigError` listing the valid names.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.config.sections import OWN_SOURCES
from imdb_rnn.data import text
from imdb_rnn.data.own import LabeledTexts, class_names, read_own_data
from imdb_rnn.data.reviews import Reviews, balanced_indices, balanced_subset
from imdb_rnn.data.sources import load_reviews
from imdb_rnn.errors import DataError, ImdbRnnWarning, invalid, show

IMDB_CLASSES = ("negative", "positive")


@dataclass
class Split:
    """Padded ids `x` `(n, maxlen)` int32, labels `y` `(n,)` float32, true lengths `(n,)` int32 (<= maxlen)."""

    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Splits:
    train: Split
    validation: Split
    test: Split
    source: str  # data.source: "keras", "aclimdb", "directory", "csv" or "jsonl"
    location: str  # the file or folder the reviews were read from
    word_index: Path | None = None  # the imdb_word_index.json that encodes this data, when known
    classes: tuple[str, ...] = IMDB_CLASSES  # label of each class index; two: a sigmoid predicts the second
    words: dict[str, int] | None = None  # your data: the word index built from its training texts
    held_out: float | None = None  # your data without a test part: the share of it held out as the test set
    num_words: int | None = None  # your data: the vocabulary size its encoding used (see data.text.vocabulary_size)


def pad(reviews: Reviews, data: DataConfig) -> Split:
    """Pads/truncates with `keras.utils.pad_sequences` to `(n, data.maxlen)` int32."""
    x = keras.utils.pad_sequences(
        reviews.sequences, maxlen=data.maxlen, dtype="int32", padding=data.padding, truncating=data.truncating
    )
    lengths = np.minimum([len(s) for s in reviews.sequences], data.maxlen).astype(np.int32)
    return Split(x, reviews.labels.astype(np.float32), lengths)


def validation_indices(reviews: Reviews, share: float, seed: int, by_movie: bool) -> np.ndarray:
    """Sorted indices of the validation reviews, about `share` of `reviews`, chosen with `seed`.

    `by_movie`: whole movies go to validation (all their reviews), as the test set's movies are not
    in the training set: validation accuracy then estimates test accuracy, instead of rewarding the
    memorizing of movie-specific words. Without movie numbers (the `keras` source) reviews are drawn.
    """
    rng = np.random.default_rng(seed)
    wanted = round(len(reviews) * share)
    if by_movie and reviews.movies is None:
        warnings.warn(
            "this data source does not say which movie a review is about; the validation "
            "reviews are drawn one by one (data.validation_split_by: review).",
            ImdbRnnWarning,
            stacklevel=2,
        )
    if not by_movie or reviews.movies is None:
        return np.sort(rng.permutation(len(reviews))[:wanted])
    movies, counts = np.unique(reviews.movies, return_counts=True)
    order = rng.permutation(len(movies))
    taken = int(np.searchsorted(np.cumsum(counts[order]), wanted)) + 1
    return np.flatnonzero(np.isin(reviews.movies, movies[order[:taken]]))


def load_splits(data: DataConfig) -> Splits:
    """Training, validation (`data.validation_split` of the training reviews) and test splits, from the
    data source `data.source` (see `SOURCES`)."""
    return get(data.source)(data)


def load_imdb_splits(data: DataConfig) -> Splits:
    """IMDB's reviews (`data.source` auto, keras or aclimdb; see `imdb_rnn.data.sources`) as splits:
    balanced subsets when limited, validation split off the training reviews by movie or by review."""
    train, test, location = load_reviews(data)
    if data.limit:
        train = balanced_subset(train, data.limit, data.seed)
    if data.test_limit:
        test = balanced_subset(test, data.test_limit, data.seed)
    chosen = validation_indices(train, data.validation_split, data.seed, data.validation_split_by == "movie")
    rest = np.setdiff1d(np.arange(len(train)), chosen)
    validation, train = train.take(chosen), train.take(rest)
    padded = pad(train, data), pad(validation, data), pad(test, data)
    return Splits(*padded, location.source, str(location.path), location.word_index)


def load_own_splits(data: DataConfig) -> Splits:
    """Your texts (`data.source` directory, csv or jsonl) as splits, encoded with a word index built from
    the training texts alone (validation texts excluded). Without a test part, `data.test_split` of the
    texts is held out as the test set (seeded by `data.seed`), and a warning says so."""
    train, test = read_own_data(data)
    classes = class_names(train.labels)
    if len(classes) < 2:
        raise DataError(
            f"{train.where}: one label only: expected texts of at least two labels, received only {show(classes[0])}."
        )
    held_out = test is None
    if test is None:
        train, test = _hold_out(train, data)
    unknown = sorted(set(test.labels) - set(classes))
    if unknown:
        raise DataError(
            f"{test.where}: labels missing from the training texts: expected labels among {show(classes)}, "
            f"received {show(unknown[:5])}."
        )
    index = {name: number for number, name in enumerate(classes)}
    train_labels = np.array([index[label] for label in train.labels], dtype=np.int32)
    test_labels = np.array([index[label] for label in test.labels], dtype=np.int32)
    train_rows = balanced_indices(train_labels, data.limit, data.seed) if data.limit else np.arange(len(train))
    test_rows = balanced_indices(test_labels, data.test_limit, data.seed) if data.test_limit else np.arange(len(test))
    chosen = validation_indices(Reviews([], train_labels[train_rows]), data.validation_split, data.seed, False)
    validation_rows, train_rows = train_rows[chosen], np.delete(train_rows, chosen)
    words = text.build_word_index(train.texts[row] for row in train_rows)
    counts = Counter(word for row in train_rows for word in text.tokenize(train.texts[row]))
    num_words = text.vocabulary_size(data.num_words, counts.values())  # words seen once stay out

    def encoded(texts: LabeledTexts, rows: np.ndarray, labels: np.ndarray) -> Split:
        sequences = [text.encode(texts.texts[row], words, num_words) for row in rows]
        return pad(Reviews(sequences, labels[rows]), data)

    return Splits(
        encoded(train, train_rows, train_labels),
        encoded(train, validation_rows, train_labels),
        encoded(test, test_rows, test_labels),
        data.source,
        str(Path(str(data.path)).expanduser()),
        classes=tuple(classes),
        words=words,
        num_words=num_words,
        held_out=data.test_split if held_out else None,
    )


def _hold_out(texts: LabeledTexts, data: DataConfig) -> tuple[LabeledTexts, LabeledTexts]:
    """Splits `data.test_split` of `texts` off as the test set, drawn with `data.seed`."""
    count = round(len(texts) * data.test_split)
    if not 1 <= count < len(texts) - 1:
        raise DataError(
            f"{texts.where}: too few texts to hold out a test set: expected data.test_split of {len(texts)} texts "
            f"to leave texts on both sides, received data.test_split={data.test_split}."
        )
    warnings.warn(
        f"{texts.where} has no test part: {data.test_split:.0%} of its texts ({count}, drawn with data.seed "
        f"{data.seed}) are held out as the test set.",
        ImdbRnnWarning,
        stacklevel=3,
    )
    order = np.random.default_rng(data.seed).permutation(len(texts))
    test, rest = np.sort(order[:count]), np.sort(order[count:])

    def take(rows: np.ndarray) -> LabeledTexts:
        return LabeledTexts([texts.texts[i] for i in rows], [texts.labels[i] for i in rows], texts.where)

    return take(rest), take(test)


SOURCES: dict[str, Callable[[DataConfig], Splits]] = {
    "auto": load_imdb_splits,  # IMDB: keras or aclimdb, whichever is found first (or downloaded)
    "keras": load_imdb_splits,
    "aclimdb": load_imdb_splits,
    **dict.fromkeys(OWN_SOURCES, load_own_splits),  # directory, csv, jsonl: your texts at data.path
}


def get(name: str, where: str = "") -> Callable[[DataConfig], Splits]:
    """The function that makes the splits of the data source `name`; a `ConfigError` listing the valid
    names otherwise."""
    if not isinstance(name, str) or name not in SOURCES:
        raise invalid(where, "data.source", "one of " + ", ".join(SOURCES), name)
    return SOURCES[name]
