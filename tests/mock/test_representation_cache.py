"""The cached JSON of an order (Representation.order_bytes, summary_bytes)
must follow every change of the order: each read over HTTP is compared with
the order rendered afresh from the store, after every kind of change."""

from __future__ import annotations

import json
from typing import Any

from mockclient import Api, order_body

from mockserver.sandbox.models import Order
from mockserver.sandbox.representation import summary_bytes, summary_json


def order_json(api: Api, order: Order) -> dict[str, Any]:
    return api.mock.app.extensions["otacm"].representation.order_json(order)


def read(api: Api, order_id: str) -> dict[str, Any]:
    """getOrder twice (the second from the cache) and the order rendered afresh: all equal."""
    first, second = api.get(order_id), api.get(order_id)
    assert first.status_code == 200 and first.content == second.content
    order = api.mock.backend.store.get(order_id)
    assert first.json() == order_json(api, order)
    return first.json()


def row(api: Api, order_id: str) -> dict[str, Any]:
    """The order's row in listOrdersByPartner, checked against a fresh summary."""
    rows = [r for r in api.list(api.mock.partner_id).json()["data"] if r["orderId"] == order_id]
    assert len(rows) == 1
    assert rows[0] == summary_json(api.mock.backend.store.get(order_id))
    return rows[0]


def test_status_transitions_on_a_clock_warp_show_in_get_and_list(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    assert read(api, order_id)["status"] == "Submitted" and row(api, order_id)["status"] == "Submitted"
    api.mock.clock.advance(60)  # the pickup
    assert read(api, order_id)["status"] == "Scheduled" and row(api, order_id)["status"] == "Scheduled"
    api.mock.clock.advance(1)
    assert read(api, order_id)["status"] == "Processing"
    api.mock.clock.advance(3)
    issued = read(api, order_id)
    assert issued["status"] == "Issued" and issued["items"][0]["wallets"][0]["walletId"] != "0" * 8 + "-0000-0000-0000-000000000000"
    assert row(api, order_id)["manifestUrl"] == issued["manifestUrl"] != ""


def test_confirm_shows_the_payment_and_the_manifest(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id, payment=None)).json()["orderId"]
    api.mock.clock.advance(120)
    assert read(api, order_id)["status"] == "Draft" and row(api, order_id)["paymentReference"] == ""
    assert api.confirm(order_id, {"paymentReference": "pay-9"}).status_code == 200
    confirmed = read(api, order_id)
    assert confirmed["status"] == "Issued" and confirmed["paymentReference"] == "PAY-9" and confirmed["manifestUrl"]
    assert row(api, order_id)["paymentReference"] == "PAY-9"


def test_replace_shows_the_new_header_and_the_wallet_shells(api: Api) -> None:
    body = order_body(api.mock.partner_id, payment=None, sellToName="First")  # a Draft can be replaced
    order_id = api.create(body).json()["orderId"]
    api.mock.clock.advance(120)
    assert read(api, order_id)["sellToName"] == "First" and row(api, order_id)["jobId"]
    assert api.replace(order_id, {**body, "sellToName": "Second"}).status_code == 200
    replaced = read(api, order_id)
    assert replaced["sellToName"] == "Second" and replaced["status"] == "Submitted" and replaced["jobId"] == ""
    assert row(api, order_id)["sellToName"] == "Second"


def test_delete_shows_cancelled_without_items_or_removes_the_order(api: Api) -> None:
    issued = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    draft = api.create(order_body(api.mock.partner_id, payment=None)).json()["orderId"]
    api.mock.clock.advance(120)
    read(api, issued), read(api, draft), row(api, issued)
    assert api.delete(issued).json()["status"] == "Cancelled"
    cancelled = read(api, issued)
    assert cancelled["status"] == "Cancelled" and cancelled["items"] == []
    assert row(api, issued)["status"] == "Cancelled"
    removed = api.delete(draft).json()
    assert removed["status"] == "Cancelled" and removed["items"] == []
    assert api.get(draft).status_code == 404


def test_a_stall_flipped_to_error_shows_the_error_message(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id), prefer="stall=Processing").json()["orderId"]
    api.mock.clock.advance(120)
    assert read(api, order_id)["status"] == "Processing"
    api.mock.clock.advance(3600)
    failed = read(api, order_id)
    assert failed["status"] == "Error" and "stuck in Processing" in failed["statusMessage"]
    assert row(api, order_id)["statusMessage"] == failed["statusMessage"]


def test_cached_bytes_are_dropped_by_changed(api: Api) -> None:
    """The unit under the HTTP tests: a cache hit is the same object; a change drops it."""
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    order = api.mock.backend.store.get(order_id)
    order_bytes = api.mock.app.extensions["otacm"].representation.order_bytes
    with api.mock.backend.lock:
        cached, summary = order_bytes(order), summary_bytes(order)
        assert order_bytes(order) is cached and summary_bytes(order) is summary
        order.sell_to_name = "Changed"
        order.changed()
        assert json.loads(order_bytes(order))["sellToName"] == "Changed"
        assert json.loads(summary_bytes(order))["sellToName"] == "Changed"



def test_an_unfiltered_page_is_the_filtered_walk_without_filters() -> None:
    """store.page's quick path (no status, reference or receivedAtTo) against the general walk."""
    import random

    from mockserver.sandbox.models import Order
    from mockserver.store.base import ListQuery
    from mockserver.store.memory import MemoryStore

    rng, store, scope = random.Random(7), MemoryStore(), ("t", "e", "c")
    orders = [Order(f"id-{n}", scope, "p", f"R{n}", f"B{n}", received_at=float(n // 3), seq=n) for n in range(1, 400)]
    for order in orders:
        store.add(order)
    for order in rng.sample(orders, 80):
        store.remove(order)
    for _ in range(300):
        query = ListQuery(after_seq=rng.randrange(-1, 420), page_size=rng.randrange(1, 60),
                          received_from=rng.choice([None, float(rng.randrange(0, 140))]))
        walked = [o for o in store._candidates((scope, "p"), query) if o.seq > query.after_seq]
        expected = (walked[:query.page_size], len(walked) > query.page_size)
        assert store.page(scope, "p", query) == expected
