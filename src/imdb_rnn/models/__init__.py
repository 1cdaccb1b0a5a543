"""The models: a registry of architectures (`registry`), the tokens' embedding every builder reads through
(`inputs`), the recurrent ones (`recurrent`), a convolutional one (`convolutional`), the linear yardsticks
(`linear`), the layers of an ensemble (`ensemble`), and the fused CPU kernels the recipe switches LSTM (and,
under PyTorch, GRU) layers to (`tf_kernels`, `torch_kernels`, and what they share: `kernels`). Importing the
package registers them all, the Keras layers a saved model names included."""

# isort: off
from imdb_rnn.models import recurrent  # first: the recurrent architectures lead the registry (and its errors)
from imdb_rnn.models import convolutional
from imdb_rnn.models import linear
from imdb_rnn.models import ensemble

# isort: on
from imdb_rnn.models.linear import HashedBigrams, count_statistics
from imdb_rnn.models.recurrent import CELLS, encoder_cell, encoder_layers
from imdb_rnn.models.registry import ARCHITECTURES, build_model, get, parameters, register

__all__ = [
    "ARCHITECTURES",
    "CELLS",
    "HashedBigrams",
    "build_model",
    "convolutional",
    "count_statistics",
    "encoder_cell",
    "encoder_layers",
    "ensemble",
    "get",
    "linear",
    "parameters",
    "recurrent",
    "register",
]
