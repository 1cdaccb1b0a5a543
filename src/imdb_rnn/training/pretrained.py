"""A classifier that starts from a pretraining (`model.pretrained`): which of its layers are pretrained,
copying the weights in, freezing them, and unfreezing them during training.

Pretrained layer groups, bottom-up: `[embedding]`, then for a language model one group per recurrent
layer it gives (`imdb_rnn.models.encoder_layers`). ULMFiT's gradual unfreezing thaws them top-down.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np

from imdb_rnn.config import Config
from imdb_rnn.config.pretraining import pretrained_spec
from imdb_rnn.data import text
from imdb_rnn.data.aclimdb import read_word_index
from imdb_rnn.data.sources import WORD_INDEX_FILE, imdb_word_index
from imdb_rnn.errors import RunError
from imdb_rnn.files import read_json
from imdb_rnn.models import encoder_layers
from imdb_rnn.pretraining.regions import REGIONS_FILE, load_regions
from imdb_rnn.pretraining.word_vectors import load_vectors

LANGUAGE_MODEL_FILE = "model.keras"  # the language model of a `language_model` pretraining run


def layer_groups(model: keras.Model, config: Config) -> list[list[keras.layers.Layer]]:
    """The pretrained layers of `model` in groups, bottom-up (empty without `model.pretrained`)."""
    if config.model.pretrained is None:
        return []
    if config.model.params.get("regions") == "bag":  # its embedding is a region's weights, never pretrained
        return []
    spec = pretrained_spec(config.model.pretrained, "model.pretrained")
    return [[model.get_layer("embedding")], *([layer] for layer in encoder_layers(model)[: spec.num_layers])]


def freeze(model: keras.Model, config: Config) -> None:
    """Freezes the pretrained layers when `model.pretrained_trainable` is false (no-op otherwise)."""
    if not config.model.pretrained_trainable:
        for group in layer_groups(model, config):
            for layer in group:
                layer.trainable = False


def prepare_unfreezing(model: keras.Model, config: Config) -> None:
    """Builds the optimizer with slots for every weight, the frozen ones included, so that they can
    start training mid-run (Keras optimizers refuse variables they were not built with)."""
    groups = layer_groups(model, config)
    frozen = [layer for group in groups for layer in group if not layer.trainable]
    for layer in frozen:
        layer.trainable = True
    model.optimizer.build(model.trainable_variables)
    for layer in frozen:
        layer.trainable = False


def initialise(model: keras.Model, folder: Path, num_words: int, words: Mapping[str, int] | None = None) -> str:
    """Copies the pretraining in `folder` into `model` and returns a line saying what it copied: the
    vectors into the embedding's first `num_words` rows (a bag of n-grams keeps its bigram rows), a
    language model's recurrent layers into the classifier's first ones, a region embedding into the frozen
    "region_words" and "region_embedding" layers (`imdb_rnn.models.inputs.region_features`).

    The pretraining's rows follow Keras's IMDB word index (row = rank + 3). Your own data's vocabulary
    `words` (word → rank, built from its training texts) is another order: each of its words then takes
    the row of the same word in Keras's index (`keras_word_index`), and a word the index lacks keeps its
    random start."""
    embedding = model.get_layer("embedding")
    vectors = load_vectors(folder)
    # The cnn's bag regions (`model.regions: bag`) embed each word as a region's weights, `filters` wide:
    # the vectors then start the region embedding's own words only.
    words_only = _has_layer(model, "region_words") and embedding.output_dim != vectors.shape[1]
    target = model.get_layer("region_words") if words_only else embedding
    (weights,) = target.get_weights()
    if words is None:
        weights[:num_words] = vectors[:num_words]
        said = f"model.pretrained: word vectors of {folder} for ids 0 to {num_words - 1}"
    else:
        ours, theirs = matching_rows(words, keras_word_index(folder), min(num_words, len(weights)), len(vectors))
        weights[ours] = vectors[theirs]
        known = int((ours >= text.INDEX_FROM).sum())
        said = f"model.pretrained: word vectors of {folder} for {known:,} of your {num_words - text.INDEX_FROM:,} words"
    if words_only:
        said += " (the region embedding's words; the classifier's own embedding starts at random)"
    else:
        embedding.set_weights([weights])
    if (Path(folder) / REGIONS_FILE).is_file():
        said += " and " + _copy_regions(model, folder, weights)
    elif (Path(folder) / LANGUAGE_MODEL_FILE).is_file():
        language_model = load_language_model(folder)
        for source, layer in zip(encoder_layers(language_model), encoder_layers(model)):
            layer.set_weights(source.get_weights())
        said += " and its language model's recurrent layers"
    return said


def _has_layer(model: keras.Model, name: str) -> bool:
    return any(layer.name == name for layer in model.layers)


def _copy_regions(model: keras.Model, folder: Path, words: np.ndarray) -> str:
    """Copies a region pretraining into the classifier's frozen "region_words" and "region_embedding" layers
    (a classifier with `model.region_units`): `words`, the rows just taken from the same `vectors.npz`, and
    the convolution."""
    model.get_layer("region_words").set_weights([words])
    regions = load_regions(folder)
    model.get_layer("region_embedding").set_weights([regions["kernel"], regions["bias"]])
    return f"its region embedding ({regions['kernel'].shape[-1]} maps over {regions['kernel'].shape[0]} words, frozen)"


def matching_rows(
    words: Mapping[str, int], keras_index: Mapping[str, int], num_words: int, rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """`(ours, theirs)`, int arrays of equal length: embedding row `ours[i]` of a vocabulary `words` (word →
    rank, row rank + 3 below `num_words`) takes pretrained row `theirs[i]` (Keras's rank + 3 below `rows`).
    The special ids 0 (padding), 1 (start) and 2 (OOV) keep their own rows."""
    pairs = [(special, special) for special in range(min(text.INDEX_FROM, num_words, rows))]
    for word, rank in words.items():
        ours, theirs = rank + text.INDEX_FROM, keras_index.get(word, rows) + text.INDEX_FROM
        if ours < num_words and theirs < rows:
            pairs.append((ours, theirs))
    ours, theirs = zip(*pairs) if pairs else ((), ())
    return np.asarray(ours, dtype=np.int64), np.asarray(theirs, dtype=np.int64)


def keras_word_index(folder: Path) -> dict[str, int]:
    """Keras's IMDB word index that the pretraining in `folder` aligned its rows with: the file its
    `metrics.json` names when it is still there, else `imdb_rnn.data.sources.imdb_word_index()`; a
    one-line `RunError` when neither is found."""
    metrics = Path(folder) / "metrics.json"
    named = (read_json(metrics).get("corpus") or {}).get("word_index") if metrics.is_file() else None
    path = Path(named) if named and Path(named).is_file() else imdb_word_index()
    if path is None:
        raise RunError(
            f"{folder}: model.pretrained with your own data finds each of your words in Keras's IMDB word index: "
            f"expected {WORD_INDEX_FILE} beside the data (IMDB_DATA_DIR), received none."
        )
    return read_word_index(path)


def load_language_model(folder: Path) -> keras.Model:
    path = Path(folder) / LANGUAGE_MODEL_FILE
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise RunError(
            f"{path}: cannot read the language model: expected the {LANGUAGE_MODEL_FILE} of `imdb-rnn pretrain`, "
            f"received {str(error).splitlines()[0]}."
        ) from None


class UnfreezePretrained(keras.callbacks.Callback):
    """Unfreezes the frozen pretrained layers from epoch `after` on (epochs counted from 0, so `after=2`
    trains them from the third epoch): all at once, or with `gradual` one group a epoch, the top one
    first. Each change traces the train step again so that it updates the new weights.

    The optimizer must hold slots for them already (`prepare_unfreezing`); a run resumed later in
    training thaws at its first epoch what its epoch calls for."""

    def __init__(self, groups: list[list[str]], after: int, gradual: bool = False) -> None:
        super().__init__()
        self.groups, self.after, self.gradual = groups, after, gradual

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch < self.after:
            return
        thawed = len(self.groups) if not self.gradual else epoch - self.after + 1
        names = [name for group in self.groups[::-1][:thawed] for name in group]
        layers = [layer for layer in _all_layers(self.model) if layer.name in names and not layer.trainable]
        for layer in layers:
            layer.trainable = True
        if layers:
            self.model.make_train_function(force=True)


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers and the halves of its bidirectional ones."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
    return found
