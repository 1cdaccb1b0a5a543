"""Reviews kept unpadded: one flat int32 array of ids and the offsets where each review starts.

A million reviews padded to `data.maxlen` (500) are 2 GB of int32, mostly zeros; kept ragged they are
their words alone (each already truncated to `maxlen`). `RaggedSplit` reads like `splits.Split`
(`y`, `lengths`, `len()`, and `x`, padded when asked, for small splits); `data.pipeline` gathers each
batch straight from `ids` and pads it to its own width, so nothing is padded to `maxlen` in memory.

`encode_rows` makes one from tokenized texts (`own_tokens.TokenizedTexts`): a word → id table applied,
words without an id dropped, the start id put first and the review truncated, vectorized with numpy a
chunk of reviews at a time (memory: the result, plus one chunk).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.data import text
from imdb_rnn.data.reviews import Reviews

CHUNK_REVIEWS = 65_536  # reviews encoded (or counted) at once: about 16 million words, 130 MB of positions


@dataclass
class RaggedSplit:
    """Unpadded reviews: review `i` is `ids[offsets[i]:offsets[i + 1]]` (at most `maxlen` ids), label `y[i]`.
    `padding` is where `x` puts the zeros."""

    ids: np.ndarray  # (total,) int32
    offsets: np.ndarray  # (n + 1,) int64, offsets[0] == 0
    y: np.ndarray  # (n,) float32
    maxlen: int
    padding: str = "pre"
    lengths: np.ndarray = field(init=False)  # (n,) int32: the true lengths, as `Split.lengths`

    def __post_init__(self) -> None:
        self.lengths = np.diff(self.offsets).astype(np.int32)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def x(self) -> np.ndarray:
        """The reviews padded to `(n, maxlen)` int32, as `splits.pad` pads them (made on each call)."""
        padded = np.zeros((len(self), self.maxlen), dtype=np.int32)
        rows = np.repeat(np.arange(len(self)), self.lengths)
        within = np.arange(len(self.ids)) - np.repeat(self.offsets[:-1], self.lengths)
        first = self.maxlen - self.lengths if self.padding == "pre" else np.zeros_like(self.lengths)
        padded[rows, np.repeat(first, self.lengths) + within] = self.ids
        return padded


def ragged(reviews: Reviews, data: DataConfig) -> RaggedSplit:
    """`splits.pad`'s twin: `reviews` truncated to `data.maxlen` (`data.truncating`), left unpadded."""
    kept = [
        sequence[-data.maxlen :] if data.truncating == "pre" else sequence[: data.maxlen]
        for sequence in reviews.sequences
    ]
    ids = np.concatenate(kept).astype(np.int32) if kept else np.zeros(0, np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(sequence) for sequence in kept])]).astype(np.int64)
    return RaggedSplit(ids, offsets, reviews.labels.astype(np.float32), data.maxlen, data.padding)


def spans(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The positions `starts[i], …, starts[i] + sizes[i] - 1` of every span, one after another (int64)."""
    sizes = sizes.astype(np.int64)
    ends = np.cumsum(sizes)
    return np.repeat(starts.astype(np.int64) - (ends - sizes), sizes) + np.arange(ends[-1] if len(ends) else 0)


def count_words(tokens: np.ndarray, offsets: np.ndarray, rows: np.ndarray, words: int) -> np.ndarray:
    """How often each of `words` word indices occurs in the texts `rows` (`tokens`, `offsets` as in
    `TokenizedTexts`): `(words,)` int64."""
    counts = np.zeros(words, dtype=np.int64)
    for begin in range(0, len(rows), CHUNK_REVIEWS):
        chunk = rows[begin : begin + CHUNK_REVIEWS]
        counts += np.bincount(tokens[spans(offsets[chunk], offsets[chunk + 1] - offsets[chunk])], minlength=words)
    return counts


def encode_rows(
    tokens: np.ndarray, offsets: np.ndarray, rows: np.ndarray, word_ids: np.ndarray, y: np.ndarray, data: DataConfig
) -> RaggedSplit:
    """The texts `rows` as a `RaggedSplit`: each word index becomes `word_ids[index]` (-1: dropped), the
    start id goes first, then the review is truncated to `data.maxlen` (`data.truncating`), as
    `text.encode` and `splits.pad` would do it. `y` `(len(rows),)` are the labels."""
    sizes = offsets[rows + 1] - offsets[rows]
    ids = np.empty(int(np.minimum(sizes + 1, data.maxlen).sum()), dtype=np.int32)  # an upper bound
    lengths, filled = np.zeros(len(rows), dtype=np.int64), 0
    for begin in range(0, len(rows), CHUNK_REVIEWS):
        chunk, chunk_sizes = rows[begin : begin + CHUNK_REVIEWS], sizes[begin : begin + CHUNK_REVIEWS]
        mapped = word_ids[tokens[spans(offsets[chunk], chunk_sizes)]]
        known = mapped >= 0
        owners = np.repeat(np.arange(len(chunk)), chunk_sizes)[known]
        full = np.bincount(owners, minlength=len(chunk)) + 1  # with the start id
        firsts = np.cumsum(full) - full
        encoded = np.empty(int(full.sum()), dtype=np.int32)
        words = np.ones(len(encoded), dtype=bool)
        words[firsts] = False
        encoded[firsts], encoded[words] = text.START, mapped[known]
        kept = np.minimum(full, data.maxlen)
        starts = firsts + (full - kept) if data.truncating == "pre" else firsts
        ids[filled : filled + kept.sum()] = encoded[spans(starts, kept)]
        lengths[begin : begin + len(chunk)], filled = kept, filled + int(kept.sum())
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return RaggedSplit(ids[:filled], offsets, y.astype(np.float32), data.maxlen, data.padding)
