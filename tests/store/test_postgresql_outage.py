"""PostgreSQL stopped under a running sandbox, then started again (issue 20, point 6).

While the database is down the API answers a flat 503 (`store_unavailable`),
the control API too and the dashboard says so; nothing crashes. Once it is
back the sandbox reconnects by itself at the next request, standing exactly
where the database stood: every order answered before is there, the create
answered 503 is not, and the lifecycle goes on. The request log kept the
requests answered 503 while it could not store them.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import pytest
import requests

from mockclient import FROZEN_START, Api, order_body
from mockserver.server import MockServer, frozen_config
from postgresql_server import PostgreSQLServer, missing_reason

RECOVERY_SECONDS = 30  # the bound on the sandbox's reconnecting once the server is back


@pytest.fixture
def database() -> Iterator[tuple[PostgreSQLServer, str]]:
    """A server of its own (this test stops it), with one database."""
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = PostgreSQLServer()
    server.start()
    try:
        yield server, server.url(server.new_database())
    finally:
        server.stop()


def until_answered(send: Any) -> requests.Response:
    """The first answer that is not a 503, within RECOVERY_SECONDS (each try is one request)."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        response = send()
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@pytest.mark.timeout(180)
def test_while_postgresql_is_down_the_api_answers_503_and_recovers_with_nothing_lost(
        database: tuple[PostgreSQLServer, str]) -> None:
    server, url = database
    with MockServer(frozen_config(clock_start=FROZEN_START, store=url)) as mock:
        api = Api(mock)
        first = api.create(order_body(mock.partner_id, reference="BEFORE-1"))
        assert first.status_code == 201, first.text
        order_id = first.json()["orderId"]

        server.halt()
        refused = api.create(order_body(mock.partner_id, reference="DURING-1"))
        assert refused.status_code == 503, refused.text
        assert set(refused.json()) == {"code", "message"} and refused.json()["code"] == "store_unavailable"
        assert "cannot be reached" in refused.json()["message"]
        assert api.get(order_id).status_code == 503  # the read side may hold what the database does not
        control = requests.post(mock.url + "/_mock/clock/advance", json={"by": "5m"}, timeout=30)
        assert control.status_code == 503 and control.json()["code"] == "store_unavailable"
        page = requests.get(mock.url + "/", timeout=30)
        assert page.status_code == 503 and "database is unavailable" in page.text

        server.resume()
        again = until_answered(lambda: api.get(order_id))
        assert again.status_code == 200, again.text
        assert again.json()["sellToOrderReference"] == "BEFORE-1"
        listed = api.list(mock.partner_id).json()
        assert [o["sellToOrderReference"] for o in listed["data"]] == ["BEFORE-1"]  # the 503'd create is not there
        retried = api.create(order_body(mock.partner_id, reference="DURING-1"))
        assert retried.status_code == 201, retried.text  # the reference is free: it was never taken
        mock.clock.advance("10m")
        assert api.get(order_id).json()["status"] in ("Issued", "Draft", "Error")  # the lifecycle goes on
        logged = requests.get(mock.url + "/_mock/requests", params={"status": "503"}, timeout=30).json()["requests"]
        assert [(e["operation"], e["code"]) for e in logged] == [("getOrder", "store_unavailable"),
                                                                 ("createOrder", "store_unavailable")]  # kept meanwhile
