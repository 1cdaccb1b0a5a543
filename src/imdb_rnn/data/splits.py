"""Training, validation and test arrays: reviews padded to `data.maxlen`, validation split off the training set.

`load_splits(config.data)` is all the pipeline needs: `Splits(train, validation, test)`, each a
`Split` of padded ids `(n, maxlen)`, labels `(n,)` and true lengths `(n,)`. The validation reviews
come from the training set (seeded); the 25,000 test reviews are only used for the final evaluation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.data.reviews import Reviews, balanced_subset
from imdb_rnn.data.sources import load_reviews
from imdb_rnn.errors import ImdbRnnWarning


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
    source: str  # "keras" or "aclimdb"
    location: str  # the file or folder the reviews were read from
    word_index: Path | None = None  # the imdb_word_index.json that encodes this data, when known


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
    """Training, validation (`data.validation_split` of the training reviews) and test splits."""
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
