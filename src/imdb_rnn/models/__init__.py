"""The models: a registry of architectures (`registry`), the recurrent ones (`recurrent`) and the
linear yardsticks (`linear`). Importing the package registers them all."""

# isort: off
from imdb_rnn.models import recurrent  # first: the recurrent architectures lead the registry (and its errors)
from imdb_rnn.models import linear

# isort: on
from imdb_rnn.models.linear import HashedBigrams, count_statistics
from imdb_rnn.models.recurrent import CELLS, encoder_cell, encoder_layers
from imdb_rnn.models.registry import ARCHITECTURES, build_model, get, parameters, register

__all__ = [
    "ARCHITECTURES",
    "CELLS",
    "HashedBigrams",
    "build_model",
    "count_statistics",
    "encoder_cell",
    "encoder_layers",
    "get",
    "linear",
    "parameters",
    "recurrent",
    "register",
]
