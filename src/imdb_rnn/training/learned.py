"""Did the run learn? A classifier whose best validation accuracy never beats the share of the validation
set's most frequent class has learned nothing a constant answer does not know: the run says so in one
warning, with what to try, and records it in `metrics.json` (`learned`, `majority_val_accuracy`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from imdb_rnn.config import Config
from imdb_rnn.config.sections import OWN_SOURCES
from imdb_rnn.errors import ImdbRnnWarning


def majority_rate(labels: np.ndarray) -> float:
    """The accuracy of always answering the most frequent class of `labels` (class indices)."""
    labels = np.asarray(labels).astype(np.int64).ravel()
    if labels.size == 0:
        return 0.0
    return float(np.bincount(labels).max() / labels.size)


def learned(best_val_accuracy: float | None, majority: float, count: int) -> bool:
    """Whether the best validation accuracy beats the majority-class rate by at least one of the `count`
    validation texts (compared as counts of right answers: Keras's float32 accuracy of a constant answer
    can come out a hair above the rate); a missing accuracy does not."""
    if best_val_accuracy is None or not np.isfinite(best_val_accuracy):
        return False
    return round(best_val_accuracy * count) > round(majority * count)


def advice_for(config: Config) -> str:
    """What to try when a run of `config` did not learn."""
    tries = [
        f"more epochs or a longer patience (train.epochs={config.train.epochs}, "
        f"train.early_stopping={config.train.early_stopping})",
        f"a lower train.learning_rate (now {config.train.learning_rate:g})",
    ]
    if config.model.pretrained is None:
        english = ", when your texts are English reviews" if config.data.source in OWN_SOURCES else ""
        tries.append(f"word vectors (--set model.pretrained=word2vec{english})")
    tries.append("the bag-of-ngrams yardstick (--config baseline_bigrams)")
    return "; ".join(tries)


def check_learned(run: Path, config: Config, best_val_accuracy: float | None, validation_labels: np.ndarray) -> bool:
    """Warns once (an `ImdbRnnWarning`) when the run's best validation accuracy never beat the majority-class
    rate of its validation set (`validation_labels`); returns whether it did."""
    majority = majority_rate(validation_labels)
    if learned(best_val_accuracy, majority, len(validation_labels)):
        return True
    best = "none" if best_val_accuracy is None else f"{best_val_accuracy:.4f}"
    warnings.warn(
        f"{run}: the model did not learn: its best validation accuracy ({best}) never beat the "
        f"majority-class rate of the validation set ({majority:.4f}), which always answering the most frequent "
        f"class reaches. Try {advice_for(config)}.",
        ImdbRnnWarning,
        stacklevel=2,
    )
    return False
