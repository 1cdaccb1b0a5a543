"""Configs: typed defaults in code, a YAML file that states only what differs, `--set` overrides.

    config = load_config("lstm.yaml", overrides=["train.epochs=1", "data.limit=500"])

A YAML config has up to three sections, `data`, `model` and `train`. Every key is checked when the
config loads (type, range, spelling, and the rules in `imdb_rnn.checks` that link several keys);
a bad value raises a one-line `ConfigError` naming the file and key, what was expected and what
was received.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml

from imdb_rnn import models
from imdb_rnn.errors import ConfigError, show
from imdb_rnn.schema import NonNegativeInt, PositiveFloat, PositiveInt, Range, check, unknown_key

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIRS = (Path("configs"), PROJECT_ROOT / "configs")


@dataclass
class DataConfig:
    """Where the reviews come from and how they become padded integer sequences."""

    source: Literal["auto", "keras", "aclimdb"] = "auto"  # auto: a local copy if found, else download
    path: str | None = None  # a folder or file; None: $IMDB_DATA_DIR, then ~/.keras/datasets
    num_words: Annotated[int, Range(min=4)] = 10_000  # vocabulary: ids >= num_words become 2 (OOV)
    maxlen: PositiveInt = 500  # reviews are truncated/padded to this many tokens
    padding: Literal["pre", "post"] = "pre"  # pre: the recurrent layer reads the real words last
    truncating: Literal["pre", "post"] = "pre"  # pre: keep the end of long reviews
    validation_split: Annotated[float, Range(0, 1, min_inclusive=False, max_inclusive=False)] = 0.2
    validation_split_by: Literal["movie", "review"] = "movie"  # movie: no validation movie is trained on
    limit: Annotated[int, Range(min=2)] | None = None  # class-balanced training subset (smoke runs)
    test_limit: Annotated[int, Range(min=2)] | None = None  # class-balanced test subset
    seed: NonNegativeInt = 113  # shuffles the validation split; 113 is Keras's IMDB seed
    bucketing: bool = True  # batch reviews of similar length, pad each batch to its longest


@dataclass
class TrainConfig:
    """How the model is fitted."""

    optimizer: Literal["rmsprop", "adam", "adamw", "nadam", "sgd"] = "rmsprop"
    learning_rate: PositiveFloat = 1e-3
    clipnorm: PositiveFloat | None = None  # clip each gradient to this norm (helps SimpleRNN)
    weight_decay: PositiveFloat | None = None  # decoupled weight decay, as in AdamW, for any optimizer
    ema: bool = False  # validate, keep and test an exponential moving average of the weights
    batch_size: PositiveInt = 128
    epochs: PositiveInt = 10
    early_stopping: NonNegativeInt | None = None  # patience in epochs on val_accuracy; None: off
    seed: NonNegativeInt = 42  # weights, dropout and batch order
    mixed_precision: bool = False  # float16 compute on a GPU; slower on a CPU
    jit_compile: bool = False  # XLA-compile the train step


@dataclass
class ModelConfig:
    """`architecture` names a builder in `imdb_rnn.models`; `params` are that builder's keywords."""

    architecture: str = "lstm"
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"architecture": self.architecture, **self.params}


@dataclass
class Config:
    """A resolved config: every key present, every value checked."""

    name: str = "default"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        """The `config.yaml` of a run: `{data: {...}, model: {...}, train: {...}}`."""
        return {
            "data": dataclasses.asdict(self.data),
            "model": self.model.to_dict(),
            "train": dataclasses.asdict(self.train),
        }


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def find_config(name: str | Path) -> Path:
    """`name` as a path if it exists, else `configs/<name>` (`.yaml` optional) here or in the project."""
    path = Path(name)
    if path.is_file():
        return path
    if path.parent == Path("."):
        for folder in CONFIG_DIRS:
            for candidate in (folder / path.name, folder / f"{path.name}.yaml"):
                if candidate.is_file():
                    return candidate
    available = sorted(p.stem for p in (PROJECT_ROOT / "configs").glob("*.yaml"))
    raise ConfigError(
        f"{name}: config file not found: expected a path or one of the configs in configs/ "
        f"({', '.join(available)}), received {show(str(name))}."
    )


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML file; `ConfigError` for a syntax error or anything but a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the config: {getattr(error, 'strerror', None) or error}.") from None
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}: invalid YAML{where}: expected well-formed YAML, received {problem}.") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(
            f"{path}: invalid config: expected a mapping with sections data, model, train, "
            f"received {type(content).__name__} {show(content)}."
        )
    return content


def parse_override(text: str) -> tuple[str, str, Any]:
    """`'train.epochs=1'` → `('train', 'epochs', 1)`; the value is read as a YAML scalar."""
    key, equals, raw = text.partition("=")
    section, dot, name = key.strip().partition(".")
    if not equals or not dot or not name:
        raise ConfigError(
            f"--set {text}: invalid override: expected section.key=value (e.g. train.epochs=3), "
            f"received {show(text)}."
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return section, name, value


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Reads, merges and checks a config; `path=None` gives the defaults plus `overrides`."""
    where: dict[tuple[str, str], str] = {}
    raw: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    source = "defaults"
    name = "default"
    if path is not None:
        found = find_config(path)
        source, name = str(found), found.stem
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
        name=name,
        data=_check_section(DataConfig, "data", raw["data"], origin),
        model=_check_model(raw["model"], origin),
        train=_check_section(TrainConfig, "train", raw["train"], origin),
    )
    from imdb_rnn.checks import run_checks

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
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
