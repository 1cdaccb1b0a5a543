"""imdb-rnn: recurrent sentiment classifiers on IMDB, configured in YAML, trained with Keras 3."""

import os


def _import_tensorflow_quietly() -> None:
    """Imports TensorFlow with file descriptor 2 silenced: its C++ start-up notes ("Could not find
    cuda drivers…") bypass Python and every log-level setting, and would bury our one-line errors.
    Later C++ messages below FATAL are hidden too unless TF_CPP_MIN_LOG_LEVEL is set, and so are
    TensorFlow's Python warnings (such as retracing notes when a sweep builds model after model)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.get_logger().setLevel("ERROR")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_tensorflow_quietly()

from imdb_rnn.config import Config, load_config  # noqa: E402
from imdb_rnn.evaluate import classification_metrics  # noqa: E402
from imdb_rnn.predict import Run, load_run  # noqa: E402

__all__ = ["Config", "Run", "classification_metrics", "load_config", "load_run"]
__version__ = "0.1.0"
