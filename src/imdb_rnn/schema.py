"""Typed parameters: check a YAML value against a type hint such as `Annotated[int, Range(min=1)]`.

Config sections and model builders declare their parameters with ordinary type hints and defaults;
`check` turns a value read from YAML into that type or raises a one-line `ConfigError`.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from imdb_rnn.errors import ConfigError, invalid, show


@dataclass(frozen=True)
class Range:
    """Bounds for a number; `None` leaves that side open."""

    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    def contains(self, value: float) -> bool:
        if self.min is not None and (value < self.min or (value == self.min and not self.min_inclusive)):
            return False
        if self.max is not None and (value > self.max or (value == self.max and not self.max_inclusive)):
            return False
        return True

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            left = "[" if self.min_inclusive else "("
            right = "]" if self.max_inclusive else ")"
            return f"in {left}{_number(self.min)}, {_number(self.max)}{right}"
        if self.min is not None:
            return (">= " if self.min_inclusive else "> ") + _number(self.min)
        if self.max is not None:
            return ("<= " if self.max_inclusive else "< ") + _number(self.max)
        return ""


PositiveInt = Annotated[int, Range(min=1)]
NonNegativeInt = Annotated[int, Range(min=0)]
PositiveFloat = Annotated[float, Range(min=0, min_inclusive=False)]
Rate = Annotated[float, Range(min=0, max=1, max_inclusive=False)]
"""A dropout rate: 0 (no dropout) up to, but excluding, 1."""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _parts(hint: Any) -> tuple[Any, list[Range], bool]:
    """Splits a hint into (bare type, ranges, accepts None)."""
    ranges: list[Range] = []
    optional = False
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        optional = len(members) < len(typing.get_args(hint))
        if len(members) != 1:
            raise TypeError(f"unsupported parameter type {hint!r}")
        hint, more_ranges, _ = _parts(members[0])
        return hint, more_ranges, optional
    if origin is Annotated:
        base, *metadata = typing.get_args(hint)
        ranges = [item for item in metadata if isinstance(item, Range)]
        return base, ranges, optional
    return hint, ranges, optional


def describe(hint: Any) -> str:
    """What a value of this type looks like, in words: 'an integer >= 1', 'one of 'pre', 'post''."""
    base, ranges, optional = _parts(hint)
    if typing.get_origin(base) is Literal:
        text = "one of " + ", ".join(show(choice) for choice in typing.get_args(base))
    elif typing.get_origin(base) is list:
        (item,) = typing.get_args(base)
        text = "a list of " + {int: "integers", float: "numbers", str: "strings"}.get(item, "values")
    else:
        text = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
            base, getattr(base, "__name__", str(base))
        )
    for bound in ranges:
        text += " " + bound.describe()
    return text + (" or null" if optional else "")


def check(where: str, key: str, value: Any, hint: Any) -> Any:
    """Returns `value` converted to `hint`'s type, or raises `ConfigError` naming `where` and `key`.

    Integers are accepted for floats, and strings like '1e-3' too (YAML 1.1 reads `1e-3` as a string).
    """
    base, ranges, optional = _parts(hint)
    if value is None:
        if optional:
            return None
        raise invalid(where, key, describe(hint), value)
    converted = _convert(base, value)
    if converted is _WRONG:
        raise invalid(where, key, describe(hint), value)
    for bound in ranges:
        if not bound.contains(converted):
            raise invalid(where, key, describe(hint), value)
    return converted


_WRONG = object()


def _convert(base: Any, value: Any) -> Any:
    if typing.get_origin(base) is Literal:  # true is never 1, nor 1 true: a bool matches only a bool choice
        choices = typing.get_args(base)
        if isinstance(value, bool):
            return value if any(choice is value for choice in choices) else _WRONG
        return value if value in [choice for choice in choices if not isinstance(choice, bool)] else _WRONG
    if typing.get_origin(base) is list:
        (item,) = typing.get_args(base)
        if not isinstance(value, list):
            return _WRONG
        items = [_convert(item, element) for element in value]
        return _WRONG if any(element is _WRONG for element in items) else items
    if base is bool:
        return value if isinstance(value, bool) else _WRONG
    if base is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _WRONG
    if base is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return _WRONG
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        return _WRONG
    if base is str:
        return value if isinstance(value, str) else _WRONG
    raise TypeError(f"unsupported parameter type {base!r}")


def unknown_key(where: str, key: str, valid: list[str]) -> ConfigError:
    """`x.yaml: unknown key `model.unit` (did you mean `model.units`?): expected one of ..., received 'unit'.`"""
    section, _, name = key.rpartition(".")
    prefix = f"{section}." if section else ""
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" (did you mean `{prefix}{close[0]}`?)" if close else ""
    expected = "one of " + ", ".join(valid) if valid else "no keys"
    return ConfigError(f"{where}: unknown key `{key}`{hint}: expected {expected}, received {show(name)}.")
