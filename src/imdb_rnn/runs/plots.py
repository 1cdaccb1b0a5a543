"""A run's history plots (matplotlib's Figure API: no pyplot, no backend chosen, nothing global):
`accuracy.png` and `loss.png`, training vs validation per epoch, written atomically (`files.save_figure`)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from imdb_rnn.files import save_figure


def plot_history(history: dict[str, list], title: str, folder: Path) -> list[Path]:
    """Writes `accuracy.png` and `loss.png` to `folder`: dots for training, a line for validation."""
    written = []
    for metric, label in (("accuracy", "Accuracy"), ("loss", "Loss")):
        figure = Figure(figsize=(6.4, 4.2))
        axes = figure.subplots()
        epochs = history["epoch"]
        axes.plot(epochs, history[metric], "bo", label=f"Training {metric}")
        axes.plot(epochs, history[f"val_{metric}"], "b", label=f"Validation {metric}")
        axes.set_title(f"{title}: training and validation {metric}")
        axes.set_xlabel("Epoch")
        axes.set_ylabel(label)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend()
        written.append(save_figure(figure, folder / f"{metric}.png"))
    return written
