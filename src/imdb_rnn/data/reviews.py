"""Unpadded reviews as a data source gives them, and class-balanced subsets of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
