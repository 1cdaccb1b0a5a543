"""Your own data at scale: streamed tokenizing equal to the in-memory encoding it replaced, its cache,
ragged splits padded a batch at a time, and the sentence-shuffled corpus maker that reads training
reviews only. Tiny files throughout; the million-review figures are in docs/BENCHMARK.md."""

from __future__ import annotations

import csv
import json
import tarfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import PROJECT
from imdb_rnn.config import DataConfig
from imdb_rnn.data import own_tokens, text
from imdb_rnn.data.own import OwnRows, class_names, read_own_data
from imdb_rnn.data.pipeline import make_dataset, make_test_dataset
from imdb_rnn.data.ragged import RaggedSplit, ragged
from imdb_rnn.data.reviews import Reviews, balanced_indices
from imdb_rnn.data.shuffled_reviews import sentences, write_shuffled_reviews
from imdb_rnn.data.splits import load_splits, pad, validation_indices
from imdb_rnn.errors import DataError, ImdbRnnWarning
from test_own_data import star_rows, write_csv

# Streamed, tokenized once, cached: the same splits as the in-memory encoding ----------------------


def in_memory_splits(data: DataConfig) -> dict[str, object]:
    """The encoding of your data before it was streamed (every text in a list, each encoded with
    `text.encode` and padded with `pad`): the oracle the streamed encoding must equal."""
    train, test = read_own_data(data)
    classes = class_names(train.labels)
    if test is None:
        order = np.random.default_rng(data.seed).permutation(len(train))
        count = round(len(train) * data.test_split)
        held, rest = np.sort(order[:count]), np.sort(order[count:])
        test = type(train)([train.texts[i] for i in held], [train.labels[i] for i in held], train.where)
        train = type(train)([train.texts[i] for i in rest], [train.labels[i] for i in rest], train.where)
    index = {name: number for number, name in enumerate(classes)}
    train_labels = np.array([index[label] for label in train.labels], dtype=np.int32)
    test_labels = np.array([index[label] for label in test.labels], dtype=np.int32)
    train_rows = balanced_indices(train_labels, data.limit, data.seed) if data.limit else np.arange(len(train))
    chosen = validation_indices(Reviews([], train_labels[train_rows]), data.validation_split, data.seed, False)
    validation_rows, train_rows = train_rows[chosen], np.delete(train_rows, chosen)
    words = text.build_word_index(train.texts[row] for row in train_rows)
    counts = Counter(word for row in train_rows for word in text.tokenize(train.texts[row]))
    num_words = text.vocabulary_size(data.num_words, counts.values())

    def encoded(texts, rows: np.ndarray, labels: np.ndarray):
        return pad(Reviews([text.encode(texts.texts[row], words, num_words) for row in rows], labels[rows]), data)

    parts = (train, train_rows, train_labels), (train, validation_rows, train_labels)
    parts += ((test, np.arange(len(test)), test_labels),)
    return {"splits": [encoded(*part) for part in parts], "words": words, "num_words": num_words}


def tagged_rows(count: int, seed: int) -> list[tuple[str, str]]:
    """Three-class rows of 6 to 13 words, a third with a word of their own (absent from the vocabulary
    when the row validates or tests), and one text with no word at all."""
    rng = np.random.default_rng(seed)
    rows = [
        (f"{text} tag{seed}x{number}" if rng.random() < 0.3 else text, label)
        for number, (text, label) in enumerate(star_rows(count, seed))
    ]
    return [*rows, ("!!! ...", "3")]


def write_layout(folder: Path, layout: str) -> DataConfig:
    """The same kind of texts as a CSV with a test file, a lone CSV (a test share held out), JSON Lines, or
    a folder of label folders; returned as the `DataConfig` that reads them (short reviews, a small
    vocabulary, so truncation and out-of-vocabulary ids both happen)."""
    settings = dict(num_words=14, maxlen=7, validation_split=0.25, test_split=0.3)
    folder.mkdir(parents=True, exist_ok=True)
    if layout == "csv folder":
        write_csv(folder / "train.csv", tagged_rows(12, 0))
        write_csv(folder / "test.csv", tagged_rows(4, 1))
        return DataConfig(source="csv", path=str(folder), text_column="review", label_column="stars", **settings)
    if layout == "csv file":
        file = write_csv(folder / "all.csv", tagged_rows(12, 2) + [("", "1")])  # a skipped row
        return DataConfig(source="csv", path=str(file), text_column="review", label_column="stars", **settings)
    if layout == "jsonl":
        file = folder / "all.jsonl"
        file.write_text(
            "\n".join(json.dumps({"text": t, "label": int(label)}) for t, label in tagged_rows(12, 3)), encoding="utf-8"
        )
        return DataConfig(source="jsonl", path=str(file), truncating="post", padding="post", limit=20, **settings)
    for split, count in (("train", 12), ("test", 3)):
        for number, (review, label) in enumerate(tagged_rows(count, 4 + count)):
            path = folder / split / f"stars{label}" / f"{number}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(review, encoding="utf-8")
    return DataConfig(source="directory", path=str(folder), **settings)


@pytest.mark.parametrize("layout", ["csv folder", "csv file", "jsonl", "directory"])
def test_streamed_encoding_equals_the_in_memory_encoding(layout: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("IMDB_RNN_CACHE_DIR", str(tmp_path / "cache"))
    data = write_layout(tmp_path / "data", layout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImdbRnnWarning)  # held-out and skipped-row warnings: tested elsewhere
        expected = in_memory_splits(data)
        for load in ("first", "cached"):
            splits = load_splits(data)
            assert splits.words == expected["words"] and splits.num_words == expected["num_words"], load
            for streamed, padded in zip((splits.train, splits.validation, splits.test), expected["splits"]):
                assert isinstance(streamed, RaggedSplit) and len(streamed) > 0
                assert np.array_equal(streamed.x, padded.x) and streamed.x.dtype == np.int32
                assert np.array_equal(streamed.lengths, padded.lengths) and np.array_equal(streamed.y, padded.y)
    assert text.OOV in splits.train.ids and splits.train.lengths.max() == data.maxlen  # both were exercised


def test_rows_are_read_one_at_a_time(tmp_path: Path) -> None:
    """Streaming: the first rows come out before a broken row further down is even read."""
    file = write_csv(tmp_path / "r.csv", [("Fine.", "pos"), ("Dull.", "neg")])
    with open(file, "a", encoding="utf-8") as handle:
        handle.write('3,"an unclosed quote,neg\n')
    rows = iter(OwnRows(file, DataConfig(source="csv", path=str(file), text_column="review", label_column="stars")))
    assert next(rows) == ("Fine.", "pos") and next(rows) == ("Dull.", "neg")
    with pytest.raises(DataError, match=r"r.csv: row 4: cannot parse the CSV"):
        next(rows)


def test_tokenizing_is_cached_and_redone_when_the_file_or_a_column_changes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("IMDB_RNN_CACHE_DIR", str(tmp_path / "cache"))
    tokenized = []
    real = own_tokens.tokenize_part
    monkeypatch.setattr(own_tokens, "tokenize_part", lambda rows: tokenized.append(rows.where.name) or real(rows))
    data = write_layout(tmp_path / "data", "csv folder")
    first = load_splits(data)
    assert sorted(tokenized) == ["test.csv", "train.csv"]
    again = load_splits(data)
    reseeded = load_splits(DataConfig(**{**data.__dict__, "seed": 5, "num_words": 30}))  # splits, not tokens
    assert len(tokenized) == 2 and np.array_equal(again.train.x, first.train.x)
    assert not np.array_equal(reseeded.validation.y, first.validation.y) or reseeded.num_words != first.num_words

    write_csv(Path(data.path) / "train.csv", tagged_rows(12, 0) + [("A superb new row", "5")])
    changed = load_splits(data)
    assert tokenized == ["train.csv", "test.csv", "train.csv"]  # the edited file alone
    assert len(changed.train) + len(changed.validation) == len(first.train) + len(first.validation) + 1

    load_splits(DataConfig(**{**data.__dict__, "text_column": "id"}))  # another column: other tokens
    assert len(tokenized) == 5
    assert len(list((tmp_path / "cache").glob("own-*.npz"))) == 5


def test_a_cached_load_warns_of_skipped_rows_again(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("IMDB_RNN_CACHE_DIR", str(tmp_path / "cache"))
    file = write_csv(tmp_path / "r.csv", [*star_rows(6, 0), ("", "1"), ("No label", "")])
    data = DataConfig(source="csv", path=str(file), text_column="review", label_column="stars", test_split=0.25)
    for _ in ("first", "cached"):
        with pytest.warns(ImdbRnnWarning) as caught:
            load_splits(data)
        messages = [str(warning.message) for warning in caught]
        assert any("skipped 2 of 20 rows with no text or no label (row 20, row 21)" in m for m in messages)


# Ragged splits: the pipeline pads each batch as it would have cut it from the padded array ------------


def random_reviews(n: int = 300, seed: int = 0) -> Reviews:
    """Review i: 0 to 59 random ids, then the id i + 10."""
    rng = np.random.default_rng(seed)
    sequences = [np.append(rng.integers(3, 9, size=rng.integers(0, 60)), i + 10).astype(np.int32) for i in range(n)]
    return Reviews(sequences, (np.arange(n) % 2).astype(np.int8))


def batches_of(dataset) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(tokens.numpy(), labels.numpy()) for tokens, labels in dataset]


@pytest.mark.parametrize("padding, truncating", [("pre", "pre"), ("post", "post"), ("pre", "post")])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"shuffle": True, "seed": 4},
        {"bucketing": True},
        {"bucketing": True, "shuffle": True, "seed": 1},
        {"bucketing": True, "shuffle": True, "seed": 2, "bucket_width": 8},
    ],
)
def test_ragged_batches_equal_the_padded_ones(padding: str, truncating: str, options: dict) -> None:
    reviews, data = random_reviews(), DataConfig(maxlen=40, padding=padding, truncating=truncating)
    padded, unpadded = pad(reviews, data), ragged(reviews, data)
    assert np.array_equal(unpadded.x, padded.x) and np.array_equal(unpadded.lengths, padded.lengths)
    assert len(unpadded.ids) == padded.lengths.sum()  # no padding kept
    expected = batches_of(make_dataset(padded, 32, padding=padding, **options))
    received = batches_of(make_dataset(unpadded, 32, padding=padding, **options))
    assert len(received) == len(expected)
    for (tokens, labels), (want, want_labels) in zip(received, expected):
        assert tokens.dtype == np.int32 and np.array_equal(tokens, want) and np.array_equal(labels, want_labels)
    if not options.get("bucketing"):
        return
    test_batches = zip(
        batches_of(make_test_dataset(unpadded, 32, True, padding)),
        batches_of(make_test_dataset(padded, 32, True, padding)),
    )
    assert all(np.array_equal(a[0], b[0]) for a, b in test_batches)


# The corpus maker: sentences of training reviews, shuffled within a label --------------------------


def write_fake_aclimdb(root: Path) -> Path:
    """`root/aclImdb` with 6 training reviews a label, 2 test reviews a label and 2 unlabeled ones; every
    sentence names where it comes from."""
    for folder, count in (("train/neg", 6), ("train/pos", 6), ("test/neg", 2), ("test/pos", 2), ("train/unsup", 2)):
        name = folder.replace("/", " ")
        for number in range(count):
            review = "<br /><br />".join(
                ". ".join(f"{name} review {number} sentence {k}" for k in range(part, part + 2)) + "!"
                for part in range(0, number % 3 * 2 + 2, 2)
            )
            path = root / "aclImdb" / folder / f"{number}_{7 if 'pos' in folder else 3}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(review, encoding="utf-8")
    return root / "aclImdb"


def read_rows(file: Path) -> list[dict[str, str]]:
    with open(file, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def fake_aclimdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_aclimdb(tmp_path_factory.mktemp("fake"))


def test_sentences_split_at_ends_and_line_breaks() -> None:
    assert sentences("Fine. Really!<br /><br />Go on? Yes...  ok") == ["Fine.", "Really!", "Go on?", "Yes...", "ok"]


@pytest.mark.parametrize("packed", [False, True])
def test_corpus_maker_reads_training_reviews_only_and_keeps_labels(
    packed: bool, fake_aclimdb: Path, tmp_path: Path, monkeypatch
) -> None:
    source, opened = fake_aclimdb, []
    if packed:
        source = tmp_path / "aclImdb_v1.tar.gz"
        with tarfile.open(source, "w:gz") as archive:
            archive.add(fake_aclimdb, arcname="aclImdb")
        real = tarfile.TarFile.extractfile
        monkeypatch.setattr(tarfile.TarFile, "extractfile", lambda self, m: opened.append(m.name) or real(self, m))
    else:
        real = Path.read_bytes
        monkeypatch.setattr(Path, "read_bytes", lambda self: opened.append(str(self)) or real(self))
    written = write_shuffled_reviews(source, tmp_path / "big.csv", 200, seed=3)
    assert opened and all("/train/neg/" in name or "/train/pos/" in name for name in opened)
    rows = read_rows(tmp_path / "big.csv")
    assert len(rows) == 200 and {row["label"] for row in rows} == {"neg", "pos"}
    assert written["neg"] + written["pos"] == 200 and written["neg"] == sum(row["label"] == "neg" for row in rows)
    for row in rows:
        pieces = sentences(row["text"])
        assert 2 <= len(pieces) <= 6 and all(piece.startswith(f"train {row['label']} review") for piece in pieces)


def test_corpus_maker_is_deterministic_for_a_seed(fake_aclimdb: Path, tmp_path: Path) -> None:
    files = [
        write_shuffled_reviews(fake_aclimdb, tmp_path / f"{name}.csv", 50, seed) and tmp_path / f"{name}.csv"
        for name, seed in (("a", 1), ("b", 1), ("c", 2))
    ]
    first, second, other = (file.read_bytes() for file in files)
    assert first == second and first != other


def test_the_script_writes_a_csv_that_trains_as_own_data(fake_aclimdb: Path, tmp_path: Path, monkeypatch, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_large_corpus", PROJECT / "scripts" / "make_large_corpus.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "reviews.csv"
    assert script.main(["--reviews", "120", "--out", str(out), "--data", str(fake_aclimdb.parent)]) == 0
    assert "120 reviews" in capsys.readouterr().out
    monkeypatch.setenv("IMDB_RNN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.warns(ImdbRnnWarning, match="held out as the test set"):
        splits = load_splits(DataConfig(source="csv", path=str(out)))
    assert splits.classes == ("neg", "pos") and len(splits.train) + len(splits.validation) + len(splits.test) == 120
    assert script.main(["--reviews", "5", "--out", str(out), "--data", str(tmp_path / "none")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "expected" in error[0]


def test_the_pretraining_measure_times_word2vec_on_the_training_reviews_only(
    fake_aclimdb: Path, tmp_path: Path, monkeypatch
) -> None:
    pytest.importorskip("gensim", reason="gensim is not installed (pip install -e '.[dev]')")
    from imdb_rnn.reports.scale import measure_pretraining

    out = tmp_path / "reviews.csv"
    write_shuffled_reviews(fake_aclimdb, out, 150, 1)
    monkeypatch.setenv("IMDB_RNN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.warns(ImdbRnnWarning, match="held out as the test set"):
        figures = measure_pretraining(out, epochs=2, scratch=tmp_path)
        splits = load_splits(DataConfig(source="csv", path=str(out)))
    assert figures["word2vec"]["epochs"] == 2 and figures["word2vec"]["vector_size"] == 64  # the shipped config's
    assert figures["words"] == sum(splits.train.lengths) > 0  # the training reviews' ids, no validation or test one
    assert figures["seconds_word2vec"] >= 0 and figures["peak_memory_gib"] > 0
    assert not (tmp_path / "word2vec-corpus.txt").exists()  # the scratch corpus is removed


def test_the_word2vec_table_rates_each_size_by_cpu_seconds_a_million_words(tmp_path: Path, capsys) -> None:
    import importlib.util

    from imdb_rnn.reports.scale import record

    figures = {"train": 8, "validation": 2, "test": 2, "word2vec": {"epochs": 1}, "peak_memory_gib": 1.0}
    json_path = tmp_path / "scale.json"
    for reviews, words, cpu in ((100, 1_000_000, 4.0), (1000, 10_000_000, 44.0)):
        timed = {"words": words, "cpu_seconds_word2vec": cpu, "seconds_word2vec": cpu / 2}
        record(json_path, reviews, "pretrain", {**figures, **timed}, "measure")
        record(
            json_path,
            reviews,
            "encode",
            {"seconds_first_load": 1.0, "cpu_seconds_first_load": 1.0, "peak_memory_gib": 2.5},
            "measure",
        )
    spec = importlib.util.spec_from_file_location("measure_scale", PROJECT / "scripts" / "measure_scale.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["table", "--json", str(json_path), "--rounds", "pretrain"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 1")]
    assert rows[0] == "| 100 | 8 | 1,000,000 | 1.0 (1.0) | 2.0 (4.0) | 4.00 | 1.00 | 2.50 |"
    assert rows[1].endswith("| 22.0 (44.0) | 4.40 | 1.10 | 2.50 |")  # 10% over linear growth
    with pytest.raises(SystemExit) as exit_info:
        script.main(["table", "--json", str(json_path)])  # no training phase "train" in this file
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "expected phases of" in error and "(encode, pretrain), received train" in error
    record(json_path, 100, "train", {"cpu_seconds_epoch": 3.0, "peak_memory_gib": 1.0}, "measure")
    with pytest.raises(SystemExit) as exit_info:  # a word2vec phase and a training phase in one table
        script.main(["table", "--json", str(json_path), "--rounds", "pretrain", "train"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith(
        "expected training phases or one pretraining phase, received pretrain (pretraining), train (training)"
    )
