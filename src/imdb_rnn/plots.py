"""Training curves: `accuracy.png` and `loss.png`, training vs validation per epoch (Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

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
        figure.tight_layout()
        path = folder / f"{metric}.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written
