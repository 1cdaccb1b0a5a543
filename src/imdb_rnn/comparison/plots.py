"""Comparison plots (matplotlib's Figure API: no pyplot, no backend chosen, nothing global): validation curves of every row over its own epochs, and test accuracy bars.

figure = curves_figure(table, "val_accuracy")   # one line per row; repeats: mean line, ± std band
save_figure(figure, folder / "val_accuracy.png")   # imdb_rnn.files.save_figure
save_figure(accuracy_figure(table), folder / "test_accuracy.png")
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from imdb_rnn.comparison.leaderboard import Row, Table

TITLES = {"val_accuracy": "Validation accuracy", "val_loss": "Validation loss"}
LINE_STYLES = ("-", "--", ":", "-.")


def style(index: int, count: int) -> dict:
    """Distinct colour and line style for line `index` of `count`: 10 colours, then other line styles."""
    palette = matplotlib.colormaps["tab10" if count <= 10 else "tab20"]
    colours = 10 if count <= 10 else 20
    return {"color": palette(index % colours), "linestyle": LINE_STYLES[(index // colours) % len(LINE_STYLES)]}


def curve(row: Row, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(epochs, mean, std or None) of `metric` over the row's runs, each run over its own epochs.

    Runs of different lengths are averaged over the runs that reached each epoch; missing values are NaN.
    """
    length = max(len(run.history.get(metric, [])) for run in row.runs)
    values = np.full((len(row.runs), length), np.nan)
    for index, run in enumerate(row.runs):
        series = [np.nan if value is None else value for value in run.history.get(metric, [])]
        values[index, : len(series)] = series
    epochs = np.arange(1, length + 1)
    counts = np.sum(~np.isnan(values), axis=0)
    with warnings.catch_warnings():  # an epoch no run reached is NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        std = np.where(counts > 1, np.nanstd(values, axis=0, ddof=1), np.nan) if len(row.runs) > 1 else None
    return epochs, mean, std


def curves_figure(table: Table, metric: str) -> Figure:
    """One line per leaderboard row over epochs 1…N (N per row); a band of ± std around repeats' means.

    Each line is named by its row's label alone (the differing keys are in the table); the legend sits right
    of the axes, in table order, in more columns past 15 rows, so 10+ runs stay readable.
    """
    figure = Figure(figsize=(8, 4.8))
    axes = figure.subplots()
    count = len(table.rows)
    for index, row in enumerate(table.rows):
        epochs, mean, std = curve(row, metric)
        if not len(epochs):
            continue
        line_style = style(index, count)
        axes.plot(epochs, mean, marker="o", markersize=3.5, label=row.label, **line_style)
        if std is not None:
            axes.fill_between(epochs, mean - std, mean + std, color=line_style["color"], alpha=0.15, linewidth=0)
    axes.set_title(
        f"{TITLES.get(metric, metric)} per epoch" + (" (repeats: mean ± std)" if _any_repeats(table) else "")
    )
    axes.set_xlabel("Epoch")
    axes.set_ylabel(TITLES.get(metric, metric))
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    if count:
        axes.legend(
            loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", ncol=1 + (count - 1) // 15, frameon=False
        )
    return figure


def accuracy_figure(table: Table) -> Figure:
    """Horizontal bars of test accuracy in table order, error bars of ± std for repeats, value labels."""
    column = next(column for column in table.columns if column.name == "test_accuracy")
    shown = [(index, row) for index, row in enumerate(table.rows) if column.mean(row) is not None]
    rows = [row for _, row in shown]
    means = np.array([column.mean(row) for row in rows], dtype=float)
    stds = np.array([column.std(row) or 0.0 for row in rows], dtype=float)
    figure = Figure(figsize=(9, 1.2 + 0.4 * max(len(rows), 1)))
    axes = figure.subplots()
    positions = np.arange(len(rows))
    colours = [style(index, len(table.rows))["color"] for index, _ in shown]  # as in the curves
    axes.barh(positions, means, color=colours, alpha=0.8)
    repeated = np.array([len(row.runs) > 1 for row in rows], dtype=bool)
    if repeated.any():
        axes.errorbar(
            means[repeated],
            positions[repeated],
            xerr=stds[repeated],
            fmt="none",
            ecolor="black",
            capsize=4,
            linewidth=1,
        )
    axes.set_yticks(positions, [row.label for row in rows])
    axes.invert_yaxis()  # the table's first row on top
    if len(rows):
        low, high = float(np.min(means - stds)), float(np.max(means + stds))
        span = max(high - low, 0.02)
        axes.set_xlim(max(0.0, low - span * 0.5), high + span * 0.6)
        for position, mean, std, row in zip(positions, means, stds, rows):
            spread = f" ± {std:.4f} (n={len(row.runs)})" if len(row.runs) > 1 else ""
            axes.text(mean + std + span * 0.02, position, f"{mean:.4f}{spread}", va="center", fontsize="small")
    axes.set_xlabel("Test accuracy (axis cut to the range of the results)")
    axes.set_title("Test accuracy" + (" (repeats: mean ± std)" if _any_repeats(table) else ""))
    axes.grid(axis="x", alpha=0.3)
    return figure


def _any_repeats(table: Table) -> bool:
    return any(len(row.runs) > 1 for row in table.rows)
