"""Orders as plain JSON values and back: what a durable store and a snapshot write down.

The cached renderings (`Order.rendered`, `Order.summary`) are never written:
they are rebuilt on the first read after loading.

A durable store opening a large file builds its orders with `stored_order`:
the fields its indexes need at once, the rest decoded from the JSON on the
first read of any of them. Decoding 100,000 orders up front was most of the
seconds `otacm mock --store sqlite:…` took to answer its first request; most
of them are never read in a session.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from types import MappingProxyType
from typing import Any, Optional

from mockserver.sandbox.models import Asset, ComponentVisit, Directives, Order, OrderLine, StatusChange, Wallet

NOT_WRITTEN = frozenset({"rendered", "summary", "stored"})  # caches: neither a store nor a snapshot holds them
#: what a store's indexes read of every order (memory.MemoryStore.add), set at once by `stored_order`
INDEXED = ("order_id", "scope", "partner_id", "sell_to_order_reference", "received_at", "seq", "status")
_WRITTEN = tuple(field.name for field in dataclasses.fields(Order) if field.name not in NOT_WRITTEN)


def order_to_dict(order: Order) -> dict[str, Any]:
    """Every field of the order but its cached renderings, as JSON-ready values."""
    return {name: _plain(getattr(order, name)) for name in _WRITTEN}


def order_from_dict(data: dict[str, Any]) -> Order:
    fields = dict(data)
    fields["scope"] = tuple(fields["scope"])
    fields["lines"] = [_line(line) for line in fields.get("lines", [])]
    fields["directives"] = Directives(**fields.get("directives", {}))
    fields["history"] = [StatusChange(**change) for change in fields.get("history", [])]
    return Order(**fields)


def _line(data: dict[str, Any]) -> OrderLine:
    fields = dict(data)
    fields["component_schedule"] = [ComponentVisit(**visit) for visit in fields.get("component_schedule", [])]
    fields["wallets"] = [_wallet(wallet) for wallet in fields.get("wallets", [])]
    return OrderLine(**fields)


def _wallet(data: dict[str, Any]) -> Wallet:
    fields = dict(data)
    fields["assets"] = [Asset(**asset) for asset in fields.get("assets", [])]
    return Wallet(**fields)


def _plain(value: Any) -> Any:
    """A dataclass as a dict of its fields, a list or tuple as a list, each item made plain; anything else as it is.
    Every order written goes through here (a durable store's every unit): the models' field names are worked out
    once (`_FIELDS`), not asked of `dataclasses` at every value, which took ~60 µs of a createOrder's CPU."""
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if kind in _AS_IS:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # not one of the models: the slow way
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    return value


_FIELDS = MappingProxyType({kind: tuple(field.name for field in dataclasses.fields(kind))
                            for kind in (OrderLine, ComponentVisit, Wallet, Asset, Directives, StatusChange)})
_AS_IS = frozenset({str, int, float, bool, type(None)})


# -- orders decoded on first read ---------------------------------------------------
def stored_order(order_id: str, scope: tuple[str, str, str], partner_id: str, reference: str,
                 received_at: float, seq: int, status: str, body: str) -> Order:
    """An order whose indexed fields are set and whose other fields come from `body` (order_to_dict's JSON,
    as text) the first time one is read or written; it is then a plain `Order` (its class is switched)."""
    order = object.__new__(_StoredOrder)
    for name, value in zip(INDEXED, (order_id, scope, partner_id, reference, received_at, seq, status), strict=True):
        _SLOTS[name].__set__(order, value)
    for name in NOT_WRITTEN:
        _SLOTS[name].__set__(order, None)
    _SLOTS["stored"].__set__(order, body)
    return order


class _StoredOrder(Order):
    """An `Order` not decoded yet. Same layout (no slot of its own), so `_decode` can make it a plain Order,
    after which its fields are read at slot speed; the `_Deferred` descriptors below are its only code."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        _decode(self)
        if isinstance(other, Order):
            _decode(other)
        return Order.__eq__(self, other)


class _Deferred:
    """A field of a `_StoredOrder` outside the index: reading or writing it decodes the whole order first."""

    __slots__ = ("slot",)

    def __init__(self, slot: Any) -> None:
        self.slot = slot

    def __get__(self, order: Optional[Order], owner: Optional[type] = None) -> Any:
        if order is None:
            return self
        _decode(order)
        return self.slot.__get__(order, Order)

    def __set__(self, order: Order, value: Any) -> None:
        _decode(order)
        self.slot.__set__(order, value)


def _decode(order: Order) -> None:
    """Fill the fields the index does not hold from the stored JSON; the indexed ones (the status may have
    changed since the load) are kept. Under one lock: a reader decoding outside the backend's lock must not
    write old values over a field the backend sets meanwhile (its set waits here, then finds it done)."""
    with _DECODING:
        body = _SLOTS["stored"].__get__(order, Order)
        if body is None:
            return
        full = order_from_dict(json.loads(body))
        for name in _DEFERRED:
            _SLOTS[name].__set__(order, _SLOTS[name].__get__(full, Order))
        _SLOTS["stored"].__set__(order, None)
        order.__class__ = Order


_DECODING = threading.Lock()


_SLOTS = MappingProxyType({f.name: getattr(Order, f.name) for f in dataclasses.fields(Order)})
_DEFERRED = tuple(name for name in _SLOTS if name not in INDEXED and name not in NOT_WRITTEN)
for _name in _DEFERRED:
    setattr(_StoredOrder, _name, _Deferred(_SLOTS[_name]))
