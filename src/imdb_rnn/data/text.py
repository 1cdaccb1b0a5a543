"""Raw review text → Keras IMDB token ids, exactly as `keras.datasets.imdb` encodes its reviews.

Keras's `imdb.npz` was made by lower-casing each review, turning the characters
``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~`` plus tab and newline into separators, splitting on whitespace
and replacing each word by its frequency rank in `imdb_word_index.json` (1 = "the"). Apostrophes
and non-ASCII letters stay inside words ("don't", "naïve"); `<br />` becomes the word "br".
`load_data` then prepends `START` (1), adds `INDEX_FROM` (3) to every rank and maps ids at or above
`num_words` to `OOV` (2). Words missing from the word index are OOV as well.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

START, OOV, INDEX_FROM = 1, 2, 3  # id 0 is padding
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_SEPARATORS = str.maketrans({character: " " for character in FILTERS})


def tokenize(text: str) -> list[str]:
    """`"Don't <br />stop!"` → `["don't", "br", "stop"]`."""
    return text.lower().translate(_SEPARATORS).split()


def build_word_index(texts: Iterable[str]) -> dict[str, int]:
    """A word index like Keras's for your own texts: word → frequency rank (1 = most frequent; equal
    counts in alphabetical order), from the words `tokenize` finds."""
    counts = Counter(word for review in texts for word in tokenize(review))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {word: rank for rank, (word, _) in enumerate(ordered, 1)}


def load_word_index(path: str | Path) -> dict[str, int]:
    """Keras's word index: word → frequency rank (1 = most frequent)."""
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def encode(text: str, word_index: dict[str, int], num_words: int | None = None) -> np.ndarray:
    """One review → int32 ids `(1 + words,)`: `[START, rank + 3, ...]`, OOV (2) for rare or unknown words."""
    ids = [START] + [word_index.get(word, OOV - INDEX_FROM) + INDEX_FROM for word in tokenize(text)]
    encoded = np.asarray(ids, dtype=np.int32)
    return limit_vocabulary(encoded, num_words)


def limit_vocabulary(ids: np.ndarray, num_words: int | None) -> np.ndarray:
    """Maps ids `>= num_words` to OOV, as `keras.datasets.imdb.load_data(num_words=...)` does."""
    if num_words is None:
        return ids
    return np.where(ids >= num_words, OOV, ids).astype(np.int32, copy=False)
