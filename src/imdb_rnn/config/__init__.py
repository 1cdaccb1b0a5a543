"""What a run is asked to do: typed sections, YAML loading with overrides, and the rules that link keys.

from imdb_rnn.config import load_config
config = load_config("lstm", overrides=["train.epochs=3"])   # frozen; config.replace(...) derives
"""

from imdb_rnn.config.loading import SECTIONS, find_config, load_config
from imdb_rnn.config.reading import parse_assignment, parse_override, read_yaml, save_config, shipped_configs
from imdb_rnn.config.sections import Config, DataConfig, ModelConfig, TrainConfig

__all__ = [
    "SECTIONS",
    "Config",
    "DataConfig",
    "ModelConfig",
    "TrainConfig",
    "find_config",
    "load_config",
    "parse_assignment",
    "parse_override",
    "read_yaml",
    "save_config",
    "shipped_configs",
]
