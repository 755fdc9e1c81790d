"""The application factory: `create_app(config)` builds one mock's state and routes."""

from __future__ import annotations

from flask import Flask, current_app, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from contracts.lifecycle import Lifecycle
from contracts.spec import Spec, load_spec
from mockserver.api.http import flask_json_response
from mockserver.api.request_log import RequestLog
from mockserver.api.routing import UrlTable
from mockserver.api.state import MockState
from mockserver.api.urls import register_routes
from mockserver.api.validation import RequestValidator
from mockserver.config import MockConfig
from mockserver.control.access import token_for
from mockserver.sandbox.backend import ChannelManagerBackend
from mockserver.sandbox.clock import WarpClock
from mockserver.sandbox.errors import from_http_error, internal_error, store_unavailable
from mockserver.sandbox.representation import Representation
from mockserver.store import open_store
from mockserver.store.base import StoreUnavailable
from mockserver.webhooks.service import Webhooks

DASHBOARD_RETRY_SECONDS = 5  # the outage page reloads itself this often


def create_app(config: MockConfig | None = None, clock: WarpClock | None = None, spec: Spec | None = None) -> Flask:
    """A mock app; the spec (default: the shipped one) reaches the lifecycle,
    routing, validation and representation only through the objects built here."""
    config = config or MockConfig.load()
    spec = spec or load_spec()
    if clock is None:  # without control nothing could move a frozen clock: it runs
        clock = WarpClock(start=config.clock_start, frozen=config.clock_mode == "frozen" and config.control)
    app = Flask(__name__, static_folder=None)  # the dashboard's assets are its blueprint's
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider's; the server's key order matters
    lifecycle = Lifecycle(spec.document["components"]["schemas"]["OrderStatus"]["x-lifecycle"])
    backend = ChannelManagerBackend(config, clock, lifecycle, open_store(config.store))
    webhooks = Webhooks(backend, config.webhooks).attach()
    # Kept while something can read it (the control side) or print it (`otacm mock --log`).
    request_log = RequestLog(backend, config.request_log_limit, spec.operations, config.request_log_print,
                             capturing=config.control or config.request_log_print is not None)
    app.extensions["otacm"] = MockState(
        config, spec, backend, UrlTable(spec), RequestValidator(spec), Representation(spec), webhooks, request_log,
        control_token=token_for(config.host, config.control_token),
    )
    register_routes(app, app.extensions["otacm"], control=config.control)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    return app


def _http_error(error: HTTPException) -> Response:
    """Werkzeug's own errors on the Flask side (the dashboard, `/_mock/`)."""
    api_error = from_http_error(error, request.method, current_app.config["MAX_CONTENT_LENGTH"])
    return flask_json_response(api_error.status, api_error.body())


def _store_unavailable(error: StoreUnavailable) -> Response:
    """The store's database is out of reach: the control API answers the API's flat 503, the dashboard a
    page that says so and looks again every few seconds."""
    api_error = store_unavailable(str(error))
    if request.path.startswith("/_mock/"):
        return flask_json_response(api_error.status, api_error.body())
    page = (f"<!doctype html><meta charset=utf-8><meta http-equiv=refresh content={DASHBOARD_RETRY_SECONDS}>"
            f"<title>otacm mock: database unavailable</title><h1>The sandbox's database is unavailable</h1>"
            f"<p>{escape(api_error.message)}</p><p>This page looks again every {DASHBOARD_RETRY_SECONDS} s.</p>")
    return Response(page, status=503, mimetype="text/html")


def _unexpected_error(error: Exception) -> Response:
    """A bug in the mock: answer JSON, never a stack trace page."""
    api_error = internal_error(error)
    return flask_json_response(api_error.status, api_error.body())
