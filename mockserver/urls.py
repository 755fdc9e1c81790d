"""The one module that wires handlers to routes (moto's `urls.py` role).

The API's operations reach their handlers through one catch-all rule and the
spec-built `UrlTable` (routing.py); the `/_mock/` control blueprints are
registered here too, so `register_routes` is everything an app serves.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Mapping

from flask import Flask, Response, request
from werkzeug.routing import PathConverter, Rule

from mockserver import responses, webhook_responses
from mockserver.access import guard
from mockserver.backend import Caller, ChannelManagerBackend
from mockserver.control import control as control_api
from mockserver.dashboard import dashboard
from mockserver.errors import API_METHODS, ApiError, endpoint_not_found, unauthorized, unsupported_method
from mockserver.http import api_key, json_response, raw_path
from mockserver.models import Scope
from mockserver.routing import Match
from mockserver.state import state

Handler = Callable[[ChannelManagerBackend, Caller, Scope, Match], tuple[int, Any]]

# operationId (from the spec) → handler
HANDLERS: Mapping[str, Handler] = MappingProxyType({
    "createOrder": responses.create_order,
    "getOrder": responses.get_order,
    "replaceOrder": responses.replace_order,
    "confirmOrder": responses.confirm_order,
    "deleteOrder": responses.delete_order,
    "listOrdersByPartner": responses.list_orders_by_partner,
    "createWebhookSubscription": webhook_responses.create_webhook_subscription,
    "listWebhookSubscriptions": webhook_responses.list_webhook_subscriptions,
    "getWebhookSubscription": webhook_responses.get_webhook_subscription,
    "deleteWebhookSubscription": webhook_responses.delete_webhook_subscription,
})


class AnyPath(PathConverter):
    """Werkzeug's `path`, but also across a decoded `%0A`: a tenant or company
    may hold any character, and a path Flask cannot match would get
    Werkzeug's 404 instead of the API's answer."""

    regex = "[^/](?s:.*?)"


def dispatch(path: str) -> Response:
    """Every API request: authenticate, check the method, route by the spec, answer JSON."""
    match: Match | None = None
    mock = state()
    try:
        caller = mock.backend.caller_for(api_key())
        if caller is None:
            raise unauthorized()
        if request.method not in API_METHODS:
            raise unsupported_method(request.method)
        match = mock.urls.match(request.method, raw_path())
        if match is None or match.operation.operation_id not in HANDLERS:
            raise endpoint_not_found()
        mock.validator.validate_path_params(match.operation, match.params)
        scope: Scope = (match.params["tenant"].lower(), match.params["environment"].lower(), match.params["company"])
        status, body = HANDLERS[match.operation.operation_id](mock.backend, caller, scope, match)
    except ApiError as error:
        status, body = error.status, error.body()
    return json_response(status, body, match.operation.operation_id if match else None)


def register_routes(app: Flask, control: bool = True) -> None:
    """Everything the app serves: the dashboard and the control API first,
    each behind the control token's guard (unless `control` is off: then `/`
    and `/_mock/` fall through to the API's own 401/404), then the API's
    catch-all.

    The catch-all rules have no `methods`, so every method, known or not,
    reaches `dispatch` (Flask's `route` would list some and let Werkzeug
    answer 405 for the rest; the server has no 405).
    """
    if control:
        for blueprint in (dashboard, control_api, webhook_responses.webhook_control):  # the dashboard's `/` first
            app.register_blueprint(blueprint)
            app.before_request_funcs.setdefault(blueprint.name, []).append(guard)
    app.url_map.converters["anypath"] = AnyPath
    app.url_map.add(Rule("/", defaults={"path": ""}, endpoint="api"))
    app.url_map.add(Rule("/<anypath:path>", endpoint="api"))
    app.view_functions["api"] = dispatch
