"""What training writes into a run folder, and how an interrupted run folder is taken up again.

A finished run folder holds `config.yaml`, `status.json`, `history.csv`, `history.json`,
`metrics.json`, `accuracy.png`, `loss.png`, `model.keras` (+ `best.json`, its epoch),
`summary.txt`, `vocabulary.json`, `confusion_matrix.png`, `roc_curve.png` and `tensorboard/`;
while it trains, `backup/` holds the last completed epoch for `--resume`.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from imdb_rnn import plots
from imdb_rnn.config import Config, save_config
from imdb_rnn.data.splits import Splits
from imdb_rnn.environment import versions
from imdb_rnn.errors import RunError
from imdb_rnn.files import new_folder, read_json_or_none, stamp_of, write_json, write_text
from imdb_rnn.runs import status
from imdb_rnn.runs.history import from_csv
from imdb_rnn.training.callbacks import BACKUP, best_epoch


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
    """Makes a new folder `<output_dir>/<name>-<timestamp>` (then `-2`, `-3`, … when taken)."""
    return new_folder(prepare_output_dir(output_dir), name, now, what="run folder")


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
    if (run / BACKUP).is_dir():  # what the backup committed (a kill may leave a history row past it)
        trained, where = committed_epochs(run), f"committed to {BACKUP}/"
    else:
        trained = len(from_csv(run / "history.csv")["epoch"]) if (run / "history.csv").is_file() else 0
        where = "of history.csv"
    if state != "completed" and trained and not (run / "model.keras").is_file():
        # Killed between the commit and `model.keras`: when the best epoch is the one committed last,
        # `BestModel` saves it again from the backup; an earlier best one is lost.
        best = _best_committed(run, trained) if (run / BACKUP).is_dir() else None
        if best != trained:
            lost = f" (the best of them, epoch {best}, was saved there only)" if best else ""
            raise RunError(
                f"{run}: cannot resume: expected model.keras beside the {trained} epochs {where}{lost}, "
                "received a folder without it."
            )
    if state == "running":
        pid = (status.read(run) or {}).get("pid")
        raise RunError(
            f"{run}: the run is still training (pid {pid}): expected a stopped run, received state 'running'."
        )
    stamp = stamp_of(run)
    name = (status.read(run) or {}).get("config") or (stamp[0] if stamp else run.name)
    return str(name), state


def _best_committed(run: Path, committed: int) -> int | None:
    """The best epoch by validation accuracy of the first `committed` rows of `history.csv`, if any."""
    history = from_csv(run / "history.csv") if (run / "history.csv").is_file() else {}
    best = best_epoch({key: values[:committed] for key, values in history.items()})
    return best[0] if best else None


def committed_epochs(run: Path) -> int:
    """The epochs committed to `backup/` (the last complete backup, or the one before it), 0 for none."""
    backup = run / BACKUP
    latest = read_json_or_none(backup / "training_metadata.json")
    if isinstance(latest, dict):
        return int(latest.get("epoch", 0))
    previous = read_json_or_none(backup / "training_metadata.json.bkp")
    if isinstance(previous, dict) and (backup / "latest.weights.h5.bkp").is_file():
        return int(previous.get("epoch", 0))
    return 0


def rewind(run: Path, epoch: int | None = None) -> dict[str, list]:
    """Before a resume: keeps the history of the epochs committed to `backup/` (see
    `imdb_rnn.training.callbacks`) and drops any later row; returns the history kept.

    `epoch` (a cluster's processes agreeing on where to start) goes back to that epoch instead: one
    before the last commit is the previous backup (`.bkp`), 0 is the start; anything else a `RunError`."""
    backup = run / BACKUP
    metadata = read_json_or_none(backup / "training_metadata.json")
    if not isinstance(metadata, dict):  # killed while writing it: fall back to the previous backup
        metadata = _restore_previous(backup)
    committed = int(metadata.get("epoch", 0))
    if epoch is not None and epoch != committed:
        previous = read_json_or_none(backup / "training_metadata.json.bkp")
        if epoch == 0:
            shutil.rmtree(backup, ignore_errors=True)
        elif not (isinstance(previous, dict) and previous.get("epoch") == epoch):
            raise RunError(
                f"{run}: cannot go back to epoch {epoch} to resume with the other processes: expected its "
                f"checkpoint in {BACKUP}/, received epoch {committed} and a previous one of "
                f"{previous.get('epoch') if isinstance(previous, dict) else 'none'}; start the run again."
            )
        else:
            _restore_previous(backup)
        committed = epoch
    csv_path = run / "history.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines(keepends=True) if csv_path.is_file() else []
    kept = lines[: 1 + committed] if lines else []
    write_text(csv_path, "".join(kept))
    return from_csv(csv_path) if kept else {}


def _restore_previous(backup: Path) -> dict:
    """Makes the previous backup (`.bkp`) the latest and returns its metadata; with none, removes the
    backup and returns epoch 0."""
    metadata = read_json_or_none(backup / "training_metadata.json.bkp")
    if isinstance(metadata, dict) and (backup / "latest.weights.h5.bkp").is_file():
        shutil.copy(backup / "latest.weights.h5.bkp", backup / "latest.weights.h5")
        shutil.copy(backup / "training_metadata.json.bkp", backup / "training_metadata.json")
        return metadata
    shutil.rmtree(backup, ignore_errors=True)
    return {"epoch": 0}


def finish_run(
    run: Path,
    config: Config,
    splits: Splits,
    parameters: int,
    test_loss: float,
    test_accuracy: float,
) -> dict[str, Any]:
    """Writes `history.json`, `metrics.json`, `accuracy.png` and `loss.png`; returns the metrics."""
    history = from_csv(run / "history.csv")
    write_json(run / "history.json", history)
    best_epoch = int(np.nanargmax(np.array(history["val_accuracy"], dtype=float))) + 1
    metrics = {
        "run": run.name,
        "config": config.name,
        "architecture": config.model.architecture,
        "backend": keras.backend.backend(),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "best_epoch": best_epoch,
        "best_val_accuracy": history["val_accuracy"][best_epoch - 1],
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
    write_json(run / "metrics.json", metrics)
    plots.plot_history(history, run.name, run)
    return metrics
