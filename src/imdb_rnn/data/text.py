"""Raw review text → Keras IMDB token ids, exactly as `keras.datasets.imdb` encodes its reviews.

Keras's `imdb.npz` and `imdb_word_index.json` were made (under Python 2, on UTF-8 bytes) by
lower-casing the ASCII letters of each review — `"ÁNGELA"` became `"Ángela"`, a word of the index —,
turning the characters ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~`` plus tab and newline into spaces, and
splitting on the space character only, as `text_to_word_sequence(split=" ")` does: other whitespace
(U+0085, a no-break space) stays inside a word, and 509 words of the index hold a U+0085. Each word
became its frequency rank in the word index (1 = "the"). Apostrophes and non-ASCII letters stay inside
words ("don't", "naïve"); `<br />` becomes the word "br".

The rule is proved by the index itself: tokenized so, the 25,000 training reviews hold exactly its
88,584 words; with Python 3's Unicode `str.lower` 19 of them (`Ángela`, `itÕs`, …) never occur.

`load_data` then prepends `START` (1), adds `INDEX_FROM` (3) to every rank and maps ids at or above
`num_words` to `OOV` (2). A word absent from the word index is dropped, not encoded: OOV is only for
words the index knows but ranks too low. The index was built from the training reviews, so words seen
only in test reviews vanish from Keras's test sequences, and from ours. Your own data follows the same
rule with the word index built from its training texts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

START, OOV, INDEX_FROM = 1, 2, 3  # id 0 is padding
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
ENCODING = 2  # the rule above; 1 (before 2026-12-02) split on all whitespace and read unknown words as OOV
_LOWER_AND_SEPARATE = str.maketrans(
    {**{chr(code): chr(code + 32) for code in range(ord("A"), ord("Z") + 1)}, **dict.fromkeys(FILTERS, " ")}
)


def tokenize(text: str) -> list[str]:
    """`"Don't <br />stop!"` → `["don't", "br", "stop"]`: ASCII letters lower-cased, the filters turned into
    spaces, split on spaces only (`"ÉTÉ\\x85OK"` → `["Été\\x85ok"]`)."""
    return [word for word in text.translate(_LOWER_AND_SEPARATE).split(" ") if word]


def build_word_index(texts: Iterable[str]) -> dict[str, int]:
    """A word index like Keras's for your own texts: word → frequency rank (1 = most frequent; equal
    counts in alphabetical order), from the words `tokenize` finds."""
    return rank_words(Counter(word for review in texts for word in tokenize(review)))


def rank_words(counts: Mapping[str, int]) -> dict[str, int]:
    """Word → frequency rank (1 = most frequent; equal counts in alphabetical order) of the words counted
    at least once in `counts`."""
    ordered = sorted(
        ((word, count) for word, count in counts.items() if count > 0), key=lambda item: (-item[1], item[0])
    )
    return {word: rank for rank, (word, _) in enumerate(ordered, 1)}


def load_word_index(path: str | Path) -> dict[str, int]:
    """Keras's word index: word → frequency rank (1 = most frequent)."""
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def encode(text: str, word_index: Mapping[str, int], num_words: int | None = None) -> np.ndarray:
    """One review → int32 ids `(1 + known words,)`: `[START, rank + 3, ...]`; a word absent from
    `word_index` is dropped, one whose id is `>= num_words` is OOV (2)."""
    ranks = (word_index.get(word) for word in tokenize(text))
    encoded = np.asarray([START] + [rank + INDEX_FROM for rank in ranks if rank is not None], dtype=np.int32)
    return limit_vocabulary(encoded, num_words)


def limit_vocabulary(ids: np.ndarray, num_words: int | None) -> np.ndarray:
    """Maps ids `>= num_words` to OOV, as `keras.datasets.imdb.load_data(num_words=...)` does."""
    if num_words is None:
        return ids
    return np.where(ids >= num_words, OOV, ids).astype(np.int32, copy=False)


MIN_WORD_COUNT = 2  # a word of your data's vocabulary occurs in its training texts at least this often
RESERVED_IDS = INDEX_FROM + 1  # ids below the first word's: padding 0, start 1, out-of-vocabulary 2, unused 3


def vocabulary_size(num_words: int, counts: Iterable[int]) -> int:
    """`data.num_words` for a vocabulary whose words occur `counts` times in the training texts: at most
    `num_words`, and no more ids than the words seen at least `MIN_WORD_COUNT` times need (they have
    the lowest ranks, so ids up to `RESERVED_IDS - 1` + their number)."""
    frequent = sum(1 for count in counts if count >= MIN_WORD_COUNT)
    return min(num_words, RESERVED_IDS + frequent)
