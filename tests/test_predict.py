"""Prediction from a run folder: the same encoding as training, probabilities, the predict command, its errors."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
import urllib.error
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import (
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    PROJECT,
    TINY_NUM_WORDS,
    TINY_OVERRIDES,
    requires_data,
    run_command,
    tiny_test_texts,
    write,
)
from imdb_rnn import load_run
from imdb_rnn.config import DataConfig, load_config
from imdb_rnn.data.aclimdb import read_aclimdb
from imdb_rnn.data.reviews import Reviews
from imdb_rnn.data.sources import load_reviews
from imdb_rnn.data.splits import Splits, load_splits, pad
from imdb_rnn.data.text import INDEX_FROM, OOV, encode, load_word_index
from imdb_rnn.data.vocabulary import load_vocabulary, save_vocabulary
from imdb_rnn.errors import ImdbRnnWarning, InputError
from imdb_rnn.training.recipe import train

POSITIVE = "A wonderful, moving film: I loved it."
NEGATIVE = "What a boring, awful waste of a movie."


def test_predict_encodes_raw_text_exactly_as_training_did(tiny_run: Path, tiny_corpus: Path) -> None:
    run = load_run(tiny_run)
    training = load_splits(run.config.data)
    assert np.array_equal(run.encode(tiny_test_texts(tiny_corpus)), training.test.x)


def test_vocabulary_keeps_only_the_words_with_an_id_below_num_words(tiny_run: Path, tiny_corpus: Path) -> None:
    stored = json.loads((tiny_run / "vocabulary.json").read_text())
    word_index = load_word_index(tiny_corpus / "imdb_word_index.json")
    assert stored["num_words"] == TINY_NUM_WORDS
    assert stored["words"] == {word: rank for word, rank in word_index.items() if rank + INDEX_FROM < TINY_NUM_WORDS}
    assert len(stored["words"]) < len(word_index) and stored["encoding"] == 2
    rare = sorted(((rank, word) for word, rank in word_index.items() if rank + INDEX_FROM >= TINY_NUM_WORDS))
    assert stored["rare_words"] == [word for _, word in rare]  # OOV, while an unknown word is dropped
    review = "Zeppelin marmalade: the wonderful, unknownword film!<br />"
    encoded = load_run(tiny_run).encode(review)[0]
    assert encoded[encoded != 0].tolist() == encode(review, word_index, TINY_NUM_WORDS).tolist()
    assert encode(review, word_index, TINY_NUM_WORDS).tolist() == [1, OOV, OOV, 4, 16, 7, OOV]  # br ranks past it


def npz_from_corpus(corpus: Path, folder: Path, with_word_index: bool) -> Path:
    """An `imdb.npz` made the Keras way (ranks, no start, no offset) from the corpus's reviews."""
    train_reviews, test_reviews = read_aclimdb(corpus / "aclImdb", corpus / "imdb_word_index.json")

    def ranks(reviews: Reviews) -> np.ndarray:
        return np.array([(s[1:] - INDEX_FROM).tolist() for s in reviews.sequences], dtype=object)

    folder.mkdir()
    arrays = dict(x_train=ranks(train_reviews), y_train=train_reviews.labels)
    np.savez(folder / "imdb.npz", **arrays, x_test=ranks(test_reviews), y_test=test_reviews.labels)
    if with_word_index:
        shutil.copy(corpus / "imdb_word_index.json", folder)
    return folder


def keras_source_config(folder: Path):
    overrides = [item for item in TINY_OVERRIDES if not item.startswith(("data.source", "train.epochs"))]
    return load_config("lstm", [*overrides, "data.source=keras", f"data.path={folder}", "train.epochs=1"])


def test_a_run_trained_on_imdb_npz_encodes_text_like_its_data(tiny_corpus: Path, tiny_run: Path, tmp_path) -> None:
    folder = npz_from_corpus(tiny_corpus, tmp_path / "keras", with_word_index=True)
    config = keras_source_config(folder)
    run = load_run(train(config, tmp_path / "runs", verbose=0))
    assert (
        json.loads((run.folder / "vocabulary.json").read_text())["words"]
        == load_vocabulary(tiny_run, run.config.data).words
    )
    assert np.array_equal(run.encode(tiny_test_texts(tiny_corpus)), load_splits(config.data).test.x)


def test_without_a_word_index_training_warns_and_predict_says_why(
    tiny_corpus: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(keras.src.utils.file_utils, "urlretrieve", offline)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    folder = npz_from_corpus(tiny_corpus, tmp_path / "keras", with_word_index=False)
    with pytest.warns(ImdbRnnWarning) as caught:
        run = train(keras_source_config(folder), tmp_path / "runs", verbose=0)
    warned = [str(warning.message) for warning in caught if "imdb_word_index" in str(warning.message)]
    assert warned == [f"no imdb_word_index.json for the keras data of this run: prediction will not work for {run}."]
    assert (run / "model.keras").is_file() and not (run / "vocabulary.json").exists()
    assert run_command("predict", [str(run), POSITIVE]) == 2
    assert "no encoding data: expected vocabulary.json" in capsys.readouterr().err


def test_probabilities_one_per_text_in_0_1_and_stable(tiny_run: Path) -> None:
    texts = [POSITIVE, NEGATIVE, "the plot", "Zeppelin!", " ".join(POSITIVE_WORDS * 40), " ".join(NEGATIVE_WORDS)]
    run = load_run(tiny_run)
    first = run.predict(texts)
    assert first.shape == (6,) and first.dtype == np.float32
    assert np.all((first >= 0) & (first <= 1))
    np.testing.assert_array_equal(first, run.predict(texts))
    np.testing.assert_allclose(first, load_run(tiny_run).predict(texts), rtol=1e-6)
    assert first[0] > 0.8 and first[1] < 0.2  # the tiny corpus is learned
    assert run.predict(POSITIVE).shape == (1,) and run.predict([]).shape == (0,)


def test_bucketed_runs_read_each_review_without_padding(tiny_run: Path) -> None:
    run = load_run(tiny_run)
    assert run.config.data.bucketing
    calls = []
    real_predict = run.model.predict
    run.model.predict = lambda x, **kwargs: calls.append(x.shape) or real_predict(x, **kwargs)
    texts = [POSITIVE, NEGATIVE, POSITIVE]
    together = run.predict(texts)
    lengths = sorted({int(np.count_nonzero(run.encode(review))) for review in texts})
    assert sorted(shape[1] for shape in calls) == lengths  # one call per length, no padding
    assert sum(shape[0] for shape in calls) == 3
    np.testing.assert_allclose(together[1], run.predict(NEGATIVE)[0], rtol=1e-6)  # not changed by its neighbours
    run.config = run.config.replace(data={"bucketing": False})
    assert run.predict(texts).shape == (3,) and calls[-1] == (3, run.config.data.maxlen)


@pytest.mark.parametrize("review", ["", "   ", "!?...", None])
def test_reviews_without_words_are_refused(review, tiny_run: Path) -> None:
    with pytest.raises(InputError, match=r"^text 2 has no words: expected a review with at least one word"):
        load_run(tiny_run).predict([POSITIVE, review])


def test_predict_command_prints_one_line_per_text(tiny_run: Path, capsys) -> None:
    long = "Wonderful " * 30
    assert run_command("predict", [str(tiny_run), POSITIVE, NEGATIVE, long]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    probability, label, text = lines[0].split(maxsplit=2)
    assert float(probability) > 0.8 and label == "positive" and text == POSITIVE
    assert lines[1].split()[1] == "negative" and lines[1].endswith(NEGATIVE)
    assert lines[2].endswith("…") and len(lines[2]) < 100


def test_predict_command_reads_files_and_standard_input_and_writes_json(
    tiny_run: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    reviews = write(tmp_path / "reviews.txt", f"\ufeff{POSITIVE}\n\n  \n{NEGATIVE}\r\nNaïve but superb\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Awful.\n\nLoved it!\n")))
    assert (
        run_command("predict", [str(tiny_run), "The plot", "-", "--file", str(reviews), "--json", "--threshold", "0.7"])
        == 0
    )
    results = json.loads(capsys.readouterr().out)
    assert [result["text"] for result in results] == [
        "The plot",
        "Awful.",
        "Loved it!",
        POSITIVE,
        NEGATIVE,
        "Naïve but superb",
    ]
    probabilities = load_run(tiny_run).predict([result["text"] for result in results])
    for result, probability in zip(results, probabilities):
        assert result["probability"] == pytest.approx(float(probability))
        assert result["label"] == ("positive" if probability > 0.7 else "negative")


def without(name: str):
    def make(run: Path) -> Path:
        (run / name).unlink()
        return run

    return make


@pytest.mark.parametrize(
    "arguments, words",
    [
        (
            lambda run, tmp: [str(run), POSITIVE, ""],
            "text 2 has no words: expected a review with at least one word, received ''.",
        ),
        (lambda run, tmp: [str(run), "  \t "], "text 1 has no words"),
        (lambda run, tmp: [str(run), "--file", str(write(tmp / "r.txt", "Good\n---\n"))], "r.txt: line 2 has no words"),
        (
            lambda run, tmp: [str(run), "--file", str(tmp / "nothing.txt")],
            "nothing.txt: cannot read the reviews: No such file",
        ),
        (
            lambda run, tmp: [str(run), "--file", str(write(tmp / "blank.txt", "\n  \n"))],
            "blank.txt: no reviews: expected one review a line, received only blank lines.",
        ),
        (lambda run, tmp: [str(without("model.keras")(run)), POSITIVE], "received a folder without model.keras."),
        (
            lambda run, tmp: [str(without("vocabulary.json")(run)), POSITIVE],
            "no encoding data: expected vocabulary.json",
        ),
        (
            lambda run, tmp: [str(run / "config.yaml"), POSITIVE],
            "not a run folder: expected a folder with config.yaml and model.keras, received a file.",
        ),
        (
            lambda run, tmp: [str(write(run / "vocabulary.json", "{}") and run), POSITIVE],
            "vocabulary.json: invalid encoding data",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "wordless-line",
        "missing-file",
        "blank-file",
        "no-model",
        "no-vocabulary",
        "not-a-folder",
        "bad-vocabulary",
    ],
)
def test_predict_errors_are_one_line(arguments, words: str, tiny_run: Path, tmp_path: Path, capsys) -> None:
    run = Path(shutil.copytree(tiny_run, tmp_path / tiny_run.name))
    assert run_command("predict", arguments(run, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("imdb-rnn predict: error: ") and err.count("\n") == 1 and words in err, err


def test_no_reviews_at_all_is_a_usage_error(tiny_run: Path, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        run_command("predict", [str(tiny_run)])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and err.count("\n") == 1 and "no reviews: expected one or more TEXT" in err


def test_predict_script_non_utf8_file_exits_2_without_traceback(tiny_run: Path, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Un film déjà vu\n".encode("latin-1"))
    result = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "predict.py"), str(tiny_run), "--file", str(latin1)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr == (
        f"predict.py: error: {latin1}: cannot read the reviews: expected UTF-8 text, one review a line, "
        "received byte 0xe9 at position 9, which is not UTF-8.\n"
    )


@requires_data
def test_real_reviews_encode_as_the_training_data(real_data: Path, tmp_path: Path) -> None:
    """Raw test reviews from the archive, encoded through a run's vocabulary.json, equal the training data."""
    data = DataConfig(source="aclimdb", maxlen=200)
    _, test, location = load_reviews(data)
    raw = {}
    with tarfile.open(location.path) as archive:
        for member in archive:
            parts = member.name.split("/")
            if member.isfile() and parts[-3:-2] == ["test"] and parts[-2] in ("neg", "pos"):
                raw[(parts[-2], int(parts[-1].split("_")[0]))] = archive.extractfile(member).read().decode("utf-8")
                if len(raw) == 20:
                    break
    assert save_vocabulary(tmp_path, Splits(None, None, None, "aclimdb", "", location.word_index), data)
    vocabulary = load_vocabulary(tmp_path, data)
    assert len(vocabulary.words) == data.num_words - INDEX_FROM - 1  # ids 4 to num_words - 1
    negatives = int(np.sum(test.labels == 0))
    indices = [number + (negatives if label == "pos" else 0) for label, number in raw]
    expected = pad(test.take(np.array(indices)), data).x
    assert np.array_equal(vocabulary.encode(list(raw.values()), data), expected)


@pytest.mark.slow
@requires_data
def test_full_data_run_is_confident_on_unmistakable_reviews(real_data: Path, tmp_path: Path) -> None:
    """The LSTM config on 12,000 real training reviews for 3 epochs (cut from all 25,000 and up to 10
    epochs to fit CI): clearly positive and clearly negative probabilities for unmistakable reviews, and
    the evaluation of all 25,000 test reviews in metrics.json."""
    run = load_run(train(load_config("lstm", ["data.limit=12000", "train.epochs=3"]), tmp_path, verbose=0))
    positive, negative = run.predict(
        [
            "One of the best films I have seen in years. The acting is superb, the story is moving and "
            "beautifully told, and the score is wonderful. A true masterpiece that I will watch again and again.",
            "The worst movie I have ever seen. The acting is terrible, the plot is boring and makes no sense, "
            "and the dialogue is awful. A complete waste of time and money; avoid it.",
        ]
    )
    assert positive > 0.8 and negative < 0.2, (positive, negative)
    evaluation = json.loads((run.folder / "metrics.json").read_text())["evaluation"]
    assert evaluation["examples"] == 25_000 and evaluation["roc_auc"] > 0.9
