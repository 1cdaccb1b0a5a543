"""A run's history: one list per metric, one entry per epoch, numbers or None.

Training appends each epoch to `history.csv` (Keras's CSVLogger, so a killed run keeps what it
finished) and writes `history.json` when the run completes; both read into the same shape:

    {"epoch": [1, 2, 3], "loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...], "seconds": [...]}
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from imdb_rnn.errors import RunError, show

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def number(value: Any) -> float | None:
    """`value` as a float if it is a finite number (JSON's true/false are not), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _ordered(keys: list[str]) -> list[str]:
    return [key for key in HISTORY_KEYS if key in keys] + sorted(set(keys) - set(HISTORY_KEYS) - {"epoch"})


def from_csv(path: Path) -> dict[str, list[float | None]]:
    """`history.csv` (CSVLogger's, epochs counted from 1) → the history."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    history: dict[str, list[float | None]] = {"epoch": [int(row["epoch"]) for row in rows]}
    for key in _ordered(list(rows[0]) if rows else list(HISTORY_KEYS)):
        history[key] = [number(float(row[key])) if row.get(key) not in (None, "") else None for row in rows]
    return history


def from_json(path: Path) -> dict[str, list[float | None]]:
    """`history.json` → the history; a `RunError` when it is not a mapping of lists."""
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path.parent}: no {path.name} (unfinished, failed or not a run folder).") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise RunError(f"{path.parent}: {path.name} is corrupt: {str(error).splitlines()[0]}.") from None
    if not isinstance(content, dict):
        raise RunError(f"{path.parent}: {path.name} is corrupt: expected a mapping, received {type(content).__name__}.")
    history = {}
    for key, values in content.items():
        if not isinstance(values, list):
            raise RunError(
                f"{path.parent}: {path.name} is corrupt: expected a list per key, "
                f"received {type(values).__name__} for {show(key)}."
            )
        history[key] = [number(value) for value in values]
    length = max((len(values) for key, values in history.items() if key != "epoch"), default=0)
    if len(history.get("epoch", [])) < length:
        history["epoch"] = list(range(1, length + 1))
    return history


def read_history(folder: Path) -> dict[str, list[float | None]]:
    """A run folder's history: `history.json` when the run finished, else `history.csv` so far."""
    folder = Path(folder)
    if (folder / "history.json").is_file() or not (folder / "history.csv").is_file():
        return from_json(folder / "history.json")
    return from_csv(folder / "history.csv")


def best_epoch(history: dict[str, list[float | None]]) -> tuple[int, float] | None:
    """`(epoch, val_accuracy)` of the first epoch with the best validation accuracy, or None."""
    scored = [(value, index) for index, value in enumerate(history.get("val_accuracy", [])) if value is not None]
    if not scored:
        return None
    best, index = max(scored, key=lambda pair: (pair[0], -pair[1]))
    return int(history["epoch"][index]), best
