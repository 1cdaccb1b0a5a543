"""Rules that link several config keys, one small named check per rule (run after every key is typed).

Each check takes the resolved `Config` and `origin(section, key)` (the file or `--set` a key came
from) and raises a one-line `ConfigError` when the combination cannot work. `advice` lists the
combinations that work but cost something, for the command line to print as warnings.
"""

from __future__ import annotations

from collections.abc import Callable

from imdb_rnn.config.pretraining import pretrained_shape
from imdb_rnn.config.sections import Config
from imdb_rnn.errors import ConfigError, show

Origin = Callable[[str, str], str]


def validation_split_leaves_examples(config: Config, origin: Origin) -> None:
    """With `data.limit`, both the training part and the validation part keep at least one review."""
    limit, split = config.data.limit, config.data.validation_split
    if limit is None:
        return
    validation = round(limit * split)
    if validation < 1 or limit - validation < 1:
        raise ConfigError(
            f"{origin('data', 'limit')}: `data.limit` and `data.validation_split` leave no "
            f"{'validation' if validation < 1 else 'training'} reviews: expected limit * validation_split "
            f"to round to between 1 and limit - 1, received limit={limit}, validation_split={split}."
        )


def post_padding_needs_mask(config: Config, origin: Origin) -> None:
    """`padding: post` puts the zeros after the words, so the recurrent layer must skip them (`mask_zero`)."""
    if config.data.padding != "post" or config.model.params.get("mask_zero"):
        return
    masked = "mask_zero" in config.model.params
    expected = (
        "model.mask_zero: true (or data.padding: pre)"
        if masked
        else f"data.padding: pre (architecture {config.model.architecture} cannot mask padding)"
    )
    raise ConfigError(
        f"{origin('data', 'padding')}: `data.padding: post` would make the recurrent layer read the padding "
        f"last: expected {expected}, received data.padding={show('post')}"
        + (f", model.mask_zero={show(config.model.params['mask_zero'])}." if masked else ".")
    )


def convolution_fits_sequence(config: Config, origin: Origin) -> None:
    """The convolution kernel and the pooling window of `cnn_lstm` fit in `data.maxlen`."""
    params, maxlen = config.model.params, config.data.maxlen
    for key in ("kernel_size", "pool_size"):
        if key in params and params[key] > maxlen:
            raise ConfigError(
                f"{origin('model', key)}: `model.{key}` is longer than the sequences: expected at most "
                f"data.maxlen={maxlen}, received {key}={params[key]}."
            )


def unfreezing_needs_frozen_embedding(config: Config, origin: Origin) -> None:
    """`model.unfreeze_embedding_after` unfreezes a frozen embedding within `train.epochs`."""
    model, epochs = config.model, config.train.epochs
    after = model.unfreeze_embedding_after
    if after is None:
        return
    where = origin("model", "unfreeze_embedding_after")
    if model.embedding_trainable:
        raise ConfigError(
            f"{where}: `model.unfreeze_embedding_after` unfreezes a frozen embedding: expected "
            f"model.embedding_trainable: false with it, received embedding_trainable=true."
        )
    if after >= epochs:
        raise ConfigError(
            f"{where}: `model.unfreeze_embedding_after` is past the last epoch: expected fewer than "
            f"train.epochs={epochs}, received unfreeze_embedding_after={after}."
        )


def pretrained_vectors_fit(config: Config, origin: Origin) -> None:
    """`model.pretrained` vectors have `model.embedding_dim` dimensions and a row for each of `data.num_words` ids."""
    if config.model.pretrained is None:
        return
    where = origin("model", "pretrained")
    rows, size = pretrained_shape(config.model.pretrained, where)
    dimensions = config.model.params.get("embedding_dim")
    if dimensions != size:
        raise ConfigError(
            f"{where}: the pretrained vectors do not fit the embedding: expected model.embedding_dim={size} "
            f"(the vector size of {config.model.pretrained}), received embedding_dim={dimensions}."
        )
    if config.data.num_words > rows:
        raise ConfigError(
            f"{where}: the pretrained vectors do not cover the vocabulary: expected data.num_words <= {rows} "
            f"(the rows of {config.model.pretrained}), received num_words={config.data.num_words}."
        )


CHECKS = [
    validation_split_leaves_examples,
    post_padding_needs_mask,
    convolution_fits_sequence,
    unfreezing_needs_frozen_embedding,
    pretrained_vectors_fit,
]


def run_checks(config: Config, origin: Origin) -> None:
    """Runs every rule in `CHECKS`; the first that fails raises."""
    for rule in CHECKS:
        rule(config, origin)


def advice(config: Config) -> list[str]:
    """Warnings for valid but costly combinations (the command line prints them before training)."""
    notes = []
    if config.model.params.get("recurrent_dropout"):
        notes.append(
            "model.recurrent_dropout > 0 rules out the fused cuDNN LSTM/GRU kernel: on a GPU this "
            "layer trains several times slower (on a CPU it costs little)."
        )
    if config.model.params.get("mask_zero") and config.data.padding == "pre":
        notes.append(
            "model.mask_zero with data.padding: pre rules out the cuDNN LSTM/GRU kernel on a GPU (cuDNN "
            "needs the padding at the end): use data.padding: post with the mask."
        )
    if config.train.mixed_precision:
        notes.append("train.mixed_precision speeds up GPUs with tensor cores; on a CPU it is slower.")
    return notes
