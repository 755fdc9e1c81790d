"""Who may use the control side (`/_mock/` and the dashboard).

On loopback it is open, as it always was. Bound to any other interface (or
with `controlToken` set in the config) every control request must carry the
control token: header `x-otacm-control-token`, or the `otacm_control` cookie
that `/_mock/ui?token=...` sets so a browser works. Compared in constant time.
The Orders API is not guarded here: it keeps its own `x-np-api-key` rules.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlencode

from flask import Response, current_app, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

TOKEN_HEADER = "x-otacm-control-token"
TOKEN_COOKIE = "otacm_control"


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the mock on this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def token_for(host: str, configured: str | None) -> str | None:
    """The token in force: the configured one, else a fresh one off loopback, else None (open)."""
    if configured:
        return configured
    # hex, not urlsafe: a token starting with "-" would be read as an option by `otacm clock --token ...`
    return None if is_loopback(host) else secrets.token_hex(24)


def _matches(sent: str | None, token: str) -> bool:
    return sent is not None and sent != "" and hmac.compare_digest(sent.encode("utf-8"), token.encode("utf-8"))


def guard() -> BaseResponse | None:
    """`before_request` of every control blueprint: None lets the request through."""
    token: str | None = current_app.extensions["otacm"].control_token
    if token is None:
        return None
    if _matches(request.headers.get(TOKEN_HEADER), token) or _matches(request.cookies.get(TOKEN_COOKIE), token):
        return None
    if request.method == "GET" and _matches(request.args.get("token"), token):
        return _remember(token)
    message = (f"the control API needs the control token printed at start: header {TOKEN_HEADER}, "
               "or open /_mock/ui?token=... in a browser")
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":  # a browser
        page = f"<!doctype html><title>otacm sandbox</title><h1>Control token needed</h1><p>{message}.</p>"
        return Response(page, 401, mimetype="text/html")
    response = jsonify({"code": "unauthorized", "message": message})
    response.status_code = 401
    return response


def _remember(token: str) -> BaseResponse:
    """Set the cookie and redirect to the same page without the token in the URL."""
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    response = redirect(request.path + ("?" + urlencode(rest) if rest else ""))
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
    return response
