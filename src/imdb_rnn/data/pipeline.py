"""`tf.data` input pipelines over the padded arrays of a `Split` (or the unpadded reviews of a
`ragged.RaggedSplit`, each batch padded as it is gathered), with optional length bucketing.

Batches are built from shuffled *indices* and gathered from the in-memory arrays, then prefetched:
no per-example Python work, no per-epoch Python loop.

Length bucketing (`data.bucketing: true`): each epoch, the shuffled indices are cut into chunks of
`BUCKET_BATCHES` batches; each chunk is sorted by review length and cut into batches, and the
batches are shuffled again. A batch is then cut down to its longest review: with `padding: pre`
(the default) that keeps the last columns, so the recurrent layer still reads the real words last.
Reviews are still truncated to `maxlen`; the batches stay random, but similar in length. With
`bucket_width` > 1 the width is rounded up to a multiple of it (at most `maxlen`), so an epoch has at
most `ceil(maxlen / bucket_width)` batch shapes: XLA (`train.jit_compile`) and JAX compile one
program per shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from imdb_rnn.config import DataConfig
from imdb_rnn.data.ragged import RaggedSplit
from imdb_rnn.data.splits import Split

AnySplit = Split | RaggedSplit  # IMDB's padded reviews, or your data's ragged ones

BUCKET_BATCHES = 32  # batches per sorted chunk: more gives tighter padding, fewer gives more randomness
COMPILED_BUCKET_WIDTH = 32  # the default width multiple where every batch shape is compiled (JAX, XLA)
EVALUATION_BATCH_SIZE = 256  # no gradients to keep: larger batches use the CPU better


def compiled(jit_compile: bool | None, backend: str) -> bool:
    """`train.jit_compile` resolved for `backend`: None compiles the train step under JAX (the backend's
    one fast path: uncompiled, JAX runs op by op, about 5x slower here) and not under TensorFlow or
    PyTorch (Keras's "auto", except that TensorFlow on a GPU stays uncompiled too, as before)."""
    return jit_compile if jit_compile is not None else backend == "jax"


def bucket_width(width: int | None, jit_compile: bool | None, backend: str) -> int:
    """`data.bucket_width`, or its default when None: `COMPILED_BUCKET_WIDTH` where each batch shape is a
    new compilation (`compiled(jit_compile, backend)`: by default under JAX), else 1 (each batch exactly
    as wide as its longest review)."""
    if width is not None:
        return width
    return COMPILED_BUCKET_WIDTH if compiled(jit_compile, backend) else 1


def evaluation_batch_size(batch_size: int) -> int:
    """Validation and test batches: at least `EVALUATION_BATCH_SIZE` reviews. Without bucketing the
    batch size changes no metric; with it, it changes how much padding a review gets, so training's
    final evaluation and `evaluate.py` must use the same."""
    return max(batch_size, EVALUATION_BATCH_SIZE)


def make_test_dataset(
    split: AnySplit, batch_size: int, bucketing: bool = False, padding: str = "pre"
) -> tf.data.Dataset:
    """`(tokens, labels)` batches of `split` read as a model is asked about one review: the one rule of
    evaluation, `Run.predict` and the exported model. A run trained on `maxlen`-wide batches
    (`bucketing` off) reads `maxlen`-wide batches; a bucketed run reads each review without padding,
    so a batch holds reviews of one length only (`(batch, length)`; lengths in ascending order), and a
    review's probability never depends on the others of its batch."""
    if not bucketing:
        return make_dataset(split, batch_size, padding=padding)
    order = np.argsort(split.lengths, kind="stable")
    lengths = np.maximum(split.lengths[order], 1)  # an empty review is read as its start token, as predict does
    starts = np.flatnonzero(np.diff(lengths, prepend=-1))  # where each length begins in `order`
    ends = np.append(starts[1:], len(order))
    sizes = [
        min(batch_size, end - first) for start, end in zip(starts, ends) for first in range(start, end, batch_size)
    ]
    batches = tf.RaggedTensor.from_row_lengths(order.astype(np.int64), np.asarray(sizes, dtype=np.int64))
    return _gathered(tf.data.Dataset.from_tensor_slices(batches), split, True, padding, 1)


def batching(data: DataConfig) -> dict[str, Any]:
    """`make_dataset`'s batching keywords as `data` sets them: `bucketing`, `padding`, `bucket_width`."""
    return {"bucketing": data.bucketing, "padding": data.padding, "bucket_width": data.bucket_width}


def make_dataset(
    split: AnySplit,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    bucketing: bool = False,
    padding: str = "pre",
    bucket_width: int = 1,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """`(tokens (batch, time) int32, labels (batch,) float32)` batches of `split`.

    Without bucketing, `time` is the split's `maxlen`; with it, the longest review of the batch
    rounded up to a multiple of `bucket_width` (at most `maxlen`).
    `shuffle` reshuffles every epoch (seeded by `seed`); evaluation sets leave it off. `drop_remainder`
    (unbucketed only) leaves out a last, smaller batch, so that every batch has `batch_size` reviews and
    its size is known before it runs (`keras.distribution` splits each among the processes).
    """
    lengths = tf.constant(split.lengths)
    indices = tf.data.Dataset.range(len(split))
    if shuffle:
        indices = indices.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)

    if not bucketing:
        batches = indices.batch(batch_size, drop_remainder=drop_remainder)
    elif shuffle:

        def sorted_batches(chunk: tf.Tensor) -> tf.data.Dataset:
            chunk = tf.gather(chunk, tf.argsort(tf.gather(lengths, chunk), stable=True))
            return tf.data.Dataset.from_tensor_slices(chunk).batch(batch_size)

        chunk = batch_size * BUCKET_BATCHES
        count = len(split) // chunk * BUCKET_BATCHES + -(-(len(split) % chunk) // batch_size)
        batches = indices.batch(chunk).flat_map(sorted_batches)
        batches = batches.apply(tf.data.experimental.assert_cardinality(count))  # flat_map hides it from Keras
        batches = batches.shuffle(BUCKET_BATCHES * 4, seed=seed, reshuffle_each_iteration=True)
    else:
        order = tf.argsort(lengths, stable=True)
        batches = tf.data.Dataset.from_tensor_slices(tf.cast(order, tf.int64)).batch(batch_size)

    return _gathered(batches, split, bucketing, padding, bucket_width)


def _gathered(batches: tf.data.Dataset, split: AnySplit, bucketing: bool, padding: str, bucket_width: int):
    """Batches of indices → `(tokens, labels)`, each bucketed batch cut down to its longest review."""
    y = tf.constant(split.y)
    lengths = tf.constant(split.lengths)
    gather_tokens = _ragged_gather(split, padding) if isinstance(split, RaggedSplit) else _dense_gather(split, padding)
    maxlen = split.maxlen if isinstance(split, RaggedSplit) else split.x.shape[1]

    def gather(batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        width = maxlen
        if bucketing:
            longest = tf.maximum(tf.reduce_max(tf.gather(lengths, batch)), 1)
            width = tf.minimum(-(-longest // bucket_width) * bucket_width, maxlen)
        return gather_tokens(batch, width), tf.gather(y, batch)

    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False  # as Keras's own array adapter
    return batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE).with_options(options)


def _dense_gather(split: Split, padding: str):
    """`(batch, width) → tokens`: the padded rows of `split.x`, cut to their last (`pre`) or first `width` columns."""
    x = tf.constant(split.x)
    maxlen = split.x.shape[1]

    def gather(batch: tf.Tensor, width) -> tf.Tensor:
        tokens = tf.gather(x, batch)
        if isinstance(width, int) and width == maxlen:
            return tokens
        return tokens[:, maxlen - width :] if padding == "pre" else tokens[:, :width]

    return gather


def _ragged_gather(split: RaggedSplit, padding: str):
    """`(batch, width) → tokens`: the reviews of a `RaggedSplit` padded to `width` columns (at least the
    batch's longest review), exactly as `_dense_gather` cuts them from the padded array: the ids of a
    batch are gathered by position, nothing is ever padded to `maxlen` in memory."""
    ids = tf.constant(split.ids)
    starts = tf.constant(split.offsets[:-1])
    lengths = tf.constant(split.lengths)

    def gather(batch: tf.Tensor, width) -> tf.Tensor:
        sizes = tf.gather(lengths, batch)[:, tf.newaxis]
        columns = tf.range(width)[tf.newaxis, :]
        within = columns - (width - sizes) if padding == "pre" else columns  # position inside the review
        inside = (within >= 0) & (within < sizes)
        positions = tf.gather(starts, batch)[:, tf.newaxis] + tf.cast(tf.maximum(within, 0), tf.int64)
        return tf.where(inside, tf.gather(ids, tf.where(inside, positions, 0)), 0)

    return gather
