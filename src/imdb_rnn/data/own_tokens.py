"""Your texts tokenized once, as they are read, and cached: what `data.splits.load_own_splits` encodes.

`tokenized_own_data(data)` streams each part of `data.path` (training, and test when there is one;
`own.OwnRows`), tokenizes each text as it is read (`text.tokenize`) and keeps numbers only: a word is
its index among the part's distinct words (in order of first appearance), the words of every text one
flat int32 array with offsets, a label its index among the part's labels. The raw texts are never
held together: a million reviews (1.3 GB of CSV, 250 million words) take 1 GB of ids.

The result goes through the encoded-review cache (`data.cache`), keyed by each file's path, size and
modification time and by `data.source`, `data.text_column` and `data.label_column`: a second run on
the same files reads nothing but the cache, and editing a file makes a new entry. Which texts train,
validate or test, and the vocabulary built from them, are decided afterwards from these numbers
(`data.splits`), so changing `data.seed`, `data.test_split` or `data.num_words` reads nothing again.
A skipped-rows warning is given again on a cached load, as on the first.
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.data import cache, text
from imdb_rnn.data.own import OwnRows, Skipped, own_parts
from imdb_rnn.progress import progress_bar

MEGABYTE = 2**20  # the progress bar counts megabytes read
BAR_EVERY = 2_000  # texts between progress bar updates
ARRAYS = ("tokens", "offsets", "labels", "words", "label_names", "skipped")  # what a cache entry holds


@dataclass
class TokenizedTexts:
    """Every usable text of one part of your data (`where`): text `i` is the words
    `words[tokens[offsets[i]:offsets[i + 1]]]` and has the label `label_names[labels[i]]`."""

    tokens: np.ndarray  # (words of all texts,) int32: indices into `words`
    offsets: np.ndarray  # (texts + 1,) int64
    labels: np.ndarray  # (texts,) int32: indices into `label_names`
    words: list[str]  # the part's distinct words, in order of first appearance
    label_names: list[str]  # the part's distinct labels, in order of first appearance
    where: str

    def __len__(self) -> int:
        return len(self.labels)


def tokenized_own_data(data: DataConfig) -> tuple[TokenizedTexts, TokenizedTexts | None]:
    """The training part of `data.path` tokenized, and its test part (None when the data has none);
    from the cache when the files are unchanged."""
    train, test = own_parts(data)
    return cached_tokens(train, data), cached_tokens(test, data) if test is not None else None


def cached_tokens(where: Path, data: DataConfig) -> TokenizedTexts:
    """`tokenize_part(where, data)` through the cache (see the module)."""
    rows = OwnRows(where, data)
    settings = json.dumps([data.source, data.text_column, data.label_column])
    file = cache.cache_file("own", *rows.files, settings=settings)
    arrays = cache.load(file)
    if arrays is not None and set(ARRAYS) <= arrays.keys():
        skipped_count, first = json.loads(_text(arrays["skipped"]))
        skipped = Skipped(rows.skipped.where, rows.skipped.unit, rows.skipped.what, skipped_count, first)
        skipped.report(len(arrays["labels"]))  # the warning of the first read, again
        return TokenizedTexts(
            arrays["tokens"],
            arrays["offsets"],
            arrays["labels"],
            json.loads(_text(arrays["words"])),
            json.loads(_text(arrays["label_names"])),
            str(where),
        )
    tokenized = tokenize_part(rows)
    skipped = [rows.skipped.count, rows.skipped.first]
    cache.save(
        file,
        {
            "tokens": tokenized.tokens,
            "offsets": tokenized.offsets,
            "labels": tokenized.labels,
            "words": _bytes(tokenized.words),
            "label_names": _bytes(tokenized.label_names),
            "skipped": _bytes(skipped),
        },
    )
    return tokenized


def tokenize_part(rows: OwnRows) -> TokenizedTexts:
    """Reads `rows` to the end, tokenizing each text as it comes, with a progress bar in megabytes read."""
    words: defaultdict[str, int] = defaultdict(itertools.count().__next__)  # a new word gets the next index
    labels: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    tokens, offsets, label_ids = array("i"), array("q", [0]), array("i")
    bar = progress_bar(max(1, -(-rows.size // MEGABYTE)), "MB")
    for count, (review, label) in enumerate(rows, 1):
        tokens.extend(map(words.__getitem__, text.tokenize(review)))
        offsets.append(len(tokens))
        label_ids.append(labels[label])
        if count % BAR_EVERY == 0:
            bar.update(rows.done // MEGABYTE)
    bar.update(-(-rows.size // MEGABYTE), finalize=True)
    return TokenizedTexts(
        np.frombuffer(tokens, dtype=np.int32),
        np.frombuffer(offsets, dtype=np.int64),
        np.frombuffer(label_ids, dtype=np.int32),
        list(words),
        list(labels),
        str(rows.where),
    )


def _bytes(value: object) -> np.ndarray:
    """A JSON value as a uint8 array (the cache holds arrays only)."""
    return np.frombuffer(json.dumps(value).encode("utf-8"), dtype=np.uint8)


def _text(stored: np.ndarray) -> str:
    return stored.tobytes().decode("utf-8")
