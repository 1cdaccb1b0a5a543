"""Loading configs: defaults, files, `--set`, and every kind of invalid value (one-line errors)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import CONFIGS, PROJECT, write
from imdb_rnn.config import Config, find_config, load_config, parse_override
from imdb_rnn.errors import ConfigError


def test_defaults_are_the_seed_recipe() -> None:
    config = load_config()
    assert (config.data.num_words, config.data.maxlen, config.data.validation_split) == (10_000, 500, 0.2)
    assert config.model.architecture == "lstm"
    assert config.model.params["embedding_dim"] == 32 and config.model.params["units"] == 32
    assert (config.train.optimizer, config.train.batch_size) == ("rmsprop", 128)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_loads_and_round_trips(path: Path, tmp_path: Path) -> None:
    config = load_config(path)
    assert config.name == path.stem
    resolved = write(tmp_path / "config.yaml", yaml.safe_dump(config.to_dict()))
    assert load_config(resolved).to_dict() == config.to_dict()


def test_config_states_only_what_differs(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "small.yaml", "model:\n  units: 8\n"))
    assert config.model.params["units"] == 8
    assert config.model.params["embedding_dim"] == 32
    assert config.data == Config().data


def test_bare_name_is_found_in_configs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # not the project root: the project's configs/ is still found
    assert find_config("lstm.yaml").resolve() == (PROJECT / "configs" / "lstm.yaml").resolve()
    assert find_config("gru").resolve() == (PROJECT / "configs" / "gru.yaml").resolve()


def test_overrides_are_parsed_as_yaml_scalars() -> None:
    assert parse_override("train.epochs=1") == ("train", "epochs", 1)
    assert parse_override("data.path=/tmp/x") == ("data", "path", "/tmp/x")
    assert parse_override("data.limit=null") == ("data", "limit", None)
    config = load_config("lstm", ["train.epochs=1", "data.limit=500", "train.learning_rate=1e-3"])
    assert (config.train.epochs, config.data.limit, config.train.learning_rate) == (1, 500, 0.001)


def test_override_can_switch_architecture() -> None:
    config = load_config(None, ["model.architecture=cnn_lstm", "model.filters=16"])
    assert config.model.architecture == "cnn_lstm" and config.model.params["filters"] == 16


def error(tmp_path: Path, text: str | None = None, overrides: list[str] = ()) -> str:
    path = write(tmp_path / "bad.yaml", text) if text is not None else None
    with pytest.raises(ConfigError) as caught:
        load_config(path, list(overrides))
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("model:\n  unit: 3\n", ["bad.yaml", "unknown key `model.unit`", "did you mean `model.units`?"]),
        ("trian:\n  epochs: 3\n", ["unknown key `trian`", "did you mean `train`?", "data, model, train"]),
        ("train:\n  epochs: three\n", ["`train.epochs`", "expected an integer >= 1", "received 'three'"]),
        ("train:\n  epochs: 2.5\n", ["`train.epochs`", "expected an integer", "received 2.5"]),
        ("train:\n  epochs: true\n", ["`train.epochs`", "received true"]),
        ("model:\n  units: -3\n", ["`model.units`", "expected an integer >= 1", "received -3"]),
        ("model:\n  architecture: dropout\n  dropout: 1.0\n", ["`model.dropout`", "in [0, 1)", "received 1.0"]),
        (
            "model:\n  architecture: dropout\n  recurrent_dropout: -0.1\n",
            ["`model.recurrent_dropout`", "received -0.1"],
        ),
        ("data:\n  maxlen: 0\n", ["`data.maxlen`", "expected an integer >= 1", "received 0"]),
        ("data:\n  validation_split: 1\n", ["`data.validation_split`", "in (0, 1)", "received 1"]),
        ("data:\n  padding: left\n", ["`data.padding`", "one of 'pre', 'post'", "received 'left'"]),
        ("data:\n  source: web\n", ["`data.source`", "one of 'auto', 'keras', 'aclimdb'"]),
        (
            "train:\n  mixed_precision: 1\n",  # a bool choice takes no number, nor a number a bool
            ["`train.mixed_precision`", "one of false, true, 'float16', 'bfloat16'", "received 1"],
        ),
        ("train:\n  mixed_precision: float32\n", ["`train.mixed_precision`", "received 'float32'"]),
        ("train:\n  learning_rate: fast\n", ["`train.learning_rate`", "a number > 0", "received 'fast'"]),
        ("train:\n  learning_rate: 0\n", ["`train.learning_rate`", "received 0"]),
        ("train:\n  optimizer: adagrad\n", ["`train.optimizer`", "'rmsprop'", "received 'adagrad'"]),
        ("model:\n  architecture: transformer\n", ["`model.architecture`", "simple_rnn", "cnn_lstm", "'transformer'"]),
        ("model:\n  architecture: lstm\n  filters: 8\n", ["unknown key `model.filters`", "embedding_dim, units"]),
        ("model:\n  architecture: stacked\n  num_layers: 0\n", ["`model.num_layers`", ">= 1", "received 0"]),
        ("model: [1, 2]\n", ["invalid value for `model`", "expected a mapping"]),
        ("- data\n- model\n", ["invalid config", "expected a mapping with sections"]),
        ("model:\n  units: 3\n   embedding_dim: 4\n", ["invalid YAML at line", "column"]),
    ],
)
def test_invalid_config_names_file_key_expected_received(tmp_path: Path, text: str, expected: list[str]) -> None:
    message = error(tmp_path, text)
    for part in expected:
        assert part in message, message
    assert "expected" in message


def test_missing_file_lists_the_shipped_configs() -> None:
    with pytest.raises(ConfigError, match=r"config file not found.*lstm.*received 'nope.yaml'"):
        load_config("nope.yaml")


def test_bad_override_names_the_override(tmp_path: Path) -> None:
    assert "--set train.epochs" in error(tmp_path, overrides=["train.epochs=-1"])
    assert "expected section.key=value" in error(tmp_path, overrides=["epochs=3"])
    assert "expected section.key=value" in error(tmp_path, overrides=["train.epochs"])
    assert "unknown key `optimiser`" in error(tmp_path, overrides=["optimiser.x=1"])
    message = error(tmp_path, overrides=["trian.epochs=3"])
    assert "--set trian.epochs=3" in message and "did you mean `train`?" in message


def test_value_from_file_is_blamed_on_the_file_and_override_on_the_override(tmp_path: Path) -> None:
    assert error(tmp_path, "model:\n  units: 0\n").startswith(str(tmp_path / "bad.yaml"))
    assert error(tmp_path, "model:\n  units: 4\n", ["model.units=0"]).startswith("--set model.units=0")


def test_the_guide_documents_every_key() -> None:
    """The user guide's config reference (docs/guide/configs.md, pretraining keys in pretraining.md)
    names every key of every section and architecture."""
    import dataclasses

    from imdb_rnn import models
    from imdb_rnn.config import DataConfig, TrainConfig
    from imdb_rnn.config.pretraining import METHODS, CorpusConfig
    from imdb_rnn.config.sections import PRETRAINING_KEYS

    guide = "".join(page.read_text(encoding="utf-8") for page in sorted((PROJECT / "docs" / "guide").glob("*.md")))
    sections = (DataConfig, TrainConfig, CorpusConfig, *METHODS.values())
    keys = {f.name for cls in sections for f in dataclasses.fields(cls)} | set(PRETRAINING_KEYS) | set(METHODS)
    keys |= {key for name in models.ARCHITECTURES for key in models.parameters(name)} | set(models.ARCHITECTURES)
    assert not [key for key in sorted(keys) if f"`{key}`" not in guide]
