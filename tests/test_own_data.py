"""Your own labeled texts: folders of .txt files, CSV and JSON Lines files, two classes or more.

The files are written by the tests: a learnable task whose texts mix neutral words with two cue words
of their class, so that a tiny model must reach high accuracy, in any of the three layouts.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import NEUTRAL_WORDS, run_command
from imdb_rnn.config import DataConfig, load_config
from imdb_rnn.data.own import class_names, read_own_data
from imdb_rnn.data.reviews import balanced_indices
from imdb_rnn.data.splits import load_splits
from imdb_rnn.errors import ConfigError, DataError, ImdbRnnWarning
from imdb_rnn.runs import load_run
from imdb_rnn.training.recipe import resume, train

CUES = {
    "1": ["dreadful", "awful", "worst", "painful"],
    "3": ["average", "passable", "uneven", "middling"],
    "5": ["masterpiece", "superb", "brilliant", "stunning"],
}
ONLY_IN_TEST = "zanzibar"  # a word written into test texts only: it must not reach the vocabulary
SHRUNK = [
    "data.num_words=40",
    "data.maxlen=16",
    "data.validation_split=0.25",
    "model.units=16",
    "model.embedding_dim=8",
    "model.word_dropout=0",
    "model.head_dropout=0",
    "train.ema=false",
    "train.epochs=12",
    "train.batch_size=16",
    "train.learning_rate=0.02",
    "train.early_stopping=null",
    "train.passes_per_epoch=1",  # tiny texts, read once an epoch as before (test_small_data tests the default)
]


def texts_of(label: str, count: int, seed: int, extra: str = "") -> list[str]:
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(count):
        words = list(rng.choice(NEUTRAL_WORDS, size=rng.integers(4, 9)))
        for cue in rng.choice(CUES[label], size=2, replace=False):
            words.insert(rng.integers(0, len(words) + 1), str(cue))
        texts.append(" ".join(words).capitalize() + ", truly" + extra + rng.choice([".", "!", "\nThe end."]))
    return texts


def write_csv(path: Path, rows: list[tuple[str, str]], bom: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review", "stars"])
        writer.writerows((number, text, label) for number, (text, label) in enumerate(rows))
    return path


def star_rows(count: int, seed: int, extra: str = "") -> list[tuple[str, str]]:
    rows = [(text, label) for label in CUES for text in texts_of(label, count, seed + int(label), extra)]
    return [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]


@pytest.fixture(scope="module")
def stars_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`train.csv` (3 classes, 40 texts each, commas and newlines inside quoted texts, a BOM) and `test.csv`."""
    folder = tmp_path_factory.mktemp("stars")
    write_csv(folder / "train.csv", star_rows(40, 0))
    write_csv(folder / "test.csv", star_rows(10, 100, extra=" " + ONLY_IN_TEST))
    return folder


def csv_config(folder: Path, *more: str):
    return load_config(
        "lstm",
        [
            *SHRUNK,
            "data.source=csv",
            f"data.path={folder}",
            "data.text_column=review",
            "data.label_column=stars",
            *more,
        ],
    )


# Reading ------------------------------------------------------------------------------------------


def test_csv_keeps_quoted_commas_and_newlines_and_counts_skipped_rows(tmp_path: Path) -> None:
    rows = [("Great, really\ngreat.", "pos"), ("", "neg"), ("No label here", ""), ("Dull, dull.", "neg")]
    file = write_csv(tmp_path / "reviews.csv", rows)
    data = DataConfig(source="csv", path=str(file), text_column="review", label_column="stars")
    with pytest.warns(
        ImdbRnnWarning, match=r"reviews.csv: skipped 2 of 4 rows with no text or no label \(row 3, row 4\)"
    ):
        train, test = read_own_data(data)
    assert test is None
    assert train.texts == ["Great, really\ngreat.", "Dull, dull."] and train.labels == ["pos", "neg"]


def test_jsonl_reads_numbers_and_strings_as_labels_and_skips_missing_ones(tmp_path: Path) -> None:
    lines = [{"text": "Fine.", "label": 4}, {"text": "Bad.", "label": None}, {"text": "Top.", "label": 5}, {"label": 1}]
    file = tmp_path / "reviews.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    with pytest.warns(ImdbRnnWarning, match=r"skipped 2 of 4 rows .*\(line 2, line 4\)"):
        train, _ = read_own_data(DataConfig(source="jsonl", path=str(file)))
    assert train.labels == ["4", "5"] and train.texts == ["Fine.", "Top."]


def test_class_order_is_numeric_for_numbers_and_alphabetical_otherwise() -> None:
    assert class_names(["10", "2", "1", "2"]) == ["1", "2", "10"]
    assert class_names(["pos", "neg", "neutral"]) == ["neg", "neutral", "pos"]


def test_balanced_indices_take_the_same_number_of_each_class() -> None:
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    chosen = balanced_indices(labels, 31, seed=0)
    assert np.bincount(labels[chosen]).tolist() == [10, 10, 11]
    assert np.array_equal(chosen, balanced_indices(labels, 31, seed=0)) and np.all(np.diff(chosen) > 0)


def test_vocabulary_comes_from_training_texts_only(stars_folder: Path) -> None:
    splits = load_splits(csv_config(stars_folder).data)
    assert splits.classes == ("1", "3", "5") and splits.held_out is None
    assert ONLY_IN_TEST not in splits.words and "masterpiece" in splits.words
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (90, 30, 30)
    assert sorted(np.unique(splits.test.y).tolist()) == [0.0, 1.0, 2.0]


def test_vocabulary_leaves_out_the_validation_texts(tmp_path: Path) -> None:
    rows = [(f"{text} tag{number}", label) for number, (text, label) in enumerate(star_rows(20, 0))]  # one tag a text
    write_csv(tmp_path / "train.csv", rows)
    write_csv(tmp_path / "test.csv", star_rows(2, 9))
    splits = load_splits(csv_config(tmp_path, "data.validation_split=0.5").data)
    tags = [word for word in splits.words if word.startswith("tag")]
    assert len(splits.validation) == 30 and len(tags) == len(splits.train) == 30


def test_without_a_test_part_a_seeded_share_is_held_out_and_the_run_says_so(tmp_path: Path) -> None:
    write_csv(tmp_path / "all.csv", star_rows(20, 0))
    config = load_config("lstm", ["data.source=csv", f"data.path={tmp_path / 'all.csv'}", "data.text_column=review"])
    config = config.replace(data={"label_column": "stars", "test_split": 0.25})
    with pytest.warns(ImdbRnnWarning, match=r"has no test part: 25% of its texts \(15, drawn with data.seed 113\)"):
        splits = load_splits(config.data)
    assert len(splits.test) == 15 and splits.held_out == 0.25
    with pytest.warns(ImdbRnnWarning):
        again = load_splits(config.data)
    assert np.array_equal(again.test.x, splits.test.x)


def test_directory_layout_with_and_without_test_folders(tmp_path: Path) -> None:
    for split, count in (("train", 12), ("test", 4)):
        for label in ("1", "5"):
            for number, text in enumerate(texts_of(label, count, 7)):
                path = tmp_path / "data" / split / ("bad" if label == "1" else "good") / f"{number}.txt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    (tmp_path / "data" / "train" / "good" / "empty.txt").write_text("  \n", encoding="utf-8")
    data = DataConfig(source="directory", path=str(tmp_path / "data"), validation_split=0.25)
    with pytest.warns(ImdbRnnWarning, match=r"skipped 1 of 25 empty files \(good/empty.txt\)"):
        splits = load_splits(data)
    assert splits.classes == ("bad", "good") and (len(splits.train) + len(splits.validation), len(splits.test)) == (
        24,
        8,
    )
    with pytest.warns(ImdbRnnWarning, match="held out as the test set"):
        assert len(load_splits(DataConfig(source="directory", path=str(tmp_path / "data" / "train"))).test) == 5


# Bad input: one line naming the file and the row or key ------------------------------------------


def bad_inputs(tmp_path: Path) -> dict[str, tuple[DataConfig, str]]:
    csv_file = write_csv(tmp_path / "r.csv", [("Fine.", "pos"), ("Dull.", "neg")])
    none = write_csv(tmp_path / "none.csv", [("", "pos"), ("Dull.", "")])
    one = write_csv(tmp_path / "one.csv", [("Fine.", "pos"), ("Good.", "pos")])
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "Fine.", "label": "pos"}\n{"text": "oops"\n', encoding="utf-8")
    listed = tmp_path / "listed.jsonl"
    listed.write_text('{"text": "Fine.", "label": ["pos"]}\n', encoding="utf-8")
    latin = tmp_path / "latin" / "train" / "pos" / "1.txt"
    latin.parent.mkdir(parents=True)
    latin.write_bytes("caf\xe9".encode("latin-1"))
    unknown = tmp_path / "unknown"
    write_csv(unknown / "train.csv", [("Fine.", "pos"), ("Dull.", "neg")])
    write_csv(unknown / "test.csv", [("Meh.", "neutral")])
    csv_data = dict(source="csv", text_column="review", label_column="stars")
    return {
        "missing column": (
            DataConfig(source="csv", path=str(csv_file)),
            r"r.csv: no column 'text' \(data.text_column\)",
        ),
        "no usable row": (DataConfig(path=str(none), **csv_data), r"none.csv: no usable rows: .*received 2 rows"),
        "one label": (DataConfig(path=str(one), **csv_data), r"one.csv: one label only: .*received only 'pos'"),
        "bad json": (DataConfig(source="jsonl", path=str(broken)), r"broken.jsonl: line 2: cannot parse the JSON"),
        "list label": (DataConfig(source="jsonl", path=str(listed)), r"listed.jsonl: line 1: invalid `label`"),
        "not utf-8": (
            DataConfig(source="directory", path=str(tmp_path / "latin")),
            r"1.txt: cannot read the text: expected UTF-8",
        ),
        "unknown test label": (
            DataConfig(path=str(unknown), **csv_data),
            r"test.csv: labels missing from the training texts",
        ),
        "no train file": (
            DataConfig(source="jsonl", path=str(unknown)),
            r"no train.jsonl: expected .*received a folder with",
        ),
        "no such path": (DataConfig(source="csv", path=str(tmp_path / "nope.csv")), "no such file or folder"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing column",
        "no usable row",
        "one label",
        "bad json",
        "list label",
        "not utf-8",
        "unknown test label",
        "no train file",
        "no such path",
    ],
)
def test_bad_files_are_one_line_data_errors(case: str, tmp_path: Path) -> None:
    data, words = bad_inputs(tmp_path)[case]
    with pytest.raises(DataError, match=words) as caught:
        load_splits(data)
    assert "\n" not in str(caught.value) and "expected" in str(caught.value)


def test_command_line_bad_csv_exits_2_with_one_line_and_no_run_folder(tmp_path: Path, capsys) -> None:
    file = write_csv(tmp_path / "r.csv", [("Fine.", "pos"), ("Dull.", "neg")])
    output = tmp_path / "out"
    argv = ["--config", "lstm", "--set", "data.source=csv", "--set", f"data.path={file}", "--output-dir", str(output)]
    assert run_command("train", argv) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "r.csv: no column 'text'" in error[0] and "Traceback" not in error[0]
    assert not list(output.glob("lstm-*"))


def test_csv_without_a_path_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="expected data.path naming a .csv file"):
        load_config("lstm", ["data.source=csv"])


# End to end ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stars_run(stars_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(csv_config(stars_folder), tmp_path_factory.mktemp("star-runs"), verbose=0)


def test_three_classes_are_learned_with_a_softmax_and_their_metrics(stars_run: Path) -> None:
    run = load_run(stars_run)
    assert run.classes == ("1", "3", "5") and run.model.output_shape == (None, 3)
    evaluation = run.metrics["evaluation"]
    assert run.metrics["test_accuracy"] > 0.8 and evaluation["accuracy"] == pytest.approx(run.metrics["test_accuracy"])
    assert set(evaluation["per_class"]) == {"1", "3", "5"} and 0 < evaluation["macro_f1"] <= 1
    counts = np.array(evaluation["confusion_matrix"]["counts"])
    assert counts.shape == (3, 3) and counts.sum() == 30 and np.trace(counts) / 30 == evaluation["accuracy"]
    assert (stars_run / "confusion_matrix.png").is_file() and not (stars_run / "roc_curve.png").exists()
    vocabulary = json.loads((stars_run / "vocabulary.json").read_text(encoding="utf-8"))
    assert vocabulary["classes"] == ["1", "3", "5"] and "built from the training texts" in vocabulary["word_index"]


def test_predict_gives_each_class_its_probability(stars_run: Path, capsys) -> None:
    probabilities = load_run(stars_run).predict(["A superb, stunning masterpiece", "Dreadful and painful"])
    assert probabilities.shape == (2, 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert probabilities.argmax(axis=1).tolist() == [2, 0]
    assert run_command("predict", [str(stars_run), "Brilliant, superb film", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["label"] == "5" and set(result["probabilities"]) == {"1", "3", "5"}
    assert run_command("predict", [str(stars_run), "Awful, worst film"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["label", "1", "3", "5"] and lines[1].split()[0] == "1"


def test_evaluate_and_compare_read_a_multiclass_run(stars_run: Path, tmp_path: Path, capsys) -> None:
    assert run_command("evaluate", [str(stars_run)]) == 0
    printed = capsys.readouterr().out
    assert "3 classes" in printed and "macro_f1" in printed and "roc_curve" not in printed
    assert run_command("compare", [str(stars_run.parent), "--out", str(tmp_path / "comparison")]) == 0
    assert stars_run.name in capsys.readouterr().out


def test_a_threshold_is_refused_for_more_than_two_classes(stars_run: Path, capsys) -> None:
    for command, more in (("evaluate", []), ("predict", ["Superb"])):
        assert run_command(command, [str(stars_run), *more, "--threshold", "0.3"]) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and "expected no --threshold for a run with 3 classes" in error[0]


def test_a_failed_multiclass_run_resumes_with_its_classes(stars_folder: Path, tmp_path: Path, monkeypatch) -> None:
    from conftest import poison_weights
    from imdb_rnn.errors import RunFailed

    config = csv_config(stars_folder, "train.epochs=4")
    poison_weights(monkeypatch, epoch=3)
    with pytest.raises(RunFailed):
        train(config, tmp_path, verbose=0)
    monkeypatch.undo()
    (folder,) = tmp_path.glob("lstm-*")
    resumed, trained = resume(folder, verbose=0)
    assert trained and load_run(resumed).metrics["epochs_run"] == 4 and load_run(resumed).classes == ("1", "3", "5")


@pytest.mark.parametrize("source", ["directory", "jsonl"])
def test_two_class_sources_train_end_to_end_with_their_own_label_names(source: str, tmp_path: Path) -> None:
    labels = {"1": "meh", "5": "wow"}
    if source == "directory":
        for label, name in labels.items():
            for number, text in enumerate(texts_of(label, 40, 3)):
                path = tmp_path / "data" / "train" / name / f"{number}.txt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        path = tmp_path / "data"
    else:
        lines = [{"text": t, "label": name} for label, name in labels.items() for t in texts_of(label, 40, 3)]
        path = tmp_path / "train.jsonl"
        path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    config = load_config("gru", [*SHRUNK, f"data.source={source}", f"data.path={path}"])
    with pytest.warns(ImdbRnnWarning, match="held out as the test set"):
        run = load_run(train(config, tmp_path / "runs", verbose=0))
    assert run.classes == ("meh", "wow") and run.model.output_shape == (None, 1)
    assert run.metrics["test_accuracy"] > 0.8 and "held out" in run.metrics["data"]["test"]
    assert run.predict(["Superb, brilliant", "Dreadful, awful"]).round().tolist() == [1.0, 0.0]
