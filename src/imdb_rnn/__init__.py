"""imdb-rnn: recurrent sentiment classifiers on IMDB, configured in YAML, trained with Keras 3.

    import imdb_rnn
    run = imdb_rnn.train("lstm", overrides=["train.epochs=3"])   # a Run: run.metrics, run.predict([...])
    result = imdb_rnn.compare(["outputs"])                         # a Comparison: result.table, result.folder
    run = imdb_rnn.load_run("outputs/lstm-20261122-023703")

Importing the package changes no global state and imports neither TensorFlow nor matplotlib: each
name below is imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.4.0"

_EXPORTS = {  # name: module that defines it
    "train": "imdb_rnn.api",
    "compare": "imdb_rnn.comparison.report",
    "load_run": "imdb_rnn.runs.run",
    "Run": "imdb_rnn.runs.run",
    "load_config": "imdb_rnn.config",
    "Config": "imdb_rnn.config",
    "Comparison": "imdb_rnn.comparison.report",
    "classification_metrics": "imdb_rnn.evaluation.metrics",
}
__all__ = [
    "Comparison",
    "Config",
    "Run",
    "__version__",
    "classification_metrics",
    "compare",
    "load_config",
    "load_run",
    "train",
]

if TYPE_CHECKING:
    from imdb_rnn.api import train
    from imdb_rnn.comparison.report import Comparison, compare
    from imdb_rnn.config import Config, load_config
    from imdb_rnn.evaluation.metrics import classification_metrics
    from imdb_rnn.runs.run import Run, load_run


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'imdb_rnn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
