"""A region embedding learned from the training and unlabeled reviews (Johnson & Zhang 2015's
"tv-embedding"): a convolution that reads `region_size` embedded words and learns to tell the `context`
words on each side of its region from words drawn at random (negative sampling, no softmax). The `cnn`
classifier then reads it, frozen, beside its own convolution (`model.region_units`, `model.region_size`).

The reviews are encoded as the classifier's data is, joined into one stream and cut into windows of
`sequence_length` words (as the language model's, `imdb_rnn.pretraining.language_model`); the model reads a
window and, at each position whose neighbours all lie inside it:

    tokens (batch, length) → Embedding "embedding" → Conv1D(units, region_size, relu, 'same')
    "region_embedding" (batch, length, units) → NeighbourLogits: the logits of the 2 × `context` neighbours
    of each region (label 1) and of `negatives` words drawn for it (label 0)
    → (batch, positions, 2 × context + negatives), binary cross-entropy

Trained like a classifier run (history, plots, status, a checkpoint every epoch, `--resume`), judged on
held-out windows by how often it tells a neighbour from a drawn word. It writes `vectors.npz` (its
embedding) and `regions.npz` (the convolution, for the classifier; its embedding is `vectors.npz`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from imdb_rnn.config.pretraining import PretrainConfig, RegionConfig
from imdb_rnn.errors import ConfigError, DataError, RunError
from imdb_rnn.files import atomic_write
from imdb_rnn.models.inputs import MaskedConv1D
from imdb_rnn.pretraining.language_model import corpus_figures, corpus_ids, finish, held_out
from imdb_rnn.pretraining.word_vectors import load_vectors
from imdb_rnn.progress import say
from imdb_rnn.runs.callbacks import resumable
from imdb_rnn.runs.lifecycle import rewind

REGIONS_FILE = "regions.npz"  # the convolution: `kernel` (region_size, dim, units), `bias` (units,)
TABLE_SIZE = 1 << 20  # entries of the table negatives are drawn from (word2vec's unigram table)


def neighbour_offsets(region_size: int, context: int) -> list[int]:
    """Offsets from position `t` of the `context` words left and right of the region a 'same' convolution
    reads there (`t - (region_size - 1) // 2` to `t + region_size // 2`)."""
    left, right = (region_size - 1) // 2, region_size // 2
    return [-left - step for step in range(1, context + 1)] + [right + step for step in range(1, context + 1)]


@keras.saving.register_keras_serializable(package="imdb_rnn")
class NeighbourLogits(keras.layers.Layer):
    """`[regions (batch, length, units), tokens (batch, length)]` → logits `(batch, positions, 2 × context
    + negatives)`: for each position whose neighbours lie inside the window, the scores of its neighbours
    (`neighbour_offsets`), then of `negatives` words drawn for it from `table` (ids repeated in proportion to
    count^0.75, set by the trainer: `negative_table`). A score is the region's dot product with the word's
    context vector plus the word's bias.

    Each position draws its own words: words drawn once for a whole batch push a few rows hard and rarely,
    and Adam, which scales each weight's steps by its recent gradients, then drifts them upward (measured:
    the loss rose epoch after epoch)."""

    def __init__(self, num_words: int, region_size: int, context: int, negatives: int, seed: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.num_words, self.region_size, self.context, self.negatives = num_words, region_size, context, negatives
        self.seed = seed
        self.offsets = neighbour_offsets(region_size, context)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape: Any) -> None:
        units = input_shape[0][-1]
        self.context_vectors = self.add_weight(
            shape=(self.num_words, units),
            initializer=keras.initializers.RandomNormal(stddev=0.01),
            name="context_vectors",
        )
        self.context_bias = self.add_weight(shape=(self.num_words,), initializer="zeros", name="context_bias")
        self.table = self.add_weight(
            shape=(TABLE_SIZE,), initializer="ones", dtype="int32", trainable=False, name="table"
        )

    def call(self, inputs: Any) -> Any:
        regions, tokens = inputs
        length = tokens.shape[1]
        start, stop = -min(self.offsets), length - max(self.offsets)
        inner = regions[:, start:stop]  # (batch, positions, units)
        neighbours = ops.stack([tokens[:, start + offset : stop + offset] for offset in self.offsets], axis=-1)
        vectors = ops.take(self.context_vectors, neighbours, axis=0)  # (batch, positions, 2 context, units)
        positive = ops.einsum("bpu,bpnu->bpn", inner, vectors) + ops.take(self.context_bias, neighbours, axis=0)
        shape = (ops.shape(inner)[0], ops.shape(inner)[1], self.negatives)
        drawn = ops.take(self.table, keras.random.randint(shape, 0, TABLE_SIZE, seed=self.seed_generator), axis=0)
        negative = ops.einsum("bpu,bpku->bpk", inner, ops.take(self.context_vectors, drawn, axis=0))
        negative = negative + ops.take(self.context_bias, drawn, axis=0)
        return ops.concatenate([positive, negative], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        length = input_shape[1][1]
        positions = None if length is None else length - max(self.offsets) + min(self.offsets)
        return (input_shape[1][0], positions, len(self.offsets) + self.negatives)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_words": self.num_words,
            "region_size": self.region_size,
            "context": self.context,
            "negatives": self.negatives,
            "seed": self.seed,
        }


def build_region_model(settings: RegionConfig, num_words: int) -> keras.Model:
    """The region-embedding model (see the module docstring); its layer names are what `regions.npz` keeps."""
    tokens = keras.Input(shape=(settings.sequence_length,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(num_words, settings.embedding_dim, name="embedding")(tokens)
    regions = MaskedConv1D(
        settings.units, settings.region_size, padding="same", activation="relu", name="region_embedding"
    )(embedded)
    logits = NeighbourLogits(
        num_words, settings.region_size, settings.context, settings.negatives, settings.seed, name="neighbours"
    )([regions, tokens])
    model = keras.Model(tokens, logits, name="region_embedding")
    model.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate, clipnorm=1.0),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
    )
    return model


def negative_table(ids: np.ndarray, num_words: int, size: int = TABLE_SIZE) -> np.ndarray:
    """`(size,)` int32: each id of `ids` below `num_words` repeated in proportion to its count^0.75 (word2vec's
    distribution of negative samples), so a uniform draw from the table draws by it; padding never."""
    counts = np.bincount(ids, minlength=num_words)[:num_words].astype(np.float64)
    counts[0] = 0.0
    weights = counts**0.75
    bounds = np.cumsum(weights) / weights.sum()
    return np.searchsorted(bounds, (np.arange(size) + 0.5) / size).astype(np.int32)


def dataset(windows: np.ndarray, settings: RegionConfig, outputs: int, shuffle: bool) -> Any:
    """`tf.data` batches `(tokens (batch, length), labels (batch, positions, outputs))`: the labels are the
    same for every window (the neighbours first, then the drawn words), so they are made per batch."""
    import tensorflow as tf

    positions = settings.sequence_length - 2 * settings.context - settings.region_size + 1
    labels = np.concatenate([np.ones(2 * settings.context), np.zeros(settings.negatives)]).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices(windows)
    if shuffle:
        data = data.shuffle(len(windows), seed=settings.seed, reshuffle_each_iteration=True)
    data = data.batch(settings.batch_size)
    return data.map(
        lambda tokens: (tokens, tf.broadcast_to(labels, (tf.shape(tokens)[0], positions, outputs)))
    ).prefetch(2)


def train_region_embedding(
    config: PretrainConfig,
    run: Path,
    reviews: Path,
    word_index: Path,
    word_vectors: Path | None,
    resume: bool = False,
    out: Callable = say,
) -> dict[str, Any]:
    """Trains (or, with `resume`, continues) the region embedding of `config` in the run folder `run`,
    starting its embedding from the pretraining folder `word_vectors` (when given, and not resuming);
    writes `model.keras` (the best epoch by validation accuracy), `vectors.npz`, `regions.npz`,
    `history.csv`, plots; returns the figures for `metrics.json`."""
    settings, num_words = config.settings, config.corpus.num_words
    started = time.perf_counter()
    ids, count = corpus_ids(reviews, word_index, config.corpus, out)
    length = settings.sequence_length
    windows = len(ids) // length
    if length <= 2 * settings.context + settings.region_size - 1 or windows < 2:
        raise DataError(
            f"corpus of {len(ids)} words: too small for the region embedding: expected at least 2 windows of "
            f"region.sequence_length={length} words, each longer than a region and its context "
            f"({2 * settings.context + settings.region_size - 1} words), received {windows} windows."
        )
    stream = ids[: windows * length].reshape(windows, length)
    train, validation = held_out(windows, settings.validation_share, settings.seed)
    out(f"corpus: {len(ids):,} words, {len(train):,} training and {len(validation):,} validation windows")
    keras.utils.set_random_seed(settings.seed)
    model = build_region_model(settings, num_words)
    model.get_layer("neighbours").table.assign(negative_table(stream[train].ravel(), num_words))
    if word_vectors is not None and not resume:
        vectors = load_vectors(word_vectors)
        if vectors.shape[1] != settings.embedding_dim or len(vectors) < num_words:
            raise ConfigError(
                f"region.word_vectors: the word vectors do not fit: expected {num_words} rows of "
                f"region.embedding_dim={settings.embedding_dim}, received {vectors.shape} in {word_vectors}."
            )
        model.get_layer("embedding").set_weights([vectors[:num_words]])
        out(f"region.word_vectors: the embedding starts from {word_vectors}")
    outputs = 2 * settings.context + settings.negatives
    history = rewind(run) if resume else {}
    model.fit(
        dataset(stream[train], settings, outputs, shuffle=True),
        epochs=settings.epochs,
        validation_data=dataset(stream[validation], settings, outputs, shuffle=False),
        shuffle=False,  # the dataset shuffles its windows itself
        callbacks=resumable(run, history),
        verbose=1 if sys.stdout.isatty() else 2,
    )
    best, history, best_epoch = finish(run)  # its embedding is vectors.npz
    kernel, bias = best.get_layer("region_embedding").get_weights()
    with atomic_write(run / REGIONS_FILE) as temporary, open(temporary, "wb") as file:
        np.savez(file, kernel=kernel, bias=bias)
    return {
        "corpus": corpus_figures(count, ids, reviews, word_index, len(train), len(validation)),
        "word_vectors": None if word_vectors is None else str(word_vectors),
        "best_epoch": best_epoch,
        "epochs_run": len(history["epoch"]),
        "validation_loss": history["val_loss"][best_epoch - 1],
        "validation_accuracy": history["val_accuracy"][best_epoch - 1],
        "parameters": int(model.count_params()),
        "training_seconds": round(sum(history["seconds"]), 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def load_regions(folder: Path) -> dict[str, np.ndarray]:
    """`{"kernel", "bias"}`, the convolution of a region pretraining folder (its embedding is `vectors.npz`);
    `RunError` naming the file otherwise."""
    path = Path(folder) / REGIONS_FILE
    try:
        with np.load(path) as content:
            return {name: content[name] for name in ("kernel", "bias")}
    except (OSError, KeyError, ValueError) as error:
        reason = "no such file" if not path.exists() else str(error).splitlines()[0]
        raise RunError(
            f"{path}: cannot read the region embedding: expected the {REGIONS_FILE} of `imdb-rnn pretrain "
            f"--config region`, received {reason}."
        ) from None
