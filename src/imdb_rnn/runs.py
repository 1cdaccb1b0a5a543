"""Run folders: `outputs/<config>-<YYYYmmdd-HHMMSS>/`, created once and never reused.

A finished run folder holds `config.yaml`, `status.json`, `history.csv`, `history.json`,
`metrics.json`, `accuracy.png`, `loss.png`, `model.keras` (+ `best.json`, its epoch),
`summary.txt`, `vocabulary.json`, `confusion_matrix.png`, `roc_curve.png` and `tensorboard/`;
while it trains, `backup/` holds the last completed epoch for `--resume`.
"""

from __future__ import annotations

import csv
import math
import os
import platform
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from imdb_rnn import plots, status
from imdb_rnn.config import PROJECT_ROOT, Config, save_config
from imdb_rnn.data import Splits
from imdb_rnn.errors import RunError
from imdb_rnn.status import read_json_or_none, write_json

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def prepare_output_dir(output_dir: str | Path) -> Path:
    """Creates `output_dir` if needed; `RunError` naming it when that is impossible."""
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(
            f"{output_dir}: cannot create the output folder: expected a writable folder, received {error.strerror or error}."
        ) from None
    return output_dir


def create_run_dir(output_dir: str | Path, name: str, now: datetime | None = None) -> Path:
    """Makes a new folder `<output_dir>/<name>-<timestamp>` (then `-2`, `-3`, … when taken).

    `mkdir` fails when the folder exists, so concurrent runs never share or overwrite one.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    output_dir = prepare_output_dir(output_dir)
    attempt = 1
    while True:
        path = output_dir / (f"{name}-{stamp}" if attempt == 1 else f"{name}-{stamp}-{attempt}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            attempt += 1
        except OSError as error:
            raise RunError(
                f"{path}: cannot create the run folder: expected a writable folder, received {error.strerror or error}."
            ) from None


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


def start_run(run: Path, config: Config, model: keras.Model) -> dict[str, list]:
    """Writes what is known before training, `config.yaml` (resolved) and `summary.txt`; returns
    the (empty) history so far."""
    save_config(config, run / "config.yaml")
    (run / "summary.txt").write_text(summary(model) + "\n", encoding="utf-8")
    return {}


def summary(model: keras.Model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)


BACKUP = "backup"
NAME = re.compile(r"^(?P<config>.+)-\d{8}-\d{6}(-\d+)?$")


def check_resumable(run: Path) -> tuple[str, str]:
    """`(config name, state)` of a run folder that `--resume` can take; `RunError` otherwise."""
    expected = "expected a run folder made by train.py (with config.yaml)"
    if not run.exists():
        raise RunError(f"{run}: not a run folder: {expected}, received a path that does not exist.")
    if not run.is_dir():
        raise RunError(f"{run}: not a run folder: {expected}, received a file.")
    if not (run / "config.yaml").is_file():
        raise RunError(f"{run}: not a run folder: {expected}, received a folder without config.yaml.")
    state = status.state_of(run)
    trained = len(read_history(run / "history.csv")["epoch"]) if (run / "history.csv").is_file() else 0
    if state != "completed" and trained and not (run / "model.keras").is_file():
        raise RunError(
            f"{run}: cannot resume: expected model.keras beside the {trained} epochs of history.csv, "
            "received a folder without it."
        )
    if state == "running":
        pid = (status.read(run) or {}).get("pid")
        raise RunError(f"{run}: the run is still training (pid {pid}): expected a stopped run, received state 'running'.")
    match = NAME.match(run.name)
    name = (status.read(run) or {}).get("config") or (match["config"] if match else run.name)
    return str(name), state


def rewind(run: Path) -> dict[str, list]:
    """Before a resume: keeps the history of the epochs committed to `backup/` (see
    `imdb_rnn.callbacks`) and drops any later row; returns the history kept."""
    backup = run / BACKUP
    metadata = read_json_or_none(backup / "training_metadata.json")
    if not isinstance(metadata, dict):  # killed while writing it: fall back to the previous backup
        metadata = read_json_or_none(backup / "training_metadata.json.bkp")
        if isinstance(metadata, dict) and (backup / "latest.weights.h5.bkp").is_file():
            shutil.copy(backup / "latest.weights.h5.bkp", backup / "latest.weights.h5")
            shutil.copy(backup / "training_metadata.json.bkp", backup / "training_metadata.json")
        else:
            shutil.rmtree(backup, ignore_errors=True)
            metadata = {"epoch": 0}
    committed = int(metadata.get("epoch", 0))
    csv_path = run / "history.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines(keepends=True) if csv_path.is_file() else []
    kept = lines[: 1 + committed] if lines else []
    temporary = csv_path.with_name(".history.csv.tmp")
    temporary.write_text("".join(kept), encoding="utf-8")
    temporary.replace(csv_path)
    return read_history(csv_path) if kept else {}


def finish_run(
    run: Path,
    config: Config,
    splits: Splits,
    parameters: int,
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
        "training_seconds": round(sum(history["seconds"]), 3),
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


def commit() -> str:
    """The short hash of the checkout's HEAD, or "unknown" (no git, or not a checkout)."""
    try:
        result = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    except OSError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def cpu_count() -> int:
    """The CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
