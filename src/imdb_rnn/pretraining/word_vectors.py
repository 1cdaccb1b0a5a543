"""Word vectors from the project's own corpus: gensim's Word2Vec on the training and unlabeled reviews,
aligned with the Keras word index so that row `i` of the vectors is the embedding of token id `i`.

    vectors = load_vectors(folder)   # (num_words, vector_size) float32: id 0 padding, 1 start, 2 OOV,
                                     # rank r of imdb_word_index.json at row r + 3

Words of the Keras vocabulary that the corpus gives no vector (rarer than `min_count`), and the three
special ids, get random rows with the trained vectors' scale, so an embedding starts from the same
distribution everywhere. The test reviews are never read (`imdb_rnn.data.aclimdb.pretraining_texts`); with
`corpus.leave_out_validation`, nor a classifier's validation reviews (`corpus_texts`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from imdb_rnn.config.pretraining import CorpusConfig, PretrainConfig, Word2VecConfig
from imdb_rnn.data import text
from imdb_rnn.data.aclimdb import pretraining_texts, read_word_index, validation_files
from imdb_rnn.environment import cpu_count
from imdb_rnn.errors import RunError
from imdb_rnn.files import atomic_write, write_text
from imdb_rnn.progress import say

VECTORS_FILE = "vectors.npz"  # `vectors` (num_words, vector_size) float32, `trained` (num_words,) bool
PROBES = ("excellent", "awful", "boring")  # the nearest-neighbour sanity check


def corpus_texts(reviews: Path, corpus: CorpusConfig, out: Callable[[str], None] = say) -> Iterator[str]:
    """The texts pretraining reads from the aclImdb folder or archive `reviews`: the training and unlabeled
    reviews, never a test review (`aclimdb.pretraining_texts`), less the validation reviews of
    `corpus.left_out` (`aclimdb.validation_files`), at most `corpus.limit` of them."""
    leave_out: frozenset[str] = frozenset()
    if corpus.left_out is not None:
        share, split_by, seed = corpus.left_out
        leave_out = validation_files(reviews, share, seed, split_by == "movie")
        out(
            f"leaving out the {len(leave_out):,} validation reviews of data.validation_split={share}, "
            f"validation_split_by={split_by}, seed={seed}"
        )
    for count, (_, review) in enumerate(pretraining_texts(reviews, leave_out=leave_out), 1):
        yield review
        if count % 25_000 == 0:
            out(f"read {count:,} reviews")
        if corpus.limit is not None and count >= corpus.limit:
            return


def write_corpus(path: Path, reviews: Path, corpus: CorpusConfig, out: Callable[[str], None] = say) -> dict[str, int]:
    """Tokenizes the pretraining reviews of `reviews` (folder or archive; `corpus_texts`) into `path`, one
    review per line, words separated by spaces (gensim's `corpus_file` format); returns the counts. `path`
    is a scratch file in a temporary folder that gensim reads and that is deleted after, so it is streamed
    there rather than written atomically."""
    texts = tokens = 0
    with open(path, "w", encoding="utf-8") as written:
        for review in corpus_texts(reviews, corpus, out):
            words = text.tokenize(review)
            written.write(" ".join(words) + "\n")
            texts, tokens = texts + 1, tokens + len(words)
    return {"reviews": texts, "tokens": tokens}


def train_word2vec(corpus: Path, settings: Word2VecConfig, out: Callable[[str], None] = say) -> Any:
    """gensim `Word2Vec` trained on the `corpus_file` `corpus` with every usable core."""
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochLine(CallbackAny2Vec):
        def __init__(self) -> None:
            self.epoch, self.started = 0, time.perf_counter()

        def on_epoch_end(self, model: Any) -> None:
            self.epoch += 1
            out(f"word2vec epoch {self.epoch}/{settings.epochs}: {time.perf_counter() - self.started:.0f} s")

    return Word2Vec(
        corpus_file=str(corpus),
        vector_size=settings.vector_size,
        sg=1 if settings.algorithm == "skipgram" else 0,
        window=settings.window,
        min_count=settings.min_count,
        negative=settings.negative,
        sample=settings.sample,
        epochs=settings.epochs,
        seed=settings.seed,
        workers=max(cpu_count(), 1),
        callbacks=[EpochLine()],
    )


def aligned_vectors(keyed: Any, word_index: dict[str, int], num_words: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`(vectors, trained)`: row `rank + 3` holds the vector of each word with that Keras rank (below
    `num_words`); rows without one (special ids, words rarer than `min_count`) are random normal with
    the trained rows' standard deviation."""
    vectors = np.zeros((num_words, keyed.vector_size), dtype=np.float32)
    trained = np.zeros(num_words, dtype=bool)
    for word, rank in word_index.items():
        row = rank + text.INDEX_FROM
        if row < num_words and word in keyed.key_to_index:
            vectors[row], trained[row] = keyed[word], True
    scale = float(vectors[trained].std()) if trained.any() else 0.1
    random = np.random.default_rng(seed).normal(0.0, scale, size=vectors.shape).astype(np.float32)
    vectors[~trained] = random[~trained]
    return vectors, trained


def neighbours(keyed: Any, words: tuple[str, ...] = PROBES, count: int = 8) -> dict[str, list[list[Any]]]:
    """The `count` nearest words (cosine) of each probe word the vectors know: `{word: [[neighbour, similarity], ...]}`."""
    return {
        word: [[other, round(float(similarity), 3)] for other, similarity in keyed.most_similar(word, topn=count)]
        for word in words
        if word in keyed.key_to_index
    }


def neighbours_markdown(table: dict[str, list[list[Any]]]) -> str:
    lines = ["| word | nearest neighbours (cosine similarity) |", "|---|---|"]
    for word, near in table.items():
        lines.append(f"| {word} | " + ", ".join(f"{other} ({similarity:.2f})" for other, similarity in near) + " |")
    return "\n".join(lines) + "\n"


def pretrain_word2vec(
    config: PretrainConfig, run: Path, reviews: Path, word_index: Path, out: Callable[[str], None] = say
) -> dict[str, Any]:
    """Trains `config`'s word vectors into the run folder `run` (`vectors.npz`, `neighbours.md`) and
    returns the figures for its `metrics.json`."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="imdb-rnn-corpus-") as scratch:
        corpus = Path(scratch) / "corpus.txt"
        counts = write_corpus(corpus, reviews, config.corpus, out)
        read_seconds = time.perf_counter() - started
        out(f"corpus: {counts['reviews']:,} reviews, {counts['tokens']:,} words ({read_seconds:.0f} s)")
        model = train_word2vec(corpus, config.settings, out)
    train_seconds = time.perf_counter() - started - read_seconds
    vectors, trained = aligned_vectors(
        model.wv, read_word_index(word_index), config.corpus.num_words, config.settings.seed
    )
    save_vectors(run, vectors, trained)
    table = neighbours(model.wv)
    write_text(run / "neighbours.md", neighbours_markdown(table))
    return {
        "corpus": {**counts, "path": str(reviews), "word_index": str(word_index)},
        "corpus_vocabulary": len(model.wv.key_to_index),
        "rows": int(len(vectors)),
        "rows_trained": int(trained.sum()),
        "vector_size": int(vectors.shape[1]),
        "seconds_reading": round(read_seconds, 1),
        "seconds_training": round(train_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "neighbours": table,
    }


def save_vectors(folder: Path, vectors: np.ndarray, trained: np.ndarray) -> None:
    """Writes `folder/vectors.npz` atomically: `vectors` `(rows, size)` float32 and `trained` `(rows,)` bool."""
    with atomic_write(Path(folder) / VECTORS_FILE) as temporary, open(temporary, "wb") as file:
        np.savez(file, vectors=vectors.astype(np.float32, copy=False), trained=trained.astype(bool, copy=False))


def load_vectors(folder: Path) -> np.ndarray:
    """`(num_words, vector_size)` float32 from a pretraining run folder; `RunError` naming the file otherwise."""
    path = Path(folder) / VECTORS_FILE
    try:
        with np.load(path) as content:
            vectors = content["vectors"]
    except (OSError, KeyError, ValueError) as error:
        reason = "no such file" if not path.exists() else str(error).splitlines()[0]
        raise RunError(
            f"{path}: cannot read the word vectors: expected the {VECTORS_FILE} of `imdb-rnn pretrain`, "
            f"received {reason}."
        ) from None
    if vectors.ndim != 2:
        raise RunError(f"{path}: invalid word vectors: expected a 2-D array, received shape {vectors.shape}.")
    return vectors.astype(np.float32, copy=False)
