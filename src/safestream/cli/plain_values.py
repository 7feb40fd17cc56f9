"""Command-line values converted without pydantic.

Typer 0.29 converts every parameter through a pydantic `TypeAdapter`, which imports pydantic and
builds a schema per parameter: 70-100 ms of every command's start-up, more than `hash` spends on
an image. SafeStream's parameters are plain (text, numbers with bounds, flags, paths, choices and
lists of these), so `PlainValues` converts them directly with the same rules and clear messages;
any other annotation keeps Typer's conversion.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import RuntimeParam, TypeDescriptor
from typer._param_types import coerce_cli_choice
from typer.models import ParameterInfo

Convert = Callable[[Any], Any]

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off", ""})
# Path options that need Typer's checks (existence, writability, resolving, "-"). `readable` is
# on by default and left to the commands: a batch reports an unreadable file and goes on.
_PATH_CHECKS = ("exists", "resolve_path", "allow_dash", "writable", "path_type")


@dataclass(frozen=True)
class PlainValues(RuntimeParam):
    """Converts one parameter's value (or each value of a list) with `convert`."""

    convert: Convert
    many: bool

    def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
        try:
            if self.many:
                items = value if isinstance(value, (list, tuple)) else [value]
                return [self.convert(item) for item in items]
            return self.convert(value)
        except ValueError as error:
            raise BadParameter(str(error), ctx=ctx, param=param) from None


def plain_values(descriptor: TypeDescriptor) -> PlainValues | None:
    """Direct conversion for `descriptor`, or None where Typer's own is needed."""
    if descriptor.file_annotation is not None:
        return None
    annotation: Any = descriptor.annotation
    many = get_origin(annotation) is list
    if many:
        (annotation,) = get_args(annotation) or (str,)
    convert = _converter(annotation, descriptor.parameter_info)
    if convert is None:
        return None
    return PlainValues(
        annotation=descriptor.annotation,
        parameter_info=descriptor.parameter_info,
        convert=convert,
        many=many,
    )


def _converter(annotation: Any, info: ParameterInfo) -> Convert | None:
    if info.parser is not None:
        return None
    if annotation is str:
        return str
    if annotation is bool:
        return _to_bool
    if annotation in (int, float):
        return _number(annotation, info)
    if annotation is Path:
        checked = any(getattr(info, name, None) for name in _PATH_CHECKS)
        if checked or not (info.file_okay and info.dir_okay):
            return None
        return _to_path
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = list(annotation)
        return lambda value: coerce_cli_choice(
            value, choices=choices, case_sensitive=info.case_sensitive
        )
    return None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a valid boolean (use true or false).")


def _to_path(value: Any) -> Path:
    return value if isinstance(value, Path) else Path(os.fspath(value))


def _number(kind: type[int] | type[float], info: ParameterInfo) -> Convert:
    noun = "an integer" if kind is int else "a number"
    low, high, clamp = info.min, info.max, bool(info.clamp)

    def convert(value: Any) -> int | float:
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not {noun}.") from None
        if low is not None and number < low:
            if not clamp:
                raise ValueError(f"{value} is below the minimum, {low}.")
            number = kind(low)
        if high is not None and number > high:
            if not clamp:
                raise ValueError(f"{value} is above the maximum, {high}.")
            number = kind(high)
        return number

    return convert
