"""The reviews a user asks about: from the command line, a file or standard input, each with words.

An `InputError` (exit 2, one line) names the text or the file and line that cannot be classified.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imdb_rnn.data import text
from imdb_rnn.errors import InputError, show


def check_words(where: str, review: Any) -> None:
    """An `InputError` naming `where` when `review` is not a string with at least one word."""
    if not isinstance(review, str) or not text.tokenize(review):
        raise InputError(f"{where} has no words: expected a review with at least one word, received {show(review)}.")


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
