"""Run folders: finding them (`folders`), their state (`status`), their history (`history`), and
the one `Run` that reads a folder for prediction, evaluation and comparison (`run`)."""

from imdb_rnn.runs.run import Run, load_run

__all__ = ["Run", "load_run"]
