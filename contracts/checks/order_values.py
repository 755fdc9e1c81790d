"""Checks on the values an order answer carries besides its lines' and wallets' counts: what the buyer sent,
the order's own reference, which lines are packages, what an asset is.

Docs 000 and 002 say these in words or show them in the examples' request and
answer side by side: the header's sellTo* fields and paymentReference come
back as sent, `buyFromOrderReference` is "returned in every response", a
package line is one (`isPackage`), each asset "is either a ticket or a
coupon" with its number. The defaults CONTRACT.md takes from the server (a
wallet named after its item, a line's buyer the header's, unknown fields
ignored) are `strict`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from contracts.checks.documents import (
    document,
    documents,
    lines,
    request_lines,
    sent_body,
    shown,
    status_before,
    wallets,
)
from contracts.checks.listing_walks import instant
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence, OrderHistory

HEADER = ("sellToEmail", "sellToName", "sellToLanguage", "paymentReference")
LINE_CONTACT = ("sellToName", "sellToEmail", "sellToLanguage")
MINTED = frozenset({"Draft", "Issued"})
ASSET_TYPES = ("ticket", "coupon")


def expected_header(history: OrderHistory) -> Iterator[tuple[Exchange, dict[str, Any], dict[str, str]]]:
    """Each order answer (Cancelled ones aside) with the header values it must carry: those of the body that made
    its contents (the create's or the last accepted replace's), and the paymentReference of an accepted confirm
    of a Draft after it."""
    confirmed: str | None = None
    for exchange in history.exchanges:
        if exchange.operation == "replaceOrder" and exchange.ok:
            confirmed = None
        elif exchange.operation == "confirmOrder" and exchange.ok and isinstance(exchange.body, dict) \
                and exchange.body.get("paymentReference") and status_before(history, exchange) == "Draft":
            confirmed = str(exchange.body["paymentReference"])
        order = document(exchange)
        if order is None or order["status"] == "Cancelled":
            continue  # CONTRACT.md says what a Cancelled order keeps only at strict (items, statusMessage, jobId)
        sent = sent_body(history, exchange)
        wanted = {key: sent[key] for key in HEADER if isinstance(sent.get(key), str)}
        if confirmed is not None:
            wanted["paymentReference"] = confirmed
        yield exchange, order, wanted


@check(family="orders", subject="order", rules=["orders.header-echo"])
def header_echoed(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """The buyer (sellToEmail, sellToName, sellToLanguage) and paymentReference come back as sent, and as a
    replace or a confirm sent them after (compared case-insensitively: the server upper-cases some)."""
    judged, findings = False, []
    for exchange, order, wanted in expected_header(history):
        judged = judged or bool(wanted)
        wrong = {key: order.get(key) for key, value in wanted.items()
                 if not isinstance(order.get(key), str) or order[key].casefold() != value.casefold()}
        if wrong:
            findings.append(shown(exchange, f"{order['status']} order carries {wrong}; sent "
                                            f"{ {key: wanted[key] for key in wrong} }"))
    return findings[:3] if judged else None


@check(family="orders", subject="order", rules=["orders.reference-stable"])
def buy_from_reference_stable(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """Every answer about an order carries its orderId and the same non-empty buyFromOrderReference, from the
    createOrder answer on (doc 000: "returned in every response"; doc 002: the Submitted answer carries it), and
    the same receivedAt until a replace (the docs' answers all show the one time the order was received; what a
    replace does to it is CONTRACT.md's, strict: replace_resubmits)."""
    pairs = list(documents(history))
    findings: list[Finding] = []
    first: tuple[Exchange, str] | None = None
    received: tuple[Exchange, Any] | None = None
    for exchange, order in pairs:
        if exchange.operation == "replaceOrder":
            received = None
        findings += _identity_problems(history, exchange, order, first)
        reference = order.get("buyFromOrderReference")
        if first is None and isinstance(reference, str) and reference:
            first = (exchange, reference)
        at = instant(order.get("receivedAt"))
        if received is None:
            received = (exchange, at)
        elif at != received[1]:
            findings.append(shown(exchange, f"{exchange.operation} answered receivedAt {order.get('receivedAt')!r}; "
                                            f"{received[0].operation} had answered another time for the same order"))
    return findings[:3] if pairs else None


def _identity_problems(history: OrderHistory, exchange: Exchange, order: dict[str, Any],
                       first: tuple[Exchange, str] | None) -> list[Finding]:
    found = []
    reference = order.get("buyFromOrderReference")
    if str(order.get("orderId", "")).lower() != history.order_id.lower():
        found.append(shown(exchange, f"the answer about order {history.order_id} carries orderId "
                                     f"{order.get('orderId')!r}"))
    if not isinstance(reference, str) or not reference:
        found.append(shown(exchange, f"{exchange.operation} answered the {order['status']} order with "
                                     f"buyFromOrderReference {reference!r}; every answer carries it"))
    elif first is not None and reference != first[1]:
        found.append(shown(exchange, f"{exchange.operation} answered buyFromOrderReference {reference!r}; "
                                     f"{first[0].operation} had answered {first[1]!r} for the same order"))
    return found


def _package_kind(item: Any, venue: dict[str, Any]) -> bool | None:
    """True for the venue's package items, False for its ticket items, None for an item the venue does not name."""
    item = str(item)
    if item in {str(venue.get(k)) for k in ("package_item", "plain_package_item") if venue.get(k)}:
        return True
    if item in {str(venue.get(k)) for k in ("individual_item", "group_item") if venue.get(k)}:
        return False
    return None


@check(family="orders", subject="order", rules=["orders.is-package"])
def package_flag(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """A line's isPackage is true for the venue's package items and false for its ticket items."""
    judged, findings = False, []
    for exchange, order in documents(history):
        for line in lines(order):
            wanted = _package_kind(line.get("itemNumber"), ctx.venue)
            if wanted is None or "isPackage" not in line:
                continue  # an item the venue does not name; a missing key is the strict shapes'
            judged = True
            if line["isPackage"] is not wanted:
                findings.append(shown(exchange, f"{order['status']} order, line {line.get('lineNo')} (item "
                                                f"{line.get('itemNumber')}): isPackage {line['isPackage']!r}, "
                                                f"expected {wanted} (the venue's {'package' if wanted else 'ticket'})"))
    return findings[:3] if judged else None


@check(family="orders", subject="order", rules=["orders.assets"])
def asset_kinds(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """Each asset of a minted wallet is a ticket or a coupon (type "ticket" or "coupon") and carries its number
    (a non-empty referenceNumber)."""
    judged, findings = False, []
    for exchange, order in documents(history):
        if order["status"] not in MINTED:
            continue
        for line in lines(order):
            for wallet in wallets(line):
                for asset in [a for a in wallet.get("assets") or [] if isinstance(a, dict)]:
                    judged = True
                    number = asset.get("referenceNumber")
                    if asset.get("type") not in ASSET_TYPES or not isinstance(number, str) or not number:
                        findings.append(shown(exchange, f"{order['status']} order, line {line.get('lineNo')}, "
                                                        f"wallet {wallet.get('seqNo')}: an asset of type "
                                                        f"{asset.get('type')!r} with referenceNumber {number!r}; "
                                                        "each is a 'ticket' or a 'coupon' with its number"))
    return findings[:3] if judged else None


@check(family="orders", subject="order", rules=["orders.wallet-name-default"], level="strict")
def wallet_name_default(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """A minted wallet of a line sent without wallet.names is named after its item: the line's description."""
    judged, findings = False, []
    for exchange, order in documents(history):
        if order["status"] not in MINTED:
            continue
        for sent, line in zip(request_lines(sent_body(history, exchange)), lines(order), strict=False):
            named = isinstance(sent.get("wallet"), dict) and "names" in sent["wallet"]
            description = line.get("description")
            if named or not isinstance(description, str) or not description:
                continue
            judged = True
            wrong = [w.get("name") for w in wallets(line) if w.get("name") != description]
            if wrong:
                findings.append(shown(exchange, f"{order['status']} order, line {line.get('lineNo')}: wallets named "
                                                f"{wrong}; without wallet.names a wallet is named after its item, "
                                                f"{description!r}"))
    return findings[:3] if judged else None


@check(family="orders", subject="order", rules=["orders.line-defaults"], level="strict")
def line_contact_defaults(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """A line sent without its own sellToName, sellToEmail or sellToLanguage carries the header's."""
    judged, findings = False, []
    for exchange, order in documents(history):
        for sent, line in zip(request_lines(sent_body(history, exchange)), lines(order), strict=False):
            for key in (k for k in LINE_CONTACT if k not in sent and k in line):
                judged = True
                if line[key] != order.get(key, ""):
                    findings.append(shown(exchange, f"{order['status']} order, line {line.get('lineNo')}: {key} "
                                                    f"{line[key]!r}; a line without its own takes the header's "
                                                    f"{order.get(key, '')!r}"))
    return findings[:3] if judged else None


@check(family="orders", subject="run", rules=["orders.unknown-fields"], level="strict")
def unknown_fields_ignored(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """An order with fields nobody defined (in the header and in a line) is accepted: 201, the fields ignored."""
    made = [h for h in evidence.histories if h.facts.get("unknown_fields") and h.calls("createOrder")]
    findings = []
    for history in made:
        created = history.calls("createOrder")[0]
        if created.status != 201 or document(created) is None:
            findings.append(shown(created, f"createOrder of a valid order with unknown fields answered "
                                           f"{created.status}; unknown fields are ignored (201 with the order)"))
    return findings if made else None
