"""Orders as plain JSON values and back: what a durable store and a snapshot write down.

The cached renderings (`Order.rendered`, `Order.summary`) are never written:
they are rebuilt on the first read after loading.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mockserver.sandbox.models import Asset, ComponentVisit, Directives, Order, OrderLine, StatusChange, Wallet

NOT_WRITTEN = frozenset({"rendered", "summary"})  # the caches: neither a store nor a snapshot holds them


def order_to_dict(order: Order) -> dict[str, Any]:
    """Every field of the order but its cached renderings, as JSON-ready values."""
    return {f.name: _plain(getattr(order, f.name)) for f in dataclasses.fields(order) if f.name not in NOT_WRITTEN}


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
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
