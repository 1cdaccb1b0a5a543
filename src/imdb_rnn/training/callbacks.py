"""The callbacks of a classifier run beyond the resumable ones every run trains with
(`imdb_rnn.runs.callbacks`): TensorBoard logs and early stopping that survives a resume."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from imdb_rnn.runs.callbacks import (  # the resumable callbacks, named here as the recipe and tests know them
    BACKUP,
    BestModel,
    CommittedBackup,
    EpochTimer,
    HistoryCSV,
    NaNGuard,
    StatusUpdate,
    resumable,
)

__all__ = [
    "BACKUP",
    "BestModel",
    "CommittedBackup",
    "EpochTensorBoard",
    "EpochTimer",
    "HistoryCSV",
    "NaNGuard",
    "ResumableEarlyStopping",
    "StatusUpdate",
    "resumable",
]


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """TensorBoard logs of per-epoch scalars only (no graph, profiling or per-batch summaries).

    Its batch hooks are Keras's empty defaults: Keras's own still call `tf.summary.scalar` for every
    metric of every batch (with no writer open, to no effect) — time taken from each training step."""

    on_train_batch_begin = keras.callbacks.Callback.on_train_batch_begin
    on_train_batch_end = keras.callbacks.Callback.on_train_batch_end
    on_test_batch_begin = keras.callbacks.Callback.on_test_batch_begin
    on_test_batch_end = keras.callbacks.Callback.on_test_batch_end

    def __init__(self, log_dir: Path) -> None:
        super().__init__(log_dir, write_graph=False, update_freq="epoch", profile_batch=0)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping on validation accuracy that, on resume, counts the epochs already trained."""

    def __init__(self, patience: int, history: dict[str, list]) -> None:
        super().__init__(monitor="val_accuracy", mode="max", patience=patience)
        self.past = [v if v is not None else -np.inf for v in history.get("val_accuracy", [])]

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        if self.past:
            best_index = int(np.argmax(self.past))
            self.best, self.best_epoch = self.past[best_index], best_index
            self.wait = len(self.past) - 1 - best_index
