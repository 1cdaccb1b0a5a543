"""Training, validation and test arrays: reviews padded to `data.maxlen`, validation split off the training set.

`load_splits(config.data)` is all the pipeline needs: `Splits(train, validation, test)`, each a
`Split` of padded ids `(n, maxlen)`, labels `(n,)` and true lengths `(n,)` (your own data: a
`ragged.RaggedSplit`, the same reviews unpadded, padded a batch at a time by the pipeline). The validation reviews
come from the training set (seeded); the 25,000 test reviews are only used for the final evaluation.

The data sources (`data.source`) are a registry, `SOURCES`: each name maps to the function that makes
its splits (IMDB's reviews, `load_imdb_splits`, or your texts, `load_own_splits`); `get(name)` returns
it, or a `ConfigError` listing the valid names.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.config.sections import OWN_SOURCES
from imdb_rnn.data import text
from imdb_rnn.data.own import class_names
from imdb_rnn.data.own_tokens import TokenizedTexts, tokenized_own_data
from imdb_rnn.data.ragged import RaggedSplit, count_words, encode_rows
from imdb_rnn.data.reviews import Reviews, balanced_indices, balanced_subset, validation_indices
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
    train: Split | RaggedSplit  # your data's splits are ragged (data.ragged), IMDB's padded
    validation: Split | RaggedSplit
    test: Split | RaggedSplit
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
    texts is held out as the test set (seeded by `data.seed`), and a warning says so.

    The files are tokenized as they are streamed, once (`own_tokens`: cached); the splits are
    `RaggedSplit`s, unpadded (`data.ragged`), so a million texts fit in memory."""
    train, test = tokenized_own_data(data)
    classes = class_names(train.label_names)
    if len(classes) < 2:
        raise DataError(
            f"{train.where}: one label only: expected texts of at least two labels, received only {show(classes[0])}."
        )
    held_out = test is None
    if test is None:
        kept, test_kept = _hold_out(len(train), train.where, data)
        test = train
    else:
        kept, test_kept = np.arange(len(train)), np.arange(len(test))
    unknown = sorted(set(test.label_names[code] for code in np.unique(test.labels[test_kept])) - set(classes))
    if unknown:
        raise DataError(
            f"{test.where}: labels missing from the training texts: expected labels among {show(classes)}, "
            f"received {show(unknown[:5])}."
        )
    index = {name: number for number, name in enumerate(classes)}
    train_labels = np.array([index[name] for name in train.label_names], dtype=np.int32)[train.labels[kept]]
    test_labels = np.array([index.get(name, -1) for name in test.label_names], dtype=np.int32)[test.labels[test_kept]]
    train_rows = balanced_indices(train_labels, data.limit, data.seed) if data.limit else np.arange(len(kept))
    test_rows = (
        balanced_indices(test_labels, data.test_limit, data.seed) if data.test_limit else np.arange(len(test_kept))
    )
    chosen = validation_indices(Reviews([], train_labels[train_rows]), data.validation_split, data.seed, False)
    validation_rows, train_rows = train_rows[chosen], np.delete(train_rows, chosen)
    counts = count_words(train.tokens, train.offsets, kept[train_rows], len(train.words))
    words = text.rank_words(dict(zip(train.words, counts.tolist())))
    num_words = text.vocabulary_size(data.num_words, counts[counts > 0].tolist())  # words seen once stay out

    def encoded(part: TokenizedTexts, rows: np.ndarray, labels: np.ndarray) -> RaggedSplit:
        word_ids = np.array([words.get(word, -text.INDEX_FROM - 1) for word in part.words], dtype=np.int64)
        word_ids = text.limit_vocabulary(word_ids + text.INDEX_FROM, num_words)  # -1: not in the index, dropped
        return encode_rows(part.tokens, part.offsets, rows, word_ids, labels, data)

    return Splits(
        encoded(train, kept[train_rows], train_labels[train_rows]),
        encoded(train, kept[validation_rows], train_labels[validation_rows]),
        encoded(test, test_kept[test_rows], test_labels[test_rows]),
        data.source,
        str(Path(str(data.path)).expanduser()),
        classes=tuple(classes),
        words=words,
        num_words=num_words,
        held_out=data.test_split if held_out else None,
    )


def _hold_out(count: int, where: str, data: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """The rows kept and the rows held out as the test set (`data.test_split` of `count` texts, drawn with
    `data.seed`), each sorted."""
    held = round(count * data.test_split)
    if not 1 <= held < count - 1:
        raise DataError(
            f"{where}: too few texts to hold out a test set: expected data.test_split of {count} texts "
            f"to leave texts on both sides, received data.test_split={data.test_split}."
        )
    warnings.warn(
        f"{where} has no test part: {data.test_split:.0%} of its texts ({held}, drawn with data.seed "
        f"{data.seed}) are held out as the test set.",
        ImdbRnnWarning,
        stacklevel=3,
    )
    order = np.random.default_rng(data.seed).permutation(count)
    return np.sort(order[held:]), np.sort(order[:held])


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
