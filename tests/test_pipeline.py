"""The tf.data pipelines: every review exactly once per epoch, shuffling, and length bucketing."""

from __future__ import annotations

import numpy as np
import pytest

from imdb_rnn.config import DataConfig
from imdb_rnn.data.pipeline import make_dataset
from imdb_rnn.data.reviews import Reviews
from imdb_rnn.data.splits import pad

MAXLEN = 40


def make_split(n: int = 300, seed: int = 0, padding: str = "pre"):
    """Review i has a random length and ends with the id i + 10 (ids are unique per review)."""
    rng = np.random.default_rng(seed)
    sequences = [np.append(rng.integers(3, 9, size=rng.integers(0, 60)), i + 10) for i in range(n)]
    labels = (np.arange(n) % 2).astype(np.int8)
    return pad(Reviews(sequences, labels), DataConfig(maxlen=MAXLEN, padding=padding))


def epoch(dataset) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def last_ids(batches, padding: str = "pre") -> list[int]:
    if padding == "pre":
        return [int(i) for x, _ in batches for i in x[:, -1]]
    return [int(row[row > 0][-1]) for x, _ in batches for row in x]


@pytest.mark.parametrize("bucketing", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_each_review_once_per_epoch_with_its_label(bucketing: bool, shuffle: bool) -> None:
    split = make_split()
    batches = epoch(make_dataset(split, batch_size=16, shuffle=shuffle, seed=1, bucketing=bucketing))
    assert sorted(last_ids(batches)) == list(range(10, 310))
    for x, y in batches:
        assert x.dtype == np.int32 and len(x) <= 16
        assert ((x[:, -1] - 10) % 2 == y).all()  # the label travels with its review


def test_shuffle_changes_order_between_epochs_but_is_seeded() -> None:
    split = make_split()
    dataset = make_dataset(split, batch_size=16, shuffle=True, seed=3)
    first, second = last_ids(epoch(dataset)), last_ids(epoch(dataset))
    assert first != second
    assert last_ids(epoch(make_dataset(split, batch_size=16, shuffle=True, seed=3))) == first


def test_without_bucketing_batches_have_maxlen_columns() -> None:
    assert {x.shape[1] for x, _ in epoch(make_dataset(make_split(), batch_size=16))} == {MAXLEN}


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_bucketed_batch_is_cut_to_its_longest_review_and_keeps_every_word(padding: str) -> None:
    split = make_split(padding=padding)
    lengths = dict(zip(last_ids([(split.x, split.y)], padding), split.lengths))
    full_rows = {last: row for last, row in zip(last_ids([(split.x, split.y)], padding), split.x)}
    for x, _ in epoch(make_dataset(split, batch_size=16, shuffle=True, seed=0, bucketing=True, padding=padding)):
        ids = last_ids([(x, None)], padding)
        assert x.shape[1] == max(lengths[i] for i in ids)
        for last, row in zip(ids, x):
            kept = full_rows[last][row.shape[0] * -1 :] if padding == "pre" else full_rows[last][: row.shape[0]]
            assert np.array_equal(row, kept)  # only padding columns were dropped


def test_bucketing_cuts_padding_but_keeps_batches_random() -> None:
    split = make_split(n=2000)
    plain = epoch(make_dataset(split, batch_size=32, shuffle=True, seed=0))
    bucketed = make_dataset(split, batch_size=32, shuffle=True, seed=0, bucketing=True)
    first = epoch(bucketed)
    assert sum(x.size for x, _ in first) < 0.75 * sum(x.size for x, _ in plain)
    second = epoch(bucketed)
    assert [sorted(last_ids([b])) for b in first] != [sorted(last_ids([b])) for b in second]
    assert len({x.shape[1] for x, _ in first}) > 5  # batch lengths vary


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_a_bucket_width_bounds_the_batch_shapes_and_keeps_every_word(padding: str) -> None:
    split = make_split(n=2000, padding=padding)
    lengths = dict(zip(last_ids([(split.x, split.y)], padding), split.lengths))
    batches = epoch(
        make_dataset(split, batch_size=32, shuffle=True, seed=0, bucketing=True, padding=padding, bucket_width=8)
    )
    widths = {x.shape[1] for x, _ in batches}
    assert all(width % 8 == 0 or width == MAXLEN for width in widths)
    assert len(widths) <= -(-MAXLEN // 8)
    for x, _ in batches:
        longest = max(lengths[i] for i in last_ids([(x, None)], padding))
        assert longest <= x.shape[1] < longest + 8 or x.shape[1] == MAXLEN  # the next multiple, no more
    assert sorted(last_ids(batches, padding)) == list(range(10, 10 + len(split)))  # each review once
