"""Orders a durable store loads undecoded (store/codec.py `stored_order`): the same order on every read."""

from __future__ import annotations

import json

from mockserver.sandbox.models import Order, OrderLine, StatusChange
from mockserver.store.codec import order_to_dict, stored_order


def _order() -> Order:
    line = OrderLine(100000, "TICKET-ADULT", "Adult ticket", False, 2, 2, "2026-06-01", "", "", "", "")
    return Order("o-1", ("t", "e", "c"), "p-1", "REF-1", "BUY-1", 1000.0, 7, status="Draft",
                 sell_to_email="guest@example.com", lines=[line],
                 history=[StatusChange("Submitted", 1000.0, "createOrder"), StatusChange("Draft", 1010.0, "issuance")])


def _stored(order: Order) -> Order:
    return stored_order(order.order_id, order.scope, order.partner_id, order.sell_to_order_reference,
                        order.received_at, order.seq, order.status, json.dumps(order_to_dict(order)))


def test_the_indexed_fields_are_read_without_decoding() -> None:
    stored = _stored(_order())
    assert (stored.order_id, stored.partner_id, stored.seq, stored.status) == ("o-1", "p-1", 7, "Draft")
    assert stored.stored is not None and type(stored) is not Order


def test_the_first_read_of_another_field_decodes_the_whole_order() -> None:
    original = _order()
    stored = _stored(original)
    assert stored.sell_to_email == "guest@example.com"
    assert type(stored) is Order and stored.stored is None
    assert stored == original and order_to_dict(stored) == order_to_dict(original)
    assert stored.lines[0].item_number == "TICKET-ADULT" and stored.history[-1].status == "Draft"


def test_a_status_changed_before_decoding_is_kept() -> None:
    stored = _stored(_order())
    stored.status = "Issued"  # an indexed field: set in place, nothing decoded
    assert type(stored) is not Order
    stored.payment_reference = "PAY-1"  # a deferred field: decoded first, then set
    assert type(stored) is Order
    assert (stored.status, stored.payment_reference, stored.sell_to_email) == ("Issued", "PAY-1", "guest@example.com")


def test_equality_decodes_either_side() -> None:
    original = _order()
    assert _stored(original) == original and original == _stored(original)
    assert _stored(original) == _stored(original)
    other = _order()
    other.sell_to_email = "else@example.com"
    assert _stored(original) != other
