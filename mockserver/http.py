"""Request parts in, JSON out: the one place that reads a Flask request.

Every handler module takes the API key, the raw path, the parsed body, the
`sync` flag and `Prefer` directives from here, and answers through
`json_response`, so handler modules never need each other.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from jsonschema import ValidationError

from mockserver.config import directives_from
from mockserver.errors import Problem, bad_request
from mockserver.models import Directives
from mockserver.state import state


def api_key() -> str | None:
    """`x-np-api-key`, else an `Authorization: Bearer` token."""
    key = request.headers.get("x-np-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def raw_path() -> str:
    """The path as sent, before `%2F` and `%25` are decoded."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0]
    return request.environ.get("PATH_INFO", "/")


def json_body(operation_id: str) -> dict[str, Any]:
    """The request body parsed and validated against the operation's schema.

    Read as JSON whatever its `Content-Type` (or none), as the server does:
    there is no 415 (CONTRACT.md)."""
    raw = request.get_data(cache=True, parse_form_data=False)
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError) as error:
        raise bad_request("Body must be a JSON object", [Problem("(body)", f"is not valid JSON: {error}")]) from None
    return state().validator.validate_body(operation_id, body)


def sync() -> bool:
    """`?sync=1` or `?sync=true`: issue inside the call (docs/003)."""
    return request.args.get("sync", "").lower() in ("1", "true")


def directives() -> Directives | None:
    """Forced outcomes from `Prefer: outcome=Error; message="..."; stall=...; delay=30`."""
    header = request.headers.get("Prefer", "")
    tokens: dict[str, str] = {}
    for part in header.replace(";", ",").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() in ("outcome", "message", "stall", "delay"):
            tokens[key.strip().lower()] = value.strip().strip('"')
    if not tokens:
        return None
    try:
        return directives_from(tokens)
    except ValueError as error:
        raise bad_request(f"Prefer header: {error}", [Problem("Prefer", str(error))]) from None


def json_response(status: int, body: Any, operation_id: str | None) -> Response:
    """The answer; in test mode (`validate_responses`) first checked against the spec.
    `body`: a JSON value, or JSON already serialised (bytes, see representation.py)."""
    if state().config.validate_responses and operation_id:
        _assert_conforms(operation_id, status, json.loads(body) if isinstance(body, bytes) else body)
    if body is None:
        return Response(status=status)
    payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False)
    return Response(payload, status=status, mimetype="application/json")


# -- test mode ------------------------------------------------------------------
class ResponseViolatesSpec(AssertionError):
    """The mock answered something its own spec does not allow (a mock bug)."""


def _assert_conforms(operation_id: str, status: int, body: Any) -> None:
    spec = state().spec
    if str(status) not in spec.operations[operation_id].status_codes:
        raise ResponseViolatesSpec(f"{operation_id} answered {status}, which the spec does not list")
    validator = spec.response_validator(operation_id, str(status), strict=True)
    if validator is None:
        return
    errors: list[ValidationError] = list(validator.iter_errors(body))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])
        raise ResponseViolatesSpec(f"{operation_id} {status} response violates the spec: {details}")
