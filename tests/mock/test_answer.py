"""The API's answers leave as werkzeug's Response sent them (mockserver/api/answer.py): the same status
line, the same headers, no body for HEAD; only without building a Response for each."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import run_wsgi_app
from werkzeug.wrappers import Response

from mockserver.api.answer import JsonAnswer

ENVIRON = {"SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "wsgi.url_scheme": "http", "PATH_INFO": "/x",
           "SERVER_PROTOCOL": "HTTP/1.1"}


def sent(app: Any, method: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body, status, headers = run_wsgi_app(app, {**ENVIRON, "REQUEST_METHOD": method})
    return status, list(headers.items()), b"".join(body)


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
@pytest.mark.parametrize("status, body", [(200, b'{"orderId": "x", "caf\xc3\xa9": 1}'), (201, b"{}"),
                                          (400, b'{"code": "generic_error", "message": "m"}'),
                                          (503, b'{"code": "store_unavailable", "message": "m"}'), (204, None)])
def test_an_answer_is_sent_as_werkzeug_sent_it(status: int, body: bytes | None, method: str) -> None:
    werkzeug = Response(status=status) if body is None else Response(body, status=status, mimetype="application/json")
    assert sent(JsonAnswer(status, body), method) == sent(werkzeug, method)
