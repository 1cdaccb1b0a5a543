"""Training from Python (a notebook): `train` returns the finished `Run`, not a path.

    import imdb_rnn
    run = imdb_rnn.train("gru", overrides=["train.epochs=2", "data.limit=2000"])
    run.metrics["test_accuracy"], run.history["val_accuracy"], run.predict(["Loved it."])
    imdb_rnn.compare(["outputs"]).table.text()      # imdb_rnn.comparison.report.compare

Errors are raised, not printed: `imdb_rnn.errors.UserError` (a `ValueError`) for bad input,
`RunFailed` for a run that failed, `RunInterrupted` for Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from imdb_rnn.config import Config, load_config
from imdb_rnn.runs.run import Run


def train(
    config: str | Path | Config = "lstm",
    overrides: Sequence[str] = (),
    output_dir: str | Path = "outputs",
    verbose: int | None = None,
) -> Run:
    """Trains one config (a shipped config's name, a YAML path, or a `Config`) in a new run folder
    under `output_dir` and returns the finished `Run`. `overrides` (`"train.epochs=3"`) apply to a
    name or a path; `verbose` is Keras's (default: a progress bar in a terminal, else a line per epoch)."""
    from imdb_rnn.training.recipe import train as train_config

    if isinstance(config, Config):
        if overrides:
            raise ValueError(
                "overrides: expected none with a Config (derive one with config.replace(...)), "
                f"received {list(overrides)}."
            )
    else:
        config = load_config(config, overrides)
    return Run(train_config(config, output_dir, verbose=verbose))
