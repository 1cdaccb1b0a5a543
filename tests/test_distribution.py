"""`train.distribution: mirrored` on two logical CPU devices: it learns, and it computes what one device does.

Logical CPU devices are made before TensorFlow's runtime starts, so each case runs in a fresh Python
process (this one has long started TensorFlow).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import PROJECT

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
for distribution in ("none", "mirrored"):
    config = load_config(None, ["data.maxlen=30", "data.num_words=50", "data.bucketing=false", "train.optimizer=adam",
                                "train.learning_rate=0.002", "train.epochs=4", "train.batch_size=32",
                                f"train.distribution={distribution}"])
    run = recipe.train(config, output, splits=synthetic_splits(1600, seed=0, maxlen=30), verbose=0)
    metrics = json.loads((run / "metrics.json").read_text())
    history = json.loads((run / "history.json").read_text())
    results[distribution] = {"loss": history["loss"], "epochs": history["epoch"], "test_accuracy": metrics["test_accuracy"]}
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
