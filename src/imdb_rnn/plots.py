"""Plots of a run folder (Agg backend): `accuracy.png` and `loss.png`, training vs validation per epoch;
`confusion_matrix.png` and `roc_curve.png` of the test-set evaluation."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_history(history: dict[str, list], title: str, folder: Path) -> list[Path]:
    """Writes `accuracy.png` and `loss.png` to `folder`: dots for training, a line for validation."""
    written = []
    for metric, label in (("accuracy", "Accuracy"), ("loss", "Loss")):
        figure, axes = plt.subplots(figsize=(6.4, 4.2))
        epochs = history["epoch"]
        axes.plot(epochs, history[metric], "bo", label=f"Training {metric}")
        axes.plot(epochs, history[f"val_{metric}"], "b", label=f"Validation {metric}")
        axes.set_title(f"{title}: training and validation {metric}")
        axes.set_xlabel("Epoch")
        axes.set_ylabel(label)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend()
        written.append(_save(figure, folder / f"{metric}.png"))
    return written


def plot_confusion_matrix(evaluation: dict, title: str, path: Path) -> Path:
    """Writes the confusion matrix of an evaluation (see `evaluate.classification_metrics`) to `path`:
    actual classes in rows, predicted in columns, each cell with its count and share of its row."""
    matrix = evaluation["confusion_matrix"]
    counts = np.array(
        [[matrix["true_negatives"], matrix["false_positives"]], [matrix["false_negatives"], matrix["true_positives"]]]
    )
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(5.2, 4.6))
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for row in range(2):
        for column in range(2):
            color = "white" if shares[row, column] > 0.5 else "black"
            cell = f"{counts[row, column]}\n{shares[row, column]:.1%}"
            axes.text(column, row, cell, ha="center", va="center", color=color)
    axes.set_xticks([0, 1], ["negative", "positive"])
    axes.set_yticks([0, 1], ["negative", "positive"])
    axes.set_xlabel(f"Predicted (positive when P > {evaluation['threshold']:g})")
    axes.set_ylabel("Actual")
    axes.set_title(f"{title}\nconfusion matrix on {evaluation['examples']} test reviews")
    return _save(figure, path)


def plot_roc_curve(
    false_positive_rate: np.ndarray, true_positive_rate: np.ndarray, auc: float | None, title: str, path: Path
) -> Path:
    """Writes the ROC curve (true vs false positive rate) with its area and the chance diagonal to `path`."""
    figure, axes = plt.subplots(figsize=(5.2, 5.0))
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
    return _save(figure, path)


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
