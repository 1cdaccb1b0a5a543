"""Reading YAML configs, shared by classifier and pretraining configs: finding a file by name,
YAML with duplicate keys refused, `section.key=value` overrides, and typed sections checked key by key.
Every problem is a one-line `ConfigError` naming the file (or `--set`) and the key.
"""

from __future__ import annotations

import dataclasses
import typing
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from imdb_rnn.errors import ConfigError, show
from imdb_rnn.schema import check, unknown_key


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
