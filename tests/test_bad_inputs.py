"""A corpus of bad inputs: each ends with exit status 2 and one line naming the problem, with no
traceback and no run folder (resume errors leave the run folder as it was)."""

from __future__ import annotations

import json
import tarfile
import urllib.error
from collections.abc import Callable
from pathlib import Path

import keras
import pytest

from conftest import run_command, write

Setup = Callable[[Path, pytest.MonkeyPatch], list[str]]


def config(text: str) -> Setup:
    return lambda tmp, mp: ["--config", str(write(tmp / "bad.yaml", text))]


def overrides(*sets: str) -> Setup:
    return lambda tmp, mp: ["--config", "lstm", *[arg for item in sets for arg in ("--set", item)]]


def data_dir(make: Callable[[Path], None]) -> Setup:
    """A data folder made by `make`, offline (downloads fail at once)."""

    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        folder = tmp / "data"
        folder.mkdir()
        make(folder)
        mp.setenv("IMDB_DATA_DIR", str(folder))
        mp.setenv("KERAS_HOME", str(tmp / "keras"))
        mp.setenv("IMDB_RNN_CACHE_DIR", str(tmp / "cache"))
        mp.setattr(keras.src.utils.file_utils, "urlretrieve", offline)
        return ["--config", "lstm"]

    return setup


def no_data_offline(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    """No data folder named anywhere, none in Keras's folder, and offline: the download is tried and fails."""
    mp.delenv("IMDB_DATA_DIR", raising=False)
    mp.setenv("KERAS_HOME", str(tmp / "keras"))
    mp.setenv("IMDB_RNN_CACHE_DIR", str(tmp / "cache"))
    mp.setattr(keras.src.utils.file_utils, "urlretrieve", offline)
    return ["--config", "lstm"]


def offline(*args, **kwargs):
    raise urllib.error.URLError("Name or service not known")


def archive(folder: Path, drop: str = "", truncate: bool = False, word_index: str | None = "{}") -> None:
    source = folder / "src"
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            if f"{split}/{label}" != drop:
                write(source / "aclImdb" / split / label / "0_1.txt", "a fine film")
    with tarfile.open(folder / "aclImdb_v1.tar.gz", "w:gz") as tar:
        tar.add(source / "aclImdb", arcname="aclImdb")
    if truncate:
        data = (folder / "aclImdb_v1.tar.gz").read_bytes()
        (folder / "aclImdb_v1.tar.gz").write_bytes(data[: len(data) // 2])
    if word_index is not None:
        (folder / "imdb_word_index.json").write_text(word_index)


def run_folder(files: dict[str, str]) -> Setup:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        run = tmp / "out" / "lstm-20260101-000000"
        run.mkdir(parents=True)
        for name, content in files.items():
            (run / name).write_text(content)
        return ["--resume", str(run)]

    return setup


HISTORY = "epoch,accuracy,loss,seconds,val_accuracy,val_loss\n1,0.6,0.6,1.0,0.6,0.6\n"

CORPUS: dict[str, tuple[Setup, str]] = {
    # Malformed YAML and config structure
    "unclosed bracket": (config("model:\n  units: [\n"), "invalid YAML at line"),
    "tab indentation": (config("model:\n\tunits: 3\n"), "invalid YAML"),
    "bad indentation": (config("model:\n  units: 3\n   embedding_dim: 4\n"), "invalid YAML at line 3"),
    "top-level list": (config("- model\n- train\n"), "expected a mapping with sections data, model, train"),
    "top-level scalar": (config("hello\n"), "received str 'hello'"),
    "section not a mapping": (config("model: 3\n"), "invalid value for `model`: expected a mapping"),
    "unknown section": (config("optimizer:\n  name: adam\n"), "unknown key `optimizer`"),
    "key given twice": (
        config("train:\n  epochs: 3\n  batch_size: 8\n  epochs: 5\n"),
        "duplicate key 'epochs' at lines 2 and 4",
    ),
    "section given twice": (
        config("model:\n  units: 3\ndata:\n  maxlen: 9\nmodel:\n  units: 4\n"),
        "duplicate key 'model' at lines 1 and 5",
    ),
    "non-UTF-8 config": (lambda tmp, mp: ["--config", str(_binary(tmp / "bad.yaml"))], "cannot read the config"),
    "config is a folder": (lambda tmp, mp: ["--config", str(tmp)], "config file not found"),
    "missing config": (lambda tmp, mp: ["--config", "nope.yaml"], "config file not found"),
    "glob matches nothing": (lambda tmp, mp: ["--config", str(tmp / "*.yaml")], "no file matches"),
    # Unknown keys and wrong types
    "unknown data key": (config("data:\n  max_len: 100\n"), "did you mean `data.maxlen`?"),
    "key of another architecture": (
        config("model:\n  architecture: gru\n  filters: 3\n"),
        "unknown key `model.filters`",
    ),
    "unknown architecture": (config("model:\n  architecture: transformer\n"), "received 'transformer'"),
    "architecture not a string": (config("model:\n  architecture: [lstm]\n"), "received ['lstm']"),
    "string for integer": (config("train:\n  epochs: ten\n"), "`train.epochs`: expected an integer >= 1"),
    "float for integer": (config("train:\n  batch_size: 32.5\n"), "received 32.5"),
    "bool for integer": (config("model:\n  units: true\n"), "received true"),
    "list for number": (config("train:\n  learning_rate: [0.1]\n"), "`train.learning_rate`"),
    "string for bool": (config("data:\n  bucketing: maybe\n"), "expected true or false"),
    # Out of range
    "negative units": (config("model:\n  units: -3\n"), "expected an integer >= 1, received -3"),
    "zero maxlen": (config("data:\n  maxlen: 0\n"), "`data.maxlen`"),
    "dropout of one": (config("model:\n  architecture: dropout\n  dropout: 1\n"), "in [0, 1)"),
    "negative recurrent dropout": (config("model:\n  architecture: dropout\n  recurrent_dropout: -0.5\n"), "in [0, 1)"),
    "zero validation split": (config("data:\n  validation_split: 0\n"), "in (0, 1)"),
    "negative learning rate": (config("train:\n  learning_rate: -0.01\n"), "a number > 0"),
    "vocabulary too small": (config("data:\n  num_words: 2\n"), "expected an integer >= 4"),
    # Impossible combinations
    "stacked with zero layers": (config("model:\n  architecture: stacked\n  num_layers: 0\n"), "`model.num_layers`"),
    "pool larger than sequence": (
        config("data:\n  maxlen: 3\nmodel:\n  architecture: cnn_lstm\n  kernel_size: 2\n"),
        "`model.pool_size` is longer",
    ),
    "kernel larger than sequence": (
        config("data:\n  maxlen: 4\nmodel:\n  architecture: cnn_lstm\n"),
        "`model.kernel_size` is longer",
    ),
    "post padding without mask": (config("data:\n  padding: post\n"), "read the padding last"),
    "no validation reviews": (config("data:\n  limit: 3\n  validation_split: 0.1\n"), "leave no validation reviews"),
    # --set syntax
    "set without equals": (overrides("train.epochs"), "expected section.key=value"),
    "set without section": (overrides("epochs=3"), "expected section.key=value"),
    "set unknown section": (overrides("training.epochs=3"), "did you mean `train`?"),
    "set bad value": (overrides("train.epochs=-1"), "--set train.epochs=-1: invalid value"),
    # Data
    "IMDB_DATA_DIR missing": (
        lambda tmp, mp: mp.setenv("IMDB_DATA_DIR", str(tmp / "no")) or ["--config", "lstm"],
        "IMDB_DATA_DIR=",
    ),
    "data.path missing": (overrides("data.path=/no/such/folder"), "data.path=/no/such/folder: no such file or folder"),
    "empty data folder": (
        data_dir(lambda folder: None),
        "no IMDB data there: expected a folder holding imdb.npz or aclImdb_v1.tar.gz",
    ),
    "nothing named, offline": (no_data_offline, "the download from"),
    "incomplete aclImdb folder": (
        data_dir(lambda folder: (folder / "aclImdb" / "train").mkdir(parents=True)),
        "received an incomplete aclImdb/ folder (with train/ only)",
    ),
    "archive without word index": (
        data_dir(lambda folder: archive(folder, word_index=None)),
        "no imdb_word_index.json for",
    ),
    "data.path is another file": (
        lambda tmp, mp: [*overrides(f"data.path={write(tmp / 'notes.txt', 'x')}")(tmp, mp)],
        "received the file notes.txt",
    ),
    "truncated archive": (data_dir(lambda folder: archive(folder, truncate=True)), "truncated or corrupt"),
    "archive without test/neg": (data_dir(lambda folder: archive(folder, drop="test/neg")), "no test/neg reviews"),
    "corrupt word index": (
        data_dir(lambda folder: archive(folder, word_index="{not json")),
        "cannot read the word index",
    ),
    "corrupt imdb.npz": (
        data_dir(lambda folder: (folder / "imdb.npz").write_bytes(b"PK\x03\x04junk")),
        "cannot read the Keras IMDB file",
    ),
    # Run folders and arguments
    "resume a missing folder": (lambda tmp, mp: ["--resume", str(tmp / "nope")], "received a path that does not exist"),
    "resume a file": (lambda tmp, mp: ["--resume", str(write(tmp / "f.txt", "x"))], "received a file"),
    "resume without config": (run_folder({"history.csv": HISTORY}), "received a folder without config.yaml"),
    "resume without model": (
        run_folder({"config.yaml": "{}\n", "history.csv": HISTORY}),
        "received a folder without it",
    ),
    "resume a running run": (
        run_folder(
            {"config.yaml": "{}\n", "status.json": json.dumps({"state": "running", "pid": 1, "host": "elsewhere"})}
        ),
        "still training",
    ),
    "resume with --set": (lambda tmp, mp: ["--resume", str(tmp), "--set", "train.epochs=3"], "--resume takes no --set"),
    "output dir under a file": (
        lambda tmp, mp: ["--config", "lstm", "--output-dir", str(write(tmp / "f", "x") / "runs")],
        "cannot create the output folder",
    ),
    "seeds not integers": (lambda tmp, mp: ["--config", "lstm", "--seeds", "one"], "invalid int value"),
    "no config and no resume": (lambda tmp, mp: [], "one of the arguments --config --resume is required"),
    "unknown option": (lambda tmp, mp: ["--config", "lstm", "--epochs", "3"], "unrecognized arguments"),
}


def _binary(path: Path) -> Path:
    path.write_bytes(b"model:\n  units: \xff\xfe\n")
    return path


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_input_exits_2_with_one_line(name: str, tmp_path: Path, monkeypatch, capsys) -> None:
    setup, words = CORPUS[name]
    monkeypatch.chdir(tmp_path)
    argv = setup(tmp_path, monkeypatch)
    before = _snapshot(tmp_path)
    try:
        code = run_command(
            "train", [*argv, *([] if "--output-dir" in argv else ["--output-dir", str(tmp_path / "runs")])]
        )
    except SystemExit as exit:  # argparse
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("imdb-rnn train: error: "), err
    assert words in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no run folder
    assert _snapshot(tmp_path, skip=("data", "cache", "keras")) == {
        k: v for k, v in before.items() if not k.startswith(("data", "cache", "keras"))
    }


def _snapshot(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not str(p.relative_to(folder)).startswith(skip)
    }


def test_corpus_is_large() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("source", ["csv", "jsonl", "directory"])
def test_a_dry_run_of_own_data_that_is_not_there_exits_2(source: str, tmp_path: Path, capsys) -> None:
    """`--dry-run` says where the data would come from: own data it cannot find is one line, not a KeyError."""
    missing = tmp_path / "nowhere"
    argv = ["--config", "lstm", "--set", f"data.source={source}", "--set", f"data.path={missing}", "--dry-run"]
    assert run_command("train", argv) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and f"data.path={missing}: no such file or folder" in error[0]
