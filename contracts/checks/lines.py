"""Checks on an order's lines and on what a replace leaves out: what the answer must contain, line by line.

An order has one line per request line, echoing what was sent (docs 000,
002). How the lines are numbered (`lineNo` 100000, 200000, …), their order,
the wallets' `seqNo` 1..n and the clearing of header fields a replace body
leaves out are CONTRACT.md's server lines: `strict` only. What was sent is
the create's body or the last accepted replace's (`sent_body`); a Cancelled
order has no lines (`items` []), and the line checks never judge it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from contracts.checks.documents import (
    IN_FLIGHT,
    document,
    documents,
    lines,
    request_lines,
    sent_body,
    shown,
    wallets,
)
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, OrderHistory

MINTED = frozenset({"Draft", "Issued"})
WITH_LINES = MINTED | IN_FLIGHT | {"Error"}  # every status but Cancelled
HEADER = ("sellToEmail", "sellToName", "sellToLanguage", "paymentReference")  # the header fields a replace sets
LINE_STEP = 100000


def _sent(line: dict[str, Any]) -> tuple[Any, ...]:
    """What a request line asks for, as the answer must echo it (quantity defaults to 1)."""
    return str(line.get("itemNumber")), line.get("quantity", 1), line.get("visitDate"), line.get("visitTime")


def _answered(line: dict[str, Any]) -> tuple[Any, ...]:
    item = line.get("itemNumber")
    return None if item is None else str(item), line.get("quantity"), line.get("visitDate"), line.get("visitTime")


def _with_lines(history: OrderHistory, statuses: frozenset[str]) -> list[tuple[Exchange, dict[str, Any]]]:
    return [(e, d) for e, d in documents(history) if d["status"] in statuses]


@check(family="orders", subject="order", rules=["orders.line-echo", "orders.line-order"])
def lines_echo_request(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """One line per request line, echoing itemNumber, quantity (default 1), visitDate and visitTime as sent.

    Draft and Issued orders at both levels, the lines in any order (the docs
    do not say it); at `strict` in request order, and in flight and on
    Error too (CONTRACT.md: every line, with its shells, in request order).
    """
    strict = ctx.strictness == "strict"
    pairs = _with_lines(history, WITH_LINES if strict else MINTED)
    findings = []
    for exchange, order in pairs:
        wanted = [_sent(line) for line in request_lines(sent_body(history, exchange))]
        got = [_answered(line) for line in lines(order)]
        if got == wanted or (not strict and sorted(map(repr, got)) == sorted(map(repr, wanted))):
            continue
        findings.append(shown(exchange, f"{order['status']} order: lines (itemNumber, quantity, visitDate, visitTime) "
                                        f"{got}; expected one per request line{', in request order,' if strict else ''}"
                                        f" as sent: {wanted}"))
    return findings if pairs else None


@check(family="orders", subject="order", rules=["orders.line-numbers"], level="strict")
def line_numbers(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """Lines are numbered lineNo 100000, 200000, … in the order they are answered (request order)."""
    pairs = [(e, d) for e, d in _with_lines(history, WITH_LINES) if lines(d)]
    findings = []
    for exchange, order in pairs:
        got = [line.get("lineNo") for line in lines(order)]
        wanted = [LINE_STEP * (index + 1) for index in range(len(got))]
        if got != wanted:
            findings.append(shown(exchange, f"{order['status']} order: lineNo {got}; expected {wanted}"))
    return findings if pairs else None


@check(family="orders", subject="order", rules=["orders.wallet-seq"], level="strict")
def wallet_sequence(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """Each line's wallets are numbered seqNo 1..n (shells and minted wallets alike)."""
    judged, findings = False, []
    for exchange, order in _with_lines(history, WITH_LINES):
        for line in lines(order):
            got = [w.get("seqNo") for w in wallets(line)]
            if not got:
                continue
            judged = True
            if got != list(range(1, len(got) + 1)):
                findings.append(shown(exchange, f"{order['status']} order, line {line.get('lineNo')}: wallet seqNo "
                                                f"{got}; expected {list(range(1, len(got) + 1))}"))
    return findings if judged else None


def _unknown_after(exchange: Exchange) -> bool:
    """A replace whose outcome the run cannot know: no answer, a server error, or a sync call that failed
    issuance (it may have taken the body and left the order in Error)."""
    status = exchange.status
    return status is None or status >= 500 or (status == 400 and bool(exchange.query.get("sync")))


def cleared_by_replace(history: OrderHistory) -> Iterator[tuple[Exchange, dict[str, Any], frozenset[str]]]:
    """Every order answer after an accepted replace, with the header fields that replace's body left out.

    A confirm sets paymentReference, so from an accepted confirm on it is no
    longer one of them.
    """
    cleared: frozenset[str] = frozenset()
    for exchange in history.exchanges:
        if exchange.operation == "replaceOrder" and exchange.ok and isinstance(exchange.body, dict):
            cleared = frozenset(key for key in HEADER if key not in exchange.body)
        elif exchange.operation == "replaceOrder" and _unknown_after(exchange):
            cleared = frozenset()
        elif exchange.operation == "confirmOrder" and exchange.ok:
            cleared -= {"paymentReference"}
        found = document(exchange)
        if cleared and found is not None:
            yield exchange, found, cleared


@check(family="orders", subject="order", rules=["orders.replace-clears"], level="strict")
def replace_clears_absent_fields(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """Header fields a replace body leaves out are cleared: "" in its answer and in every later read."""
    judged, findings = False, []
    for exchange, order, cleared in cleared_by_replace(history):
        judged = True
        kept = {key: order[key] for key in sorted(cleared) if order.get(key) not in (None, "")}
        if kept:
            findings.append(shown(exchange, f"{order['status']} order after a replace that left out "
                                            f"{', '.join(sorted(cleared))}: still {kept}; expected \"\""))
    return findings if judged else None
