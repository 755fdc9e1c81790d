"""The probe's list queries: built for the orders the run made, so that what each answer must hold is known.

They run after every flow has finished, when the run's orders are at rest:
an order last seen `Issued`, `Draft`, `Error` or `Cancelled` stays so (only
a call moves it, and the run makes none), and every order not removed
exists. So for each query below the probe knows which of its own orders the
pages must list: by each settled status and a comma list of them all, by
reference, by windows around the run's own `receivedAt`s (widened by a
second on each side at `documented`, exact at `strict`, where CONTRACT.md
makes the bounds inclusive), and the same window walked page by page with
`pageSize`/`pageKey`. Other clients' orders may be on any page (a shared
target, or the run's own Schemathesis and scenarios): the checks demand
that the run's orders are there and that no row breaks a filter, never
that the pages hold nothing else. The probe never judges.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit

from contracts.checks.listing import NO_NEXT_KEY, rows
from contracts.target import Exchange, TargetClient
from contracts.verify.evidence import Evidence, ListedOrder, ListingWalk, OrderHistory
from contracts.verify.poller import observe

SETTLED = ("Cancelled", "Draft", "Error", "Issued")  # no status changes by itself from these
MAX_PAGES = 12  # a walk past this many pages stops, unjudged for completeness
WALKED_PAGES = 4  # the paged walk splits the window into about this many pages
MAX_PAGE_SIZE = 20000  # CONTRACT.md: pageSize's default and maximum
INCLUSIVE = "listing.inclusive-bounds"
COMBINED = "listing.combined"
IN_FLIGHT = ("Submitted", "Scheduled", "Processing")


def listed_orders(histories: Iterable[OrderHistory]) -> list[ListedOrder]:
    """The run's own orders of its partner that still exist, with their settled status where it is known."""
    found = []
    for history in histories:
        if not history.order_id or history.facts.get("other_partner") or not history.observations:
            continue
        if removed(history):
            continue
        document = last_document(history)
        received = str(document.get("receivedAt") or "")
        if not received:
            continue
        status = history.observations[-1].status
        found.append(ListedOrder(history.order_id, str(history.request.get("sellToOrderReference", "")), received,
                                 status if status in SETTLED else "", document))
    return found


def removed(history: OrderHistory) -> bool:
    """Seen gone (404), or deleted from Draft or Error, which removes the row (doc 000) even unseen."""
    seen = history.observations
    deleted = [n for n, o in enumerate(seen) if o.via == "deleteOrder" and o.status == "Cancelled"]
    return any(o.status == "removed" for o in seen) or any(n and seen[n - 1].status in ("Draft", "Error")
                                                          for n in deleted)


def last_document(history: OrderHistory) -> dict[str, Any]:
    """The last order document the target answered for this order ({} when none)."""
    documents = [e.response for e in history.exchanges
                 if e.ok and isinstance(e.response, dict) and e.response.get("orderId")]
    return documents[-1] if documents else {}


def shifted(instant: str, seconds: int) -> str:
    """An ISO 8601 instant moved by whole seconds, as UTC with `Z` (the instant itself when it does not parse)."""
    try:
        found = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    except ValueError:
        return instant
    found = found if found.tzinfo else found.replace(tzinfo=timezone.utc)
    return (found + timedelta(seconds=seconds)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan(orders: list[ListedOrder], strictness: str) -> list[ListingWalk]:
    """The queries whose answers are known, each with the run's orders it must list."""
    walks = _by_status(orders)
    if orders:
        owner = prefix_owner(orders)
        walks += _by_reference(owner, strictness)
        walks += _by_window(orders, strictness)
        walks += _combined(orders, owner)
    return walks


def prefix_owner(orders: list[ListedOrder]) -> ListedOrder:
    """The order whose reference begins another order's (the late order's model: its reference + "-late"), so
    that a reference filter matching prefixes shows a row it must not; else the first order."""
    return next((o for o in orders if any(p is not o and p.reference.casefold().startswith(o.reference.casefold())
                                          for p in orders)), orders[0])


def _by_status(orders: list[ListedOrder]) -> list[ListingWalk]:
    statuses = sorted({o.status for o in orders if o.status})
    walks = [ListingWalk(f"status {s}", {"status": s}, [o for o in orders if o.status == s]) for s in statuses]
    if len(statuses) > 1:  # every value of a comma list counts, not only the first or the last
        listed = ",".join(statuses)
        walks.append(ListingWalk(f"status list {listed}", {"status": listed}, [o for o in orders if o.status]))
    if {"Draft", "Error"} <= set(statuses):
        walks.append(ListingWalk("status list Error,Draft", {"status": "Error,Draft"},
                                 [o for o in orders if o.status in ("Draft", "Error")]))
    return walks


def _by_reference(order: ListedOrder, strictness: str) -> list[ListingWalk]:
    """The reference as the target shows it; at strict also as sent and in another letter case (CONTRACT.md)."""
    walks = [ListingWalk("reference as answered", {"sellToOrderReference": shown_reference(order)}, [order])]
    if strictness == "strict":
        for label, text in (("as sent", order.reference), ("in another letter case", order.reference.swapcase())):
            walks.append(ListingWalk(f"reference {label}", {"sellToOrderReference": text}, [order],
                                     "listing.reference-case", level="strict"))
        # one row, and no other client's can join it (references are unique per partner): a page of exactly that
        # row is the last one, whatever other clients do meanwhile
        walks.append(ListingWalk("reference in one page of exactly its one row",
                                 {"sellToOrderReference": shown_reference(order), "pageSize": "1"}, [order],
                                 "listing.more-pages", level="strict"))
    return walks


def shown_reference(order: ListedOrder) -> str:
    return str(order.document.get("sellToOrderReference") or order.reference)


def _wide(orders: list[ListedOrder]) -> dict[str, str]:
    """A window holding every receivedAt of the run, widened by a second on each side."""
    received = sorted((o.received_at for o in orders), key=_sort_key)
    return {"receivedAtFrom": shifted(received[0], -1), "receivedAtTo": shifted(received[-1], 1)}


def _by_window(orders: list[ListedOrder], strictness: str) -> list[ListingWalk]:
    """Windows around the run's receivedAts: holding all of them, either bound alone, and holding none."""
    received = sorted((o.received_at for o in orders), key=_sort_key)
    first, last = received[0], received[-1]
    wide = _wide(orders)
    alone = "strict"  # a bound alone: CONTRACT.md's ("either alone"); the docs show a window
    walks = [ListingWalk("window around the run", wide, list(orders)),
             ListingWalk("receivedAtFrom alone", {"receivedAtFrom": wide["receivedAtFrom"]}, list(orders), level=alone),
             ListingWalk("receivedAtTo alone", {"receivedAtTo": wide["receivedAtTo"]}, list(orders), level=alone),
             ListingWalk("window after the run", {"receivedAtFrom": shifted(last, 1)}, [], level=alone),
             ListingWalk("window before the run", {"receivedAtTo": shifted(first, -1)}, [], level=alone)]
    if strictness == "strict":  # the bounds are inclusive (CONTRACT.md): the first and last order are on them
        walks += [ListingWalk("window with inclusive bounds", {"receivedAtFrom": first, "receivedAtTo": last},
                              list(orders), INCLUSIVE, level=alone),
                  ListingWalk("inclusive receivedAtFrom alone", {"receivedAtFrom": first}, list(orders), INCLUSIVE,
                              level=alone),
                  ListingWalk("inclusive receivedAtTo alone", {"receivedAtTo": last}, list(orders), INCLUSIVE, level=alone)]
    return walks


def _combined(orders: list[ListedOrder], owner: ListedOrder) -> list[ListingWalk]:
    """Filters together, each narrowing the others (doc 002's example: a status and a window): a status in the
    window around the run, the reference with its own status and the window, the reference with a status its
    order does not have."""
    wide, statuses = _wide(orders), sorted({o.status for o in orders if o.status})
    walks = [ListingWalk(f"status {s} in the window around the run", {"status": s, **wide},
                         [o for o in orders if o.status == s], COMBINED) for s in statuses[:2]]
    if owner.status:
        reference = shown_reference(owner)
        other = next(s for s in SETTLED if s != owner.status)
        walks += [ListingWalk(f"reference with its status {owner.status} in the window",
                              {"sellToOrderReference": reference, "status": owner.status, **wide}, [owner], COMBINED),
                  ListingWalk(f"reference with status {other}, which its order does not have",
                              {"sellToOrderReference": reference, "status": other}, [], COMBINED)]
    return walks


def _sort_key(instant: str) -> str:
    return shifted(instant, 0)


def walk(client: TargetClient, partner_id: str, listing: ListingWalk, max_pages: int = MAX_PAGES,
         follow_urls: bool = False) -> None:
    """Ask for the query's pages, following nextPageKey with the same filters, until the last one.

    `follow_urls`: also fetch each page's nextPageURL right after it (the target's own origin only), so the
    page it answers can be compared with the one nextPageKey answers.
    """
    query = dict(listing.query)
    for number in range(1, max_pages + 1):
        page = client.call("listOrdersByPartner", {"partnerId": partner_id}, query=query)
        listing.pages.append(page)
        if page.status != 200 or rows(page) is None:
            listing.stopped = f"page {number} answered {page.status or page.error} without a list"
            return
        body = page.response
        if not isinstance(body, dict) or body.get("morePages") is not True:
            listing.complete = True
            return
        if follow_urls:
            _follow(client, partner_id, listing, page)
        if not body.get("nextPageKey"):
            listing.stopped = f"page {number} says morePages but {NO_NEXT_KEY}"
            return
        query = {**listing.query, "pageKey": str(body["nextPageKey"])}
    listing.stopped = f"the walk stopped after {max_pages} pages"


def _follow(client: TargetClient, partner_id: str, listing: ListingWalk, page: Exchange) -> None:
    """Fetch the page's nextPageURL when it is on the target's own origin (a proxy's URL is not followed)."""
    found = page.response.get("nextPageURL") if isinstance(page.response, dict) else None
    if not isinstance(found, str) or not found:
        return
    url = urljoin(page.url, found)
    if urlsplit(url)[:2] != urlsplit(client.target.server)[:2]:
        return
    fetched = client.send("GET", url, operation="listOrdersByPartner", params={"partnerId": partner_id})
    listing.next_urls.append((len(listing.pages) - 1, fetched))


def walk_ids(listing: ListingWalk) -> list[str]:
    return [str(r.get("orderId")) for page in listing.pages for r in rows(page) or []]


def paged(client: TargetClient, partner_id: str, whole: ListingWalk) -> list[ListingWalk]:
    """The window again in pages of about a quarter of its rows, and in one page of exactly its rows; judged
    only if no row came or went meanwhile.

    Other clients may add or delete orders in the window while the pages are
    walked (a shared target, the run's own scenarios), and a page key need
    not survive that; so the whole window is asked again after the walks, and
    walks during which its rows changed are not judged for completeness. The
    one exactly full page must say that no more pages follow.
    """
    before = walk_ids(whole)
    size = min(MAX_PAGE_SIZE, max(1, math.ceil(len(before) / WALKED_PAGES)))
    listing = ListingWalk(f"window in pages of {size}", {**whole.query, "pageSize": str(size)}, whole.expected,
                          "listing.paging", level="strict")
    walk(client, partner_id, listing, max_pages=MAX_PAGES + WALKED_PAGES, follow_urls=True)
    walks = [listing]
    if whole.complete and 0 < len(before) <= MAX_PAGE_SIZE:  # a larger pageSize is out of range: CONTRACT.md's silence
        exact = ListingWalk(f"window in one page of exactly its {len(before)} rows",
                            {**whole.query, "pageSize": str(len(before))}, whole.expected, "listing.more-pages",
                            level="strict")
        walk(client, partner_id, exact, max_pages=3, follow_urls=True)
        walks.append(exact)
    for done in walks:
        if done.complete and any(rows(p) is not None and isinstance(p.response, list) for p in done.pages):
            done.complete, done.stopped = False, "the answers are bare arrays: there are no pages to walk"
    again = ListingWalk(whole.purpose, whole.query, [])
    walk(client, partner_id, again)
    if not whole.complete or sorted(walk_ids(again)) != sorted(before):
        for done in walks:
            if done.complete:
                done.complete = False
                done.stopped = "rows of the window came or went while it was walked (other clients' orders)"
    return walks


def in_flight_walk(client: TargetClient, partner_id: str) -> ListingWalk:
    """The list of what is still in flight (doc 002: `status=Submitted,Scheduled,Processing`), asked while an
    order of the run is; the flow that asks adds the order to `expected` once it has seen it still in flight."""
    listing = ListingWalk("in-flight statuses", {"status": ",".join(IN_FLIGHT)}, [], "listing.in-flight")
    walk(client, partner_id, listing)
    return listing


def late_order(evidence: Evidence, client: TargetClient, partner_id: str) -> None:
    """One more order, unpaid and `?sync=1`, now: a `receivedAt` later than the flows' (they all start at
    once), so that the order of the rows can be seen, and a Draft at rest without waiting for a pickup. Its
    reference is another order's with `-late` after it: a reference filter must not match it as a prefix."""
    model = next((h for h in evidence.histories if h.order_id and not h.facts.get("other_partner")
                  and str(h.request.get("partnerId", "")).lower() == partner_id.lower() and not removed(h)), None)
    if model is None:
        return
    body = {k: v for k, v in model.request.items() if k != "paymentReference"}
    body["sellToOrderReference"] = f"{str(model.request['sellToOrderReference'])[:44]}-late"
    history = OrderHistory("listing", "late unpaid sync order (a later receivedAt for the list)", body, sync=True)
    evidence.histories.append(history)
    exchange = client.call("createOrder", None, query={"sync": "1"}, body=body)
    observe(history, exchange)
    if exchange.ok and isinstance(exchange.response, dict) and exchange.response.get("orderId"):
        history.order_id = str(exchange.response["orderId"])


def run_listings(evidence: Evidence, client: TargetClient, partner_id: str, strictness: str) -> None:
    """Plan the queries for the run's orders, walk each, and keep them in the evidence."""
    late_order(evidence, client, partner_id)
    walks = plan(listed_orders(evidence.histories), strictness)
    for listing in walks:
        walk(client, partner_id, listing)
    stranger = ListingWalk("a partner nobody set up", {}, [], "listing.unknown-partner", level="strict")
    walk(client, str(uuid.uuid4()), stranger, max_pages=1)
    walks.append(stranger)
    whole = next((w for w in walks if w.purpose == "window around the run"), None)
    if whole is not None:
        walks += paged(client, partner_id, whole)
    evidence.listings.extend(walks)
