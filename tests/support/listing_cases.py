"""Cases for the checks on the probe's own list walks (contracts.checks.listing_walks).

`LISTING_CASES` maps a check name to (violation, correct, nothing to judge)
builders, as tests/verify/test_probe_checks.CASES does for every check: each
builds the run's `Evidence` holding one `ListingWalk` whose answer is known.
"""

from __future__ import annotations

from typing import Any, Callable

from contracts.target import Exchange
from contracts.verify.evidence import Evidence, ListedOrder, ListingWalk

PARTNER = "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e"
OURS = "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"
OTHER = "0f0e0d0c-0b0a-4909-8807-060504030201"
RECEIVED = "2099-01-01T00:00:00Z"
DOCUMENT = {"orderId": OURS, "status": "Issued", "sellToOrderReference": "OTACM-REF-1",
            "buyFromOrderReference": "CM-990101000000-ABCD", "sellToEmail": "probe@example.com",
            "sellToName": "Otacm Probe", "sellToLanguage": "ENU", "paymentReference": "PAY-1", "statusMessage": "",
            "jobId": "0123456789ABCDEF0123456789ABCDEF", "manifestUrl": "https://example.com/m", "receivedAt": RECEIVED}
Build = Callable[[], Any]


def summary(order_id: str = OURS, **more: Any) -> dict[str, Any]:
    """The row of the order DOCUMENT describes (CONTRACT.md's summary keys)."""
    return {"partnerId": PARTNER, **{k: v for k, v in DOCUMENT.items() if k != "orderId"}, "orderId": order_id} | more


def page(rows: list[dict[str, Any]], query: dict[str, str], more: bool = False) -> Exchange:
    body = {"morePages": more, "nextPageKey": "7" if more else "", "nextPageURL": "", "data": rows}
    return Exchange("GET", f"http://target/channelManager/orders/{PARTNER}", {}, None, "listOrdersByPartner",
                    {"partnerId": PARTNER}, query, 200, body)


def ours(status: str = "Issued") -> ListedOrder:
    return ListedOrder(OURS, "otacm-ref-1", RECEIVED, status, dict(DOCUMENT, status=status))


def walked(*pages: list[dict[str, Any]], query: dict[str, str] | None = None, expected: tuple = (ours(),),
           rule: str = "listing.complete", complete: bool = True) -> Evidence:
    """The run's evidence with one walk of `pages` (lists of rows) for `query`."""
    query = query or {"status": "Issued"}
    walk = ListingWalk("a query", query, list(expected), rule, complete=complete)
    walk.pages = [page(rows, query, more=n < len(pages) - 1) for n, rows in enumerate(pages)]
    return Evidence(listings=[walk], quiet_window=60.0)


def listed(rows: list[dict[str, Any]]) -> Evidence:
    """Any list answer (Schemathesis' or the probe's) in the run's calls."""
    return Evidence(exchanges=[page(rows, {})], quiet_window=60.0)


def _completeness(rule: str) -> tuple[Build, Build, Build]:
    return (lambda: walked([summary(OTHER)], rule=rule), lambda: walked([summary(OTHER)], [summary()], rule=rule),
            lambda: walked([summary(OTHER)], rule=rule, complete=False))


LATER = "2099-01-01T00:00:05Z"
ALL_KEYS = {"sellToEmail": "", "sellToName": "", "sellToLanguage": "", "paymentReference": "", "jobId": "",
            "manifestUrl": ""}
BARE = {"orderId": OURS, "status": "Issued", "sellToOrderReference": "OTACM-REF-1", "partnerId": PARTNER,
        "buyFromOrderReference": "CM-990101000000-ABCD", "statusMessage": "", "receivedAt": RECEIVED}

LISTING_CASES: dict[str, tuple[Build, Build, Build]] = {
    "list_filters_honoured": (lambda: walked([summary(status="Draft")]),
                              lambda: walked([summary()], query={"status": "Issued,Error"}),
                              lambda: Evidence(quiet_window=60.0)),
    "list_complete": _completeness("listing.complete"),
    "list_paging_complete": _completeness("listing.paging"),
    "list_bounds_inclusive": _completeness("listing.inclusive-bounds"),
    "list_reference_any_case": _completeness("listing.reference-case"),
    "list_rows_once": (lambda: walked([summary()], [summary()]), lambda: walked([summary(OTHER)], [summary()]),
                       lambda: walked([summary()], [summary()], complete=False)),
    "list_in_received_order": (
        lambda: walked([summary(OTHER, receivedAt=LATER), summary(), summary("1" + OTHER[1:], receivedAt=LATER)]),
        lambda: walked([summary(), summary(OTHER, receivedAt=LATER)]), lambda: walked([summary()])),
    "list_page_size": (lambda: walked([summary(), summary(OTHER)], query={"pageSize": "1"}),
                       lambda: walked([summary()], [summary(OTHER)], query={"pageSize": "1"}),
                       lambda: walked([summary()])),
    "list_rows_agree": (lambda: walked([summary(status="Draft")], query={"receivedAtFrom": RECEIVED}),
                        lambda: walked([summary(sellToOrderReference="otacm-REF-1")]),
                        lambda: walked([summary()], expected=())),
    "list_rows_agree_exactly": (lambda: walked([summary(sellToEmail="")]), lambda: walked([summary()]),
                                lambda: walked([summary()], expected=())),
    "list_unknown_partner_empty": (lambda: walked([summary()], rule="listing.unknown-partner"),
                                   lambda: walked([], rule="listing.unknown-partner"),
                                   lambda: Evidence(quiet_window=60.0)),
    "list_summary_keys": (lambda: listed([{k: v for k, v in BARE.items() if k != "buyFromOrderReference"}]),
                          lambda: listed([BARE]), lambda: Evidence(quiet_window=60.0)),
    "list_summary_keys_strict": (lambda: listed([BARE]), lambda: listed([BARE | ALL_KEYS]),
                                 lambda: Evidence(quiet_window=60.0)),
}
