"""A thin HTTP client for the mock's API, shared by the mock's tests."""

from __future__ import annotations

import itertools
from typing import Any

import requests

from mockserver.sandbox.clock import parse_instant
from mockserver.server import MockServer

FROZEN_START = parse_instant("2026-05-15T09:30:00Z")  # the `mock` fixture's clock (tests/conftest.py)
VISIT_DATE = "2026-06-01"  # after the tests' frozen start, 2026-05-15
_references = itertools.count(1)


def order_body(
    partner_id: str,
    reference: str | None = None,
    payment: str | None = "PAY-1",
    items: list[dict[str, Any]] | None = None,
    **header: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnerId": partner_id,
        "sellToOrderReference": reference or f"ref-{next(_references)}",
        "items": items or [line()],
        **header,
    }
    if payment:
        body["paymentReference"] = payment
    return body


def line(item: str = "31001", quantity: int = 1, visit_time: str = "10:30:00", **extra: Any) -> dict[str, Any]:
    return {"itemNumber": item, "visitDate": VISIT_DATE, "visitTime": visit_time, "quantity": quantity, **extra}


class Api:
    """The six order operations over real HTTP, as a partner would call them."""

    def __init__(self, mock: MockServer, api_key: str | None = None, base_url: str | None = None) -> None:
        self.mock = mock
        self.base = base_url or mock.base_url
        self.session = requests.Session()
        self.session.headers["x-np-api-key"] = api_key or mock.api_key

    def create(self, body: Any, prefer: str | None = None, sync: bool = False) -> requests.Response:
        return self.session.post(self.base + "/channelManager", json=body, params=_sync(sync), headers=_prefer(prefer))

    def get(self, order_id: str) -> requests.Response:
        return self.session.get(f"{self.base}/channelManager/{order_id}")

    def replace(self, order_id: str, body: Any, prefer: str | None = None, sync: bool = False) -> requests.Response:
        return self.session.put(
            f"{self.base}/channelManager/{order_id}", json=body, params=_sync(sync), headers=_prefer(prefer)
        )

    def confirm(self, order_id: str, body: Any = None) -> requests.Response:
        return self.session.post(f"{self.base}/channelManager/{order_id}/confirm", json=body)

    def delete(self, order_id: str) -> requests.Response:
        return self.session.delete(f"{self.base}/channelManager/{order_id}")

    def list(self, partner_id: str, **params: str) -> requests.Response:
        return self.session.get(f"{self.base}/channelManager/orders/{partner_id}", params=params)

    def status(self, order_id: str) -> str:
        return self.get(order_id).json()["status"]

    def history(self, order_id: str) -> list[str]:
        """The statuses the mock recorded for an order, in order (control API)."""
        orders = requests.get(self.mock.url + "/_mock/orders").json()["orders"]
        (found,) = [o for o in orders if o["orderId"] == order_id]
        return [change["status"] for change in found["history"]]


def _sync(sync: bool) -> dict[str, str]:
    return {"sync": "1"} if sync else {}


def _prefer(prefer: str | None) -> dict[str, str]:
    return {"Prefer": prefer} if prefer else {}
