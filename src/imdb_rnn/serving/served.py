"""What `imdb-rnn serve` serves: a run folder or an export folder, loaded once, under a name.

    model = load_served("outputs/lstm-20261122-023703")            # a run folder (an ensemble's too)
    model = load_served("outputs/lstm-20261122-023703/export", "imdb")   # a SavedModel from imdb-rnn export
    model.name, model.classes     # "imdb", ("negative", "positive")
    model.predict(["A wonderful surprise."])     # (1, classes) float32, each class's probability

A run folder is read as `load_run` reads it (`model.keras` through `keras.models.load_model` in Keras's
safe mode, which refuses to run code stored in the file, such as a `Lambda` layer's) and predicted with
`RunPredictor`, equal to `Run.predict`. An export folder is loaded with `tf.saved_model.load` (a graph:
no Python code of the file runs) and predicted through its `serve` signature; its class names come from
`assets.extra/imdb_rnn.json` beside it. A model is named after its folder (an export folder called
`export`, as `imdb-rnn export` names it, after its run), unless a name is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imdb_rnn.errors import RunError, UserError, show
from imdb_rnn.runs.run import Run

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
VERSION = "1"  # every model is served as version 1 (TensorFlow Serving numbers a model's versions)


@dataclass
class ServedModel:
    """A model ready to answer: `predict` maps raw texts to `(n, len(classes))` float32 probabilities;
    `run` is the run folder read (None for an export folder: no explanations); `details` go into the
    metadata (no file paths)."""

    name: str
    classes: tuple[str, ...]
    predict: Callable[[list[str]], np.ndarray]
    run: Run | None = None
    details: dict[str, Any] = field(default_factory=dict)
    version: str = VERSION


def load_served(folder: str | Path, name: str | None = None, chunk: int = 64) -> ServedModel:
    """A run or export folder, loaded and ready to predict (at most `chunk` texts a model call); a
    `UserError` (one line, naming the folder) when it is neither or cannot be loaded, or `name` is invalid."""
    folder = Path(folder)
    if (folder / "saved_model.pb").is_file():
        return _export(folder, name)
    from imdb_rnn.runs.run import load_run
    from imdb_rnn.serving.predictor import RunPredictor

    run = load_run(folder)
    predictor = RunPredictor(run, chunk)
    details = {
        "kind": "run",
        "config": run.config_name,
        "maxlen": run.config.data.maxlen,
        "batching": predictor.batching,
    }
    return ServedModel(check_name(name or folder.name, folder), run.classes, predictor, run, details)


def check_name(name: str, folder: Path) -> str:
    """`name` when it can be a URL's model name (letters, digits, `.`, `_`, `-`; 128 at most), else a `UserError`."""
    if not NAME.fullmatch(name):
        raise UserError(
            f"{folder}: invalid model name: expected letters, digits, '.', '_' and '-' (at most 128, "
            f"starting with a letter or digit; give one with --name), received {show(name)}."
        )
    return name


def _export(folder: Path, name: str | None) -> ServedModel:
    import tensorflow as tf

    from imdb_rnn.serving.export import DESCRIPTION_FILE, EXPORT_FOLDER

    description_path = folder / DESCRIPTION_FILE
    try:
        description = json.loads(description_path.read_text(encoding="utf-8"))
        classes = tuple(str(item) for item in description["classes"])
    except (OSError, ValueError, KeyError, TypeError):
        raise RunError(
            f"{folder}: not an export of imdb-rnn export: expected {DESCRIPTION_FILE} (the class names) beside "
            "saved_model.pb, received none or an unreadable one (export the run again)."
        ) from None
    try:
        saved = tf.saved_model.load(str(folder))
        saved.signatures["serve"]  # noqa: B018 - a SavedModel without it is refused here
    except Exception as error:  # noqa: BLE001 - a damaged or foreign SavedModel
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RunError(
            f"{folder}: cannot load the SavedModel: expected one with a serve signature ({reason})."
        ) from None

    def predict(texts: list[str]) -> np.ndarray:  # through `saved`, which keeps the variables alive
        return saved.signatures["serve"](texts=tf.constant(texts, tf.string))["probabilities"].numpy()

    default = folder.resolve().parent.name if folder.resolve().name == EXPORT_FOLDER else folder.resolve().name
    details = {"kind": "export", "maxlen": description.get("maxlen"), "batching": "exported graph"}
    return ServedModel(check_name(name or default, folder), classes, predict, None, details)
