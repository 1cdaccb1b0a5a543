"""Compare on folders made by real (tiny) training runs; training writes TensorBoard logs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import run_command
from imdb_rnn.config import load_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three tiny real training runs on a synthetic task: lstm with seeds 1 and 2 (2 epochs), gru (3 epochs)."""
    from imdb_rnn.training.recipe import train
    from test_train import synthetic_splits

    outputs = tmp_path_factory.mktemp("trained") / "outputs"
    splits = synthetic_splits(160, seed=0, maxlen=20)
    tiny = ["data.maxlen=20", "data.num_words=50", "train.batch_size=32", "train.epochs=2"]
    for config, more in (("lstm", ["train.seed=1"]), ("lstm", ["train.seed=2"]), ("gru", ["train.epochs=3"])):
        train(load_config(config, [*tiny, *more]), outputs, splits=splits, verbose=0)
    return outputs


def test_training_writes_tensorboard_logs(trained: Path) -> None:
    for run in trained.iterdir():
        for split in ("train", "validation"):
            assert list((run / "tensorboard" / split).glob("events.out.tfevents.*")), run


def test_compare_real_training_runs(trained: Path, capsys) -> None:
    assert run_command("compare", [str(trained)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    header = lines[0].split()
    assert header[:4] == ["run", "architecture", "train.epochs", "train.seed"] and "test_accuracy" in header
    rows = [line for line in lines[2:] if line and not line.startswith((" ", "Repeats", "Comparison"))]
    assert len(rows) == 2 and sum("lstm-… (×2)" in row for row in rows) == 1
    (folder,) = (trained / "comparisons").iterdir()
    assert (folder / "val_accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert lines[-1].startswith(f"Comparison folder: {folder}")
    table = list(csv.DictReader(io.StringIO((folder / "comparison.csv").read_text())))
    assert [float(row["test_accuracy"]) for row in table] == sorted(
        (float(row["test_accuracy"]) for row in table), reverse=True
    )
    group = next(row for row in table if row["n"] == "2")
    members = [json.loads((trained / name / "metrics.json").read_text()) for name in group["runs"].split()]
    assert float(group["test_accuracy"]) == pytest.approx(sum(m["test_accuracy"] for m in members) / 2)
    assert {row["epochs"] for row in table} == {"2", "3"}
