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


class TrainingFailed(RuntimeError):
    """Training itself failed (for example the loss became NaN): the run is marked `failed`, exit 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that a run stops at once and is marked `interrupted` (exit 143)."""


class RunFailed(Exception):
    """A run that started ended in failure; `run` is its folder. The command line exits with 1."""

    exit_code = 1

    def __init__(self, run: object, message: str) -> None:
        super().__init__(message)
        self.run = run


class RunPruned(Exception):
    """A run ended early on purpose: a search judged its trial unpromising after an epoch (not a failure).
    Raised from a callback; the run is then marked `pruned` and `run` is its folder."""

    def __init__(self, message: str, run: object = None) -> None:
        super().__init__(message)
        self.run = run


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT (exit 130) or SIGTERM (exit 143); `run` is its folder (None if not made yet)."""

    def __init__(self, run: object, exit_code: int) -> None:
        super().__init__(f"interrupted (exit {exit_code})")
        self.run = run
        self.exit_code = exit_code


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


class ImdbRnnWarning(UserWarning):
    """Something works but not as asked or not for free (a fallback, an unwritable cache); the command
    line prints it as one `warning:` line."""
