"""Unpadded reviews as a data source gives them, and class-balanced subsets of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Reviews:
    """Unpadded reviews: `sequences[i]` is an int32 array of ids, `labels[i]` is 1 for positive,
    `movies[i]` the IMDb title number of the movie reviewed (None when the source does not say)."""

    sequences: list[np.ndarray]
    labels: np.ndarray
    movies: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> Reviews:
        movies = self.movies[indices] if self.movies is not None else None
        return Reviews([self.sequences[i] for i in indices], self.labels[indices], movies)


def balanced_subset(reviews: Reviews, limit: int, seed: int) -> Reviews:
    """`limit` reviews, half of each class (the first class gets the odd one), chosen with `seed`."""
    if limit >= len(reviews):
        return reviews
    rng = np.random.default_rng(seed)
    chosen = []
    for label, count in ((1, limit - limit // 2), (0, limit // 2)):
        candidates = np.flatnonzero(reviews.labels == label)
        chosen.append(rng.choice(candidates, size=min(count, len(candidates)), replace=False))
    return reviews.take(np.sort(np.concatenate(chosen)))
