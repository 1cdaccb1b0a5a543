"""A run folder, read: the one `Run` that prediction, evaluation and comparison share.

    from imdb_rnn import load_run
    run = load_run("outputs/lstm-20261122-023703")
    run.predict(["A wonderful surprise.", "Two hours I will never get back."])  # P(positive), shape (2,)
    run.classes                       # ("negative", "positive"); a run with more classes predicts (n, classes)
    run.metrics["test_accuracy"], run.history["val_accuracy"], run.config.train.epochs

Each property reads its file the first time it is asked, so comparing a hundred runs never loads a
model, and a broken file is a one-line `RunError` naming it. Text is tokenized and encoded exactly
as the run's training data was: the run's `vocabulary.json` (see `imdb_rnn.data.vocabulary`), then
`data.num_words`, `data.maxlen`, `data.padding` and `data.truncating` from its `config.yaml`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from imdb_rnn.errors import RunError, show
from imdb_rnn.files import stamp_of
from imdb_rnn.runs import status
from imdb_rnn.runs.history import best_epoch, number, read_history

if TYPE_CHECKING:  # imported when first used: reading runs to compare them needs no TensorFlow
    import keras

    from imdb_rnn.config import Config
    from imdb_rnn.data.vocabulary import Vocabulary

MODEL_FILES = ("config.yaml", "model.keras")  # what prediction needs


class Run:
    """One run folder. `folder` is its path; everything else is read from it on first use."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"Run({str(self.folder)!r})"

    def __fspath__(self) -> str:
        return str(self.folder)

    # Names and times ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def config_name(self) -> str:
        """`lstm` for `lstm-20260102-030405`: metrics.json's `config`, else the folder name less its timestamp."""
        name = self.metrics.get("config") if (self.folder / "metrics.json").is_file() else None
        if isinstance(name, str) and name:
            return name
        stamp = stamp_of(self.folder)
        return stamp[0] if stamp else self.name

    @cached_property
    def started(self) -> tuple[float, int]:
        """(seconds since the epoch, same-second suffix): the folder name's timestamp, else config.yaml's time."""
        stamp = stamp_of(self.folder)
        if stamp is not None:
            return stamp[1].timestamp(), stamp[2]
        return (self.folder / "config.yaml").stat().st_mtime, 0

    # Files -------------------------------------------------------------------------------------

    @cached_property
    def raw_config(self) -> dict[str, Any]:
        """`config.yaml` as written: `{"data": {...}, "model": {...}, "train": {...}}`."""
        return self._mapping("config.yaml", yaml.safe_load)

    @cached_property
    def flat_config(self) -> dict[str, Any]:
        """`config.yaml` with dotted keys: `{"model.units": 32, "train.seed": 42, …}`."""
        return flatten(self.raw_config)

    @cached_property
    def backend(self) -> str:
        """The Keras backend that trained the run: `metrics.json`'s, else `status.json`'s, else
        `tensorflow` (runs from before the backend was recorded)."""
        for name in ("metrics.json", "status.json"):
            if (self.folder / name).is_file():
                value = self._mapping(name, json.loads).get("backend")
                if isinstance(value, str):
                    return value
        return "tensorflow"

    @cached_property
    def settings(self) -> dict[str, Any]:
        """What tells runs apart in a comparison: `flat_config` and `backend`."""
        return {**self.flat_config, "backend": self.backend}

    @cached_property
    def config(self) -> Config:
        """`config.yaml` loaded and checked as a `Config` (a `ConfigError` if it no longer checks)."""
        from imdb_rnn.config import load_config
        from imdb_rnn.config.ensemble import is_ensemble, load_ensemble_config

        stamp = stamp_of(self.folder)
        name = (status.read(self.folder) or {}).get("config") or (stamp[0] if stamp else self.name)
        try:
            ensemble = is_ensemble(self.raw_config)  # made by imdb-rnn ensemble: its own kind of config
        except RunError:
            ensemble = False  # missing or corrupt: load_config says so
        load = load_ensemble_config if ensemble else load_config
        return load(self.folder / "config.yaml", name=str(name))

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """`metrics.json` as written; `epochs_run`, `best_epoch` and `best_val_accuracy` filled from the
        history when missing (in this copy only)."""
        metrics = self._mapping("metrics.json", json.loads)
        history = self.history if (self.folder / "history.json").is_file() else {}
        derived: dict[str, float] = {"epochs_run": len(history["epoch"])} if history.get("epoch") else {}
        best = best_epoch(history)
        if best is not None:
            derived.update(best_epoch=best[0], best_val_accuracy=best[1])
        for key, value in derived.items():
            if number(metrics.get(key)) is None:
                metrics[key] = value
        return metrics

    @cached_property
    def history(self) -> dict[str, list[float | None]]:
        """The history so far (see `imdb_rnn.runs.history`)."""
        return read_history(self.folder)

    @property
    def state(self) -> str:
        """`completed`, `running`, `failed`, `interrupted`, `crashed` or `unknown` (see `imdb_rnn.runs.status`)."""
        return status.state_of(self.folder)

    def number(self, key: str) -> float | None:
        """`metrics.json`'s `key` as a float; None when it is missing or not a finite number."""
        return number(self.metrics.get(key))

    def check_finished(self) -> Run:
        """Returns the run once its status, config, metrics and history read as a finished run's;
        otherwise a `RunError` saying what is wrong (unfinished, failed, missing or corrupt file)."""
        if (self.folder / "status.json").exists():
            content = self._mapping("status.json", json.loads)
            if content.get("state") != "completed":
                error = content.get("error")
                reason = f": {str(error).strip().splitlines()[0]}" if error else ""
                raise RunError(
                    f"{self.folder}: unfinished or failed run (status.json says state {show(content.get('state'))}{reason})."
                )
        self.flat_config, self.metrics, self.history  # noqa: B018 - read now, so errors surface here
        return self

    def _mapping(self, name: str, parse: Callable[[str], Any]) -> dict[str, Any]:
        path = self.folder / name
        try:
            content = parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunError(f"{self.folder}: no {name} (unfinished, failed or not a run folder).") from None
        except (OSError, UnicodeDecodeError) as error:
            raise RunError(f"{self.folder}: cannot read {name}: {getattr(error, 'strerror', None) or error}.") from None
        except (ValueError, yaml.YAMLError) as error:
            problem = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise RunError(f"{self.folder}: {name} is corrupt: {problem}.") from None
        if not isinstance(content, dict):
            raise RunError(f"{self.folder}: {name} is corrupt: expected a mapping, received {type(content).__name__}.")
        return content

    # The model ---------------------------------------------------------------------------------

    @cached_property
    def model(self) -> keras.Model:
        """The best epoch's model (`model.keras`) for inference — loaded without its optimizer state (which
        does not fit a model whose layers were frozen at that epoch); a `RunError` when it is missing or
        cannot be loaded."""
        import keras

        import imdb_rnn.models  # noqa: F401 - registers the custom layers (HashedBigrams) that load_model needs
        import imdb_rnn.models.ensemble  # noqa: F401 - and an ensemble's (MemberInput, WeightedAverage)
        from imdb_rnn.models.torch_kernels import use_fused_kernels

        path = self.folder / "model.keras"
        if not path.is_file():
            raise RunError(
                f"{self.folder}: no model: expected model.keras (written after the first epoch), received none."
            )
        try:
            model = keras.models.load_model(path, compile=False)
        except Exception as error:  # noqa: BLE001 - zip, JSON and deserialization errors: not a loadable model
            reason = str(error).splitlines()[0].rstrip(".") if str(error) else type(error).__name__
            raise RunError(
                f"{path}: cannot load the model: expected a Keras model file, received a file "
                f"Keras cannot load ({reason})."
            ) from None
        use_fused_kernels(model)  # under PyTorch: its fused CPU LSTM/GRU instead of Keras's loop over time steps
        return model

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """The run's `vocabulary.json`; a `RunError` when the folder has none."""
        from imdb_rnn.data.vocabulary import load_vocabulary

        return load_vocabulary(self.folder, self.config.data)

    @property
    def classes(self) -> tuple[str, ...]:
        """The class of each output index (`vocabulary.json`): `("negative", "positive")` for IMDB."""
        return self.vocabulary.classes

    def encode(self, texts: str | Sequence[str], allow_empty: bool = False) -> np.ndarray:
        """Raw reviews → the model's input `(n, data.maxlen)` int32, as training encoded its reviews.

        A review with no words (empty, blank or only punctuation) raises `InputError`, unless
        `allow_empty` (then it is read as the start token alone, as an exported model reads it).
        """
        from imdb_rnn.evaluation.reviews import check_words

        texts = [texts] if isinstance(texts, str) else list(texts)
        for index, review in enumerate(texts, 1):
            if not allow_empty or not isinstance(review, str):
                check_words(f"text {index}", review)
        return self.vocabulary.encode(texts, self.config.data)

    def predict(self, texts: str | Sequence[str], allow_empty: bool = False) -> np.ndarray:
        """Class probabilities, float32, for `n` raw reviews (one string counts as one): P(positive) `(n,)` for
        a two-class run (P of its second class), `(n, len(run.classes))` for more. See `encode` for
        `allow_empty`."""
        x = self.encode(texts, allow_empty)
        probabilities: np.ndarray | None = None
        if not self.config.data.bucketing:  # trained on maxlen-wide batches: predict them so
            groups = [(np.arange(len(x)), x)]
        else:  # a review's probability must not depend on the others: each is read without padding
            lengths = np.count_nonzero(x, axis=1)
            groups = [
                (rows, _unpadded(x[rows], length, self.config.data.padding))
                for length in np.unique(lengths)
                for rows in [np.flatnonzero(lengths == length)]
            ]
        for rows, tokens in groups:
            predicted = np.asarray(
                self.model.predict(tokens, batch_size=self.config.train.batch_size, verbose=0), dtype=np.float32
            )
            if probabilities is None:
                probabilities = np.zeros((len(x), predicted.shape[-1]), dtype=np.float32)
            probabilities[rows] = predicted
        if probabilities is None:  # no texts
            probabilities = np.zeros((0, 1 if len(self.classes) == 2 else len(self.classes)), dtype=np.float32)
        return probabilities.reshape(-1) if probabilities.shape[-1] == 1 else probabilities

    def check_threshold(self, threshold: float) -> None:
        """An `InputError` when a threshold other than 0.5 is asked of a run with more than two classes
        (each text then gets its most probable class)."""
        from imdb_rnn.errors import InputError

        if threshold != 0.5 and len(self.classes) > 2:
            raise InputError(
                f"{self.folder}: a threshold decides between two classes: expected no --threshold for a run with "
                f"{len(self.classes)} classes (each text gets its most probable one), received {threshold:g}."
            )

    def evaluate(self, threshold: float = 0.5, save: bool = False) -> dict[str, Any]:
        """Test-set metrics (see `imdb_rnn.evaluation.metrics.classification_metrics`); `save=True`
        also records them in the run folder, as `imdb-rnn evaluate` does."""
        from imdb_rnn.evaluation.evaluate import evaluate_model

        self.check_threshold(threshold)
        return evaluate_model(self.model, self.config, self.folder if save else None, threshold)


def _unpadded(x: np.ndarray, length: int, padding: str) -> np.ndarray:
    """Rows of `x` that all hold `length` tokens, without their padding: `(rows, length)`."""
    return x[:, x.shape[1] - length :] if padding == "pre" else x[:, :length]


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"model": {"units": 32}}` → `{"model.units": 32}`; lists and other values stay as they are."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def load_run(folder: str | Path) -> Run:
    """Opens a run folder for prediction and evaluation: its config and model are loaded now, and a
    one-line `RunError` says when it is not a run folder or they cannot be read."""
    run = Run(folder)
    expected = f"expected a folder with {' and '.join(MODEL_FILES)}"
    if not run.folder.is_dir():
        received = "a file" if run.folder.exists() else "a path that does not exist"
        raise RunError(f"{run.folder}: not a run folder: {expected}, received {received}.")
    if (run.folder / "vectors.npz").is_file():  # what `imdb-rnn pretrain` writes, beside its config.yaml
        raise RunError(
            f"{run.folder}: not a classifier run: {expected} made by imdb-rnn train, received a pretraining "
            "run folder (made by imdb-rnn pretrain; a classifier starts from it with model.pretrained)."
        )
    missing = [name for name in MODEL_FILES if not (run.folder / name).is_file()]
    if missing:
        raise RunError(
            f"{run.folder}: not a run folder: {expected}, received a folder without {' and '.join(missing)}."
        )
    run.config, run.model  # noqa: B018 - load now, so a broken folder fails here
    return run
