"""End to end: every shipped config trains on a small real subset; a synthetic task is really learned."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from conftest import CONFIGS, PROJECT, SMOKE, requires_data, run_command, small_tables, write
from imdb_rnn.config import load_config
from imdb_rnn.data.reviews import Reviews
from imdb_rnn.data.splits import Splits, pad
from imdb_rnn.training.recipe import train
from imdb_rnn.training.records import create_run_dir

RUN_FILES = {
    "config.yaml",
    "status.json",
    "history.csv",
    "history.json",
    "metrics.json",
    "accuracy.png",
    "loss.png",
    "model.keras",
    "best.json",
    "summary.txt",
    "tensorboard",
    "vocabulary.json",
    "confusion_matrix.png",
    "roc_curve.png",
}


def check_run_folder(run: Path, config_name: str, epochs: int) -> dict:
    assert run.parent.is_dir() and run.name.startswith(f"{config_name}-")
    assert RUN_FILES <= {p.name for p in run.iterdir()}
    assert not (run / "backup").exists()  # BackupAndRestore removes it when the run completes
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert load_config(run / "config.yaml").to_dict() == resolved
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == list(range(1, epochs + 1))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
        assert len(history[key]) == epochs and all(v is not None for v in history[key])
    csv_lines = (run / "history.csv").read_text().strip().splitlines()
    assert len(csv_lines) == epochs + 1 and "val_accuracy" in csv_lines[0]
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["test_loss"] > 0
    assert 1 <= metrics["best_epoch"] <= epochs and metrics["epochs_run"] == epochs
    assert metrics["best_val_accuracy"] == max(history["val_accuracy"])
    assert metrics["parameters"] > 0 and metrics["training_seconds"] > 0
    assert {"python", "tensorflow", "keras"} <= set(metrics["versions"])
    for plot in ("accuracy.png", "loss.png"):
        assert (run / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert resolved["model"]["architecture"] in (run / "summary.txt").read_text()
    return metrics


@requires_data
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_config_trains_on_a_real_subset(path: Path, real_data: Path, tmp_path: Path) -> None:
    config = load_config(path, [*SMOKE, *small_tables(path)])
    run = train(config, tmp_path / "outputs", verbose=0)
    metrics = check_run_folder(run, path.stem, epochs=2)
    assert metrics["examples"] == {"train": 160, "validation": 40, "test": 100}
    model = keras.models.load_model(run / "model.keras")
    assert model.predict(np.ones((2, 64), dtype="int32"), verbose=0).shape == (2, 1)


def synthetic_splits(n: int, seed: int, maxlen: int) -> Splits:
    """Reviews of random 'neutral' ids (20-49) with three 'positive' (4-11) or 'negative' (12-19) ids
    placed anywhere: learnable, but only by a model that remembers what it read."""
    rng = np.random.default_rng(seed)

    def reviews(count: int) -> Reviews:
        labels = rng.integers(0, 2, size=count).astype(np.int8)
        sequences = []
        for label in labels:
            review = rng.integers(20, 50, size=rng.integers(10, maxlen))
            cues = rng.integers(4, 12, size=3) + (0 if label else 8)
            review[rng.choice(len(review), size=3, replace=False)] = cues
            sequences.append(np.concatenate([[1], review]).astype(np.int32))
        return Reviews(sequences, labels)

    data = load_config(None, [f"data.maxlen={maxlen}"]).data
    return Splits(pad(reviews(n), data), pad(reviews(n // 4), data), pad(reviews(n // 2), data), "synthetic", "memory")


def test_synthetic_task_is_learned_well_above_chance(tmp_path: Path) -> None:
    config = load_config(
        "lstm",
        ["data.maxlen=30", "data.num_words=50", "train.epochs=8", "train.batch_size=32", "train.learning_rate=0.01"],
    )
    run = train(config, tmp_path, splits=synthetic_splits(1600, seed=0, maxlen=30), verbose=0)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9, metrics
    history = json.loads((run / "history.json").read_text())
    assert history["loss"][-1] < history["loss"][0] / 2


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5)
    folders = [create_run_dir(tmp_path, "lstm", now) for _ in range(3)]
    assert [f.name for f in folders] == ["lstm-20260102-030405", "lstm-20260102-030405-2", "lstm-20260102-030405-3"]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--config", "nope"], "config file not found"),
        (["--config", "lstm", "--set", "model.units=-1"], "`model.units`"),
        (["--config", "lstm", "--set", "units=3"], "expected section.key=value"),
        (["--config", "lstm", "--set", "data.path=/nowhere"], "data.path=/nowhere: no such file or folder"),
        (["--config", "lstm", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_no_run_folder(argv, words, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) if "--bogus" in argv else _no_raise():
        code = run_command("train", [*argv, "--output-dir", str(tmp_path / "out")])
        assert code == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and err.startswith("imdb-rnn train: error: ")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_bad_yaml_from_the_command_line_has_no_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", "model:\n  units: [\n")
    result = subprocess.run(
        [
            sys.executable,
            str(PROJECT / "scripts" / "train.py"),
            "--config",
            str(bad),
            "--output-dir",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid YAML" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


@requires_data
def test_command_line_training_prints_the_run_folder_and_test_accuracy(real_data: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(PROJECT / "scripts" / "train.py"),
            "--config",
            "gru.yaml",
            "--output-dir",
            str(tmp_path),
            *[arg for override in SMOKE for arg in ("--set", override)],
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-2:]
    (run,) = tmp_path.iterdir()
    assert last[0] == f"Run folder: {run}"
    accuracy = json.loads((run / "metrics.json").read_text())["test_accuracy"]
    assert last[1].startswith(f"Test accuracy: {accuracy:.4f}")


@pytest.mark.parametrize(
    "option",
    ["train.mixed_precision=true", "train.mixed_precision=bfloat16", "train.jit_compile=true", "data.bucketing=false"],
)
def test_speed_options_train_and_predict_float32_probabilities(option: str, tmp_path: Path) -> None:
    config = load_config("lstm", ["data.maxlen=30", "data.num_words=50", "train.epochs=1", option])
    run = train(config, tmp_path, splits=synthetic_splits(200, seed=0, maxlen=30), verbose=0)
    model = keras.models.load_model(run / "model.keras")
    output = model.predict(np.ones((2, 30), dtype="int32"), verbose=0)
    assert output.dtype == np.float32 and output.shape == (2, 1)
    keras.mixed_precision.set_global_policy("float32")
