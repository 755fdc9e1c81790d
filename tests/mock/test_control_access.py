"""Access to the control side: open on loopback, token-guarded elsewhere."""

from __future__ import annotations

import re
from typing import Iterator

import pytest
import requests

from contracts.cli import build_parser
from mockserver.cli import mock_config
from mockserver.control.access import TOKEN_COOKIE, TOKEN_HEADER, is_loopback
from mockserver.server import MockServer, frozen_config

GUARDED = ["/", "/_mock/ui", "/_mock/ui/orders", "/_mock/clock", "/_mock/info", "/_mock/orders",
           "/_mock/webhooks/deliveries", "/_mock/webhooks/subscriptions"]


@pytest.fixture(scope="module")
def shared() -> Iterator[MockServer]:
    """Bound to every interface, as a team would share it."""
    with MockServer(frozen_config(), host="0.0.0.0") as server:
        yield server


def _url(server: MockServer, path: str) -> str:
    return f"http://127.0.0.1:{server.url.rsplit(':', 1)[1]}{path}"


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                            ("0.0.0.0", False), ("192.168.1.5", False), ("example.com", False)])
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("path", GUARDED)
def test_off_loopback_every_control_path_needs_the_token(shared: MockServer, path: str) -> None:
    assert shared.control_token and len(shared.control_token) >= 24
    denied = requests.get(_url(shared, path))
    assert denied.status_code == 401 and set(denied.json()) == {"code", "message"}
    assert "otacm-sandbox-key" not in denied.text
    wrong = requests.get(_url(shared, path), headers={TOKEN_HEADER: shared.control_token + "x"})
    assert wrong.status_code == 401
    allowed = requests.get(_url(shared, path), headers={TOKEN_HEADER: shared.control_token})
    assert allowed.status_code == 200


def test_a_browser_without_the_token_gets_a_page_saying_how(shared: MockServer) -> None:
    page = requests.get(_url(shared, "/_mock/ui"), headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 401 and "text/html" in page.headers["Content-Type"]
    assert "?token=" in page.text and shared.control_token not in page.text


def test_info_shows_the_api_key_only_with_the_token(shared: MockServer) -> None:
    assert "apiKey" not in requests.get(_url(shared, "/_mock/info")).text
    info = requests.get(_url(shared, "/_mock/info"), headers={TOKEN_HEADER: shared.control_token}).json()
    assert info["apiKey"] == shared.api_key


def test_posts_need_the_token_too(shared: MockServer) -> None:
    before = shared.backend.clock.now()
    assert requests.post(_url(shared, "/_mock/clock/advance"), json={"by": "1h"}).status_code == 401
    assert requests.post(_url(shared, "/_mock/reset"), json={}).status_code == 401
    assert shared.backend.clock.now() == before


def test_a_browser_gets_a_cookie_from_the_token_link(shared: MockServer) -> None:
    browser = requests.Session()
    first = browser.get(_url(shared, f"/_mock/ui?token={shared.control_token}"), allow_redirects=False)
    assert first.status_code == 302 and first.headers["Location"] == "/_mock/ui"
    assert "HttpOnly" in first.headers["Set-Cookie"] and "SameSite=Strict" in first.headers["Set-Cookie"]
    assert TOKEN_COOKIE in browser.cookies
    assert browser.get(_url(shared, "/_mock/ui")).status_code == 200
    assert browser.post(_url(shared, "/_mock/clock/advance"), json={"by": "1m"}).status_code == 200


def test_the_orders_api_keeps_its_own_rules(shared: MockServer) -> None:
    base = _url(shared, shared.base_url.split(str(shared.url), 1)[1])
    orders = f"{base}/channelManager/orders/{shared.partner_id}"
    assert requests.get(orders).status_code == 401
    assert requests.get(orders, headers={"x-np-api-key": shared.api_key}).status_code == 200
    # an API client at `/` gets the API's answer, not the guard's
    assert requests.get(_url(shared, "/"), headers={"x-np-api-key": shared.api_key}).status_code == 404


def test_on_loopback_nothing_changes(mock: MockServer) -> None:
    assert mock.control_token is None
    assert requests.get(mock.url + "/_mock/info").json()["apiKey"] == mock.api_key
    assert requests.get(mock.url + "/_mock/ui").status_code == 200


def test_a_configured_token_is_required_even_on_loopback() -> None:
    with MockServer(frozen_config(control_token="s3cret-token")) as server:
        assert requests.get(server.url + "/_mock/clock").status_code == 401
        assert requests.get(server.url + "/_mock/clock", headers={TOKEN_HEADER: "s3cret-token"}).status_code == 200


def test_cli_generates_a_token_off_loopback_and_takes_one_given() -> None:
    assert mock_config(build_parser().parse_args(["mock"])).control_token is None
    generated = mock_config(build_parser().parse_args(["mock", "--host", "0.0.0.0"])).control_token
    assert generated and len(generated) >= 24
    given = mock_config(build_parser().parse_args(["mock", "--host", "0.0.0.0", "--control-token", "abc"]))
    assert given.control_token == "abc"


def test_generated_tokens_can_be_typed_after_token() -> None:
    """The banner prints `--token <token>`; a token starting with "-" would be taken for an option."""
    from mockserver.control.access import token_for

    tokens = {token_for("0.0.0.0", None) for _ in range(300)}
    assert all(t and re.fullmatch(r"[0-9a-f]{48}", t) for t in tokens)
    parsed = build_parser().parse_args(["clock", "--url", "http://x", "--token", sorted(tokens)[0], "show"])
    assert parsed.token == sorted(tokens)[0]


def test_otacm_clock_sends_the_token(shared: MockServer, capsys) -> None:
    url = _url(shared, "")
    assert build_parser().parse_args(["clock", "--url", url, "show"]).handler(
        build_parser().parse_args(["clock", "--url", url, "show"])) == 2
    args = build_parser().parse_args(["clock", "--url", url, "--token", shared.control_token, "show"])
    assert args.handler(args) == 0
    assert "pending" in capsys.readouterr().out


def test_banner_prints_the_dashboard_and_the_token_off_loopback(capsys) -> None:
    from mockserver.cli import _announce
    from mockserver.store import StoreInfo, inspect_store

    memory = inspect_store("memory")
    assert memory == StoreInfo("in memory (lost on exit; --store sqlite:sandbox.db keeps it)")
    config = mock_config(build_parser().parse_args(["mock", "--host", "0.0.0.0", "--control-token", "tok-123"]))
    _announce(config, "http://0.0.0.0:8080", memory)
    text = capsys.readouterr().out
    assert "http://0.0.0.0:8080/_mock/ui?token=tok-123" in text and "--token tok-123" in text
    _announce(mock_config(build_parser().parse_args(["mock"])), "http://127.0.0.1:8080", memory)
    text = capsys.readouterr().out
    assert "  state       in memory (lost on exit; --store sqlite:sandbox.db keeps it)\n" in text
    assert "http://127.0.0.1:8080/_mock/ui\n" in text and "token" not in text
