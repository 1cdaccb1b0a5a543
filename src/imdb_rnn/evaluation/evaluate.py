"""Evaluating a model on the test set and recording the result in its run folder.

`predict_dataset` predicts a `tf.data` test set (with a progress bar in a terminal);
`record_evaluation` adds the metrics (`imdb_rnn.evaluation.metrics`) to the run's `metrics.json`,
keeping every key already there, and draws `confusion_matrix.png` and `roc_curve.png`;
`evaluate_model` does it all for a model and the config it was trained with, reloading the test set
that config describes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from imdb_rnn.config import Config
from imdb_rnn.data.pipeline import evaluation_batch_size, make_test_dataset
from imdb_rnn.data.splits import load_splits
from imdb_rnn.evaluation import plots
from imdb_rnn.evaluation.metrics import DEFAULT_THRESHOLD, LABELS, classification_metrics, roc_curve
from imdb_rnn.files import read_json, write_json
from imdb_rnn.progress import progress_bar


def predict_dataset(model: keras.Model, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Labels `(n,)` and probabilities, float32, in the dataset's order: P(positive) `(n,)` from a model with
    one sigmoid unit, `(n, classes)` from a softmax.

    Labels and predictions are collected batch by batch, so they stay paired even when the dataset
    is not in index order (length bucketing sorts evaluation sets by review length).
    """
    labels, probabilities = [], []
    cardinality = int(dataset.cardinality())
    bar = progress_bar(cardinality if cardinality >= 0 else None, "batch")
    for tokens, batch_labels in dataset.as_numpy_iterator():  # NumPy: every Keras backend reads it
        predicted = np.asarray(model.predict_on_batch(tokens), dtype=np.float32)
        probabilities.append(predicted.reshape(-1) if predicted.shape[-1] == 1 else predicted)
        labels.append(np.asarray(batch_labels, dtype=np.float32).reshape(-1))
        bar.add(1)
    return np.concatenate(labels), np.concatenate(probabilities)


def record_evaluation(
    run: Path,
    labels: np.ndarray,
    probabilities: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    classes: tuple[str, ...] = LABELS,
) -> dict[str, Any]:
    """Evaluates test predictions into `run`, and returns the metrics (see `classification_metrics`).

    At the default threshold the metrics go to `metrics.json`'s `evaluation` and the plot to
    `confusion_matrix.png`; at another one, to `evaluation_at_thresholds["<threshold>"]` and
    `confusion_matrix_<threshold>.png`, so the default evaluation is never replaced. Every other key
    of `metrics.json` is kept (the file is created when missing). `roc_curve.png` does not depend
    on the threshold, and is drawn for two classes only.
    """
    evaluation = classification_metrics(labels, probabilities, threshold, classes)
    metrics_path = run / "metrics.json"
    metrics = read_json(metrics_path) if metrics_path.is_file() else {}
    if threshold == DEFAULT_THRESHOLD:
        metrics["evaluation"] = evaluation
    else:
        metrics.setdefault("evaluation_at_thresholds", {})[f"{threshold:g}"] = evaluation
    write_json(metrics_path, metrics)
    plots.plot_confusion_matrix(evaluation, run.name, run / confusion_matrix_file(threshold))
    if len(classes) == 2:
        plots.plot_roc_curve(*roc_curve(labels, probabilities), evaluation["roc_auc"], run.name, run / "roc_curve.png")
    return evaluation


def confusion_matrix_file(threshold: float) -> str:
    """`confusion_matrix.png` at the default threshold, else `confusion_matrix_<threshold>.png`."""
    return "confusion_matrix.png" if threshold == DEFAULT_THRESHOLD else f"confusion_matrix_{threshold:g}.png"


def evaluate_model(
    model: keras.Model,
    config: Config,
    folder: Path | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Evaluates `model` on the test set `config.data` describes (`data.test_limit` included), each review
    read as `Run.predict` and the exported model read it (`make_test_dataset`), as training's own test did. With a run `folder`, the result is recorded there too
    (see `record_evaluation`)."""
    splits = load_splits(config.data)
    test = splits.test
    batch_size = evaluation_batch_size(config.train.batch_size)
    dataset = make_test_dataset(test, batch_size, bucketing=config.data.bucketing, padding=config.data.padding)
    labels, probabilities = predict_dataset(model, dataset)
    if folder is not None:
        return record_evaluation(folder, labels, probabilities, threshold, splits.classes)
    return classification_metrics(labels, probabilities, threshold, splits.classes)


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """A short table of the metrics and the confusion matrix, for the terminal."""
    if "per_class" in evaluation:
        return _format_multiclass(evaluation)
    matrix = evaluation["confusion_matrix"]
    negative, positive = evaluation.get("classes", LABELS)
    lines = [f"Test set: {evaluation['examples']} reviews, {positive} when P({positive}) > {evaluation['threshold']:g}"]
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "loss"):
        value = evaluation[name]
        lines.append(f"  {name:<10} {'n/a' if value is None else f'{value:.4f}'}")
    width = max(17, len(negative) + 9, len(positive) + 9)
    column = max(len(negative), len(positive)) + 12
    lines += [
        "",
        f"  {'':<{width}}{'predicted ' + negative:>{column}}{'predicted ' + positive:>{column}}",
        f"  {'actual ' + negative:<{width}}{matrix['true_negatives']:>{column}}{matrix['false_positives']:>{column}}",
        f"  {'actual ' + positive:<{width}}{matrix['false_negatives']:>{column}}{matrix['true_positives']:>{column}}",
    ]
    return "\n".join(lines)


def _format_multiclass(evaluation: dict[str, Any]) -> str:
    classes = evaluation["classes"]
    width = max(17, *(len(name) + 2 for name in classes))
    lines = [f"Test set: {evaluation['examples']} texts, {len(classes)} classes, each given its most probable class"]
    for name in ("accuracy", "macro_precision", "macro_recall", "macro_f1", "loss"):
        lines.append(f"  {name:<16} {evaluation[name]:.4f}")
    lines += ["", f"  {'class':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for name, values in evaluation["per_class"].items():
        scores = "".join(f"{values[key]:>10.4f}" for key in ("precision", "recall", "f1"))
        lines.append(f"  {name:<{width}}{scores}{values['support']:>10}")
    counts = evaluation["confusion_matrix"]["counts"]
    cell = max(8, *(len(name) + 1 for name in classes))
    lines += ["", f"  {'actual/predicted':<{width}}" + "".join(f"{name:>{cell}}" for name in classes)]
    for name, row in zip(classes, counts):
        lines.append(f"  {name:<{width}}" + "".join(f"{count:>{cell}}" for count in row))
    return "\n".join(lines)
