"""Reading the order documents a probe recorded: what the order checks look at.

Helpers only (no checks): the answers that carry an order, its lines and
wallets, what the order looked like before a call, and a `Finding` that
shows the call (its curl command and answer) so a person can see it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from contracts.checks.registry import Finding

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import OrderHistory

IN_FLIGHT = frozenset({"Submitted", "Scheduled", "Processing"})
SETTLED = frozenset({"Issued", "Draft", "Error"})
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def document(exchange: "Exchange") -> dict[str, Any] | None:
    """The order an answer carries (a 2xx with a `status`), else None."""
    body = exchange.response
    if exchange.ok and isinstance(body, dict) and isinstance(body.get("status"), str):
        return body
    return None


def documents(history: "OrderHistory", *operations: str) -> Iterator[tuple["Exchange", dict[str, Any]]]:
    """Every (call, order) the history holds, optionally of some operations only."""
    for exchange in history.exchanges:
        found = document(exchange)
        if found is not None and (not operations or exchange.operation in operations):
            yield exchange, found


def lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    items = order.get("items")
    return [line for line in items if isinstance(line, dict)] if isinstance(items, list) else []


def wallets(line: dict[str, Any]) -> list[dict[str, Any]]:
    found = line.get("wallets")
    return [w for w in found if isinstance(w, dict)] if isinstance(found, list) else []


def all_wallets(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for line in lines(order) for w in wallets(line)]


def request_lines(body: Any) -> list[dict[str, Any]]:
    items = body.get("items") if isinstance(body, dict) else None
    return [line for line in items if isinstance(line, dict)] if isinstance(items, list) else []


def sent_body(history: "OrderHistory", exchange: "Exchange") -> dict[str, Any]:
    """The body that made the order's current contents: the create's, or the last accepted replace's."""
    body = history.request
    for earlier in history.exchanges:
        if earlier.operation == "replaceOrder" and earlier.ok and isinstance(earlier.body, dict):
            body = earlier.body
        if earlier is exchange:
            break
    return body


def status_before(history: "OrderHistory", exchange: "Exchange") -> str | None:
    """The order's status in the last answer before `exchange` (None when none was seen)."""
    before = history.before(exchange)
    return before.get("status") if isinstance(before, dict) else None


def shown(exchange: "Exchange", message: str, where: str = "", warning: bool = False) -> Finding:
    """A finding about one call, with the call to reproduce it."""
    answer = exchange.error or f"{exchange.status}"
    return Finding(message, where or f"{exchange.operation} ({exchange.method} answered {answer})",
                   (exchange.curl(), exchange.render(800)), warning)


def error_shape(body: Any) -> str:
    """Why an error body is not the flat `{code, message}` ("" when it is)."""
    if not isinstance(body, dict):
        return f"expected a JSON object {{code, message}}, got {str(body)[:120]!r}"
    for key in ("code", "message"):
        if not isinstance(body.get(key), str) or not body.get(key):
            return f"expected a non-empty string '{key}' at the top level of the error body (got keys {sorted(body)})"
    return ""
