"""The package as a library and as one command: no global state on import, frozen configs, a model's
precision policy kept to itself, `imdb-rnn --version` and help without TensorFlow, `imdb_rnn.train`
returning a Run."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT, TINY_OVERRIDES
from imdb_rnn.config import load_config

NO_SIDE_EFFECTS = """
import os, sys
environment, stderr = dict(os.environ), os.fstat(2)
import imdb_rnn, imdb_rnn.comparison, imdb_rnn.runs, imdb_rnn.config, imdb_rnn.cli
assert dict(os.environ) == environment, set(os.environ.items()) ^ set(environment.items())
assert os.fstat(2) == stderr
heavy = [name for name in ("tensorflow", "keras", "matplotlib.pyplot") if name in sys.modules]
assert not heavy, heavy
from imdb_rnn.runs.plots import plot_history
plot_history({"epoch": [1, 2], "loss": [0.6, 0.4], "accuracy": [0.6, 0.8], "val_loss": [0.6, 0.5],
              "val_accuracy": [0.6, 0.7]}, "run", __import__("pathlib").Path(sys.argv[1]))
assert "matplotlib.pyplot" not in sys.modules  # drawn with the Figure API: no backend was chosen
print("clean")
"""


def test_importing_the_package_changes_no_global_state(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_SIDE_EFFECTS, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0 and result.stdout.strip() == "clean", result.stderr
    assert (tmp_path / "accuracy.png").is_file() and (tmp_path / "loss.png").is_file()


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["compare", "--help"], ["predict", "--help"]])
def test_help_needs_no_tensorflow(argv: list[str]) -> None:
    code = f"import sys\nfrom imdb_rnn.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit as e:\n"
    code += "    assert e.code == 0\nassert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\nprint('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr


def test_version_and_the_module_entry_point() -> None:
    from imdb_rnn import __version__

    result = subprocess.run([sys.executable, "-m", "imdb_rnn", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"imdb-rnn {__version__}"
    result = subprocess.run(
        [sys.executable, "-m", "imdb_rnn", "train", "--config", "lstm", "--bogus"], capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stderr.startswith("python -m imdb_rnn train: error: unrecognized")


def test_scripts_speak_as_themselves(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "train.py"), "--config", "nope.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stderr.startswith("train.py: error: nope.yaml: config file not found")


def test_configs_are_frozen() -> None:
    config = load_config("lstm")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.train.epochs = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.model.params["units"] = 3  # type: ignore[index]
    changed = config.replace(train={"epochs": 3}, model={"units": 8}, name="small")
    assert (changed.train.epochs, changed.model.params["units"], changed.name) == (3, 8, "small")
    assert (config.train.epochs, config.model.params["units"], config.name) == (10, 64, "lstm")


def test_mixed_precision_stays_with_its_model() -> None:
    import keras

    from imdb_rnn.training.recipe import build

    before = keras.mixed_precision.global_policy().name
    model = build(load_config("lstm", ["train.mixed_precision=true"]))
    assert model.get_layer("embedding").dtype_policy.name == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == before == "float32"
    bfloat16 = build(load_config("lstm", ["train.mixed_precision=bfloat16"]))
    assert bfloat16.get_layer("embedding").dtype_policy.name == "mixed_bfloat16"
    assert bfloat16.get_layer("embedding").embeddings.dtype == "float32"  # weights stay float32
    assert bfloat16.get_layer("positive").dtype_policy.name == "float32"  # and so do the probabilities
    plain = build(load_config("lstm"))
    assert plain.get_layer("embedding").dtype_policy.name == "float32"


def test_train_from_python_returns_a_run_and_compare_a_comparison(tiny_corpus: Path, tmp_path: Path) -> None:
    import imdb_rnn

    overrides = [*TINY_OVERRIDES, f"data.path={tiny_corpus}", "train.epochs=2"]
    run = imdb_rnn.train("lstm", overrides=overrides, output_dir=tmp_path / "runs", verbose=0)
    assert isinstance(run, imdb_rnn.Run) and run.folder.parent == tmp_path / "runs"
    assert run.state == "completed" and run.history["epoch"] == [1, 2]
    assert 0 <= run.metrics["test_accuracy"] <= 1 and run.config.train.epochs == 2
    assert run.predict(["Wonderful and superb.", "Awful, boring."]).shape == (2,)
    result = imdb_rnn.compare([tmp_path / "runs"], out=tmp_path / "comparison")
    assert isinstance(result, imdb_rnn.Comparison) and [r.runs[0].name for r in result.table.rows] == [run.name]
    with pytest.raises(ValueError, match="expected none with a Config"):
        imdb_rnn.train(run.config, overrides=["train.epochs=1"])
