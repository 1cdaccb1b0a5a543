"""Loading and saving configs of every kind (a classifier's, a pretraining's): finding a file by name,
YAML with duplicate keys refused, `section.key=value` overrides, and typed sections checked key by key.
Every problem is a one-line `ConfigError` naming the file (or `--set`) and the key.

A kind of config (`Kind`) says where its files are, which sections it has and how its sections become
a frozen config; `load(kind, path, overrides)` is the one loader and `save_config` the one saver
(`imdb_rnn.config.loading` defines the classifier's kind, `imdb_rnn.config.pretraining` the pretraining's).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from imdb_rnn.errors import ConfigError, show
from imdb_rnn.files import write_text
from imdb_rnn.schema import check, unknown_key

Origin = Callable[[str, str], str]  # (section, key) -> where its value came from: the file or `--set …`


@dataclass(frozen=True)
class Kind:
    """A kind of config: what it is called in messages (`what`), its folder under `configs/` (`folder`),
    its `sections`, and `build(name, raw, origin, source)`, which checks the raw sections (a mapping per
    section given) and returns the frozen config."""

    what: str
    folder: str
    sections: tuple[str, ...]
    build: Callable[[str, dict[str, dict[str, Any]], Origin, str], Any]


@dataclass(frozen=True)
class Setting:
    """One key set from somewhere other than the config file or `--set`, checked as an override is:
    `key` is `section.key`, `value` as read from YAML, `where` names its origin in messages (a search
    space's file, e.g. `configs/search/lstm.yaml`)."""

    key: str
    value: Any
    where: str


def load(
    kind: Kind, path: str | Path | None = None, overrides: Sequence[str | Setting] = (), name: str | None = None
) -> Any:
    """Reads, merges and checks a config of `kind`: its YAML file (found by `find_in_configs`; None: the
    defaults alone) with the `overrides` on top, in order: `section.key=value` texts of `--set`, or
    `Setting`s; `name` (default: the file's stem, or `default`) names its runs."""
    where: dict[tuple[str, str], str] = {}
    raw: dict[str, dict[str, Any]] = {}
    source, stem = "defaults", "default"
    if path is not None:
        found = find_in_configs(path, kind.folder, kind.what)
        source, stem = str(found), found.stem
        for section, values in read_yaml(found).items():
            if section not in kind.sections:
                raise unknown_key(source, str(section), list(kind.sections))
            values = {} if values is None else values  # `word2vec:` alone: every default
            if not isinstance(values, dict):
                raise ConfigError(
                    f"{source}: invalid value for `{section}`: expected a mapping of keys, received {show(values)}."
                )
            raw.setdefault(str(section), {}).update(values)
    for text in overrides:
        if isinstance(text, Setting):
            section, _, key = text.key.partition(".")
            value, origin_of_key = text.value, text.where
        else:
            section, key, value = parse_override(text)
            origin_of_key = f"--set {text}"
        if section not in kind.sections:
            raise unknown_key(origin_of_key, section, list(kind.sections))
        raw.setdefault(section, {})[key] = value
        where[(section, key)] = origin_of_key

    def origin(section: str, key: str) -> str:
        return where.get((section, key), source)

    return kind.build(name or stem, raw, origin, source)


def save_config(config: Any, path: Path) -> None:
    """Writes a resolved config of any kind (its `to_dict()`) as YAML: a run folder's `config.yaml`."""
    write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))


def shipped_configs() -> Path:
    """The folder of the configs that ship with the package (`configs/` in a checkout links to it)."""
    return Path(str(resources.files("imdb_rnn") / "configs"))


def shipped_names(subfolder: str = "") -> list[str]:
    """The names of the shipped configs in `subfolder` (`""`: the classifier configs, `pretrain`)."""
    return sorted(p.stem for p in (shipped_configs() / subfolder).glob("*.yaml"))


def find_in_configs(name: str | Path, subfolder: str = "", what: str = "config file") -> Path:
    """`name` as a path if it is a file, else `configs/<subfolder>/<name>` (`.yaml` optional) in the
    working folder, else the shipped config of that name; a `ConfigError` listing the shipped ones."""
    path = Path(name)
    if path.is_file():
        return path
    if path.parent == Path("."):
        for folder in (Path("configs") / subfolder, shipped_configs() / subfolder):
            for candidate in (folder / path.name, folder / f"{path.name}.yaml"):
                if candidate.is_file():
                    return candidate
    where = f"configs/{subfolder}/" if subfolder else "configs/"
    raise ConfigError(
        f"{name}: {what} not found: expected a path or one of the configs in {where} "
        f"({', '.join(shipped_names(subfolder))}), received {show(str(name))}."
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


def check_section(cls: type, section: str, values: dict[str, Any], origin) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    names = [f.name for f in dataclasses.fields(cls)]
    checked = {}
    for key, value in values.items():
        if key not in names:
            raise unknown_key(origin(section, key), f"{section}.{key}", names)
        checked[key] = check(origin(section, key), f"{section}.{key}", value, hints[key])
    return cls(**checked)
