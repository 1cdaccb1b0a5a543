"""Which words decided: each word's contribution to a run's prediction for a review.

    from imdb_rnn import load_run
    from imdb_rnn.evaluation.explain import explain
    [explanation] = explain(load_run("outputs/lstm-20261122-023703"), ["A wonderful, moving film."])
    explanation.label, explanation.probability          # "positive", 0.97
    list(zip(explanation.words, explanation.contributions))  # [("a", 0.01), ("wonderful", 0.41), …]

The contributions are integrated gradients over the embedding (`imdb_rnn.evaluation.attribution`: the
baseline, the models supported, TensorFlow only), toward the predicted class: a positive number pushed the
review toward its label, a negative one away from it, and together they add up to `probability -
baseline_probability` (the probability of the label with every word's embedding at zero), to within the
integral's error (at 50 steps, measured: at most 1.9e-3 on the tests' tiny lstm, 2.4e-4 for the shipped
lstm on a 500-word review; more `steps`, less error).

`words` are the review's words as training tokenized them (`imdb_rnn.data.text.tokenize`: ASCII letters
lower-cased, punctuation a separator), every one of them in order, so a page can show the whole review.
A word the model did not read has contribution 0 and `read` false: a word absent from the run's
word index (the encoding drops it, as training dropped it) or one cut off by `data.maxlen` (the first
words, with `truncating: pre`). A rare word read as out-of-vocabulary is read, and credited. The review is
read as `Run.predict` reads it (without padding when the run was trained with length bucketing), so
`probability` is `Run.predict`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from imdb_rnn.data import text


class Run(Protocol):
    """What `explain` reads of a run: `imdb_rnn.runs.Run` (a layer above this one) is one."""

    config: Any
    vocabulary: Any
    model: Any
    classes: tuple[str, ...]

    def encode(self, texts: Sequence[str], allow_empty: bool = False) -> np.ndarray: ...


DEFAULT_STEPS = 50  # the paper suggests 20 to 300


@dataclass(frozen=True)
class Explanation:
    """One review's words `(n,)`, each one's contribution toward `label` (`(n,)`, 0 where not `read`), the
    probability of `label`, every class's `probabilities`, and `baseline_probability`: P(label) with no words."""

    words: tuple[str, ...]
    contributions: tuple[float, ...]
    read: tuple[bool, ...]
    label: str
    probability: float
    probabilities: dict[str, float]
    baseline_probability: float

    def to_json(self) -> dict[str, Any]:
        """`{"words", "contributions", "read", "label", "probability", "probabilities", "baseline_probability"}`,
        plain JSON types."""
        return {
            "words": list(self.words),
            "contributions": [float(value) for value in self.contributions],
            "read": [bool(value) for value in self.read],
            "label": self.label,
            "probability": float(self.probability),
            "probabilities": {name: float(value) for name, value in self.probabilities.items()},
            "baseline_probability": float(self.baseline_probability),
        }


def explain(run: Run, texts: Sequence[str], steps: int = DEFAULT_STEPS, allow_empty: bool = False) -> list[Explanation]:
    """One `Explanation` per review of `texts`, for `run`'s model (see the module docstring); `steps`: the
    intervals of the integral (>= 1). A review with no words is an `InputError` unless `allow_empty` (then
    it is the start token alone, as `Run.predict` reads it, and has no words to credit); a model that
    cannot be explained or a backend other than TensorFlow, a `UserError`."""
    from imdb_rnn.evaluation.attribution import attribute, check_backend

    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"explain: invalid steps: expected an integer >= 1, received {steps!r}.")
    check_backend()
    texts = [texts] if isinstance(texts, str) else list(texts)
    encoded = run.encode(texts, allow_empty)  # (n, maxlen): the InputError for a review without words
    data = run.config.data
    explanations = []
    for review, row in zip(texts, encoded):
        kept = np.count_nonzero(row)  # ids are >= 1 but for padding
        tokens = row if not data.bucketing else (row[-kept:] if data.padding == "pre" else row[:kept])
        words, columns = word_columns(run, review, len(tokens))
        attribution = attribute(run.model, tokens, steps)
        read = columns >= 0
        contributions = np.where(read, attribution.contributions[np.maximum(columns, 0)], 0.0)
        classes = run.classes
        explanations.append(
            Explanation(
                words=tuple(words),
                contributions=tuple(float(value) for value in contributions),
                read=tuple(bool(value) for value in read),
                label=classes[attribution.class_index],
                probability=float(attribution.probabilities[attribution.class_index]),
                probabilities={name: float(p) for name, p in zip(classes, attribution.probabilities)},
                baseline_probability=attribution.baseline_probability,
            )
        )
    return explanations


def word_columns(run: Run, review: str, width: int) -> tuple[list[str], np.ndarray]:
    """The words of `review` and the column `(words,)` of the model's input row (`width` tokens: `data.maxlen`
    padded, or the review's own length unpadded) that holds each, -1 for a word not read (dropped by the
    encoding or cut by `data.maxlen`). Mirrors `text.encode` and `keras.utils.pad_sequences`: the start
    token, then the known words; `truncating` keeps the last (`pre`) or first (`post`) `maxlen` of them;
    `padding: pre` puts the zeros first."""
    data, vocabulary = run.config.data, run.vocabulary
    words = text.tokenize(review) if isinstance(review, str) else []
    ranks = vocabulary.ranks()
    known = np.asarray([vocabulary.rare_words is None or word in ranks for word in words], dtype=bool)
    sequence = np.where(known, np.cumsum(known), -1)  # a known word's index in [start, known words…]
    length = 1 + int(known.sum())
    shown = min(length, data.maxlen)
    first = length - shown if data.truncating == "pre" else 0  # the first index kept
    offset = width - shown if data.padding == "pre" else 0  # where it lands
    position = sequence - first
    columns = np.where(known & (position >= 0) & (position < shown), offset + position, -1)
    return words, columns.astype(np.int64)
