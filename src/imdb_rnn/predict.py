"""A trained run, loaded from its folder alone, and the sentiment of new raw text.

    from imdb_rnn import load_run
    run = load_run("outputs/lstm-20261122-023703")
    run.predict(["A wonderful surprise.", "Two hours I will never get back."])  # P(positive), shape (2,)

Text is tokenized and encoded exactly as the run's training data was: the run's `vocabulary.json`
(see `imdb_rnn.vocabulary`), then `data.num_words`, `data.maxlen`, `data.padding` and
`data.truncating` from its `config.yaml`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np

from imdb_rnn import text
from imdb_rnn.config import Config, load_config
from imdb_rnn.errors import InputError, RunError, show
from imdb_rnn.vocabulary import Vocabulary, load_vocabulary

RUN_FILES = ("config.yaml", "model.keras")
LABELS = ("negative", "positive")
DEFAULT_THRESHOLD = 0.5  # positive when P(positive) is above it, as Keras's accuracy counts


@dataclass
class Run:
    """A run folder's resolved config and best model; its encoding is read on first use."""

    folder: Path
    config: Config
    model: keras.Model
    _vocabulary: Vocabulary | None = field(default=None, init=False, repr=False)

    @property
    def vocabulary(self) -> Vocabulary:
        """The run's `vocabulary.json`; a `RunError` when the folder has none."""
        if self._vocabulary is None:
            self._vocabulary = load_vocabulary(self.folder, self.config.data)
        return self._vocabulary

    def encode(self, texts: str | Sequence[str]) -> np.ndarray:
        """Raw reviews → the model's input `(n, data.maxlen)` int32, as training encoded its reviews.

        A review with no words (empty, blank or only punctuation) raises `InputError`.
        """
        texts = [texts] if isinstance(texts, str) else list(texts)
        for number, review in enumerate(texts, 1):
            check_words(f"text {number}", review)
        return self.vocabulary.encode(texts, self.config.data)

    def predict(self, texts: str | Sequence[str]) -> np.ndarray:
        """P(positive review) `(n,)` float32 in [0, 1] for `n` raw reviews (one string counts as one)."""
        x = self.encode(texts)
        probabilities = np.zeros(len(x), dtype=np.float32)
        if not self.config.data.bucketing:  # trained on maxlen-wide batches: predict them so
            groups = [(np.arange(len(x)), x)]
        else:  # a review's probability must not depend on the others: each is read without padding
            lengths = np.count_nonzero(x, axis=1)
            groups = [(rows, _unpadded(x[rows], length, self.config.data.padding))
                      for length in np.unique(lengths) for rows in [np.flatnonzero(lengths == length)]]
        for rows, tokens in groups:
            predicted = self.model.predict(tokens, batch_size=self.config.train.batch_size, verbose=0)
            probabilities[rows] = np.asarray(predicted, dtype=np.float32).reshape(-1)
        return probabilities

    def evaluate(self, threshold: float = DEFAULT_THRESHOLD, save: bool = False) -> dict[str, Any]:
        """Test-set metrics (see `imdb_rnn.evaluate.classification_metrics`); `save=True` also
        records them in the run folder as `scripts/evaluate.py` does."""
        from imdb_rnn.evaluate import evaluate_run

        return evaluate_run(self, threshold, save=save)


def _unpadded(x: np.ndarray, length: int, padding: str) -> np.ndarray:
    """Rows of `x` that all hold `length` tokens, without their padding: `(rows, length)`."""
    return x[:, x.shape[1] - length :] if padding == "pre" else x[:, :length]


def check_words(where: str, review: Any) -> None:
    """An `InputError` naming `where` when `review` is not a string with at least one word."""
    if not isinstance(review, str) or not text.tokenize(review):
        raise InputError(f"{where} has no words: expected a review with at least one word, received {show(review)}.")


def load_run(folder: str | Path) -> Run:
    """Loads `folder`'s `config.yaml` and `model.keras`; a one-line `RunError` when it is not a run folder."""
    folder = Path(folder)
    expected = f"expected a folder with {' and '.join(RUN_FILES)}"
    if not folder.is_dir():
        received = "a file" if folder.exists() else "a path that does not exist"
        raise RunError(f"{folder}: not a run folder: {expected}, received {received}.")
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing:
        raise RunError(f"{folder}: not a run folder: {expected}, received a folder without {' and '.join(missing)}.")
    config = load_config(folder / "config.yaml")
    try:
        model = keras.models.load_model(folder / "model.keras")
    except Exception as error:  # noqa: BLE001 - zip, JSON and deserialization errors: not a loadable model
        reason = str(error).splitlines()[0].rstrip(".") if str(error) else type(error).__name__
        raise RunError(
            f"{folder / 'model.keras'}: cannot load the model: expected a Keras model file, received a file "
            f"Keras cannot load ({reason})."
        ) from None
    return Run(folder, config, model)


def read_reviews(source: str) -> list[str]:
    """The reviews of a UTF-8 file, one a line, blank lines skipped; `-` reads standard input.

    An `InputError` when the file cannot be read, is not UTF-8, holds no review or has a line with
    no words (only punctuation).
    """
    name = "standard input" if source == "-" else source
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise InputError(f"{name}: cannot read the reviews: {error.strerror or error}.") from None
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name}: cannot read the reviews: expected UTF-8 text, one review a line, received byte "
            f"0x{raw[error.start]:02x} at position {error.start}, which is not UTF-8."
        ) from None
    lines = list(enumerate(content.removeprefix("\ufeff").splitlines(), 1))
    for number, line in lines:
        if line.strip():
            check_words(f"{name}: line {number}", line)
    reviews = [line for _, line in lines if line.strip()]
    if not reviews:
        received = "an empty file" if not raw else "only blank lines"
        raise InputError(f"{name}: no reviews: expected one review a line, received {received}.")
    return reviews


def gather_reviews(texts: Sequence[str], file: str | None = None) -> list[str]:
    """The reviews of the command line: each of `texts` (`-` reads standard input), then `file`'s.

    An `InputError` when a text has no words or a file cannot be read (see `read_reviews`).
    """
    reviews = []
    for number, review in enumerate(texts, 1):
        if review == "-":
            reviews += read_reviews("-")
        else:
            check_words(f"text {number}", review)
            reviews.append(review)
    return reviews + (read_reviews(file) if file is not None else [])


def label(probability: float, threshold: float = DEFAULT_THRESHOLD) -> str:
    """`"positive"` when `probability` is above `threshold`, else `"negative"`."""
    return LABELS[int(probability > threshold)]
