"""As many labeled reviews as you ask for, made from aclImdb's training reviews by shuffling sentences:
the data behind docs/BENCHMARK.md's "A million reviews on one machine" (never committed).

    write_shuffled_reviews(Path("aclImdb_v1.tar.gz"), Path("/tmp/reviews-1m.csv"), 1_000_000, seed=0)

Only the 25,000 labeled training reviews are read (`aclimdb.training_reviews`: `train/neg` and
`train/pos`; never a test review, and not `train/unsup`, which has no labels). Each review is cut into
sentences (after `.`, `!` or `?` followed by a space, and at `<br />` line breaks). A new review
has a label drawn at random (negative or positive, half each), as many sentences as a training review
of that label drawn at random (so lengths follow the dataset's), and those sentences drawn at random
from all that label's sentences: realistic text, whose label still means something.

The CSV has the columns `text` and `label` (`neg`, `pos`), as `data.source: csv` reads it by default.
It is written row by row into a temporary file renamed into place at the end: memory holds the
sentences of the 25,000 reviews, never the output. The same archive and seed write the same file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from imdb_rnn.data.aclimdb import training_reviews
from imdb_rnn.files import atomic_write
from imdb_rnn.progress import progress_bar

LABELS = ("neg", "pos")  # class index order: a sigmoid predicts `pos`
COLUMNS = ("text", "label")  # data.text_column and data.label_column's defaults
BAR_EVERY = 1_000  # rows between progress bar updates
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|(?:\s*<br\s*/?>\s*)+", re.IGNORECASE)


def sentences(review: str) -> list[str]:
    """`"Fine. Really!<br /><br />Go"` → `["Fine.", "Really!", "Go"]`: the review cut after `.`, `!` or `?`
    followed by whitespace, and at `<br />` breaks; empty pieces dropped."""
    return [piece.strip() for piece in SENTENCE_BREAK.split(review) if piece.strip()]


def sentence_pools(reviews: Path) -> dict[str, tuple[list[str], list[int]]]:
    """For each label (`neg`, `pos`): every sentence of its training reviews, and each review's number of
    sentences; reviews in file-name order, so the result does not depend on the archive's order."""
    found: dict[str, list[tuple[str, list[str]]]] = {label: [] for label in LABELS}
    for label, name, review in training_reviews(reviews):
        found[label].append((name, sentences(review)))
    pools = {}
    for label, items in found.items():
        items.sort(key=lambda item: item[0])
        pools[label] = ([sentence for _, pieces in items for sentence in pieces], [len(p) for _, p in items if p])
    return pools


def write_shuffled_reviews(
    reviews: Path, output: Path, count: int, seed: int = 0, bar: Callable[[int], object] | None = None
) -> dict[str, int]:
    """Writes `count` sentence-shuffled labeled reviews (see the module) made from the training reviews of
    `reviews` (aclImdb folder or `.tar.gz`) into the CSV `output`, drawn with `seed`. Returns the number of
    reviews of each label and the sentences drawn from. `bar(rows)` is told of the rows written (default:
    a progress bar in a terminal)."""
    if count < 1:
        raise ValueError(f"count: expected a positive number of reviews, received {count}")
    pools = sentence_pools(Path(reviews))
    empty = [label for label, (pool, _) in pools.items() if not pool]
    if empty:
        raise ValueError(f"{reviews}: no sentences in train/{empty[0]}: expected reviews of both labels")
    rng = np.random.default_rng(seed)
    written, reported = dict.fromkeys(LABELS, 0), 0
    bar = bar or progress_bar(count, "review").add
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(output) as temporary, open(temporary, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row, label_index in enumerate(rng.integers(len(LABELS), size=count), 1):
            label = LABELS[label_index]
            pool, lengths = pools[label]
            size = lengths[rng.integers(len(lengths))]
            writer.writerow((" ".join(pool[i] for i in rng.integers(len(pool), size=size)), label))
            written[label] += 1
            if row % BAR_EVERY == 0 or row == count:
                bar(row - reported)
                reported = row
    return {**written, "sentences": sum(len(pool) for pool, _ in pools.values())}
