"""The HTTP layer of the API: requests in, backend calls, JSON out.

No business rule lives here: this module authenticates, matches the route,
parses and schema-validates the request (the server's error texts come from
validation.py), calls the backend and shapes the answer.
"""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from jsonschema import ValidationError

from contracts.spec import load_spec
from mockserver.backend import Caller, ChannelManagerBackend, list_query
from mockserver.config import directives_from
from mockserver.errors import ApiError, Problem, bad_request, endpoint_not_found, unauthorized
from mockserver.models import Directives, Scope
from mockserver.representation import order_json, summary_json
from mockserver.urls import Match
from mockserver.validation import validate_body, validate_path_params
from mockserver.webhook_responses import WEBHOOK_HANDLERS

api = Blueprint("api", __name__)

# Every method reaches the router, so an unknown one is the server's 404, never a 405.
ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT"]
Handler = Callable[[ChannelManagerBackend, Caller, Scope, Match], tuple[int, Any]]


def backend() -> ChannelManagerBackend:
    return current_app.extensions["otacm"].backend


@api.route("/", defaults={"path": ""}, methods=ALL_METHODS)
@api.route("/<path:path>", methods=ALL_METHODS)
def dispatch(path: str) -> Response:
    """Every API request: authenticate, route by the spec, answer JSON."""
    match: Match | None = None
    try:
        caller = backend().caller_for(_api_key())
        if caller is None:
            raise unauthorized()
        match = current_app.extensions["otacm"].urls.match(request.method, _raw_path())
        if match is None or match.operation.operation_id not in HANDLERS:
            raise endpoint_not_found()
        validate_path_params(match.operation, match.params)
        scope: Scope = (match.params["tenant"].lower(), match.params["environment"].lower(), match.params["company"])
        status, body = HANDLERS[match.operation.operation_id](backend(), caller, scope, match)
    except ApiError as error:
        status, body = error.status, error.body()
    return json_response(status, body, match.operation.operation_id if match else None)


def json_response(status: int, body: Any, operation_id: str | None) -> Response:
    if current_app.extensions["otacm"].config.validate_responses and operation_id:
        _assert_conforms(operation_id, status, body)
    if body is None:
        return Response(status=status)
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


# -- request parts -----------------------------------------------------------
def _api_key() -> str | None:
    key = request.headers.get("x-np-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _raw_path() -> str:
    """The path as sent, before `%2F` and `%25` are decoded."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0]
    return request.environ.get("PATH_INFO", "/")


def _json_body(operation_id: str) -> dict[str, Any]:
    """The request body parsed and validated against the operation's schema."""
    content_type = request.mimetype or ""
    if request.content_length and content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, "generic_error", f"Content-Type must be application/json (got {content_type or 'none'})")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError) as error:
        raise bad_request("Body must be a JSON object", [Problem("(body)", f"is not valid JSON: {error}")]) from None
    return validate_body(operation_id, body)


def _sync() -> bool:
    return request.args.get("sync", "").lower() in ("1", "true")


def _directives() -> Directives | None:
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


# -- handlers -----------------------------------------------------------------
def create_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> tuple[int, Any]:
    body = _json_body("createOrder")
    directives = _directives()
    return 201, order_json(be.create_order(caller, scope, body, directives, _sync()))


def get_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> tuple[int, Any]:
    return 200, order_json(be.get_order(caller, scope, match.params["orderId"]))


def replace_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> tuple[int, Any]:
    body = _json_body("replaceOrder")
    directives = _directives()
    return 200, order_json(be.replace_order(caller, scope, match.params["orderId"], body, directives, _sync()))


def confirm_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> tuple[int, Any]:
    order = be.confirm_order(caller, scope, match.params["orderId"], lambda: _json_body("confirmOrder"))
    return 200, order_json(order)


def delete_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> tuple[int, Any]:
    return 200, order_json(be.delete_order(caller, scope, match.params["orderId"]))


def list_orders_by_partner(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> tuple[int, Any]:
    query = list_query(request.args.to_dict(), load_spec().document["components"]["schemas"]["OrderStatus"]["enum"])
    orders, more = be.list_orders(caller, scope, match.params["partnerId"], query)
    next_key = str(orders[-1].seq) if more else ""
    next_url = ""
    if more:
        next_url = request.base_url + "?" + urlencode({**request.args.to_dict(), "pageKey": next_key})
    return 200, {
        "morePages": more,
        "nextPageKey": next_key,
        "nextPageURL": next_url,
        "data": [summary_json(order) for order in orders],
    }


HANDLERS: dict[str, Handler] = {
    "createOrder": create_order,
    "getOrder": get_order,
    "replaceOrder": replace_order,
    "confirmOrder": confirm_order,
    "deleteOrder": delete_order,
    "listOrdersByPartner": list_orders_by_partner,
    **WEBHOOK_HANDLERS,
}


# -- test mode ------------------------------------------------------------------
class ResponseViolatesSpec(AssertionError):
    """The mock answered something its own spec does not allow (a mock bug)."""


def _assert_conforms(operation_id: str, status: int, body: Any) -> None:
    spec = load_spec()
    if str(status) not in spec.operations[operation_id].status_codes:
        raise ResponseViolatesSpec(f"{operation_id} answered {status}, which the spec does not list")
    validator = spec.response_validator(operation_id, str(status), strict=True)
    if validator is None:
        return
    errors: list[ValidationError] = list(validator.iter_errors(body))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])
        raise ResponseViolatesSpec(f"{operation_id} {status} response violates the spec: {details}")
