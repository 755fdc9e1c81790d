"""An API answer as the gateway sends it (urls.py): a status and its JSON, already serialised.

Its own module, free of the app's state, so the request log (which keeps what
an answer said) and the handlers' helpers (http.py) both use it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterable

from werkzeug import http as werkzeug_http


class JsonAnswer:
    """An API answer: its status and its JSON, serialised (None: no body, a 204), and a WSGI app sending
    them exactly as werkzeug's Response did (the same status line and headers; no body for HEAD) without
    building one: that took ~7.6 µs of a getOrder's ~27 µs of Python (issue 19)."""

    __slots__ = ("status_code", "body")

    def __init__(self, status_code: int, body: bytes | None) -> None:
        self.status_code = status_code
        self.body = body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = self.body
        if body is None:
            headers = [("Content-Type", "text/plain; charset=utf-8")]
            if self.status_code not in (204, 304):
                headers.append(("Content-Length", "0"))
            start_response(_status_line(self.status_code), headers)
            return []
        start_response(_status_line(self.status_code),
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


@lru_cache(maxsize=64)
def _status_line(status: int) -> str:
    return f"{status} {werkzeug_http.HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}"  # as werkzeug writes it
