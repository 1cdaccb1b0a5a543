"""Plots of a test-set evaluation (matplotlib's Figure API: no pyplot, no backend chosen, nothing global):
`confusion_matrix.png` and `roc_curve.png`, written atomically (`files.save_figure`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from imdb_rnn.evaluation.metrics import confusion_counts
from imdb_rnn.files import save_figure


def plot_confusion_matrix(evaluation: dict, title: str, path: Path) -> Path:
    """Writes the confusion matrix of an evaluation (see `evaluate.classification_metrics`) to `path`:
    actual classes in rows, predicted in columns, each cell with its count and share of its row."""
    counts, classes = confusion_counts(evaluation)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(5.2, 0.8 * len(classes) + 2)
    figure = Figure(figsize=(size, size - 0.6))
    axes = figure.subplots()
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for row in range(len(classes)):
        for column in range(len(classes)):
            color = "white" if shares[row, column] > 0.5 else "black"
            cell = f"{counts[row, column]}\n{shares[row, column]:.1%}"
            axes.text(column, row, cell, ha="center", va="center", color=color, fontsize=10 if len(classes) < 6 else 7)
    axes.set_xticks(range(len(classes)), classes)
    axes.set_yticks(range(len(classes)), classes)
    rule = f"positive when P > {evaluation['threshold']:g}" if "threshold" in evaluation else "the most probable class"
    axes.set_xlabel(f"Predicted ({rule})")
    axes.set_ylabel("Actual")
    axes.set_title(f"{title}\nconfusion matrix on {evaluation['examples']} test reviews")
    return save_figure(figure, path)


def plot_roc_curve(
    false_positive_rate: np.ndarray, true_positive_rate: np.ndarray, auc: float | None, title: str, path: Path
) -> Path:
    """Writes the ROC curve (true vs false positive rate) with its area and the chance diagonal to `path`."""
    figure = Figure(figsize=(5.2, 5.0))
    axes = figure.subplots()
    area = "n/a" if auc is None else f"{auc:.4f}"
    axes.plot(false_positive_rate, true_positive_rate, "b", label=f"ROC curve (AUC {area})")
    axes.plot([0, 1], [0, 1], color="gray", linestyle="--", label="Chance")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    axes.set_xlabel("False positive rate")
    axes.set_ylabel("True positive rate")
    axes.set_title(f"{title}: ROC curve on the test set")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return save_figure(figure, path)
