"""The encoding of a run, kept in its folder (`vocabulary.json`) so raw text can be encoded as its data was.

Training writes the words of its word index whose id fits the run's vocabulary (rank + 3 <
`num_words`, so about `num_words` words) with their ranks, and the index's other words (`rare_words`),
which are OOV (2) in the training data too; a word in neither is dropped, as `text.encode` drops it.
The word index is Keras's for IMDB, or the one built from the training texts of your own data.
`classes` names the class of each output index. With the run's `config.yaml` (`maxlen`, `padding`,
`truncating`) that is all prediction and export need, whichever data source trained the run:

    {"encoding": 2, "num_words": 10000, "word_index": "/data/imdb_word_index.json",
     "words": {"the": 1, "and": 2, ...}, "rare_words": ["aaa", ...], "classes": ["negative", "positive"]}

A run folder from before `classes` was written is an IMDB run: negative, positive. One from before
`encoding` (text encoding 1) has no `rare_words`: every word outside `words` is read as OOV, as its
training read it then, and a warning says so.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.data import text
from imdb_rnn.data.aclimdb import read_word_index
from imdb_rnn.data.reviews import Reviews
from imdb_rnn.data.sources import WORD_INDEX_FILE, download_word_index
from imdb_rnn.data.splits import IMDB_CLASSES, Splits, pad
from imdb_rnn.errors import ImdbRnnWarning, RunError, show
from imdb_rnn.files import read_json, write_json

VOCABULARY_FILE = "vocabulary.json"


@dataclass
class Vocabulary:
    """Word → frequency rank (1 = most frequent) for the words with an id below `num_words`."""

    words: dict[str, int]
    num_words: int
    classes: tuple[str, ...] = IMDB_CLASSES  # the class of each output index
    rare_words: tuple[str, ...] | None = ()  # the index's words past num_words (OOV); None: every other word
    _ranks: Mapping[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def ranks(self) -> Mapping[str, int]:
        """The word index `text.encode` reads: `words` with their ranks, `rare_words` at a rank past the
        vocabulary (so OOV); under text encoding 1 (`rare_words` None) every other word ranks past it too.
        Built on the first call and kept (IMDB's 88,584 words take 30 ms: a server encodes every request)."""
        if self._ranks is None:
            if self.rare_words is None:  # text encoding 1: unknown words were OOV
                self._ranks = defaultdict(lambda: self.num_words, self.words)
            else:  # an unknown word is dropped
                self._ranks = {**dict.fromkeys(self.rare_words, self.num_words), **self.words}
        return self._ranks

    def word_ids(self) -> dict[str, int]:
        """Every word the encoding knows → its id: `rank + 3` for `words`, OOV (2) for `rare_words`."""
        ids = {word: rank + text.INDEX_FROM for word, rank in self.ranks().items()}
        return {word: id_ if id_ < self.num_words else text.OOV for word, id_ in ids.items()}

    def encode(self, texts: Sequence[str], data: DataConfig) -> np.ndarray:
        """Raw reviews → padded ids `(len(texts), data.maxlen)` int32, as `data.load_splits` pads its reviews."""
        ranks = self.ranks()
        sequences = [text.encode(review, ranks, self.num_words) for review in texts]
        return pad(Reviews(sequences, np.zeros(len(sequences), dtype=np.int8)), data).x


def save_vocabulary(run: Path, splits: Splits, data: DataConfig) -> Path | None:
    """Writes `run/vocabulary.json` from the word index that encoded `splits` (with its class names), and
    returns its path.

    The `keras` source reads already-encoded reviews, so its word index is looked for beside the data
    and downloaded when online; without one (or for data with no word index), training goes on and
    this warns (`ImdbRnnWarning`) that prediction will not work for the run, and returns None.
    """
    path = run / VOCABULARY_FILE
    classes = list(splits.classes)
    if splits.words is not None:  # your own data: the word index built from its training texts
        word_index, origin = splits.words, f"built from the training texts of {splits.location}"
    else:
        source = splits.word_index
        if source is None and splits.source == "keras":
            source = download_word_index(data)
        if source is None:
            message = (
                f"no {WORD_INDEX_FILE} for the {splits.source} data of this run: prediction will not work for {run}."
            )
            warnings.warn(message, ImdbRnnWarning, stacklevel=2)
            return None
        word_index, origin = read_word_index(source), str(source)
    ordered = sorted((rank, word) for word, rank in word_index.items())
    words = {word: rank for rank, word in ordered if rank + text.INDEX_FROM < data.num_words}
    rare = [word for rank, word in ordered if rank + text.INDEX_FROM >= data.num_words]
    content = {"encoding": text.ENCODING, "num_words": data.num_words, "word_index": origin}
    write_json(path, {**content, "words": words, "rare_words": rare, "classes": classes})
    return path


def load_vocabulary(run: Path, data: DataConfig) -> Vocabulary:
    """Reads `run/vocabulary.json`; a one-line `RunError` when it is missing, unreadable or not this run's."""
    path = run / VOCABULARY_FILE
    if not path.is_file():
        raise RunError(
            f"{run}: no encoding data: expected {VOCABULARY_FILE} (written by training when the run's word "
            f"index is known), received a folder without {VOCABULARY_FILE}."
        )
    try:
        content = read_json(path)
    except (OSError, ValueError) as error:
        raise RunError(f"{path}: cannot read the encoding data: expected a JSON file, received {error}.") from None
    words = content.get("words") if isinstance(content, dict) else None
    num_words = content.get("num_words") if isinstance(content, dict) else None
    classes = content.get("classes", list(IMDB_CLASSES)) if isinstance(content, dict) else None
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(name, str) for name in classes):
        raise RunError(
            f"{path}: invalid encoding data: expected `classes`, a list of at least two class names, "
            f"received {show(classes)}."
        )
    if not isinstance(words, dict) or num_words != data.num_words:
        raise RunError(
            f"{path}: invalid encoding data: expected a JSON object with `words` (word → rank) and `num_words` "
            f"{data.num_words} (config.yaml's data.num_words), received words of type {type(words).__name__} "
            f"and num_words {show(num_words)}."
        )
    if content.get("encoding") is None:
        warnings.warn(
            f"{path}: written under text encoding 1 (before words absent from the word index were dropped): "
            "reading every word outside its vocabulary as OOV, as the run was trained.",
            ImdbRnnWarning,
            stacklevel=2,
        )
        return Vocabulary(words, num_words, tuple(classes), None)
    rare = content.get("rare_words")
    if not isinstance(rare, list) or not all(isinstance(word, str) for word in rare):
        raise RunError(
            f"{path}: invalid encoding data: expected `rare_words`, a list of words, received "
            f"{'a list holding a non-string' if isinstance(rare, list) else show(rare)}."
        )
    return Vocabulary(words, num_words, tuple(classes), tuple(rare))
