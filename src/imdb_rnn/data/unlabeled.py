"""The 50,000 unlabeled reviews of aclImdb's `train/unsup`, encoded as the labeled ones are: what the mixed
objective's virtual adversarial training and entropy minimisation read (`imdb_rnn.training.objectives`).

Never a test review: the unlabeled files byte-identical to a test review (270 in the archive) are left
out, as pretraining leaves them out (`aclimdb.pretraining_texts`). Encoded once, through the cache.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.data import cache, text
from imdb_rnn.data.aclimdb import UNLABELED, pretraining_texts, read_word_index
from imdb_rnn.data.reviews import Reviews
from imdb_rnn.data.sources import complete_aclimdb, locate
from imdb_rnn.data.splits import Split, pad
from imdb_rnn.errors import DataError


def load_unlabeled(data: DataConfig) -> Split:
    """The unlabeled reviews as a `Split` (`x` `(n, data.maxlen)` int32 capped at `data.num_words`, `y` all
    0 and meaningless), from `data`'s aclImdb archive or folder; IMDB's `imdb.npz` has none (`DataError`)."""
    if data.source not in ("auto", "aclimdb"):
        raise DataError(
            f"data.source: no unlabeled reviews in {data.source} data: expected auto or aclimdb (aclImdb's "
            f"train/unsup), received {data.source}."
        )
    aclimdb = dataclasses.replace(data, source="aclimdb")  # auto: the labeled reviews may come from imdb.npz
    location = complete_aclimdb(locate(aclimdb), aclimdb)
    file = cache.cache_file("unlabeled", location.path, location.word_index)
    arrays = cache.load(file)
    if arrays is None or not {"ids", "offsets"} <= arrays.keys():
        word_index = read_word_index(location.word_index)
        sequences = [text.encode(review, word_index) for _, review in pretraining_texts(location.path, UNLABELED)]
        arrays = {"ids": np.concatenate(sequences), "offsets": np.cumsum([0] + [len(s) for s in sequences])}
        cache.save(file, arrays)
    ids = text.limit_vocabulary(arrays["ids"], data.num_words)
    sequences = np.split(ids, arrays["offsets"][1:-1])
    return pad(Reviews(sequences, np.zeros(len(sequences), dtype=np.int8)), data)
