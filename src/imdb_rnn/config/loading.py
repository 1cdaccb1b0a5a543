"""Loading a config: typed defaults in code, a YAML file that states only what differs, `--set` overrides.

    config = load_config("lstm", overrides=["train.epochs=1", "data.limit=500"])

A YAML config has up to three sections, `data`, `model` and `train`. Every key is checked when the
config loads (type, range, spelling, a key given twice, and the rules in `imdb_rnn.config.checks`
that link several keys); a bad value raises a one-line `ConfigError` naming the file and key, what
was expected and what was received.
"""

from __future__ import annotations

import dataclasses
import typing
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from imdb_rnn.config.checks import run_checks
from imdb_rnn.config.sections import Config, DataConfig, ModelConfig, TrainConfig
from imdb_rnn.errors import ConfigError, show
from imdb_rnn.files import write_text
from imdb_rnn.schema import check, unknown_key

SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def shipped_configs() -> Path:
    """The folder of the configs that ship with the package (`configs/` in a checkout links to it)."""
    return Path(str(resources.files("imdb_rnn") / "configs"))


def find_config(name: str | Path) -> Path:
    """`name` as a path if it is a file, else `configs/<name>` (`.yaml` optional) in the working
    folder, else the shipped config of that name."""
    path = Path(name)
    if path.is_file():
        return path
    if path.parent == Path("."):
        for folder in (Path("configs"), shipped_configs()):
            for candidate in (folder / path.name, folder / f"{path.name}.yaml"):
                if candidate.is_file():
                    return candidate
    available = sorted(p.stem for p in shipped_configs().glob("*.yaml"))
    raise ConfigError(
        f"{name}: config file not found: expected a path or one of the configs in configs/ "
        f"({', '.join(available)}), received {show(str(name))}."
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a mapping with the same key twice (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} at lines {seen[key]} and {line}", key_node.start_mark
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML file; `ConfigError` for a syntax error, a duplicated key or anything but a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the config: {getattr(error, 'strerror', None) or error}.") from None
    try:
        content = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.constructor.ConstructorError as error:
        if error.problem and error.problem.startswith("duplicate key"):
            key, lines = error.problem.removeprefix("duplicate key ").split(" at ")
            raise ConfigError(
                f"{path}: duplicate key {key} at {lines}: expected each key once per section, "
                f"received it twice (the value would be ambiguous)."
            ) from None
        raise _yaml_error(path, error) from None
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(
            f"{path}: invalid config: expected a mapping with sections data, model, train, "
            f"received {type(content).__name__} {show(content)}."
        )
    return content


def _yaml_error(path: Path, error: yaml.YAMLError) -> ConfigError:
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return ConfigError(f"{path}: invalid YAML{where}: expected well-formed YAML, received {problem}.")


def parse_assignment(text: str) -> tuple[str, Any] | None:
    """`'train.epochs=1'` → `('train.epochs', 1)`: the value read as a YAML scalar (`1e-3`, `null`,
    `true`, text); None when there is no `=` or no key. Used by `--set` and compare's `--filter`."""
    key, equals, raw = text.partition("=")
    if not equals or not key.strip():
        return None
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def parse_override(text: str) -> tuple[str, str, Any]:
    """`'train.epochs=1'` → `('train', 'epochs', 1)`; the value is read as a YAML scalar."""
    parsed = parse_assignment(text)
    section, dot, name = parsed[0].partition(".") if parsed else ("", "", "")
    if parsed is None or not dot or not name:
        raise ConfigError(
            f"--set {text}: invalid override: expected section.key=value (e.g. train.epochs=3), received {show(text)}."
        )
    return section, name, parsed[1]


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
        data=_check_section(DataConfig, "data", raw["data"], origin),
        model=_check_model(raw["model"], origin),
        train=_check_section(TrainConfig, "train", raw["train"], origin),
    )
    run_checks(config, origin)
    return config


def _check_section(cls: type, section: str, values: dict[str, Any], origin) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    names = [f.name for f in dataclasses.fields(cls)]
    checked = {}
    for key, value in values.items():
        if key not in names:
            raise unknown_key(origin(section, key), f"{section}.{key}", names)
        checked[key] = check(origin(section, key), f"{section}.{key}", value, hints[key])
    return cls(**checked)


def _check_model(values: dict[str, Any], origin) -> ModelConfig:
    from imdb_rnn import models  # Keras: only when a config is checked, not to read a run's settings

    values = dict(values)
    architecture = values.pop("architecture", ModelConfig.architecture)
    models.get(architecture, where=origin("model", "architecture"))
    spec = models.parameters(architecture)
    params = {}
    for key, value in values.items():
        if key not in spec:
            raise unknown_key(origin("model", key), f"model.{key}", ["architecture", *spec])
        params[key] = check(origin("model", key), f"model.{key}", value, spec[key][0])
    defaults = {key: default for key, (_, default) in spec.items()}
    return ModelConfig(architecture, {**defaults, **params})


def save_config(config: Config, path: Path) -> None:
    """Writes the resolved config as YAML (the run folder's `config.yaml`)."""
    write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))
