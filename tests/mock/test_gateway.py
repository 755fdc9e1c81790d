"""urls.Gateway: the API's requests reach `dispatch` without Flask; the
dashboard and `/_mock/` reach Flask; what neither serves answers as the API."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver.app import create_app
from mockserver.server import frozen_config


def _client(**config: Any) -> tuple[Flask, FlaskClient]:
    app = create_app(frozen_config(**config))
    return app, app.test_client()


def _base(app: Flask) -> str:
    config = app.extensions["otacm"].config
    return f"/{config.tenant}/{config.environment}/{config.company.replace(' ', '%20')}"


def _key(app: Flask) -> dict[str, str]:
    return {"x-np-api-key": app.extensions["otacm"].config.default_api_key}


def _create(app: Flask, client: FlaskClient) -> str:
    config = app.extensions["otacm"].config
    body = {"partnerId": config.default_partner_id, "sellToOrderReference": "GW-1", "sellToEmail": "a@example.com",
            "sellToName": "Gateway", "items": [{"itemNumber": "31001", "visitDate": "2030-01-02",
                                                 "visitTime": "10:00:00", "quantity": 1}]}
    created = client.post(f"{_base(app)}/channelManager", json=body, headers=_key(app))
    assert created.status_code == 201, created.json
    return created.json["orderId"]


def test_an_api_request_never_enters_flask() -> None:
    app, client = _client()

    def flask_would_answer(*args: Any) -> Any:
        raise AssertionError("an API request reached Flask")

    app.wsgi_app.flask_wsgi = flask_would_answer  # type: ignore[attr-defined]
    order_id = _create(app, client)
    assert client.get(f"{_base(app)}/channelManager/{order_id}", headers=_key(app)).json["orderId"] == order_id


def test_head_is_an_unsupported_method_with_no_body() -> None:
    """CONTRACT.md: any method but GET/POST/PUT/PATCH/DELETE is 400 unsupported_http_method."""
    app, client = _client()
    order_id = _create(app, client)
    head = client.head(f"{_base(app)}/channelManager/{order_id}", headers=_key(app))
    assert head.status_code == 400 and head.data == b"" and head.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("method, path", [("GET", "/_mock/nothing-here"), ("DELETE", "/_mock/clock"), ("POST", "/")])
def test_what_the_control_side_does_not_serve_answers_as_the_api(method: str, path: str) -> None:
    app, client = _client()
    assert client.open(path, method=method).status_code == 401  # no key: the API's first rule
    keyed = client.open(path, method=method, headers=_key(app))
    assert keyed.status_code == 404 and keyed.json["code"] == "resource_not_found"


def test_without_control_every_path_is_the_apis() -> None:
    app, client = _client(control=False)
    for path in ("/", "/_mock/clock", "/_mock/ui"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=_key(app)).json["code"] == "resource_not_found"


def test_a_bug_in_a_handler_is_a_flat_500_not_a_trace() -> None:
    app, client = _client()
    order_id = _create(app, client)

    def broken(*args: Any) -> Any:
        raise RuntimeError("boom")

    app.extensions["otacm"].backend.get_order = broken
    answer = client.get(f"{_base(app)}/channelManager/{order_id}", headers=_key(app))
    assert answer.status_code == 500
    assert answer.json == {"code": "generic_error", "message": "otacm mock: internal error RuntimeError: boom"}


def test_extra_flask_paths_reach_flask() -> None:
    app, client = _client()
    app.add_url_rule("/_extra", "extra", lambda: "flask", methods=["GET"])
    assert client.get("/_extra").status_code == 401  # an API path until told
    app.wsgi_app.flask_paths.add("/_extra")  # type: ignore[attr-defined]
    assert client.get("/_extra").data == b"flask"
