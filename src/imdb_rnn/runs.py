"""Run folders: `outputs/<config>-<YYYYmmdd-HHMMSS>/`, created once and never reused.

A finished run folder holds `config.yaml`, `history.csv`, `history.json`, `metrics.json`,
`accuracy.png`, `loss.png`, `model.keras` and `summary.txt`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from imdb_rnn import plots
from imdb_rnn.config import Config, save_config
from imdb_rnn.data import Splits
from imdb_rnn.errors import RunError

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def create_run_dir(output_dir: str | Path, name: str, now: datetime | None = None) -> Path:
    """Makes a new folder `<output_dir>/<name>-<timestamp>` (then `-2`, `-3`, … when taken).

    `mkdir` fails when the folder exists, so concurrent runs never share or overwrite one.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(f"{output_dir}: cannot create the output folder: {error.strerror or error}.") from None
    attempt = 1
    while True:
        path = output_dir / (f"{name}-{stamp}" if attempt == 1 else f"{name}-{stamp}-{attempt}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            attempt += 1
        except OSError as error:
            raise RunError(f"{path}: cannot create the run folder: {error.strerror or error}.") from None


def write_json(path: Path, content: Any) -> None:
    """Writes JSON atomically (temporary file, then rename): a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_history(csv_path: Path) -> dict[str, list[float]]:
    """`history.csv` (CSVLogger's) → `{"epoch": [1, 2, …], "loss": […], …}`, one entry per epoch."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    history: dict[str, list[float]] = {"epoch": [int(row["epoch"]) for row in rows]}
    present = [key for key in rows[0] if key != "epoch"] if rows else list(HISTORY_KEYS)
    ordered = [key for key in HISTORY_KEYS if key in present] + sorted(set(present) - set(HISTORY_KEYS))
    for key in ordered:
        history[key] = [_number(row.get(key)) for row in rows]
    return history


def _number(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def start_run(run: Path, config: Config, model: keras.Model) -> None:
    """Writes what is known before training: `config.yaml` (resolved) and `summary.txt`."""
    save_config(config, run / "config.yaml")
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    (run / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def finish_run(
    run: Path,
    config: Config,
    splits: Splits,
    parameters: int,
    training_seconds: float,
    test_loss: float,
    test_accuracy: float,
) -> dict[str, Any]:
    """Writes `history.json`, `metrics.json`, `accuracy.png` and `loss.png`; returns the metrics."""
    history = read_history(run / "history.csv")
    write_json(run / "history.json", history)
    best_epoch = int(np.nanargmax(np.array(history["val_accuracy"], dtype=float))) + 1
    metrics = {
        "run": run.name,
        "config": config.name,
        "architecture": config.model.architecture,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "best_epoch": best_epoch,
        "best_val_accuracy": history["val_accuracy"][best_epoch - 1],
        "epochs_run": len(history["epoch"]),
        "parameters": int(parameters),
        "training_seconds": round(training_seconds, 3),
        "median_epoch_seconds": float(np.median(history["seconds"])),
        "examples": {"train": len(splits.train), "validation": len(splits.validation), "test": len(splits.test)},
        "data": {"source": splits.source, "location": splits.location},
        "versions": versions(),
    }
    write_json(run / "metrics.json", metrics)
    plots.plot_history(history, run.name, run)
    return metrics


def versions() -> dict[str, str]:
    """Python, TensorFlow, Keras and NumPy versions, and the platform (for `metrics.json`)."""
    import tensorflow

    return {
        "python": sys.version.split()[0],
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
