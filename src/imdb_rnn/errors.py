"""Errors a user can cause. The command line prints them as one line and exits with status 2."""

from __future__ import annotations

from typing import Any


class UserError(ValueError):
    """Bad input from the user: a config, a data folder, a run folder, a command-line argument."""

    exit_code = 2


class ConfigError(UserError):
    """A config file, a `--set` override or a combination of config values is invalid."""


class DataError(UserError):
    """The IMDB data cannot be found, downloaded or read."""


class RunError(UserError):
    """A run folder is missing, incomplete or cannot be written."""


class InputError(UserError):
    """A review to classify has no words, or a file of reviews cannot be read."""


def show(value: Any) -> str:
    """Formats a received value the way it would be written in YAML: `'text'`, `3`, `null`, `[1, 2]`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    return str(value)


def invalid(where: str, key: str, expected: str, received: Any) -> ConfigError:
    """`configs/x.yaml: invalid value for `model.units`: expected an integer >= 1, received -3.`"""
    prefix = f"{where}: " if where else ""
    return ConfigError(f"{prefix}invalid value for `{key}`: expected {expected}, received {show(received)}.")
