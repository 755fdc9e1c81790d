"""Request bodies checked against the spec's schemas, in the server's words.

Runs before any business rule. Every bad field is collected into `details`
and the first one's message (the real server's text, CONTRACT.md) becomes
the error's `message`.
"""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from jsonschema import ValidationError
from jsonschema.protocols import Validator

from contracts.spec import Operation, Spec
from mockserver.api.fastcheck import Check, compile_check
from mockserver.sandbox.errors import Problem, bad_request
from mockserver.sandbox.models import LINE_NO_STEP

# A field of one of these types sent as an object or array "must be a primitive value".
PRIMITIVE_TYPES = frozenset({"string", "integer", "number", "boolean"})



class RequestValidator:
    """The spec's request schemas, as the app's one set of validators.

    Built from the spec `create_app` loads (not an import-time global), so an
    app validates against the spec it was given. Each validator is built on
    first use (building one costs more than the whole rest of a getOrder
    request); they are immutable, so threads share them, and a race at worst
    builds one twice.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._bodies: dict[str, Validator | None] = {}
        self._required: dict[str, frozenset[str]] = {}
        self._paths: dict[str, tuple[tuple[dict[str, Any], Validator], ...]] = {}
        # A path value's validity never changes, and tenant, environment and
        # company repeat on every request: remembering it saves ~25 us of
        # jsonschema per request.
        self._path_value_valid = functools.lru_cache(maxsize=4096)(self._judge_path_value)
        # mockserver/api/fastcheck.py: a yes without jsonschema for most bodies
        self._quick_checks: dict[str, Check | None] = {}

    def validate_body(self, operation_id: str, body: Any) -> dict[str, Any]:
        """The body as a dict, or raise a 400 naming every bad field."""
        if not isinstance(body, dict):
            raise bad_request("Body must be a JSON object", [Problem("(body)", "must be a JSON object")])
        validator = self._body_validator(operation_id)
        if validator is None:
            return body
        quick = self._quick_checks[operation_id]
        if quick is not None and quick(body):  # jsonschema only to word what is wrong
            return body
        errors = sorted(validator.iter_errors(body), key=_error_rank)
        required = self._required[operation_id]
        problems = _unique(_problem(error, required) for error in errors)
        if problems:
            raise bad_request(problems[0][1], [problem for problem, _ in problems])
        return body

    def validate_path_params(self, operation: Operation, params: Mapping[str, str]) -> None:
        """Check path parameters against the spec's parameter schemas."""
        for parameter, _ in self._path_validators(operation):
            if parameter["name"] not in params:
                continue
            value = params[parameter["name"]]
            if not self._path_value_valid(operation.operation_id, parameter["name"], value):
                name = parameter["name"]
                message = PATH_PARAM_MESSAGES.get(name, f"Path parameter '{name}' is not valid")
                problem = f"{value!r} is not a valid {parameter['schema'].get('format', 'value')}"
                raise bad_request(message, [Problem(name, problem)])

    def _judge_path_value(self, operation_id: str, name: str, value: str) -> bool:
        """jsonschema's verdict on one path value (kept by `_path_value_valid`)."""
        validators = self._path_validators(self.spec.operations[operation_id])
        return next(v for p, v in validators if p["name"] == name).is_valid(value)

    def _body_validator(self, operation_id: str) -> Validator | None:
        if operation_id not in self._bodies:
            schema = self.spec.request_schema(operation_id)
            self._required[operation_id] = frozenset() if schema is None else required_names(self.spec, schema)
            self._quick_checks[operation_id] = None if schema is None else compile_check(schema, self.spec.resolve)
            self._bodies[operation_id] = None if schema is None else self.spec.validator_for(schema)
        return self._bodies[operation_id]

    def _path_validators(self, operation: Operation) -> tuple[tuple[dict[str, Any], Validator], ...]:
        if operation.operation_id not in self._paths:
            parameters = operation_parameters(self.spec, operation)
            self._paths[operation.operation_id] = tuple(
                (p, self.spec.validator_for(p["schema"])) for p in parameters if p["in"] == "path"
            )
        return self._paths[operation.operation_id]


def _unique(problems: Iterable[tuple[Problem, str]]) -> list[tuple[Problem, str]]:
    """One entry per field and problem (a bad GUID fails both pattern and format)."""
    seen: dict[tuple[str, str], tuple[Problem, str]] = {}
    for problem, message in problems:
        seen.setdefault((problem.field, problem.problem), (problem, message))
    return list(seen.values())


def _error_rank(error: ValidationError) -> tuple:
    return (len(error.absolute_path), list(map(str, error.absolute_path)))


def required_names(spec: Spec, schema: dict[str, Any]) -> frozenset[str]:
    """Every field name some object of the request schema requires: the server
    words a shape problem of those as "Required field", of others as "Optional
    field" (field names mean the same wherever they appear in one body)."""
    names: set[str] = set()
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict) and id(node) not in seen:
            seen.add(id(node))
            node = spec.resolve(node)
            names.update(name for name in node.get("required", []) if isinstance(name, str))
            for value in node.values():
                walk(value)

    walk(schema)
    return frozenset(names)


def _problem(error: ValidationError, required: frozenset[str]) -> tuple[Problem, str]:
    """A (details entry, server message) pair for one schema error."""
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = _missing_fields(error)
        path = path + [missing]
    field = _field_name(path)
    name = str(path[-1]) if path else "(body)"
    problem, message = _wording(error, path, name, name in required)
    return Problem(field, problem), message


def _wording(error: ValidationError, path: list, name: str, required: bool) -> tuple[str, str]:
    validator, instance = str(error.validator), error.instance  # a raised error always names its keyword
    line = _line_no(path)
    if name == "items" and len(path) == 1:
        return _items_wording(validator)
    if len(path) == 2 and path[0] == "items" and validator == "type":
        return "must be an object", f"items[{path[1]}] must be an object"
    if path[2:4] == ["wallet", "componentSchedule"] and len(path) == 5 and validator == "type":
        return "must be an object", f"wallet.componentSchedule entries must be objects (line {line})"
    if validator == "required":
        if name == "items":
            return "is missing", "items array is required"
        return "is missing", f"Required field '{name}' is missing"
    if validator == "type" and instance is None:
        return "cannot be null", f"Required field '{name}' cannot be null"
    if validator == "type" and isinstance(instance, (dict, list)) and error.validator_value in PRIMITIVE_TYPES:
        kind = "Required" if required else "Optional"
        return "must be a primitive value", f"{kind} field '{name}' must be a primitive value"
    if validator == "minLength" and instance == "":
        return "cannot be empty", f"Required field '{name}' cannot be empty"
    if name == "partnerId":
        return "is not a valid GUID", "partnerId is not a valid GUID"
    if name == "quantity":
        problem = f"must be an integer, not {_json_type(instance)}" if validator == "type" else "must be an integer >= 1"
        return problem, f"quantity must be >= 1 (line {line})"
    if name == "visitDate" and validator == "pattern":
        return "must be YYYY-MM-DD", f"Required field '{name}' must be YYYY-MM-DD"
    if name == "visitTime" and validator == "pattern":
        return "must be HH:mm:ss", f"Required field '{name}' must be HH:mm:ss"
    plain = _plain(error)
    problem = f"{plain}, not {_json_type(instance)}" if validator == "type" else plain  # details say what was sent
    return problem, f"Field '{_field_name(path)}' {plain}"


def _items_wording(validator: str) -> tuple[str, str]:
    if validator == "type":
        return "must be an array", "items must be an array"
    if validator == "minItems":
        return "must contain at least one entry", "items array must contain at least one entry"
    return "is missing", "items array is required"


def _plain(error: ValidationError) -> str:
    """jsonschema's message, reworded as a sentence about the field."""
    validator, value = str(error.validator), error.validator_value
    if validator == "type":
        return f"must be of type {value}"
    if validator == "maxLength":
        return f"must be at most {value} characters"
    if validator == "minLength":
        return f"must be at least {value} characters"
    if validator == "enum":
        return f"must be one of {', '.join(map(str, value))}"  # type: ignore[arg-type]  # an enum's value is a list
    if validator == "format":
        return f"must be a valid {value}"
    if validator == "minimum":
        return f"must be >= {value}"
    return error.message


def _json_type(value: Any) -> str:
    """What a JSON value is, in JSON's words: the 'details' of a wrong-typed field say what was sent."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    kinds = {str: "a string", int: "an integer", float: "a number", list: "an array", dict: "an object"}
    kind = kinds.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})" if isinstance(value, (str, int, float)) else kind


def _missing_fields(error: ValidationError) -> str:
    # jsonschema says "'x' is a required property"; the name is the first quoted word.
    return error.message.split("'")[1] if "'" in error.message else "?"


def _field_name(path: Iterable[Any]) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "(body)"


def _line_no(path: list) -> int:
    """The `lineNo` (100000, 200000, ...) of an `items[i]...` path, else 0:
    the server's messages name a line by its lineNo, never a 1-based index."""
    if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
        return (path[1] + 1) * LINE_NO_STEP
    return 0


# The server's words for a path parameter that is not a GUID.
PATH_PARAM_MESSAGES = MappingProxyType({
    "orderId": "Invalid order id",
    "partnerId": "Invalid partnerId",
    "id": "Invalid subscription id",
})


def operation_parameters(spec: Spec, operation: Operation) -> list[dict[str, Any]]:
    """The operation's parameters, path-level ones included, `$ref`s resolved."""
    path_item = spec.document["paths"][operation.path]
    raw = [*path_item.get("parameters", []), *operation.definition.get("parameters", [])]
    return [spec.resolve(parameter) for parameter in raw]
