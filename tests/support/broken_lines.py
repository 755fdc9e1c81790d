"""Broken mocks for the rules on order lines and on what a replace clears (contracts/checks/lines.py).

Each is a realistic defect of an implementation that only single-line orders
would never show: lines answered in reverse, numbered 1, 2, 3, wallets
counted from 0, a quantity not echoed, a replace that keeps the old contact.
tests/support/broken_rules.RULE_BREAKS names them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broken_targets import rewrite_orders

from mockserver.server import MockServer

Order = dict[str, Any]


def _each_line(change: Callable[[dict[str, Any]], None]) -> Callable[[MockServer], None]:
    """Change, in place, every line of every order answered."""
    def apply(server: MockServer) -> None:
        def rewrite(method: str, path: str, code: int, order: Order) -> Order | None:
            for line in order.get("items") or []:
                change(line)
            return order
        rewrite_orders(server, rewrite)
    return apply


def _reversed(method: str, path: str, code: int, order: Order) -> Order | None:
    """The lines in reverse request order, each keeping its own lineNo."""
    items = order.get("items")
    return {**order, "items": items[::-1]} if isinstance(items, list) and len(items) > 1 else None


def _counted(method: str, path: str, code: int, order: Order) -> Order | None:
    """lineNo 1, 2, 3 (an index) instead of 100000, 200000, 300000."""
    for index, line in enumerate(order.get("items") or []):
        line["lineNo"] = index + 1
    return order


def _seq_from_zero(line: dict[str, Any]) -> None:
    for index, wallet in enumerate(line.get("wallets") or []):
        wallet["seqNo"] = index


def _quantity_one(line: dict[str, Any]) -> None:
    line["quantity"] = 1


def lines_reversed(server: MockServer) -> None:
    rewrite_orders(server, _reversed)


def line_numbers_counted(server: MockServer) -> None:
    rewrite_orders(server, _counted)


wallets_from_zero = _each_line(_seq_from_zero)
quantity_not_echoed = _each_line(_quantity_one)


def _replace_keeps_contact(server: MockServer, replace: Any) -> Any:
    """replaceOrder keeps the old sellToEmail and sellToName when the body leaves them out (a merge, not a replace)."""
    def broken(caller: Any, scope: Any, order_id: str, body: Any, directives: Any, sync: bool) -> Any:
        order = server.backend.get_order(caller, scope, order_id)
        kept = {"sellToEmail": order.sell_to_email, "sellToName": order.sell_to_name}
        return replace(caller, scope, order_id, {**kept, **body}, directives, sync)
    return broken


def replace_keeps_contact(server: MockServer) -> None:
    server.backend.replace_order = _replace_keeps_contact(server, server.backend.replace_order)
