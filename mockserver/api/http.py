"""Request parts in, JSON out: the one place that reads an API request.

The API's requests are Werkzeug requests handed to the handlers in a `Call`
(urls.py builds it; no Flask request context, see urls.py). Every handler
module takes the API key, the raw path, the parsed body, the `sync` flag and
`Prefer` directives from here, and answers through `json_response`, so
handler modules never need each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import ValidationError
from werkzeug.wrappers import Request, Response

from contracts.spec import Spec
from mockserver.api.answer import JsonAnswer
from mockserver.api.routing import Match
from mockserver.api.state import MockState
from mockserver.config import directives_from
from mockserver.sandbox.backend import Caller
from mockserver.sandbox.errors import Problem, bad_request
from mockserver.sandbox.models import Directives, Scope


@dataclass(frozen=True)
class Call:
    """One API request as its handler sees it: the mock it reached, the
    request, who sent it, the scope its path names and the route it matched."""

    mock: MockState
    request: Request
    caller: Caller
    scope: Scope
    match: Match


def api_key(request: Request) -> str | None:
    """`x-np-api-key`, else an `Authorization: Bearer` token (read from the
    WSGI environ: the same headers, without building a Headers view)."""
    environ = request.environ
    key = environ.get("HTTP_X_NP_API_KEY")
    if key:
        return key
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def raw_path(request: Request) -> str:
    """The path as sent, before `%2F` and `%25` are decoded."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0]
    return environ.get("PATH_INFO", "/")


def json_body(call: Call, operation_id: str) -> dict[str, Any]:
    """The request body parsed and validated against the operation's schema.

    Read as JSON whatever its `Content-Type` (or none), as the server does:
    there is no 415 (CONTRACT.md)."""
    raw = call.request.get_data(cache=True, parse_form_data=False)
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError) as error:
        raise bad_request("Body must be a JSON object", [Problem("(body)", f"is not valid JSON: {error}")]) from None
    return call.mock.validator.validate_body(operation_id, body)


def sync(request: Request) -> bool:
    """`?sync=1` or `?sync=true`: issue inside the call (docs/003)."""
    return request.args.get("sync", "").lower() in ("1", "true")


def directives(request: Request) -> Directives | None:
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


def json_response(status: int, body: Any, spec: Spec | None = None, operation_id: str | None = None) -> JsonAnswer:
    """The answer. `body`: a JSON value, or JSON already serialised (bytes, see
    representation.py). With a spec and an operationId (test mode,
    `validate_responses`) it is first checked to be one of that operation's."""
    if spec is not None and operation_id:
        _assert_conforms(spec, operation_id, status, json.loads(body) if isinstance(body, bytes) else body)
    if body is None:
        return JsonAnswer(status, None)
    return JsonAnswer(status, body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode())


def flask_json_response(status: int, body: Any) -> Response:
    """The same JSON as a Response, for what Flask serves (the control API's and the dashboard's errors)."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


# -- test mode ------------------------------------------------------------------
class ResponseViolatesSpec(AssertionError):
    """The mock answered something its own spec does not allow (a mock bug)."""


def _assert_conforms(spec: Spec, operation_id: str, status: int, body: Any) -> None:
    if str(status) not in spec.operations[operation_id].status_codes:
        raise ResponseViolatesSpec(f"{operation_id} answered {status}, which the spec does not list")
    validator = spec.response_validator(operation_id, str(status), strict=True)
    if validator is None:
        return
    errors: list[ValidationError] = list(validator.iter_errors(body))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])
        raise ResponseViolatesSpec(f"{operation_id} {status} response violates the spec: {details}")
