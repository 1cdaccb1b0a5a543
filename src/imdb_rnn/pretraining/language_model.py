"""A recurrent language model on the training and unlabeled reviews (next-word prediction), trained
like a classifier run — history, plots, status, a checkpoint every epoch, `--resume` after a kill — whose
embedding and recurrent layers then start a classifier (`imdb_rnn.training.pretrained`).

The reviews are encoded as the classifier's data is (`imdb_rnn.data.text`: START, ranks + 3, OOV for
ids >= num_words), joined into one stream and cut into windows of `sequence_length` words; the model
reads a window and predicts each next word:

    tokens (batch, time) → Embedding "embedding" → `num_layers` × LSTM/GRU "encoder_<i>" → Dropout
    → Dense(output_words) logits (batch, time, output_words)

The softmax covers the `output_words` most frequent words (the next word is OOV, id 2, for the rest):
its cost grows with that number, and on a CPU it dominates; every `num_words` word is still read.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from imdb_rnn.config.pretraining import CorpusConfig, LanguageModelConfig, PretrainConfig
from imdb_rnn.data import text
from imdb_rnn.data.aclimdb import read_word_index
from imdb_rnn.errors import DataError
from imdb_rnn.files import read_json_or_none
from imdb_rnn.models import CELLS
from imdb_rnn.models.torch_kernels import use_fused_kernels
from imdb_rnn.pretraining.word_vectors import corpus_texts, save_vectors
from imdb_rnn.progress import say
from imdb_rnn.runs.callbacks import resumable
from imdb_rnn.runs.history import from_csv
from imdb_rnn.runs.lifecycle import rewind
from imdb_rnn.runs.plots import plot_history


def corpus_ids(reviews: Path, word_index: Path, corpus: CorpusConfig, out: Callable = say) -> tuple[np.ndarray, int]:
    """Every pretraining review of `reviews` (`word_vectors.corpus_texts`: never a test review) encoded with
    `corpus.num_words` ids and joined — int32 `(words,)`, each review starting with START — and the number
    of reviews."""
    index = read_word_index(word_index)
    pieces = [text.encode(review, index, corpus.num_words) for review in corpus_texts(reviews, corpus, out)]
    return np.concatenate(pieces), len(pieces)


def windows(ids: np.ndarray, settings: LanguageModelConfig) -> tuple[tuple[np.ndarray, np.ndarray], tuple]:
    """`((x, y), (x_validation, y_validation))`: windows `(n, sequence_length)` of the stream and the same
    shifted by one word; a seeded `validation_share` of the windows is held out."""
    length = settings.sequence_length
    count = (len(ids) - 1) // length
    if count < 2:
        raise DataError(
            f"corpus of {len(ids)} words: too small for the language model: expected at least 2 windows of "
            f"language_model.sequence_length={length} words, received {count}."
        )
    x = ids[: count * length].reshape(count, length)
    y = text.limit_vocabulary(ids[1 : count * length + 1], settings.output_words).reshape(count, length)
    train, validation = held_out(count, settings.validation_share, settings.seed)
    return (x[train], y[train]), (x[validation], y[validation])


def held_out(count: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`(train, validation)`: the indices of `count` windows in a seeded order, `share` of them (at least
    one, never all) held out for validation."""
    order = np.random.default_rng(seed).permutation(count)
    held = min(max(1, round(count * share)), count - 1)
    return order[held:], order[:held]


def build_language_model(settings: LanguageModelConfig, num_words: int) -> keras.Model:
    """The language model (see the module docstring); its layer names are what classifiers read."""
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(num_words, settings.embedding_dim, name="embedding")(tokens)
    for number in range(settings.num_layers):
        x = CELLS[settings.cell](settings.units, return_sequences=True, name=f"encoder_{number}")(x)
    if settings.dropout:
        x = keras.layers.Dropout(settings.dropout, name="dropout")(x)
    logits = keras.layers.Dense(min(settings.output_words, num_words), name="next_word", dtype="float32")(x)
    model = keras.Model(tokens, logits, name="language_model")
    use_fused_kernels(model)  # under PyTorch: its fused CPU LSTM/GRU
    model.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def corpus_figures(count: int, ids: np.ndarray, reviews: Path, word_index: Path, windows: int, held: int) -> dict:
    """The `corpus` entry of a Keras pretraining's `metrics.json`."""
    return {
        "reviews": count,
        "tokens": int(len(ids)),
        "path": str(reviews),
        "word_index": str(word_index),
        "windows": int(windows),
        "validation_windows": int(held),
    }


def finish(run: Path) -> tuple[keras.Model, dict[str, list], int]:
    """After a Keras pretraining's last epoch in `run`: its best model (`model.keras`), whose embedding
    becomes `vectors.npz`, the history (plotted into the folder) and the best epoch (1-based)."""
    best = keras.models.load_model(run / "model.keras", compile=False)
    (embedding,) = best.get_layer("embedding").get_weights()
    save_vectors(run, embedding, np.ones(len(embedding), dtype=bool))
    history = from_csv(run / "history.csv")
    plot_history(history, run.name, run)
    return best, history, (read_json_or_none(run / "best.json") or {}).get("epoch", len(history["epoch"]))


def train_language_model(
    config: PretrainConfig, run: Path, reviews: Path, word_index: Path, resume: bool = False, out: Callable = say
) -> dict[str, Any]:
    """Trains (or, with `resume`, continues) the language model of `config` in the run folder `run`;
    writes `model.keras` (the best epoch by validation next-word accuracy), `vectors.npz` (its
    embedding), `history.csv`, plots; returns the figures for `metrics.json`."""
    settings, num_words = config.settings, config.corpus.num_words
    started = time.perf_counter()
    ids, count = corpus_ids(reviews, word_index, config.corpus, out)
    (x, y), validation = windows(ids, settings)
    out(f"corpus: {len(ids):,} words, {len(x):,} training and {len(validation[0]):,} validation windows")
    keras.utils.set_random_seed(settings.seed)
    model = build_language_model(settings, num_words)
    history = rewind(run) if resume else {}
    model.fit(
        x,
        y,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        validation_data=validation,
        callbacks=resumable(run, history),
        verbose=1 if sys.stdout.isatty() else 2,
    )
    _, history, best_epoch = finish(run)
    validation_loss = history["val_loss"][best_epoch - 1]
    return {
        "corpus": corpus_figures(count, ids, reviews, word_index, len(x), len(validation[0])),
        "best_epoch": best_epoch,
        "epochs_run": len(history["epoch"]),
        "validation_loss": validation_loss,
        "validation_perplexity": round(math.exp(validation_loss), 2),
        "validation_accuracy": history["val_accuracy"][best_epoch - 1],
        "parameters": int(model.count_params()),
        "training_seconds": round(sum(history["seconds"]), 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
