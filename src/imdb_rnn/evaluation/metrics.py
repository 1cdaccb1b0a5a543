"""Test-set metrics from labels and probabilities: accuracy, precision, recall, F1, exact ROC AUC, loss.

With two classes, a review is called positive (the second class) when its probability is above the
threshold (0.5 by default), as Keras's accuracy does; with more, it gets the class of highest
probability, and precision, recall and F1 are given per class and as their unweighted mean (macro). The ROC AUC is exact: the Mann-Whitney statistic over the ranks of the
probabilities (ties count one half), and the ROC curve has one point per distinct probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

DEFAULT_THRESHOLD = 0.5  # positive when P(positive) is above it, as Keras's accuracy counts
LABELS = ("negative", "positive")
EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] for the loss, as Keras does


def label(probability: float, threshold: float = DEFAULT_THRESHOLD, classes: Sequence[str] = LABELS) -> str:
    """The second of two `classes` (`"positive"`) when `probability` is above `threshold`, else the first."""
    return classes[int(probability > threshold)]


def roc_auc(labels: np.ndarray, probabilities: np.ndarray) -> float | None:
    """The exact area under the ROC curve: the chance that a random positive review gets a higher
    probability than a random negative one, ties counting one half. None when one class is absent."""
    actual = np.asarray(labels).reshape(-1) > 0.5
    scores = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    positives, negatives = int(actual.sum()), int((~actual).sum())
    if not positives or not negatives:
        return None
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # average rank (1-based) of each run of equal scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    u = ranks[actual].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def roc_curve(labels: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates, from (0, 0) to (1, 1), one point per distinct probability
    (highest first): the curve whose area is `roc_auc`."""
    actual = np.asarray(labels).reshape(-1) > 0.5
    scores = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    scores, actual = scores[order], actual[order]
    last_of_each = np.r_[np.flatnonzero(scores[1:] != scores[:-1]), len(scores) - 1]
    true_positives = np.cumsum(actual)[last_of_each]
    false_positives = (last_of_each + 1) - true_positives
    tpr = np.r_[0.0, true_positives / max(int(actual.sum()), 1)]
    fpr = np.r_[0.0, false_positives / max(int((~actual).sum()), 1)]
    return fpr, tpr


def binary_cross_entropy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean binary cross-entropy of probabilities clipped as Keras clips them."""
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    p = np.clip(np.asarray(probabilities, dtype=np.float64).reshape(-1), EPSILON, 1 - EPSILON)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def classification_metrics(
    labels: np.ndarray,
    probabilities: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    classes: tuple[str, ...] | list[str] = LABELS,
) -> dict[str, Any]:
    """The evaluation block of `metrics.json` for labels `(n,)` (class indices) and probabilities: `(n,)`,
    P(second class), for two `classes`; `(n, len(classes))` for more (see `multiclass_metrics`).

    `threshold` (default 0.5): a review is predicted positive when its probability is above it.
    Precision, recall and F1 are 0 when undefined (no predicted or no actual positives), as in
    Keras; `roc_auc` is None when the labels hold only one class; `loss` is the mean binary
    cross-entropy.
    """
    if len(classes) > 2:
        return multiclass_metrics(labels, probabilities, classes)
    labels = np.asarray(labels, dtype=np.float32).reshape(-1)
    probabilities = np.asarray(probabilities, dtype=np.float32).reshape(-1)
    actual, predicted = labels > 0.5, probabilities > threshold
    true_positives = int(np.sum(actual & predicted))
    false_positives = int(np.sum(~actual & predicted))
    false_negatives = int(np.sum(actual & ~predicted))
    true_negatives = int(np.sum(~actual & ~predicted))
    precision = _ratio(true_positives, true_positives + false_positives)
    recall = _ratio(true_positives, true_positives + false_negatives)
    return {
        "examples": len(labels),
        "classes": list(classes),
        "threshold": float(threshold),
        "accuracy": _ratio(true_positives + true_negatives, len(labels)),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "roc_auc": roc_auc(labels, probabilities),
        "loss": binary_cross_entropy(labels, probabilities),
        "confusion_matrix": {
            "true_negatives": true_negatives,
            "false_positives": false_positives,
            "false_negatives": false_negatives,
            "true_positives": true_positives,
        },
    }


def multiclass_metrics(
    labels: np.ndarray, probabilities: np.ndarray, classes: tuple[str, ...] | list[str]
) -> dict[str, Any]:
    """The evaluation block for labels `(n,)` (class indices) and probabilities `(n, len(classes))`: accuracy
    of the most probable class; precision, recall, F1 and support of each class, and their unweighted means
    over all classes (`macro_*`, a class never predicted nor present counting 0); mean categorical
    cross-entropy (probabilities clipped as Keras clips them); the confusion matrix `counts[actual][predicted]`."""
    actual = np.asarray(labels).reshape(-1).astype(np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(len(actual), len(classes))
    predicted = probabilities.argmax(axis=1)
    counts = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(counts, (actual, predicted), 1)
    per_class = {}
    for index, name in enumerate(classes):
        hits = int(counts[index, index])
        precision = _ratio(hits, int(counts[:, index].sum()))
        recall = _ratio(hits, int(counts[index].sum()))
        f1 = _ratio(2 * precision * recall, precision + recall)
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1, "support": int(counts[index].sum())}
    chosen = np.clip(probabilities[np.arange(len(actual)), actual], EPSILON, 1 - EPSILON)
    return {
        "examples": len(actual),
        "classes": list(classes),
        "accuracy": _ratio(int(np.trace(counts)), len(actual)),
        "macro_precision": float(np.mean([value["precision"] for value in per_class.values()])),
        "macro_recall": float(np.mean([value["recall"] for value in per_class.values()])),
        "macro_f1": float(np.mean([value["f1"] for value in per_class.values()])),
        "loss": float(np.mean(-np.log(chosen))) if len(actual) else 0.0,
        "per_class": per_class,
        "confusion_matrix": {"classes": list(classes), "counts": counts.tolist()},
    }


def confusion_counts(evaluation: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """The confusion matrix of an evaluation as counts `[actual][predicted]` and the class names."""
    matrix = evaluation["confusion_matrix"]
    if "counts" in matrix:
        return np.array(matrix["counts"]), list(matrix["classes"])
    counts = [
        [matrix["true_negatives"], matrix["false_positives"]],
        [matrix["false_negatives"], matrix["true_positives"]],
    ]
    return np.array(counts), list(evaluation.get("classes", LABELS))


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0
