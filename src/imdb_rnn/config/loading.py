"""Loading a config: typed defaults in code, a YAML file that states only what differs, `--set` overrides.

    config = load_config("lstm", overrides=["train.epochs=1", "data.limit=500"])

A YAML config has up to three sections, `data`, `model` and `train`. Every key is checked when the
config loads (type, range, spelling, a key given twice, and the rules in `imdb_rnn.config.checks`
that link several keys); a bad value raises a one-line `ConfigError` naming the file and key, what
was expected and what was received.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import yaml

from imdb_rnn.config.checks import run_checks
from imdb_rnn.config.reading import (
    check_section,
    find_in_configs,
    parse_override,
    read_yaml,
)
from imdb_rnn.config.sections import PRETRAINING_KEYS, Config, DataConfig, ModelConfig, TrainConfig
from imdb_rnn.errors import ConfigError, show
from imdb_rnn.files import write_text
from imdb_rnn.schema import check, unknown_key

SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def find_config(name: str | Path) -> Path:
    """`name` as a path if it is a file, else `configs/<name>` (`.yaml` optional) in the working
    folder, else the shipped config of that name."""
    return find_in_configs(name)


def load_config(
    path: str | Path | None = None, overrides: typing.Sequence[str] = (), name: str | None = None
) -> Config:
    """Reads, merges and checks a config; `path=None` gives the defaults plus `overrides`.

    `name` (default: the file's stem, or `default`) names the runs of this config."""
    where: dict[tuple[str, str], str] = {}
    raw: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    source, stem = "defaults", "default"
    if path is not None:
        found = find_config(path)
        source, stem = str(found), found.stem
        for section, values in read_yaml(found).items():
            if section not in SECTIONS:
                raise unknown_key(source, str(section), list(SECTIONS))
            if values is None:
                continue
            if not isinstance(values, dict):
                raise ConfigError(
                    f"{source}: invalid value for `{section}`: expected a mapping of keys, received {show(values)}."
                )
            raw[section].update(values)
            where.update({(section, str(key)): source for key in values})
    for text in overrides:
        section, key, value = parse_override(text)
        if section not in SECTIONS:
            raise unknown_key(f"--set {text}", section, list(SECTIONS))
        raw[section][key] = value
        where[(section, key)] = f"--set {text}"

    def origin(section: str, key: str) -> str:
        return where.get((section, key), source)

    config = Config(
        name=name or stem,
        data=check_section(DataConfig, "data", raw["data"], origin),
        model=_check_model(raw["model"], origin),
        train=check_section(TrainConfig, "train", raw["train"], origin),
    )
    run_checks(config, origin)
    return config


def _check_model(values: dict[str, Any], origin) -> ModelConfig:
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


def save_config(config: Config, path: Path) -> None:
    """Writes the resolved config as YAML (the run folder's `config.yaml`)."""
    write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))
