"""Test-set evaluation of a run: accuracy, precision, recall, F1, ROC AUC and the confusion matrix.

`predict_dataset` predicts a `tf.data` test set; `classification_metrics` turns labels and
probabilities into the numbers; `record_evaluation` adds them to the run's `metrics.json` (keeping
every key already there) and draws `confusion_matrix.png` and `roc_curve.png`; `evaluate_run` does
it all for a run folder, reloading the test set its config describes. A review is called
positive when its probability is above the threshold (0.5 by default), as Keras's accuracy does.
The ROC AUC and the ROC curve come from `keras.metrics.AUC`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from imdb_rnn import plots
from imdb_rnn.data import load_splits
from imdb_rnn.pipeline import evaluation_batch_size, make_dataset
from imdb_rnn.predict import DEFAULT_THRESHOLD, Run
from imdb_rnn.status import read_json, write_json

AUC_THRESHOLDS = 10_001  # evenly spaced in [0, 1]: the AUC is exact to about 1e-4


def predict_dataset(model: keras.Model, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Labels `(n,)` and P(positive) `(n,)` float32, in the dataset's order.

    Labels and predictions are collected batch by batch, so they stay paired even when the dataset
    is not in index order (length bucketing sorts evaluation sets by review length).
    """
    labels, probabilities = [], []
    for tokens, batch_labels in dataset:
        probabilities.append(np.asarray(model.predict_on_batch(tokens), dtype=np.float32).reshape(-1))
        labels.append(np.asarray(batch_labels, dtype=np.float32).reshape(-1))
    return np.concatenate(labels), np.concatenate(probabilities)


def roc_auc_metric(labels: np.ndarray, probabilities: np.ndarray) -> keras.metrics.AUC:
    """A `keras.metrics.AUC` (ROC, `AUC_THRESHOLDS` thresholds) updated with all the predictions."""
    auc = keras.metrics.AUC(num_thresholds=AUC_THRESHOLDS, curve="ROC")
    auc.update_state(labels, probabilities)
    return auc


def roc_curve(labels: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates `(AUC_THRESHOLDS,)`, from 1 down to 0, at the thresholds of
    `keras.metrics.AUC` (the curve whose area is `roc_auc`)."""
    auc = roc_auc_metric(labels, probabilities)
    true_positives, false_positives = auc.true_positives.numpy(), auc.false_positives.numpy()
    positives = true_positives + auc.false_negatives.numpy()
    negatives = false_positives + auc.true_negatives.numpy()
    return false_positives / np.maximum(negatives, 1), true_positives / np.maximum(positives, 1)


def classification_metrics(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """The evaluation block of `metrics.json` for labels `(n,)` in {0, 1} and probabilities `(n,)`.

    `threshold` (default 0.5): a review is predicted positive when its probability is above it.
    Precision, recall and F1 are 0 when undefined (no predicted or no actual positives), as in
    Keras; `roc_auc` is None when the labels hold only one class; `loss` is the mean binary
    cross-entropy.
    """
    labels = np.asarray(labels, dtype=np.float32).reshape(-1)
    probabilities = np.asarray(probabilities, dtype=np.float32).reshape(-1)
    actual, predicted = labels > 0.5, probabilities > threshold
    true_positives = int(np.sum(actual & predicted))
    false_positives = int(np.sum(~actual & predicted))
    false_negatives = int(np.sum(actual & ~predicted))
    true_negatives = int(np.sum(~actual & ~predicted))
    precision = _ratio(true_positives, true_positives + false_positives)
    recall = _ratio(true_positives, true_positives + false_negatives)
    both_classes = 0 < int(actual.sum()) < len(actual)
    loss = keras.losses.binary_crossentropy(labels[:, None], probabilities[:, None])
    return {
        "examples": len(labels),
        "threshold": float(threshold),
        "accuracy": _ratio(true_positives + true_negatives, len(labels)),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "roc_auc": float(roc_auc_metric(labels, probabilities).result()) if both_classes else None,
        "loss": float(np.mean(keras.ops.convert_to_numpy(loss))),
        "confusion_matrix": {
            "true_negatives": true_negatives,
            "false_positives": false_positives,
            "false_negatives": false_negatives,
            "true_positives": true_positives,
        },
    }


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def record_evaluation(
    run: Path, labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """Evaluates test predictions into `run`, and returns the metrics (see `classification_metrics`).

    At the default threshold the metrics go to `metrics.json`'s `evaluation` and the plot to
    `confusion_matrix.png`; at another one, to `evaluation_at_thresholds["<threshold>"]` and
    `confusion_matrix_<threshold>.png`, so the default evaluation is never replaced. Every other key
    of `metrics.json` is kept (the file is created when missing). `roc_curve.png` does not depend
    on the threshold.
    """
    evaluation = classification_metrics(labels, probabilities, threshold)
    metrics_path = run / "metrics.json"
    metrics = read_json(metrics_path) if metrics_path.is_file() else {}
    if threshold == DEFAULT_THRESHOLD:
        metrics["evaluation"] = evaluation
    else:
        metrics.setdefault("evaluation_at_thresholds", {})[f"{threshold:g}"] = evaluation
    write_json(metrics_path, metrics)
    plots.plot_confusion_matrix(evaluation, run.name, run / confusion_matrix_file(threshold))
    plots.plot_roc_curve(*roc_curve(labels, probabilities), evaluation["roc_auc"], run.name, run / "roc_curve.png")
    return evaluation


def confusion_matrix_file(threshold: float) -> str:
    """`confusion_matrix.png` at the default threshold, else `confusion_matrix_<threshold>.png`."""
    return "confusion_matrix.png" if threshold == DEFAULT_THRESHOLD else f"confusion_matrix_{threshold:g}.png"


def evaluate_run(run: Run, threshold: float = DEFAULT_THRESHOLD, save: bool = False) -> dict[str, Any]:
    """Evaluates a loaded run on the test set its `config.yaml` describes (`data.test_limit` included).

    `save=True` records the result in the run folder (see `record_evaluation`).
    """
    config = run.config
    test = load_splits(config.data).test
    batch_size = evaluation_batch_size(config.train.batch_size)  # as training evaluated it
    dataset = make_dataset(test, batch_size, bucketing=config.data.bucketing, padding=config.data.padding)
    labels, probabilities = predict_dataset(run.model, dataset)
    if save:
        return record_evaluation(run.folder, labels, probabilities, threshold)
    return classification_metrics(labels, probabilities, threshold)


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """A short table of the metrics and the confusion matrix, for the terminal."""
    matrix = evaluation["confusion_matrix"]
    lines = [f"Test set: {evaluation['examples']} reviews, positive when P(positive) > {evaluation['threshold']:g}"]
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "loss"):
        value = evaluation[name]
        lines.append(f"  {name:<10} {'n/a' if value is None else f'{value:.4f}'}")
    lines += [
        "",
        f"  {'':<17}{'predicted neg':>14}{'predicted pos':>15}",
        f"  {'actual negative':<17}{matrix['true_negatives']:>14}{matrix['false_positives']:>15}",
        f"  {'actual positive':<17}{matrix['false_negatives']:>14}{matrix['true_positives']:>15}",
    ]
    return "\n".join(lines)
