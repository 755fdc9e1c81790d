"""Checks on what confirmOrder, deleteOrder and replaceOrder do to an order, judged by the state it was in.

The state before a call is the last answer the probe saw for the order
(`OrderHistory.before`); what a call did is its answer and the getOrder
after it. Doc 000's lifecycle table and "Replacing versus deleting" are the
rules; the 400 of a refused call and the kept `receivedAt` are the server's
(CONTRACT.md), asserted with the flat error body at both levels as the
project decided, the exact wording only at `strict` (contracts.checks.rejections).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.checks.documents import EMPTY_GUID, IN_FLIGHT, all_wallets, document, error_shape, shown, status_before
from contracts.checks.registry import Finding, check
from contracts.checks.rejections import invalid_reason

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, OrderHistory


def calls_from(history: "OrderHistory", operation: str, states: set[str] | frozenset[str]) -> list["Exchange"]:
    """The calls of `operation` made while the order was in one of `states` (never after a delete removed it:
    the answer that delete gave, `Cancelled`, is not the state of a row that is gone)."""
    return [e for e in history.calls(operation) if status_before(history, e) in states
            and not _removed_before(history, e)]


def after(history: "OrderHistory", exchange: "Exchange", operation: str = "getOrder") -> "Exchange | None":
    """The first call of `operation` after `exchange`."""
    seen = False
    for later in history.exchanges:
        if seen and later.operation == operation:
            return later
        seen = seen or later is exchange
    return None


def refused(exchange: "Exchange", why: str) -> list[Finding]:
    """A call that must be refused: 400 with the flat error body."""
    if exchange.status != 400:
        return [shown(exchange, f"{why}: expected 400, got {exchange.status}")]
    problem = error_shape(exchange.response)
    return [shown(exchange, f"{why}: 400 without the flat error body: {problem}")] if problem else []


def _judge(exchanges: list["Exchange"], judge: Any) -> list[Finding] | None:
    return [f for e in exchanges for f in judge(e)] if exchanges else None


@check(family="calls", subject="order", rules=["calls.confirm-draft"])
def confirm_issues_draft(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """confirmOrder on a Draft (with a paymentReference) answers 200 Issued, and getOrder then says Issued."""
    def judge(exchange: "Exchange") -> list[Finding]:
        if not _paying(exchange):
            return []
        order, later = document(exchange), after(history, exchange)
        if exchange.status != 200 or not order or order["status"] != "Issued":
            return [shown(exchange, f"confirmOrder on a Draft answered {exchange.status} "
                                    f"{(order or {}).get('status', '')}; expected 200 with the order Issued")]
        if later is not None and (document(later) or {}).get("status") != "Issued":
            return [shown(later, "after confirmOrder answered Issued, getOrder does not say Issued")]
        return []
    return _judge(calls_from(history, "confirmOrder", {"Draft"}), judge)


@check(family="calls", subject="order", rules=["calls.confirm-payment"])
def confirm_needs_payment_reference(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """confirmOrder on a Draft without a paymentReference is refused (400): confirming releases a payment."""
    unpaid = [e for e in calls_from(history, "confirmOrder", {"Draft"}) if not _paying(e)]
    return _judge(unpaid, lambda e: refused(e, "confirmOrder on a Draft without a paymentReference"))


def _paying(exchange: "Exchange") -> bool:
    """Whether a confirmOrder sent a (non-empty) paymentReference."""
    return isinstance(exchange.body, dict) and bool(exchange.body.get("paymentReference"))


def _unchanged(history: "OrderHistory", exchange: "Exchange", sent: str) -> list[Finding]:
    """confirmOrder on an Issued order answered 200 with the order as it was (status, payment, wallets)."""
    before, order = history.before(exchange), document(exchange)
    if exchange.status != 200 or order is None:
        return [shown(exchange, f"confirmOrder on an Issued order ({sent}) answered {exchange.status}; expected 200 "
                                "with the order unchanged")]
    ids = [[w.get("walletId") for w in all_wallets(d)] for d in (before, order)]
    changed = [k for k in ("status", "paymentReference") if order.get(k) != before.get(k)]
    if changed or ids[0] != ids[1]:
        return [shown(exchange, f"confirmOrder on an Issued order changed it ({', '.join(changed) or 'wallets'})")]
    return []


@check(family="calls", subject="order", rules=["calls.confirm-issued-noop"])
def confirm_on_issued_unchanged(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """confirmOrder (with a paymentReference) on an Issued order is a no-op: 200 with the order unchanged."""
    return _judge([e for e in calls_from(history, "confirmOrder", {"Issued"}) if _paying(e)],
                  lambda e: _unchanged(history, e, "with another paymentReference"))


@check(family="calls", subject="order", rules=["calls.confirm-issued-body"], level="strict")
def confirm_on_issued_reads_no_body(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """confirmOrder on an Issued order answers it unchanged without reading the body: a body without a
    paymentReference is no reason to refuse it (CONTRACT.md, server)."""
    return _judge([e for e in calls_from(history, "confirmOrder", {"Issued"}) if not _paying(e)],
                  lambda e: _unchanged(history, e, "a body without a paymentReference"))


@check(family="calls", subject="order", rules=["calls.confirm-refused"])
def confirm_refused_unless_draft(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """confirmOrder on an order in flight (or Error, Cancelled) is refused with 400."""
    return _judge(calls_from(history, "confirmOrder", IN_FLIGHT | {"Error", "Cancelled"}),
                  lambda e: refused(e, f"confirmOrder on a {status_before(history, e)} order"))


@check(family="calls", subject="order", rules=["calls.delete-in-flight"])
def delete_refused_in_flight(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """deleteOrder is refused while the order is Submitted, Scheduled or Processing."""
    return _judge(calls_from(history, "deleteOrder", IN_FLIGHT),
                  lambda e: refused(e, f"deleteOrder on a {status_before(history, e)} order"))


@check(family="calls", subject="order", rules=["calls.delete-issued"])
def delete_keeps_cancelled_row(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """deleteOrder on an Issued order answers 200; the row stays, Cancelled."""
    def judge(exchange: "Exchange") -> list[Finding]:
        if exchange.status != 200:
            return [shown(exchange, f"deleteOrder on an Issued order answered {exchange.status}; expected 200")]
        later = after(history, exchange)
        status = (document(later) or {}).get("status") if later else None
        if later is not None and status != "Cancelled":
            return [shown(later, f"after deleting an Issued order getOrder answered {later.status} {status or ''}; "
                                 "the row must stay, Cancelled")]
        return []
    return _judge(calls_from(history, "deleteOrder", {"Issued"}), judge)


@check(family="calls", subject="order", rules=["calls.delete-idempotent"])
def delete_cancelled_again(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """deleteOrder on a Cancelled order answers 200 and it stays Cancelled (idempotent)."""
    def judge(exchange: "Exchange") -> list[Finding]:
        status = (document(exchange) or {}).get("status")
        if exchange.status != 200 or status != "Cancelled":
            return [shown(exchange, f"deleting a Cancelled order again answered {exchange.status} {status or ''}; "
                                    "expected 200, still Cancelled")]
        return []
    return _judge(calls_from(history, "deleteOrder", {"Cancelled"}), judge)


def _removed_before(history: "OrderHistory", exchange: "Exchange") -> bool:
    """Whether a delete of the order as Draft or Error (which removes the row) came before `exchange`."""
    earlier = history.exchanges[:history.exchanges.index(exchange)]
    return any(e.operation == "deleteOrder" and e.ok and status_before(history, e) in ("Draft", "Error")
               for e in earlier)


@check(family="calls", subject="order", rules=["calls.delete-removes"])
def delete_removes_draft_or_error(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """deleteOrder on a Draft or Error order answers 200 and removes the row: every later call finds no order
    (404: getOrder, a second deleteOrder, confirmOrder, replaceOrder)."""
    def judge(exchange: "Exchange") -> list[Finding]:
        was = status_before(history, exchange)
        if exchange.status != 200:
            return [shown(exchange, f"deleteOrder on a {was} order answered {exchange.status}; expected 200")]
        later = history.exchanges[history.exchanges.index(exchange) + 1:]
        return [shown(e, f"after deleting a {was} order {e.operation} answered {e.status}; the row must be removed "
                         "(404)") for e in later if e.status is not None and e.status != 404][:1]
    removing = calls_from(history, "deleteOrder", {"Draft", "Error"})
    return _judge(removing[:1], judge)


def _identity_changed(history: "OrderHistory", exchange: "Exchange") -> str:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    for key in ("partnerId", "sellToOrderReference"):
        if str(body.get(key, "")).casefold() != str(history.request.get(key, "")).casefold():
            return key
    return ""


@check(family="calls", subject="order", rules=["calls.replace-states"])
def replace_refused_unless_draft_or_error(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """replaceOrder is refused (400) outside Draft and Error."""
    return _judge(calls_from(history, "replaceOrder", IN_FLIGHT | {"Issued", "Cancelled"}),
                  lambda e: refused(e, f"replaceOrder on a {status_before(history, e)} order"))


@check(family="calls", subject="order", rules=["calls.replace-identity"])
def replace_keeps_identity(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """replaceOrder may not change partnerId or sellToOrderReference: 400."""
    changing = [e for e in calls_from(history, "replaceOrder", {"Draft", "Error"}) if _identity_changed(history, e)]
    return _judge(changing, lambda e: refused(e, f"replaceOrder changing {_identity_changed(history, e)}"))


@check(family="calls", subject="order", rules=["calls.replace-resubmits", "calls.replace-received-at"])
def replace_resubmits(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """replaceOrder on Draft/Error answers 200 with the same order (orderId, buyFromOrderReference) re-submitted.

    Async: the answer is Submitted (in flight); with `?sync=1` the final order.
    At `strict` also `receivedAt` is kept (CONTRACT.md, server).
    """
    def judge(exchange: "Exchange") -> list[Finding]:
        before, order = history.before(exchange), document(exchange)
        if exchange.status != 200 or order is None:
            return [shown(exchange, f"replaceOrder on a {before.get('status')} order answered {exchange.status}; "
                                    "expected 200 with the order re-submitted")]
        kept = ["orderId", "buyFromOrderReference"] + (["receivedAt"] if ctx.strictness == "strict" else [])
        changed = [k for k in kept if order.get(k) != before.get(k)]
        findings = [shown(exchange, f"replaceOrder changed {', '.join(changed)}; an order keeps its identity")] \
            if changed else []
        if exchange.query.get("sync") is None and order["status"] not in IN_FLIGHT:
            findings.append(shown(exchange, f"replaceOrder answered status {order['status']}; expected Submitted "
                                            "(the order goes through the async pipeline again)"))
        return findings
    accepted = [e for e in calls_from(history, "replaceOrder", {"Draft", "Error"})
                if not _identity_changed(history, e) and not _invalid(ctx, e)]
    return _judge(accepted, judge)


def _invalid(ctx: "CheckContext", exchange: "Exchange") -> str:
    """Why a replace body is input createOrder refuses ("" when it is not): the body is as create's."""
    return invalid_reason(exchange.body, ctx.venue, exchange.at)


@check(family="calls", subject="order", rules=["calls.replace-invalid"])
def replace_invalid_refused(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """replaceOrder on a Draft or Error with input createOrder refuses (quantity 0) is refused (400), and the
    order stays as it was (its next answer has the status it had)."""
    def judge(exchange: "Exchange") -> list[Finding]:
        was, found = status_before(history, exchange), refused(exchange, f"replaceOrder with {_invalid(ctx, exchange)}")
        later = next((document(e) for e in history.exchanges[history.exchanges.index(exchange) + 1:]
                      if document(e) is not None), None)
        if not found and later is not None and later["status"] != was and not _moved_by(history, exchange):
            found.append(shown(exchange, f"after a refused replaceOrder the {was} order is {later['status']}"))
        return found
    invalid = [e for e in calls_from(history, "replaceOrder", {"Draft", "Error"})
               if not _identity_changed(history, e) and _invalid(ctx, e)]
    return _judge(invalid, judge)


def _moved_by(history: "OrderHistory", exchange: "Exchange") -> bool:
    """Whether a call after `exchange` and before the order's next answer moved it."""
    for later in history.exchanges[history.exchanges.index(exchange) + 1:]:
        if document(later) is not None:
            return later.operation != "getOrder"
    return False


@check(family="calls", subject="order", rules=["calls.replace-new-wallets"])
def replace_mints_new_wallets(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """After a replace the order settles with new wallets: the old ones were destroyed."""
    findings, judged = [], False
    for exchange in history.calls("replaceOrder"):
        if not exchange.ok:
            continue
        old = {wallet_id for e in history.exchanges[:history.exchanges.index(exchange)]
               for w in all_wallets(document(e) or {}) if (wallet_id := w.get("walletId"))}
        later = [document(e) for e in history.exchanges[history.exchanges.index(exchange):]]
        settled = next((d for d in later if d and d["status"] in ("Draft", "Issued")), None)
        if not old or settled is None:
            continue
        judged = True
        reused = sorted(old & {w.get("walletId") for w in all_wallets(settled)} - {None, "", EMPTY_GUID})
        if reused:
            findings.append(shown(exchange, f"after replaceOrder the order settled {settled['status']} with the old "
                                            f"wallet(s) {reused}; replace destroys wallets and issues new ones"))
    return findings if judged else None
