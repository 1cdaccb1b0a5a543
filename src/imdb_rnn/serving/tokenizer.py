"""`imdb_rnn.data.text.tokenize` as TensorFlow string ops, for a model that reads raw strings.

Python's tokenizer lower-cases (`str.lower`), turns `FILTERS` into spaces and splits on whitespace
(`str.split`, every Unicode whitespace character). The graph does the same with `tf.strings`:
- `tf.strings.lower(..., encoding="utf-8")` lower-cases by TensorFlow's Unicode tables, which lag
  Python's by a few characters (letters added in recent Unicode versions); `lowercase_fixes` finds
  them on the TensorFlow at hand, and each is replaced by Python's lowercase before. It also ends a
  string at its first NUL character, so the string is lower-cased piece by piece between NULs;
- the filters and every character Python calls whitespace become a space (`tf.strings.split`
  alone splits on ASCII whitespace only), then the string is split on spaces.
"""

from __future__ import annotations

import re
import sys
from functools import cache

import tensorflow as tf

from imdb_rnn.data.text import FILTERS


@cache
def python_whitespace() -> str:
    """Every character `str.split()` splits on (ASCII whitespace, NBSP, the Unicode spaces, …)."""
    return "".join(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace())


@cache
def lowercase_fixes() -> tuple[tuple[str, str], ...]:
    """`(character, Python's lowercase of it)` for each character that `tf.strings.lower` lower-cases
    differently (checked between two letters, so that no character is at an end of its string)."""
    characters = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]
    with tf.init_scope():  # eagerly, even when first asked while a graph is traced
        lowered = lower(tf.constant(["a" + c + "a" for c in characters])).numpy()
    return tuple(
        (c, c.lower()) for c, graph in zip(characters, lowered) if graph != ("a" + c.lower() + "a").encode("utf-8")
    )


def lower(texts: tf.Tensor) -> tf.Tensor:
    """`tf.strings.lower` in UTF-8 of each piece between NUL characters, the NULs kept: strings `(n,)`."""
    pieces = tf.strings.split(texts, sep="\x00")

    def lower_and_end(values: tf.Tensor) -> tf.Tensor:  # each piece lower-cased, a NUL after it
        return tf.strings.join([tf.strings.lower(values, encoding="utf-8"), tf.fill(tf.shape(values), b"\x00")])

    joined = tf.strings.reduce_join(tf.ragged.map_flat_values(lower_and_end, pieces), axis=-1)
    length = tf.strings.length(joined)
    return tf.strings.substr(joined, tf.zeros_like(length), tf.maximum(length - 1, 0))  # less the last NUL


def separators_pattern() -> str:
    """An RE2 character class of the filters and whitespace: each becomes a space."""
    characters = sorted(set(FILTERS) | set(python_whitespace()))
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in characters) + "]+"


def tokenize(texts: tf.Tensor) -> tf.RaggedTensor:
    """Strings `(n,)` → their words, a ragged `(n, None)` string tensor, as `text.tokenize` splits them."""
    for character, lowercase in lowercase_fixes():
        texts = tf.strings.regex_replace(texts, re.escape(character), lowercase)
    texts = lower(texts)
    texts = tf.strings.regex_replace(texts, separators_pattern(), " ")
    return tf.strings.split(texts)
