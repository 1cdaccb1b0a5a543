"""Loading a config: typed defaults in code, a YAML file that states only what differs, `--set` overrides.

    config = load_config("lstm", overrides=["train.epochs=1", "data.limit=500"])

A YAML config has up to three sections, `data`, `model` and `train`. Every key is checked when the
config loads (type, range, spelling, a key given twice, and the rules in `imdb_rnn.config.checks`
that link several keys); a bad value raises a one-line `ConfigError` naming the file and key, what
was expected and what was received. The loading itself is every config's (`imdb_rnn.config.reading.load`);
this module is the classifier's kind of config (`CLASSIFIER`).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imdb_rnn.config.checks import run_checks
from imdb_rnn.config.reading import Kind, Origin, Setting, check_section, find_in_configs, load
from imdb_rnn.config.sections import PRETRAINING_KEYS, Config, DataConfig, ModelConfig, TrainConfig
from imdb_rnn.schema import check, unknown_key

SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def find_config(name: str | Path) -> Path:
    """`name` as a path if it is a file, else `configs/<name>` (`.yaml` optional) in the working
    folder, else the shipped config of that name."""
    return find_in_configs(name)


def load_config(
    path: str | Path | None = None, overrides: Sequence[str | Setting] = (), name: str | None = None
) -> Config:
    """Reads, merges and checks a config; `path=None` gives the defaults plus `overrides` (`--set` texts
    or `config.reading.Setting`s).

    `name` (default: the file's stem, or `default`) names the runs of this config."""
    return load(CLASSIFIER, path, overrides, name)


def _build(name: str, raw: dict[str, dict[str, Any]], origin: Origin, source: str) -> Config:
    config = Config(
        name=name,
        data=check_section(DataConfig, "data", raw.get("data", {}), origin),
        model=_check_model(raw.get("model", {}), origin),
        train=check_section(TrainConfig, "train", raw.get("train", {}), origin),
    )
    run_checks(config, origin)
    return config


def _check_model(values: dict[str, Any], origin: Origin) -> ModelConfig:
    from imdb_rnn import models  # Keras: only when a config is checked, not to read a run's settings

    values = dict(values)
    architecture = values.pop("architecture", ModelConfig.architecture)
    models.get(architecture, where=origin("model", "architecture"))
    options = {key: values.pop(key) for key in PRETRAINING_KEYS if key in values}
    spec = models.parameters(architecture)
    params = {}
    for key, value in values.items():
        if key not in spec:
            raise unknown_key(origin("model", key), f"model.{key}", ["architecture", *spec, *PRETRAINING_KEYS])
        params[key] = check(origin("model", key), f"model.{key}", value, spec[key][0])
    defaults = {key: default for key, (_, default) in spec.items()}
    hints = typing.get_type_hints(ModelConfig, include_extras=True)
    checked = {key: check(origin("model", key), f"model.{key}", value, hints[key]) for key, value in options.items()}
    return ModelConfig(architecture, {**defaults, **params}, **checked)


CLASSIFIER = Kind("config file", "", tuple(SECTIONS), _build)
