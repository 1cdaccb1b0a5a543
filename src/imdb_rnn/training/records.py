"""What a classifier's training writes into its run folder. The folder's life (made, committed, rewound,
resumed) is `imdb_rnn.runs.lifecycle`'s, named here too for the recipe.

A finished run folder holds `config.yaml`, `status.json`, `history.csv`, `history.json`,
`metrics.json`, `accuracy.png`, `loss.png`, `model.keras` (+ `best.json`, its epoch),
`summary.txt`, `vocabulary.json`, `confusion_matrix.png`, `roc_curve.png` and `tensorboard/`;
while it trains, `backup/` holds the last completed epoch for `--resume`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from imdb_rnn.config import Config
from imdb_rnn.data.splits import Splits
from imdb_rnn.environment import versions
from imdb_rnn.files import write_json, write_text
from imdb_rnn.runs.history import from_csv
from imdb_rnn.runs.lifecycle import (  # the run folder's life, as the recipe calls it
    check_resumable,
    committed_epochs,
    create_run_dir,
    prepare_output_dir,
    rewind,
    write_config,
)
from imdb_rnn.runs.plots import plot_history
from imdb_rnn.training.learned import check_learned, majority_rate

__all__ = [
    "check_resumable",
    "committed_epochs",
    "create_run_dir",
    "finish_run",
    "prepare_output_dir",
    "rewind",
    "start_run",
    "summary",
]


def start_run(run: Path, config: Config, model: keras.Model) -> dict[str, list]:
    """Writes what is known before training, `config.yaml` (resolved) and `summary.txt`; returns
    the (empty) history so far."""
    write_config(run, config)
    write_text(run / "summary.txt", summary(model) + "\n")
    return {}


def summary(model: keras.Model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)


def finish_run(
    run: Path,
    config: Config,
    splits: Splits,
    parameters: int,
    test_loss: float | None,
    test_accuracy: float | None,
) -> dict[str, Any]:
    """Writes `history.json`, `metrics.json`, `accuracy.png` and `loss.png`; returns the metrics. Test
    figures of None (a search trial, which never reads the test set) are written as null. A run whose best
    validation accuracy never beat its validation set's majority-class rate warns so, and its metrics say
    `learned: false` (see `imdb_rnn.training.learned`)."""
    history = from_csv(run / "history.csv")
    write_json(run / "history.json", history)
    best_epoch = int(np.nanargmax(np.array(history["val_accuracy"], dtype=float))) + 1
    metrics = {
        "run": run.name,
        "config": config.name,
        "architecture": config.model.architecture,
        "backend": keras.backend.backend(),
        "test_accuracy": None if test_accuracy is None else float(test_accuracy),
        "test_loss": None if test_loss is None else float(test_loss),
        "best_epoch": best_epoch,
        "best_val_accuracy": history["val_accuracy"][best_epoch - 1],
        "majority_val_accuracy": majority_rate(splits.validation.y),
        "epochs_run": len(history["epoch"]),
        "parameters": int(parameters),
        "training_seconds": round(sum(history["seconds"]), 3),
        "median_epoch_seconds": float(np.median(history["seconds"])),
        "examples": {"train": len(splits.train), "validation": len(splits.validation), "test": len(splits.test)},
        "data": {"source": splits.source, "location": splits.location, "classes": list(splits.classes)},
        "versions": versions(),
    }
    if splits.held_out is not None:
        metrics["data"]["test"] = f"{splits.held_out:.0%} of the texts held out (data.test_split, seed data.seed)"
    metrics["learned"] = check_learned(run, config, metrics["best_val_accuracy"], splits.validation.y)
    write_json(run / "metrics.json", metrics)
    plot_history(history, run.name, run)
    return metrics
