"""An ensemble's config: the `config.yaml` of a run folder made by `imdb-rnn ensemble`.

    data:                   # every key, as a classifier's: how the ensemble reads reviews (see below)
      num_words: 20000
      maxlen: 500
      ...
    model:
      architecture: ensemble
      members: [outputs/lstm-20261122-023703, outputs/gru-20261122-025255]
      weighting: validation   # equal, or chosen on the validation reviews
      objective: accuracy     # what the validation weights optimise (accuracy or log_loss); null for equal
      weights: [0.35, 0.65]   # one a member, non-negative, summing to 1
    train:
      batch_size: 128         # prediction batches; an ensemble trains nothing

Its `data` section is its members' (they agree on the data, its split and the test set) with the largest
`num_words` and `maxlen` among them, `bucketing` when any member buckets, and `padding` theirs when they
agree (else `pre`); each member's own cut is inside the model (`imdb_rnn.models.ensemble`). It loads as a
`Config` (an `EnsembleConfig`), so whatever reads a run's `data` and `train.batch_size` reads it alike.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from imdb_rnn.config.reading import Kind, Origin, check_section, load
from imdb_rnn.config.sections import Config, DataConfig, ModelConfig, TrainConfig
from imdb_rnn.errors import ConfigError, show
from imdb_rnn.schema import check, unknown_key

ARCHITECTURE = "ensemble"
TRAIN_KEYS = ("batch_size",)  # what an ensemble's train section holds: it trains nothing


@dataclass(frozen=True)
class EnsembleSpec:
    """The `model` section of an ensemble (type hints and defaults: what `load_ensemble_config` checks)."""

    members: list[str]
    weights: list[float]
    weighting: Literal["equal", "validation"] = "equal"
    objective: Literal["accuracy", "log_loss"] | None = None


@dataclass(frozen=True)
class EnsembleConfig(Config):
    """A `Config` whose `model` is `architecture: ensemble` with `EnsembleSpec`'s keys as its params;
    its `config.yaml` has no pretraining keys and a `train` section of `batch_size` only."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": dataclasses.asdict(self.data),
            "model": {"architecture": ARCHITECTURE, **self.model.params},
            "train": {key: getattr(self.train, key) for key in TRAIN_KEYS},
        }


def is_ensemble(raw: Any) -> bool:
    """Whether a `config.yaml` read as YAML (`{section: {key: value}}`) is an ensemble's."""
    return (
        isinstance(raw, dict)
        and isinstance(raw.get("model"), dict)
        and raw["model"].get("architecture") == ARCHITECTURE
    )


def ensemble_config(
    name: str,
    data: DataConfig,
    members: Sequence[str | Path],
    weights: Sequence[float],
    weighting: str = "equal",
    objective: str | None = None,
    batch_size: int = 128,
) -> EnsembleConfig:
    """A resolved ensemble config (see the module docstring), checked as `load_ensemble_config` checks one."""
    params = {
        "members": [str(member) for member in members],
        "weights": [float(weight) for weight in weights],
        "weighting": weighting,
        "objective": objective,
    }
    model = _check_model({"architecture": ARCHITECTURE, **params}, lambda section, key: "ensemble")
    return EnsembleConfig(name=name, data=data, model=model, train=TrainConfig(batch_size=batch_size))


def load_ensemble_config(path: str | Path, name: str | None = None) -> EnsembleConfig:
    """Reads and checks an ensemble's `config.yaml`; a one-line `ConfigError` naming the file and key."""
    return load(ENSEMBLE, path, (), name)


def _build(name: str, raw: dict[str, dict[str, Any]], origin: Origin, source: str) -> EnsembleConfig:
    train = raw.get("train", {})
    for key in train:
        if key not in TRAIN_KEYS:
            raise unknown_key(origin("train", key), f"train.{key}", list(TRAIN_KEYS))
    return EnsembleConfig(
        name=name,
        data=check_section(DataConfig, "data", raw.get("data", {}), origin),
        model=_check_model(raw.get("model", {}), origin),
        train=check_section(TrainConfig, "train", train, origin),
    )


def _check_model(values: dict[str, Any], origin: Origin) -> ModelConfig:
    values = dict(values)
    architecture = values.pop("architecture", None)
    if architecture != ARCHITECTURE:
        raise ConfigError(
            f"{origin('model', 'architecture')}: invalid value for `model.architecture`: expected "
            f"{show(ARCHITECTURE)} in an ensemble's config, received {show(architecture)}."
        )
    hints = typing.get_type_hints(EnsembleSpec, include_extras=True)
    fields = {field.name: field for field in dataclasses.fields(EnsembleSpec)}
    params = {}
    for key in fields:
        if key not in values and fields[key].default is dataclasses.MISSING:
            raise ConfigError(
                f"{origin('model', key)}: missing key `model.{key}`: expected {key} in an ensemble's config, received none."
            )
        params[key] = values.get(key, fields[key].default)
    for key in values:
        if key not in fields:
            raise unknown_key(origin("model", key), f"model.{key}", ["architecture", *fields])
    params = {key: check(origin("model", key), f"model.{key}", value, hints[key]) for key, value in params.items()}
    members, weights = params["members"], params["weights"]
    if not members or len(weights) != len(members) or min(weights) < 0 or abs(sum(weights) - 1) > 1e-6:
        raise ConfigError(
            f"{origin('model', 'weights')}: invalid value for `model.weights`: expected one non-negative weight a "
            f"member ({len(members)}) summing to 1, received {show(weights)}."
        )
    return ModelConfig(ARCHITECTURE, params)


ENSEMBLE = Kind("ensemble config", "", ("data", "model", "train"), _build)
