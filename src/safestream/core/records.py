"""Typed records: dataclasses whose fields are checked at construction and kept as JSON.

Events and effects are records. A record is built with keywords only and has no defaults, so a
missing field is a `TypeError` at construction; `Record.__post_init__` checks every value against
its declared type, so a value given to the wrong field (a stream id where a score belongs) is one
too. `encode` and `decode` turn a record into plain JSON data and back, driven by the same type
hints, so the stored form cannot drift from the class.

Supported field types: `str`, `int`, `float`, `bool`, `datetime` (timezone-aware), enums, frozen
dataclasses of these (such as `Entity`), `tuple[T, ...]` and `T | None`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

R = TypeVar("R")
JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]


_FIELD_TYPES: dict[type, tuple[tuple[str, Any], ...]] = {}


def field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, resolved type) of each dataclass field, in declaration order (resolved once)."""
    found = _FIELD_TYPES.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
        _FIELD_TYPES[cls] = found
    return found


Checker = Callable[[object], bool]
_CHECKERS: dict[type, tuple[tuple[str, Any, Checker], ...]] = {}


def _checker(hint: Any) -> Checker:
    """A function telling whether a value is of type `hint`, built once per field: records are
    made by the hundred thousand in a linking batch, and walking the type hints per value cost
    more than the rules that use them."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = tuple(_checker(arg) for arg in typing.get_args(hint))
        return lambda value: any(check(value) for check in options)
    if hint is type(None):
        return lambda value: value is None
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _checker(args[0])
            return lambda value: isinstance(value, tuple) and all(map(item, value))
        items = tuple(_checker(arg) for arg in args)
        return lambda value: (
            isinstance(value, tuple)
            and len(value) == len(items)
            and all(check(v) for check, v in zip(items, value, strict=True))
        )
    if hint is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if hint is datetime:
        return lambda value: isinstance(value, datetime) and value.tzinfo is not None
    return lambda value: isinstance(value, hint)


class Record:
    """Base of events and effects: checks each field against its declared type."""

    __slots__ = ()

    def __post_init__(self) -> None:
        cls = type(self)
        checks = _CHECKERS.get(cls)
        if checks is None:
            checks = tuple((name, hint, _checker(hint)) for name, hint in field_types(cls))
            _CHECKERS[cls] = checks
        for name, hint, check in checks:
            value = getattr(self, name)
            if not check(value):
                raise TypeError(f"{cls.__name__}.{name} must be {_describe(hint)}, not {value!r}")


def _describe(hint: Any) -> str:
    if hint is datetime:
        return "a timezone-aware datetime"
    return getattr(hint, "__name__", None) or str(hint)


def encode(record: object) -> dict[str, JsonValue]:
    """The record as JSON data (field name -> value)."""
    return {name: _encode(getattr(record, name)) for name, _ in field_types(type(record))}


def _encode(value: object) -> JsonValue:
    if value is None or (isinstance(value, bool | str) and not isinstance(value, Enum)):
        return value  # type: ignore[return-value]
    if isinstance(value, Enum):
        return value.value  # type: ignore[no-any-return]
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


Decoder = Callable[[Any], Any]
_DECODERS: dict[type, tuple[tuple[str, Decoder], ...]] = {}


def decode(cls: type[R], data: dict[str, Any]) -> R:
    """Build a `cls` from JSON data made by `encode`; raise `TypeError` or `ValueError` if the
    data does not fit the class (a missing or unknown field, a value of the wrong type)."""
    decoders = _DECODERS.get(cls)
    if decoders is None:
        decoders = tuple((name, _decoder(hint)) for name, hint in field_types(cls))
        _DECODERS[cls] = decoders
    if len(data) != len(decoders) or not all(name in data for name, _ in decoders):
        known = {name for name, _ in decoders}
        unknown = set(data) - known
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    return cls(**{name: fn(data[name]) for name, fn in decoders if name in data})


def _same(value: Any) -> Any:
    return value


def _decoder(hint: Any) -> Decoder:
    """A function from JSON data to a value of type `hint` (built once per field)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"cannot decode a union of {options}")
        inner = _decoder(options[0])
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda value: tuple(map(item, _list(value)))
        items = [_decoder(a) for a in args]
        return lambda value: tuple(f(v) for f, v in zip(items, _list(value), strict=True))
    if hint is datetime:
        return datetime.fromisoformat
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if hint is float:
        return lambda value: (
            float(value) if isinstance(value, int) and not isinstance(value, bool) else value
        )
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda value: decode(hint, value)
    return _same


def _float(value: Any) -> Any:
    # JSON writes 2.0 as 2.0, but a hand-written payload may say 2; a bool stays a misfit.
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, not {value!r}")
    return value
