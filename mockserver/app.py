"""The application factory: `create_app(config)` wires backend, URLs and blueprints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import Flask, current_app
from werkzeug.exceptions import HTTPException

from contracts.spec import load_spec
from mockserver.backend import ChannelManagerBackend
from mockserver.clock import WarpClock
from mockserver.config import MockConfig
from mockserver.access import guard, token_for
from mockserver.control import control
from mockserver.dashboard import dashboard
from mockserver.errors import ApiError
from mockserver.responses import api, json_response
from mockserver.urls import UrlTable
from mockserver.webhook_responses import webhook_control
from mockserver.webhooks import Webhooks


@dataclass
class MockState:
    """Everything one mock instance holds; lives in `app.extensions["otacm"]`."""

    config: MockConfig
    backend: ChannelManagerBackend
    urls: UrlTable
    webhooks: Webhooks
    control_token: Optional[str] = None  # None: the control side is open (loopback)


def create_app(config: MockConfig | None = None, clock: WarpClock | None = None) -> Flask:
    config = config or MockConfig.load()
    if clock is None:  # without control nothing could move a frozen clock: it runs
        clock = WarpClock(start=config.clock_start, frozen=config.clock_mode == "frozen" and config.control)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False  # the server's key order matters in strict runs
    backend = ChannelManagerBackend(config, clock)
    webhooks = Webhooks(backend, config.webhooks).attach()
    token = token_for(config.host, config.control_token)
    app.extensions["otacm"] = MockState(config, backend, UrlTable(load_spec()), webhooks, token)
    if config.control:  # otherwise `/_mock/` and `/` fall through to the API's own 401/404
        for blueprint in (dashboard, control, webhook_control):  # the dashboard's `/` before the API's
            app.register_blueprint(blueprint)
            app.before_request_funcs.setdefault(blueprint.name, []).append(guard)
    app.register_blueprint(api)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _http_error(error: HTTPException) -> object:
    """Werkzeug's own errors (413 body too large, ...) in the API's JSON shape."""
    code = "generic_error" if error.code != 404 else "resource_not_found"
    message = error.description or error.name
    if error.code == 413:
        message = f"Request body exceeds {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    return json_response(error.code or 500, ApiError(error.code or 500, code, message).body(), None)


def _unexpected_error(error: Exception) -> object:
    """A bug in the mock: answer JSON, never a stack trace page."""
    if isinstance(error, AssertionError):  # test mode: a response that violates the spec
        message = f"otacm mock: {error}"
    else:
        message = f"otacm mock: internal error {type(error).__name__}: {error}"
    return json_response(500, {"code": "generic_error", "message": message}, None)
