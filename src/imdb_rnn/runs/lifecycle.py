"""A run folder's life, for every kind of run (a classifier, a language model, word vectors): made,
its config written, an epoch committed, checked before a resume, rewound to its last commit, and found
again as the newest run of a config.

    run = create_run_dir("outputs", "lstm")          # outputs/lstm-<timestamp>/, never reused
    write_config(run, config)                          # config.yaml (resolved)
    history = rewind(run)                              # before a resume: the epochs committed to backup/
    name, state = check_resumable(run)                 # or a one-line RunError saying why not

An epoch is committed when `backup/` holds it (`imdb_rnn.runs.callbacks.CommittedBackup`); what a
run wrote past its last commit is dropped by `rewind`. Nothing here imports Keras.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from imdb_rnn.config import save_config
from imdb_rnn.errors import RunError
from imdb_rnn.files import copy_file, new_folder, read_json_or_none, stamp_of, write_text
from imdb_rnn.runs import status
from imdb_rnn.runs.history import from_csv
from imdb_rnn.runs.provenance import record_provenance

BACKUP = "backup"  # a run folder's commit point: the last completed epoch, for --resume


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


def create_run_dir(output_dir: str | Path, name: str, now: datetime | None = None, what: str = "run folder") -> Path:
    """Makes a new folder `<output_dir>/<name>-<timestamp>` (then `-2`, `-3`, … when taken)."""
    return new_folder(prepare_output_dir(output_dir), name, now, what=what)


def write_config(run: Path, config: Any) -> None:
    """Writes the run's resolved config (a classifier's or a pretraining's) as `config.yaml`, and where the
    run comes from as `provenance.json` (its commit and config hash; see `imdb_rnn.runs.provenance`)."""
    save_config(config, run / "config.yaml")
    record_provenance(run, config.to_dict())


def newest_run(parent: str | Path, name: str, matches: Callable[[Path], bool]) -> Path | None:
    """The newest folder `<parent>/<name>-<timestamp>` for which `matches(folder)` holds (the run of a
    config to reuse or resume), None when none does."""
    return next((folder for folder in sorted(Path(parent).glob(f"{name}-*"), reverse=True) if matches(folder)), None)


def best_epoch(history: dict[str, list]) -> tuple[int, float] | None:
    """`(epoch, validation accuracy)` of the best epoch of `history` (counted from 1; the first of
    equals), None for no epoch."""
    scores = [v if v is not None else -np.inf for v in history.get("val_accuracy", [])]
    return (int(np.argmax(scores)) + 1, max(scores)) if scores else None


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
    `imdb_rnn.runs.callbacks`) and drops any later row; returns the history kept.

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
        copy_file(backup / "latest.weights.h5.bkp", backup / "latest.weights.h5")
        copy_file(backup / "training_metadata.json.bkp", backup / "training_metadata.json")
        return metadata
    shutil.rmtree(backup, ignore_errors=True)
    return {"epoch": 0}
