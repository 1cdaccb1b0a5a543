"""The Keras callbacks of every resumable run (a classifier, a language model), arranged so that a run
killed at any moment resumes without losing or repeating an epoch.

At the end of each epoch, in this order:
1. `HistoryCSV` appends the epoch's row to `history.csv`;
2. `CommittedBackup` (Keras's `BackupAndRestore`) saves weights, optimizer state and the epoch count to
   `backup/` — the commit point: a resumed run starts after the last epoch saved there;
3. `BestModel` replaces `model.keras` (atomically) when validation accuracy improved;
4. `StatusUpdate` records the completed epoch in `status.json`.
On resume (`imdb_rnn.runs.lifecycle.rewind`), history rows after the committed epoch are dropped, and `BestModel`
(and a classifier's `ResumableEarlyStopping`) pick up their state from the history that remains.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import keras

from imdb_rnn.errors import TrainingFailed
from imdb_rnn.files import copy_file, read_json_or_none, write_json
from imdb_rnn.runs import status
from imdb_rnn.runs.lifecycle import BACKUP, best_epoch


class EpochTimer(keras.callbacks.Callback):
    """Adds `seconds` (wall-clock time of the epoch, validation included) to each epoch's logs."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["seconds"] = time.perf_counter() - self.started


class HistoryCSV(keras.callbacks.CSVLogger):
    """Keras's CSVLogger, counting epochs from 1 as the progress bar does, appending on resume."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch + 1, logs)


DIVERGED_LOSS = 100.0
"""A training loss above this has diverged. Binary cross-entropy is about 0.69 for a model that
guesses; Keras computes it from the sigmoid's logits, so it grows with them: a mean loss of 100
means logits wrong by about 100 on average, where no learning comes back from."""


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """TerminateOnNaN(raise_error=True), naming the epoch and batch, and also failing a run whose
    loss has diverged while still finite (above `DIVERGED_LOSS`). The failing epoch is never
    committed, so `history.csv`, `model.keras` and the backup keep the last good epoch."""

    def __init__(self, diverged: float = DIVERGED_LOSS) -> None:
        super().__init__(raise_error=True)
        self.diverged = diverged
        self.epoch = 1

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch + 1

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        where = f"in epoch {self.epoch}, by batch {batch + 1}"  # the last batch of a train.steps_per_execution call
        if not math.isfinite(loss):
            raise TrainingFailed(
                f"the training loss became {loss} {where}: expected a finite loss; "
                "lower train.learning_rate or set train.clipnorm"
            )
        if loss > self.diverged:
            raise TrainingFailed(
                f"the training loss diverged to {loss:.3g} {where}: expected a loss below {self.diverged:g} "
                "(binary cross-entropy starts near 0.69); lower train.learning_rate or set train.clipnorm"
            )


class BestModel(keras.callbacks.ModelCheckpoint):
    """ModelCheckpoint of the best epoch by validation accuracy, written to a temporary file and
    renamed over `model.keras`, so a kill never leaves half a model; `best.json` names its epoch.

    `history` holds the epochs already trained (on resume): the best of them is the threshold to
    beat, and if that best epoch is the one just restored from the backup but never made it to
    `model.keras`, the restored model is saved now.
    """

    def __init__(self, run: Path, history: dict[str, list]) -> None:
        self.best_so_far = best_epoch(history)
        super().__init__(
            run / "model.tmp.keras",
            monitor="val_accuracy",
            mode="max",
            save_best_only=True,
            initial_value_threshold=self.best_so_far[1] if self.best_so_far else None,
        )
        self.run = run

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        Path(self.filepath).unlink(missing_ok=True)  # half-written by a killed run
        saved = read_json_or_none(self.run / "best.json") or {}
        restored_epoch = getattr(self.model, "_initial_epoch", 0)
        if self.best_so_far and self.best_so_far[0] == restored_epoch and saved.get("epoch") != restored_epoch:
            self._publish(restored_epoch, self.best_so_far[1], save=True)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        if Path(self.filepath).exists():
            self._publish(epoch + 1, float(logs["val_accuracy"]), save=False)

    def _publish(self, epoch: int, val_accuracy: float, save: bool) -> None:
        if save:
            self.model.save(self.filepath)
        os.replace(self.filepath, self.run / "model.keras")
        write_json(self.run / "best.json", {"epoch": epoch, "val_accuracy": val_accuracy})


class CommittedBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore(double_checkpoint=True)` whose commit is never cut in half. Keras writes the
    weights over the last ones, then the epoch count: a process that fails or is killed in between (under
    JAX, a dead worker's collective error surfaces in another process while it saves) leaves the new
    epoch's weights beside the old epoch's count, and resumes from a state no epoch had. Here both are
    written to `next.*` files first, the last pair is copied to the `.bkp` files as Keras does, and the
    new pair is renamed into place."""

    def __init__(self, backup_dir: Path) -> None:
        super().__init__(str(backup_dir), double_checkpoint=True)

    def on_train_begin(self, logs: dict | None = None) -> None:
        for left in Path(self.backup_dir).glob("next.*"):  # a save cut short: never committed
            left.unlink()
        super().on_train_begin(logs)

    def _save_model(self) -> None:
        backup = Path(self.backup_dir)
        backup.mkdir(parents=True, exist_ok=True)
        weights, metadata = Path(self._weights_path), Path(self._training_metadata_path)
        next_weights, next_metadata = backup / "next.weights.h5", backup / "next.metadata.json"
        self.model.save_weights(next_weights, overwrite=True)
        write_json(next_metadata, {"epoch": self._current_epoch, "batch": self._last_batch_seen})
        if weights.is_file() and metadata.is_file():
            copy_file(weights, Path(self._prev_weights_path))
            copy_file(metadata, Path(self._prev_training_metadata_path))
        os.replace(next_weights, weights)
        os.replace(next_metadata, metadata)


class StatusUpdate(keras.callbacks.Callback):
    """Records each completed epoch in `status.json`."""

    def __init__(self, run: Path) -> None:
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        status.update(self.run, epochs_completed=epoch + 1)


def resumable(run: Path, history: dict[str, list]) -> list[keras.callbacks.Callback]:
    """The callbacks every resumable run folder trains with, in the order the module docstring explains:
    epoch timer, NaN guard, `history.csv`, the backup (the commit point), `model.keras`, `status.json`.
    `history` is what a resumed run trained already (`lifecycle.rewind`)."""
    return [
        EpochTimer(),
        NaNGuard(),
        HistoryCSV(run / "history.csv", append=True),
        CommittedBackup(run / BACKUP),
        BestModel(run, history),
        StatusUpdate(run),
    ]
