"""Unpadded reviews as a data source gives them, class-balanced subsets of them, and the validation reviews
split off them."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from imdb_rnn.errors import ImdbRnnWarning


@dataclass
class Reviews:
    """Unpadded reviews: `sequences[i]` is an int32 array of ids, `labels[i]` its class index (IMDB:
    1 positive, 0 negative), `movies[i]` the IMDb title number of the movie reviewed (None when the source does not say)."""

    sequences: list[np.ndarray]
    labels: np.ndarray
    movies: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> Reviews:
        movies = self.movies[indices] if self.movies is not None else None
        return Reviews([self.sequences[i] for i in indices], self.labels[indices], movies)


def balanced_subset(reviews: Reviews, limit: int, seed: int) -> Reviews:
    """`limit` reviews, as many of each class as there are reviews (see `balanced_indices`)."""
    if limit >= len(reviews):
        return reviews
    return reviews.take(balanced_indices(reviews.labels, limit, seed))


def balanced_indices(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of `limit` items, the same number of each class (the highest classes get the odd
    ones; a class with too few gives all it has), chosen with `seed`."""
    if limit >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)[::-1]
    chosen = []
    for position, label in enumerate(classes):
        count = limit // len(classes) + (position < limit % len(classes))
        candidates = np.flatnonzero(labels == label)
        chosen.append(rng.choice(candidates, size=min(count, len(candidates)), replace=False))
    return np.sort(np.concatenate(chosen))


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
