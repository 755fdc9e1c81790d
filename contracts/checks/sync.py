"""Checks on synchronous issuance (`?sync=1`, the earlier API of doc 003).

A sync create or replace answers the final order (Issued with a
paymentReference, Draft without); a sync issuance that fails answers 400 and
leaves an Error row that the list finds and replaceOrder fixes; no sync call
fires the webhook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.checks.documents import all_wallets, document, error_shape, sent_body, shown
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence, OrderHistory


def sync_calls(history: "OrderHistory", operation: str) -> list["Exchange"]:
    return [e for e in history.calls(operation) if e.query.get("sync") in ("1", "true")]


def _final(history: "OrderHistory", exchange: "Exchange", status: int) -> list[Finding]:
    """The answer is the settled order the body asks for, with minted wallets."""
    order = document(exchange)
    wanted = "Issued" if (sent_body(history, exchange) or {}).get("paymentReference") else "Draft"
    call = f"{exchange.operation}?sync={exchange.query.get('sync')}"
    if exchange.status != status or order is None:
        return [shown(exchange, f"{call} answered {exchange.status}; expected {status} with the "
                                f"final order ({wanted})")]
    if order["status"] != wanted:
        return [shown(exchange, f"{call} answered status {order['status']}; expected the final "
                                f"order, {wanted}")]
    if not all_wallets(order) or not all(w.get("assets") for w in all_wallets(order)):
        return [shown(exchange, f"{call} answered {wanted} without minted wallets")]
    return []


@check(family="sync", subject="order", rules=["sync.create-final"])
def sync_create_final(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """createOrder?sync=1 answers 201 with the final order, wallets minted."""
    if history.facts.get("expect") == "Error":
        return None
    calls = [e for e in sync_calls(history, "createOrder") if e.query.get("sync") == "1"]  # "true": sync_true_final
    return [f for e in calls for f in _final(history, e, 201)] if calls else None


@check(family="sync", subject="order", rules=["sync.true"], level="strict")
def sync_true_final(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """createOrder?sync=true answers as ?sync=1 does: 201 with the final order, wallets minted (CONTRACT.md)."""
    calls = [e for e in history.calls("createOrder") if e.query.get("sync") == "true"]
    return [f for e in calls for f in _final(history, e, 201)] if calls else None


@check(family="sync", subject="order", rules=["sync.replace-final"])
def sync_replace_final(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """replaceOrder?sync=1 answers 200 with the final order, wallets minted."""
    calls = sync_calls(history, "replaceOrder")
    return [f for e in calls for f in _final(history, e, 200)] if calls else None


@check(family="sync", subject="run", rules=["sync.failure"])
def sync_failure_leaves_error(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """A sync create whose issuance fails answers 400 and leaves an Error row with a statusMessage, found by the list.

    Judged over the run: an implementation that leaves no row leaves no order id either.
    """
    failing = [h for h in evidence.histories if h.facts.get("expect") == "Error" and sync_calls(h, "createOrder")]
    return [f for h in failing for f in _failed_sync(h)] if failing else None


def _failed_sync(history: "OrderHistory") -> list[Finding]:
    created = sync_calls(history, "createOrder")[0]
    if created.status != 400:
        return [shown(created, f"createOrder?sync=1 whose issuance fails answered {created.status}; expected 400")]
    if error_shape(created.response):
        return [shown(created, f"createOrder?sync=1 failing: {error_shape(created.response)}")]
    listed = history.calls("listOrdersByPartner")
    rows = [r for e in listed for r in ((e.response or {}).get("data", []) if isinstance(e.response, dict)
                                        else e.response or []) if isinstance(r, dict)]
    if not rows:
        where = listed[0] if listed else created
        return [shown(where, "after the failed sync create no order with its sellToOrderReference is listed; "
                             "the order must rest in Error")]
    if rows[0].get("status") != "Error" or not rows[0].get("statusMessage"):
        return [shown(listed[0], f"the failed sync order is listed as {rows[0].get('status')} with statusMessage "
                                 f"{rows[0].get('statusMessage')!r}; expected Error with the failure text")]
    return []


@check(family="sync", subject="order", rules=["sync.no-webhook"])
def no_webhook_on_sync(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """An order issued only by sync calls gets no webhook event."""
    if not history.sync or history.background_settles or ctx.evidence.webhook_problem or ctx.evidence.quiet_window <= 0:
        return None
    return [Finding(f"{len(history.events)} webhook event(s) for an order issued only by ?sync=1 calls; sync calls "
                    "fire no webhook", f"order {history.order_id}",
                    tuple(str(getattr(e, "data", e))[:300] for e in history.events[:3]))] if history.events else []
