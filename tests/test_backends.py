"""Keras backends: JAX and PyTorch train every shipped config into the same run folder as TensorFlow.

The backend is chosen per process (`KERAS_BACKEND`, read when Keras is imported), so each backend trains
in its own Python process; this process (TensorFlow) then reads, predicts and evaluates those runs. A
backend that is not installed is skipped, saying how to install it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import CONFIGS, PROJECT, TINY_NUM_WORDS, small_tables
from imdb_rnn.errors import RunError
from imdb_rnn.runs import load_run
from imdb_rnn.training.recipe import resume

BACKENDS = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            importlib.util.find_spec(name) is None,
            reason=f"{name} is not installed (pip install -e '.[{name}]'; CI installs it)",
        ),
    )
    for name in ("jax", "torch")
]
TINY = [
    "data.source=aclimdb",
    f"data.num_words={TINY_NUM_WORDS}",
    "data.maxlen=16",
    "data.validation_split=0.25",
    "data.validation_split_by=review",
    "train.epochs=1",
    "train.batch_size=32",
    "train.early_stopping=null",
]
TRAIN_EVERY_CONFIG = """
import json, sys
import keras
import imdb_rnn
corpus, output, *configs = sys.argv[1:]
given = json.loads(sys.stdin.read())
overrides = given["common"] + [f"data.path={corpus}"]
runs = {}
for config in configs:
    extra = given["per_config"].get(config, [])
    run = imdb_rnn.train(config, overrides=overrides + extra, output_dir=output, verbose=0)
    runs[run.config_name] = {"folder": str(run.folder), "predicted": run.predict(["wonderful superb", "awful dull"]).tolist()}
print(json.dumps({"backend": keras.backend.backend(), "runs": runs}))
"""
INTERRUPT_AT_EPOCH_2 = """
import json, sys
import imdb_rnn
from imdb_rnn.errors import RunInterrupted
from imdb_rnn.training.callbacks import EpochTimer
real = EpochTimer.on_epoch_begin
def begin(self, index, logs=None):
    if index == 1:
        raise KeyboardInterrupt
    real(self, index, logs)
EpochTimer.on_epoch_begin = begin
corpus, output = sys.argv[1:]
try:
    imdb_rnn.train("lstm", overrides=json.loads(sys.stdin.read()) + [f"data.path={corpus}"], output_dir=output, verbose=0)
except RunInterrupted as interrupted:
    print(interrupted.run)
"""


def python(backend: str | None, code: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    if backend is not None:
        environment["KERAS_BACKEND"] = backend
    return subprocess.run(
        [sys.executable, *code], input=stdin, capture_output=True, text=True, env=environment, cwd=PROJECT
    )


@pytest.fixture(scope="module", params=BACKENDS)
def trained(request, tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """Every shipped config, trained for an epoch on the tiny corpus under one backend."""
    output = tmp_path_factory.mktemp(f"runs-{request.param}")
    arguments = ["-c", TRAIN_EVERY_CONFIG, str(tiny_corpus), str(output), *map(str, CONFIGS)]
    per_config = {str(path): small_tables(path) for path in CONFIGS}
    result = python(request.param, arguments, json.dumps({"common": TINY, "per_config": per_config}))
    assert result.returncode == 0, result.stderr[-3000:]
    return request.param, json.loads(result.stdout.strip().splitlines()[-1])


def test_every_config_trains_and_records_its_backend(trained: tuple[str, dict]) -> None:
    backend, result = trained
    assert result["backend"] == backend and sorted(result["runs"]) == sorted(path.stem for path in CONFIGS)
    for name, found in result["runs"].items():
        run = load_run(found["folder"])
        assert run.state == "completed" and run.metrics["backend"] == backend and backend in run.metrics["versions"]
        assert len(run.history["val_accuracy"]) == 1 and 0 <= run.metrics["test_accuracy"] <= 1, name
        assert (run.folder / "accuracy.png").is_file() and (run.folder / "confusion_matrix.png").is_file()
        width = run.config.data.bucket_width
        assert width == (32 if backend == "jax" else 1), f"{name}: bucket_width {width}"


def test_runs_of_another_backend_predict_and_evaluate_here(trained: tuple[str, dict], tmp_path: Path) -> None:
    backend, result = trained
    found = result["runs"]["lstm"]
    run = load_run(found["folder"])  # this process runs TensorFlow
    np.testing.assert_allclose(run.predict(["wonderful superb", "awful dull"]), found["predicted"], atol=1e-5)
    assert run.evaluate()["examples"] == run.metrics["evaluation"]["examples"]


def test_compare_tells_backends_apart(trained: tuple[str, dict], tiny_run: Path) -> None:
    from imdb_rnn.comparison.leaderboard import leaderboard

    backend, result = trained
    table = leaderboard([load_run(result["runs"]["lstm"]["folder"]), load_run(tiny_run)], group=True)
    assert "backend" in [column.name for column in table.hyperparameters]
    assert backend in table.text() and "tensorflow" in table.text()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_interrupted_run_resumes_on_its_own_backend(backend: str, tiny_corpus: Path, tmp_path: Path) -> None:
    started = python(
        backend, ["-c", INTERRUPT_AT_EPOCH_2, str(tiny_corpus), str(tmp_path)], json.dumps([*TINY, "train.epochs=2"])
    )
    assert started.returncode == 0, started.stderr[-3000:]
    folder = Path(started.stdout.strip().splitlines()[-1])
    assert json.loads((folder / "status.json").read_text())["backend"] == backend

    with pytest.raises(RunError, match=f"expected KERAS_BACKEND={backend} to resume it"):
        resume(folder)  # this process runs TensorFlow

    resumed = python(None, ["-m", "imdb_rnn", "train", "--resume", str(folder)])  # the backend comes from the run
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    run = load_run(folder)
    assert run.metrics["backend"] == backend and run.metrics["epochs_run"] == 2


def test_steps_per_execution_defaults_to_what_each_backend_takes(monkeypatch) -> None:
    import keras

    from imdb_rnn.config import load_config
    from imdb_rnn.errors import ConfigError
    from imdb_rnn.training.recipe import STEPS_PER_EXECUTION, steps_per_execution

    assert steps_per_execution(load_config(None)) == STEPS_PER_EXECUTION > 1  # one device, TensorFlow
    mirrored = load_config(None, ["train.distribution=mirrored", "data.bucketing=false"])
    assert steps_per_execution(mirrored) == 1
    assert steps_per_execution(load_config(None, ["train.steps_per_execution=4"])) == 4
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    assert steps_per_execution(load_config(None)) == 1
    with pytest.raises(ConfigError, match=r"train.steps_per_execution: the PyTorch backend .* received 4"):
        steps_per_execution(load_config(None, ["train.steps_per_execution=4"]))
