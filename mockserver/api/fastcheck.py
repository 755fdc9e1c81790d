"""A quick yes/no for request bodies: the spec's schema compiled to closures.

jsonschema walks the schema and resolves every `$ref` through its registry
on each request: half of a createOrder's time. Most bodies are valid, so
validation.py asks this check first and runs jsonschema (for the server's
error messages) only when it says no. It must therefore never say yes to a
body jsonschema rejects: it supports only the keywords it implements exactly
as jsonschema does (Draft 2020-12, the `uuid` format), and a schema with any
other keyword gets no quick check at all (`compile_check` returns None).
"""

from __future__ import annotations

import re
import uuid
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional

Check = Callable[[Any], bool]
Resolve = Callable[[dict[str, Any]], dict[str, Any]]

# Keywords that never make an instance invalid.
ANNOTATIONS = frozenset({"description", "examples", "default", "title", "deprecated", "readOnly", "writeOnly", "$comment"})
TYPES: Mapping[str, Callable[[Any], bool]] = MappingProxyType({
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    # jsonschema counts 1.0 as an integer
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
})


class Unsupported(Exception):
    """The schema uses something this module does not check exactly."""


def compile_check(schema: dict[str, Any], resolve: Resolve) -> Optional[Check]:
    """A function telling whether an instance is valid, or None if unsupported."""
    try:
        return _compile(schema, resolve, depth=0)
    except Unsupported:
        return None


def _compile(schema: dict[str, Any], resolve: Resolve, depth: int) -> Check:
    if depth > 32:
        raise Unsupported("recursive schema")
    checks = [_keyword(key, value, schema, resolve, depth) for key, value in schema.items()
              if key not in ANNOTATIONS and not key.startswith("x-")]
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _keyword(key: str, value: Any, schema: dict[str, Any], resolve: Resolve, depth: int) -> Check:
    if key == "$ref":
        return _compile(resolve({"$ref": value}), resolve, depth + 1)
    if key == "type":
        kinds = [TYPES[t] for t in ([value] if isinstance(value, str) else value)]
        return lambda v: any(kind(v) for kind in kinds)
    if key in ("properties", "items", "required"):
        return _structure(key, value, resolve, depth)
    return _scalar(key, value)


def _structure(key: str, value: Any, resolve: Resolve, depth: int) -> Check:
    if key == "required":
        return lambda v: not isinstance(v, dict) or all(name in v for name in value)
    if key == "items":
        if not isinstance(value, dict):
            raise Unsupported("items as a list")
        item = _compile(value, resolve, depth + 1)
        return lambda v: not isinstance(v, list) or all(item(entry) for entry in v)
    properties = {name: _compile(sub, resolve, depth + 1) for name, sub in value.items()}
    return lambda v: not isinstance(v, dict) or all(
        check(v[name]) for name, check in properties.items() if name in v)


def _scalar(key: str, value: Any) -> Check:
    if key == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= value
    if key == "maxLength":
        return lambda v: not isinstance(v, str) or len(v) <= value
    if key == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= value
    if key == "minimum":
        return lambda v: not TYPES["number"](v) or v >= value
    if key == "pattern":
        pattern = re.compile(value)
        return lambda v: not isinstance(v, str) or pattern.search(v) is not None
    if key == "format" and value == "uuid":
        return lambda v: not isinstance(v, str) or _is_uuid(v)
    raise Unsupported(key)


def _is_uuid(text: str) -> bool:
    """jsonschema's `uuid` format: parses as a UUID, with dashes in the canonical places."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return all(text[position] == "-" for position in (8, 13, 18, 23))
