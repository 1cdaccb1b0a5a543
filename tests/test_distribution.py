"""`train.distribution: mirrored` on two logical CPU devices: it learns, and it computes what one device does
(with `train.ema` too); the README's command runs as it is written on a machine without a GPU.

Logical CPU devices are made before TensorFlow's runtime starts, so each case runs in a fresh Python
process (this one has long started TensorFlow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT, requires_data

SCRIPT = """
import json, sys
sys.path.insert(0, "tests")
from imdb_rnn.training.distribution import cpu_devices
cpu_devices(2)
import imdb_rnn.training.recipe as recipe
from imdb_rnn.config import load_config
from imdb_rnn.data import pipeline
from test_train import synthetic_splits
output = sys.argv[1]
# The same batches in the same order on both devices' runs: what is compared is the arithmetic.
recipe.make_dataset = lambda split, size, shuffle=False, seed=None, **options: pipeline.make_dataset(split, size, False, seed, **options)
results = {}
for name, distribution, more in (("none", "none", []), ("mirrored", "mirrored", []),
                                 ("none-ema", "none", ["train.ema=true", "train.epochs=3"]),
                                 ("mirrored-ema", "mirrored", ["train.ema=true", "train.epochs=3"])):
    config = load_config(None, ["data.maxlen=30", "data.num_words=50", "data.bucketing=false", "train.optimizer=adam",
                                "train.learning_rate=0.002", "train.epochs=4", "train.batch_size=32",
                                f"train.distribution={distribution}", *more])
    run = recipe.train(config, output, splits=synthetic_splits(1600, seed=0, maxlen=30), verbose=0)
    metrics = json.loads((run / "metrics.json").read_text())
    history = json.loads((run / "history.json").read_text())
    results[name] = {"loss": history["loss"], "val_loss": history["val_loss"], "epochs": history["epoch"],
                     "test_accuracy": metrics["test_accuracy"]}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One device, then two mirrored logical CPU devices, on the same batches in the same order."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path_factory.mktemp("runs"))],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_mirrored_on_two_cpu_devices_learns_the_synthetic_task(both: dict) -> None:
    mirrored = both["mirrored"]
    assert mirrored["test_accuracy"] > 0.9 and mirrored["loss"][-1] < mirrored["loss"][0] / 4
    assert mirrored["epochs"] == [1, 2, 3, 4]  # every epoch recorded once


def test_mirrored_matches_one_device_for_the_same_global_batches(both: dict) -> None:
    for single, mirrored in zip(both["none"]["loss"], both["mirrored"]["loss"], strict=True):
        assert abs(mirrored - single) <= 1e-3 * single  # stated tolerance: 0.1% (seen: about 1e-6)


def test_mirrored_averages_the_weights_each_epoch_as_one_device_does(both: dict) -> None:
    """`train.ema`: Keras's own overwrite fails under tf.distribute; the callback that replaces it
    validates (and goes on training from) the averaged weights at the same steps."""
    single, mirrored = both["none-ema"], both["mirrored-ema"]
    assert mirrored["epochs"] == [1, 2, 3]
    for key in ("loss", "val_loss"):
        for one, two in zip(single[key], mirrored[key], strict=True):
            assert abs(two - one) <= 1e-3 * one, key  # stated tolerance: 0.1%
    assert single["val_loss"] != both["none"]["val_loss"][:3]  # the average is in use


@requires_data
def test_the_readmes_mirrored_command_runs_without_a_gpu(real_data: Path, tmp_path: Path) -> None:
    """`imdb-rnn train --config gru --set train.distribution=mirrored --set data.bucketing=false` as the
    README writes it, shrunk to a few hundred reviews and one epoch, in a fresh process hiding any GPU:
    nothing may start TensorFlow's runtime before the two logical CPU devices are made."""
    shrink = ["data.limit=300", "data.test_limit=100", "data.maxlen=64", "train.epochs=1"]
    command = [sys.executable, "-m", "imdb_rnn", "train", "--config", "gru"]
    command += ["--set", "train.distribution=mirrored", "--set", "data.bucketing=false"]
    command += [argument for override in shrink for argument in ("--set", override)]
    command += ["--output-dir", str(tmp_path)]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=PROJECT, env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Mirrored over 2 devices: " in result.stdout and "/device:CPU:1" in result.stdout, result.stdout[-3000:]
    (run,) = tmp_path.iterdir()
    assert json.loads((run / "history.json").read_text())["epoch"] == [1]
