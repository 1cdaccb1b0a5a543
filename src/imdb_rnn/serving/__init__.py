"""Serving a run outside this package: a TensorFlow SavedModel that reads raw strings (`export_run`)."""

from imdb_rnn.serving.export import export_run

__all__ = ["export_run"]
