"""`imdb_rnn.data.text.tokenize` as TensorFlow string ops, for a model that reads raw strings.

Python's tokenizer lower-cases the ASCII letters, turns `FILTERS` into spaces and splits on the space
character only, dropping empty words. The graph does the same on the UTF-8 bytes:
`tf.strings.lower` without an encoding lower-cases the bytes A-Z and leaves every other byte alone
(so a multi-byte character, U+0085 or a capital sigma, is kept as it is, as in Python), the filters
(all ASCII) become spaces, and `tf.strings.split(sep=" ")` splits on the space byte alone.
"""

from __future__ import annotations

import tensorflow as tf

from imdb_rnn.data.text import FILTERS


def filters_pattern() -> str:
    """An RE2 character class of the filters: each becomes a space."""
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(FILTERS)) + "]"


def tokenize(texts: tf.Tensor) -> tf.RaggedTensor:
    """Strings `(n,)` → their words, a ragged `(n, None)` string tensor, as `text.tokenize` splits them."""
    texts = tf.strings.regex_replace(tf.strings.lower(texts), filters_pattern(), " ")
    words = tf.strings.split(texts, sep=" ")
    return tf.ragged.boolean_mask(words, tf.strings.length(words) > 0)
