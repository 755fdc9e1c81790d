"""The one module that wires handlers to routes (moto's `urls.py` role).

Every request enters through `Gateway`, the app's WSGI entry. The API's
operations go straight to their handlers: one Werkzeug request, the
spec-built `UrlTable` (routing.py), the handler, one JSON response, with no
Flask request context (its push, routing, signals and teardown cost more
than the mock's own work on a cached read: ~60 us a request). The dashboard
and the `/_mock/` control API are Flask blueprints, registered here too, so
`register_routes` is everything an app serves.
"""

from __future__ import annotations

from time import perf_counter
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Optional

from flask import Flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request

from mockserver.api import responses, webhook_responses
from mockserver.api.answer import JsonAnswer
from mockserver.api.http import Call, api_key, json_response, raw_path
from mockserver.api.routing import Match
from mockserver.api.state import MockState
from mockserver.control.access import guard
from mockserver.control.api import control as control_api
from mockserver.control.dashboard import dashboard
from mockserver.sandbox.errors import (
    API_METHODS,
    ApiError,
    endpoint_not_found,
    from_http_error,
    internal_error,
    store_unavailable,
    unauthorized,
    unsupported_method,
)
from mockserver.sandbox.models import Scope
from mockserver.store.base import StoreUnavailable

Handler = Callable[[Call], tuple[int, Any]]

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

CONTROL_PREFIX = "/_mock"


Routed = tuple[JsonAnswer, Optional[str], Optional[Mapping[str, str]]]


def dispatch(mock: MockState, request: Request) -> Routed:
    """Every API request: authenticate, check the method, route by the spec, answer JSON. Also gives what the
    request log keeps of the route (the operationId and the path's parameters; None when none matched)."""
    operation_id: str | None = None
    params: Mapping[str, str] | None = None
    checked = mock.spec if mock.config.validate_responses else None
    try:
        caller = mock.backend.caller_for(api_key(request))
        if caller is None:
            match = _route(mock, request)  # named in the log, though not served (nor checked)
            if match is not None:
                operation_id, params = match.operation.operation_id, match.params
            checked = None
            raise unauthorized()
        if request.method not in API_METHODS:
            raise unsupported_method(request.method)
        match = _route(mock, request)
        if match is None:
            raise endpoint_not_found()
        operation_id, params = match.operation.operation_id, match.params
        mock.validator.validate_path_params(match.operation, match.params)
        scope: Scope = (match.params["tenant"].lower(), match.params["environment"].lower(), match.params["company"])
        status, body = HANDLERS[operation_id](Call(mock, request, caller, scope, match))
    except ApiError as error:
        status, body = error.status, error.body()
    except StoreUnavailable as error:  # its database is out of reach: nothing was done (the spec lists no 503)
        status, body, checked = 503, store_unavailable(str(error)).body(), None
    except HTTPException as error:  # Werkzeug's, reading the body: 413 too large, 400 a broken stream
        api_error = from_http_error(error, request.method, mock.config.max_body_bytes)
        status, body, checked = api_error.status, api_error.body(), None
    return json_response(status, body, checked, operation_id), operation_id, params


def _route(mock: MockState, request: Request) -> Optional[Match]:
    """The spec's operation a request reaches, with its path's parameters, when a handler serves it."""
    match = mock.urls.match(request.method, raw_path(request)) if request.method in API_METHODS else None
    return match if match is not None and match.operation.operation_id in HANDLERS else None


class Gateway:
    """The app's WSGI entry (`app.wsgi_app`): what the dashboard and the
    `/_mock/` blueprints serve goes to Flask when the control side is on;
    every other request to `dispatch`, as the server's catch-all would take it
    (an unknown `/_mock/` path or method gets the API's 401/404).

    A `GET /` with an API key is an API client's, although the dashboard's page
    lives there: it gets the API's own answer. `flask_paths` takes more exact
    paths for Flask (the bench's limit route).

    Each API request, answered, is handed to the request log (request_log.py)
    here, and only here: what goes to Flask (the dashboard, `/_mock/`) is not
    logged."""

    def __init__(self, app: Flask, mock: MockState, control: bool) -> None:
        self.flask_wsgi = app.wsgi_app
        self.url_map = app.url_map
        self.mock = mock
        self.control = control
        self.flask_paths: set[str] = set()
        self.log = mock.request_log if mock.request_log.capturing else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._for_flask(environ):
            return self.flask_wsgi(environ, start_response)
        started = perf_counter()
        request = Request(environ)
        request.max_content_length = self.mock.config.max_body_bytes
        try:
            response, operation_id, params = dispatch(self.mock, request)
        except Exception as error:  # a bug in the mock: JSON, never a stack trace page
            api_error = internal_error(error)
            response, operation_id, params = json_response(api_error.status, api_error.body()), None, None
        if self.log is not None:
            self.log.capture(request, response, operation_id, params, started)
        return response(environ, start_response)

    def _for_flask(self, environ: dict[str, Any]) -> bool:
        path = environ.get("PATH_INFO", "")
        if path in self.flask_paths:
            return True
        if not self.control or not (path == "/" or path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")):
            return False
        if path == "/" and (environ.get("HTTP_X_NP_API_KEY") or environ.get("HTTP_AUTHORIZATION")):
            return False
        try:
            self.url_map.bind_to_environ(environ).match()
        except (NotFound, MethodNotAllowed):
            return False
        except HTTPException:  # a redirect (a missing trailing slash): Flask answers it
            return True
        return True


def register_routes(app: Flask, mock: MockState, control: bool = True) -> None:
    """Everything the app serves: the dashboard and the control API, each
    behind the control token's guard (unless `control` is off: then `/` and
    `/_mock/` are API paths like any other, answering the API's own 401/404),
    and the API through the gateway."""
    if control:
        for blueprint in (dashboard, control_api, webhook_responses.webhook_control):
            app.register_blueprint(blueprint)
            app.before_request_funcs.setdefault(blueprint.name, []).append(guard)
    app.wsgi_app = Gateway(app, mock, control)  # type: ignore[method-assign]
