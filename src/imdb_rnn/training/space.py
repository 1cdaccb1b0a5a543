"""A search space: the config keys a search varies, read from YAML and checked as `--set` overrides are.

    model.units: [32, 64, 128]                                   # a list: one of these values
    train.learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}  # a range: float bounds, a float
    model.head_dropout: {low: 0.0, high: 0.5, step: 0.1}         # ... on a grid of `step`
    data.maxlen: {low: 100, high: 400, step: 100}                # integer bounds: an integer
    train:                                                       # keys may also sit under their section
      batch_size: [32, 64]

Every key, and every value it can take (each listed value, both bounds of a range), is checked against
the base config's schema by the one config loader (`config.reading`), so an unknown key or a value of
the wrong type is a one-line `ConfigError` naming the space file and the key before anything trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imdb_rnn.config import Config, load_config, read_yaml
from imdb_rnn.config.reading import Setting, find_in_configs
from imdb_rnn.errors import ConfigError, show

RANGE_KEYS = ("low", "high", "log", "step")
SCALARS = (bool, int, float, str, type(None))


@dataclass(frozen=True)
class Dimension:
    """One searched key (`section.key`): `choices` (a list in the space file), or a range from `low` to
    `high` (both included), integer when both bounds are integers, else float; `log` samples the range
    on a log scale (default False), `step` on a grid (default None: continuous, or 1 for integers)."""

    key: str
    choices: tuple[Any, ...] | None = None
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None

    @property
    def integer(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def suggest(self, trial: Any) -> Any:
        """This key's value for an Optuna `trial` (its parameter is named by the key)."""
        if self.choices is not None:
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.integer:
            return trial.suggest_int(self.key, self.low, self.high, step=self.step or 1, log=self.log)
        return trial.suggest_float(self.key, float(self.low), float(self.high), step=self.step, log=self.log)

    def holds(self, value: Any) -> bool:
        """Whether `value` is a point of this dimension: one of its choices (of the same type), or inside its
        range, an integer for integer bounds and on the grid of `step` when it has one."""
        if self.choices is not None:
            return any(type(value) is type(choice) and value == choice for choice in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not self.low <= value <= self.high:
            return False
        if self.integer and not isinstance(value, int):
            return False
        if self.step is None:
            return True
        steps = (value - self.low) / self.step
        return abs(steps - round(steps)) < 1e-9

    def to_dict(self) -> dict[str, Any]:
        """As written in a space file (the mapping form of a range): what `search.json` records."""
        if self.choices is not None:
            return {"key": self.key, "choices": list(self.choices)}
        return {"key": self.key, "low": self.low, "high": self.high, "log": self.log, "step": self.step}


def find_space(name: str | Path) -> Path:
    """`name` as a path, else `configs/search/<name>` (`.yaml` optional), else the shipped space of that name."""
    return find_in_configs(name, "search", "search space")


def read_space(path: str | Path, base: str | Path | None = None, overrides: list[str] | None = None) -> list[Dimension]:
    """The dimensions of the space file `path` (found by `find_space`), each key and value checked on top of
    the config `base` with its `--set` `overrides`; a one-line `ConfigError` naming the file and key otherwise."""
    found = find_space(path)
    where = str(found)
    entries: list[tuple[str, Any]] = []
    for key, value in read_yaml(found).items():
        key = str(key)
        if "." in key:
            entries.append((key, value))
        elif isinstance(value, dict):  # `train:` with its keys below it
            entries.extend((f"{key}.{name}", item) for name, item in value.items())
        else:
            raise ConfigError(
                f"{where}: invalid key `{key}`: expected section.key (e.g. model.units) or a section mapping "
                f"its keys to values, received {show(value)}."
            )
    if not entries:
        raise ConfigError(
            f"{where}: empty search space: expected at least one key with a list or range, received none."
        )
    dimensions = [_dimension(where, key, value) for key, value in entries]
    for dimension in dimensions:
        values = dimension.choices if dimension.choices is not None else (dimension.low, dimension.high)
        for value in values:  # each value on top of the base config, as a --set override would be
            load_config(base, [*(overrides or []), Setting(dimension.key, value, where)])
    return dimensions


def _dimension(where: str, key: str, value: Any) -> Dimension:
    if isinstance(value, list):
        if not value:
            raise ConfigError(f"{where}: `{key}`: expected a non-empty list of values, received [].")
        if not all(isinstance(item, SCALARS) for item in value):
            raise ConfigError(
                f"{where}: `{key}`: expected a list of single values (numbers, text, true/false, null), "
                f"received {show(value)}."
            )
        if len(set(map(repr, value))) < len(value):
            raise ConfigError(f"{where}: `{key}`: expected each value once, received {show(value)}.")
        return Dimension(key, choices=tuple(value))
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: `{key}`: expected a list of values or a range {{low: …, high: …}}, received {show(value)}."
        )
    unknown = [name for name in value if name not in RANGE_KEYS]
    if unknown or "low" not in value or "high" not in value:
        raise ConfigError(
            f"{where}: `{key}`: expected a range with low and high (log, step optional), received {show(value)}."
        )
    low, high, log, step = value["low"], value["high"], value.get("log", False), value.get("step")

    def number(item: Any) -> bool:
        return isinstance(item, (int, float)) and not isinstance(item, bool)

    if not (number(low) and number(high) and low < high):
        raise ConfigError(
            f"{where}: `{key}`: expected numbers low < high, received low {show(low)}, high {show(high)}."
        )
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: `{key}.log`: expected true or false, received {show(log)}.")
    if step is not None and not (number(step) and step > 0):
        raise ConfigError(f"{where}: `{key}.step`: expected a number > 0, received {show(step)}.")
    if log and (low <= 0 or step is not None):
        raise ConfigError(
            f"{where}: `{key}`: a log range expected low > 0 and no step, received low {show(low)}, step {show(step)}."
        )
    dimension = Dimension(key, low=low, high=high, log=log, step=step)
    if step is not None and dimension.integer and not isinstance(step, int):
        raise ConfigError(f"{where}: `{key}.step`: integer bounds expected an integer step, received {show(step)}.")
    return dimension


def trial_config(base: str | Path, params: dict[str, Any], name: str, where: str = "search trial") -> Config:
    """The config `base` (a file) with a trial's `params` (`section.key` → value) set, named `name`."""
    return load_config(base, [Setting(key, value, where) for key, value in params.items()], name=name)
