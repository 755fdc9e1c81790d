"""Checks that need a fact of the venue the run is told (`--vars`/`--var`): its prices, an inactive partner.

Without the fact the check has nothing to judge and is skipped. The facts
are the venue's, never guessed: scenarios/vars.yaml gives the mock's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.checks.documents import documents, lines, shown, wallets
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, OrderHistory

MINTED = ("Draft", "Issued")
PRICES = ("unitPriceExclVat", "unitPriceInclVat")
CENT = 0.005


def venue_price(venue: dict[str, Any], item: str) -> tuple[str, tuple[float, float]] | None:
    """(kind, (excl, incl)) of an item whose unit prices the venue gives; None for any other item."""
    for kind in ("individual", "group"):
        if str(venue.get(f"{kind}_item", "\0")) != item:
            continue
        try:
            return kind, (float(venue[f"{kind}_price_excl_vat"]), float(venue[f"{kind}_price_incl_vat"]))
        except (KeyError, TypeError, ValueError):
            return None
    return None


def _price_findings(ctx: "CheckContext", history: "OrderHistory", kinds: tuple[str, ...]) -> list[Finding] | None:
    findings, judged = [], False
    for exchange, order in documents(history):
        if order.get("status") not in MINTED:
            continue
        for line in lines(order):
            found = venue_price(ctx.venue, str(line.get("itemNumber")))
            if found is None or found[0] not in kinds:
                continue
            kind, units = found
            quantity = line.get("quantity")
            if not isinstance(quantity, int):
                quantity = 1
            want = tuple(u * quantity for u in units) if kind == "group" else units
            for wallet in wallets(line):
                judged = True
                got = tuple(wallet.get(key) for key in PRICES)
                if not all(isinstance(g, (int, float)) and abs(g - w) < CENT for g, w in zip(got, want, strict=True)):
                    findings.append(shown(exchange, f"a {order['status']} {kind} wallet of item "
                                                    f"{line.get('itemNumber')} × {quantity} is priced {got} "
                                                    f"(excl., incl. VAT); the venue's prices make it {want}"))
    return findings[:3] if judged else None


@check(family="orders", subject="order", rules=["orders.prices"])
def wallet_prices(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """A minted individual-ticket wallet carries the item's unit prices excl. and incl. VAT (the venue's)."""
    return _price_findings(ctx, history, ("individual",))


@check(family="orders", subject="order", rules=["orders.group-price"], level="strict")
def group_wallet_price(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """A group-ticket wallet's prices are the sum for the whole group: unit price × quantity."""
    return _price_findings(ctx, history, ("group",))


@check(family="rejections", subject="exchange", rules=["rejections.inactive-partner"])
def inactive_partner_refused(ctx: "CheckContext", exchange: "Exchange") -> list[Finding] | None:
    """A createOrder for a partner the venue has set up but disabled is refused with 400."""
    inactive = str(ctx.venue.get("inactive_partner_id") or "").lower()
    body = exchange.body if isinstance(exchange.body, dict) else {}
    if not inactive or exchange.operation != "createOrder" or str(body.get("partnerId", "")).lower() != inactive:
        return None
    if exchange.status == 400:
        return []
    return [shown(exchange, f"createOrder for the inactive partner {inactive} answered {exchange.status}; "
                            "expected 400")]
