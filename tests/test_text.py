"""The raw-text encoder reproduces Keras's IMDB encoding on hand-made text."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import DATA_DIR
from imdb_rnn.data.text import OOV, START, encode, limit_vocabulary, tokenize

WORD_INDEX = {"the": 1, "and": 2, "a": 3, "of": 4, "br": 7, "movie": 17, "don't": 89, "naïve": 5000, "great": 84}


def test_tokenize_separators_case_and_line_breaks() -> None:
    assert tokenize("The movie,the  MOVIE!<br /><br />A(great)one") == [
        "the",
        "movie",
        "the",
        "movie",
        "br",
        "br",
        "a",
        "great",
        "one",
    ]
    assert tokenize("tab\tnew\nline") == ["tab", "new", "line"]
    assert tokenize("...!?") == []


def test_apostrophes_and_non_ascii_stay_inside_words() -> None:
    assert tokenize("Don't be naïve - it's 'fine'") == ["don't", "be", "naïve", "it's", "'fine'"]


def test_encode_adds_start_and_offsets_ranks_by_three() -> None:
    ids = encode("The movie and the br", WORD_INDEX)
    assert ids.dtype == np.int32
    assert ids.tolist() == [START, 1 + 3, 17 + 3, 2 + 3, 1 + 3, 7 + 3]


def test_unknown_words_are_out_of_vocabulary() -> None:
    assert encode("the zyxwv movie", WORD_INDEX).tolist() == [START, 4, OOV, 20]


def test_num_words_maps_rare_words_to_oov() -> None:
    ids = encode("naïve great movie", WORD_INDEX, num_words=50)
    assert ids.tolist() == [START, OOV, OOV, 20]  # 5003 and 87 are >= 50
    assert limit_vocabulary(np.array([1, 49, 50, 51]), 50).tolist() == [1, 49, OOV, OOV]


@pytest.mark.skipif(not (DATA_DIR / "imdb_word_index.json").is_file(), reason=f"no word index in {DATA_DIR}")
def test_real_word_index_ids() -> None:
    with open(DATA_DIR / "imdb_word_index.json", encoding="utf-8") as handle:
        word_index = json.load(handle)
    ids = encode("This movie was great!<br /><br />I don't regret it.", word_index)
    assert ids[:2].tolist() == [START, word_index["this"] + 3]
    assert word_index["br"] + 3 in ids.tolist() and word_index["don't"] + 3 in ids.tolist()
    assert word_index["the"] == 1 and word_index["br"] == 7
