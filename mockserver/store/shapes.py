"""Whether a JSON value has the shape of one of the models, checked from their type hints.

A snapshot comes from outside (a file a partner sends): decoding it with the
codec alone would accept `"quantity": "two"` and fail later, on a getOrder,
as a 500. So every value is checked against the dataclass it becomes before
anything is loaded, and a wrong one is named by its path
(`orders[3].lines[0].quantity: expected an integer, got a string`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import lru_cache
from typing import Any, Mapping, Union, get_args, get_origin


class ShapeError(ValueError):
    """A value that does not have the expected shape; the message starts with its path."""


def check(value: Any, expected: Any, where: str) -> None:
    """`value` as JSON has it against a type of the models: str, int, float, bool, Any,
    Optional, list/tuple/frozenset (a JSON array), dict[str, X], a dataclass, or a
    mapping of key → type (an object with exactly those keys)."""
    origin = get_origin(expected)
    if expected is Any:
        return
    if origin in (Union, types.UnionType):
        _check_union(value, get_args(expected), where)
    elif origin in (list, tuple, frozenset, set):
        _check_array(value, origin, get_args(expected), where)
    elif origin is dict:
        _check_object(value, where)
        for key, item in value.items():
            check(item, get_args(expected)[1], f"{where}.{key}")
    elif isinstance(expected, Mapping):
        check_fields(value, expected, frozenset(expected), where)
    elif dataclasses.is_dataclass(expected):
        check_dataclass(value, expected, where)
    elif not _scalar_fits(value, expected):
        raise ShapeError(f"{where}: expected {_name(expected)}, got {_name(type(value))}")


def check_dataclass(value: Any, cls: Any, where: str, leave_out: frozenset[str] = frozenset()) -> None:
    """An object with a dataclass's fields (but `leave_out`): those without a default are required."""
    hints = _hints(cls)
    fields = {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name not in leave_out}
    required = frozenset(f.name for f in dataclasses.fields(cls) if f.name in fields
                         and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    check_fields(value, fields, required, where)


def check_fields(value: Any, fields: Mapping[str, Any], required: frozenset[str], where: str) -> None:
    """An object with these fields only, the required ones present, each of its type."""
    _check_object(value, where)
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ShapeError(f"{where}: unknown field {unknown[0]!r}")
    missing = sorted(required - set(value))
    if missing:
        raise ShapeError(f"{where}: missing field {missing[0]!r}")
    for name, item in value.items():
        check(item, fields[name], f"{where}.{name}")


def _check_union(value: Any, options: tuple[Any, ...], where: str) -> None:
    if value is None and type(None) in options:
        return
    (other,) = [option for option in options if option is not type(None)]  # the models' unions are Optional[X]
    check(value, other, where)


def _check_array(value: Any, origin: Any, args: tuple[Any, ...], where: str) -> None:
    if not isinstance(value, list):
        raise ShapeError(f"{where}: expected an array, got {_name(type(value))}")
    if origin is tuple and args and args[-1] is not Ellipsis:  # a fixed tuple, e.g. a scope
        if len(value) != len(args):
            raise ShapeError(f"{where}: expected {len(args)} items, got {len(value)}")
        items = list(args)
    else:
        items = [args[0] if args else Any] * len(value)
    for index, (item, item_type) in enumerate(zip(value, items, strict=True)):
        check(item, item_type, f"{where}[{index}]")


def _check_object(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: expected an object, got {_name(type(value))}")


def _scalar_fits(value: Any, expected: Any) -> bool:
    """JSON's numbers: an integer is a float too, a boolean is neither."""
    if isinstance(value, bool):
        return expected is bool
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(expected, type) and isinstance(value, expected)


@lru_cache(maxsize=None)
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _name(kind: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", type(None): "null",
             list: "an array", dict: "an object"}
    return names.get(kind, getattr(kind, "__name__", str(kind)))
