"""The raw-text encoder reproduces Keras's IMDB encoding on hand-made text."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import DATA_DIR
from imdb_rnn.data.text import OOV, START, encode, limit_vocabulary, load_word_index, tokenize

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


def test_unknown_words_are_dropped_not_out_of_vocabulary() -> None:
    # Keras's imdb.npz: a word absent from the index vanishes; OOV is only for ranks past num_words
    assert encode("the zyxwv movie", WORD_INDEX).tolist() == [START, 4, 20]
    assert encode("zyxwv qwerty", WORD_INDEX).tolist() == [START]


def test_splits_on_the_space_character_only() -> None:
    # text_to_word_sequence(split=" "): U+0085, a no-break space, a form feed stay inside a word
    assert tokenize("most\x85and the\xa0end\x0cnow") == ["most\x85and", "the\xa0end\x0cnow"]
    assert tokenize("  two   spaces ") == ["two", "spaces"]
    assert tokenize("line\r\nbreak") == ["line\r", "break"]  # \n is a filter, \r is not
    assert encode("most\x85and", {"most": 5, "and": 2, "most\x85and": 900}).tolist() == [START, 903]


def test_only_ascii_letters_are_lower_cased() -> None:
    # the index was made on UTF-8 bytes: "Ángela" is one of its words, "ángela" is another word
    assert tokenize("ÁNGELA Ángela NAÏVE") == ["Ángela", "Ángela", "naÏve"]
    assert tokenize("ΟΔΥΣΣΕΥΣ ΚΑΙ ΑΣ.") == ["ΟΔΥΣΣΕΥΣ", "ΚΑΙ", "ΑΣ"]  # no final sigma, no Greek lower case
    assert tokenize("İSTANBUL ǅ") == ["İstanbul", "ǅ"]


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


@pytest.mark.skipif(not (DATA_DIR / "aclImdb_v1.tar.gz").is_file(), reason=f"no aclImdb_v1.tar.gz in {DATA_DIR}")
def test_the_training_reviews_hold_exactly_the_words_of_keras_index() -> None:
    """Keras built its word index from the 25,000 training reviews: tokenized by Keras's rules they hold
    each of its 88,584 words and no other; Python's Unicode lower-casing would miss 19 (`Ángela`, …)."""
    from imdb_rnn.data.aclimdb import _review_files

    word_index = load_word_index(DATA_DIR / "imdb_word_index.json")
    words: set[str] = set()
    for member, raw in _review_files(DATA_DIR / "aclImdb_v1.tar.gz", ("train/neg", "train/pos")):
        if not member.rsplit("/", 1)[-1].startswith("urls_"):
            words.update(tokenize(raw.decode("utf-8")))
    assert words == set(word_index)
    assert len(words) == 88_584
