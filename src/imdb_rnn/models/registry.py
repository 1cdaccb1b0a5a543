"""The registry of architectures: each a builder of a Functional model from token ids to class probabilities.

Every builder takes `vocab_size` (the data's `num_words`) and `num_classes` (the data's labels, 2 for
IMDB), then its own keyword parameters. Those keyword parameters, with their type hints and defaults,
*are* the `model:` section of a config for that architecture: `parameters(name)` reads them and the
config is checked against them, so a builder and its parameters live together.

Inputs are int32 token ids of shape `(batch, time)`; `time` is left open (`None`) so that batches
padded to different lengths (length bucketing) run through the same model. Outputs: `(batch, 1)`,
P(positive) — with more than two classes `(batch, num_classes)`, a softmax.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

import keras
from keras import layers

from imdb_rnn.errors import invalid

Builder = Callable[..., keras.Model]
ARCHITECTURES: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    """Adds a builder to `ARCHITECTURES` under `name`."""

    def add(builder: Builder) -> Builder:
        ARCHITECTURES[name] = builder
        return builder

    return add


def get(name: str, where: str = "") -> Builder:
    """The builder registered as `name`; a `ConfigError` listing the valid names otherwise."""
    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise invalid(where, "model.architecture", "one of " + ", ".join(ARCHITECTURES), name)
    return ARCHITECTURES[name]


def parameters(name: str) -> dict[str, tuple[Any, Any]]:
    """`{parameter: (type hint, default)}` for the architecture `name`, in signature order."""
    builder = get(name)
    hints = typing.get_type_hints(builder, include_extras=True)
    return {
        param.name: (hints[param.name], param.default)
        for param in inspect.signature(builder).parameters.values()
        if param.kind is inspect.Parameter.KEYWORD_ONLY
    }


def build_model(architecture: str, params: Mapping[str, Any], vocab_size: int, num_classes: int = 2) -> keras.Model:
    """Builds `architecture` with `params` (already checked by the config) for `num_classes` classes; see
    the module docstring."""
    return get(architecture)(vocab_size, num_classes, **params)


def classifier(
    tokens: keras.KerasTensor, features: keras.KerasTensor, name: str, dropout: float = 0.0, num_classes: int = 2
) -> keras.Model:
    """The output layer on `features` `(batch, features)`, in float32 under mixed precision too: with two
    classes one sigmoid unit, P(second class) `(batch, 1)` (IMDB: P(positive)); with more, a softmax over
    them `(batch, num_classes)`."""
    if dropout:
        features = layers.Dropout(dropout, name="head_dropout")(features)
    if num_classes == 2:
        outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="positive")(features)
    else:
        outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="classes")(features)
    return keras.Model(tokens, outputs, name=name)
