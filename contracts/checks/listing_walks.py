"""Checks on the probe's own list queries (contracts.verify.listing_walks): what the pages must contain.

Each walk is a query the probe built for orders it made, so which of them
the pages must list is known. Other clients' rows may be on any page; a
check demands that the run's orders are there (once, with what the order
says), that no row breaks a filter of the query, and that the pages run in
`receivedAt` order. Schemathesis' random list queries are never judged here:
a check cannot know what their answer must hold.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterator

from contracts.checks.documents import shown
from contracts.checks.listing import NO_NEXT_KEY, rows
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence, ListedOrder, ListingWalk

RowProblem = Callable[[dict[str, Any]], str]
AGREE_DOCUMENTED = ("status", "buyFromOrderReference")  # besides the reference (any case) and receivedAt
AGREE_STRICT = ("sellToEmail", "sellToName", "sellToLanguage", "paymentReference", "statusMessage", "jobId",
                "manifestUrl")


def instant(text: Any) -> datetime | None:
    """An ISO 8601 instant (a value without an offset is taken as UTC); None when it is not one."""
    try:
        found = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def page_rows(exchange: "Exchange") -> list[dict[str, Any]]:
    """The page's summaries; none when the answer is no list."""
    return rows(exchange) or []


def rows_of(walk: "ListingWalk") -> Iterator[tuple["Exchange", dict[str, Any]]]:
    for page in walk.pages:
        for row in page_rows(page):
            yield page, row


def _judged(evidence: "Evidence", judge: Callable[["ListingWalk"], list[Finding] | None],
            rules: tuple[str, ...] = ()) -> list[Finding] | None:
    """Findings over the walks (of `rules` only, when given); None when no walk had anything to judge."""
    results = [judge(w) for w in evidence.listings if not rules or w.rule in rules]
    if all(r is None for r in results):
        return None
    return [f for r in results if r for f in r]


def _where(walk: "ListingWalk", page: "Exchange | None" = None) -> str:
    query = "&".join(f"{k}={v}" for k, v in walk.query.items())
    return f"list {walk.purpose} (?{query})" + (f", page {walk.pages.index(page) + 1}" if page in walk.pages else "")


def _finding(walk: "ListingWalk", message: str, page: "Exchange | None" = None) -> Finding:
    exchange = page or (walk.pages[-1] if walk.pages else None)
    if exchange is None:
        return Finding(message, _where(walk))
    found = shown(exchange, message, _where(walk, page))
    return Finding(found.message, found.where, found.details + (f"pages walked: {len(walk.pages)}",))


# -- filters ------------------------------------------------------------------------------------------
def row_problem(query: dict[str, str]) -> RowProblem:
    """What is wrong with a row for `query`'s filters ("" when it matches them all)."""
    statuses = set(query["status"].split(",")) if query.get("status") else None
    reference = query["sellToOrderReference"].casefold() if query.get("sellToOrderReference") else None
    low, high = instant(query.get("receivedAtFrom")), instant(query.get("receivedAtTo"))

    def problem(row: dict[str, Any]) -> str:
        if statuses is not None and row.get("status") not in statuses:
            return f"row {row.get('orderId')} is {row.get('status')}"
        if reference is not None and str(row.get("sellToOrderReference")).casefold() != reference:
            return f"row {row.get('orderId')} has reference {row.get('sellToOrderReference')}"
        at = instant(row.get("receivedAt")) if low or high else None
        if (low or high) and (at is None or (low and at < low) or (high and at > high)):
            return f"row {row.get('orderId')} was received at {row.get('receivedAt')}"
        return ""
    return problem


@check(family="listing", subject="run", rules=["listing.filters"])
def list_filters_honoured(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """No row breaks a filter: status (each value of a comma list), sellToOrderReference (any case), the window."""
    def judge(walk: "ListingWalk") -> list[Finding] | None:
        if not walk.pages:
            return None
        problem = row_problem(walk.query)
        wrong = [(page, problem(row)) for page, row in rows_of(walk) if problem(row)]
        return [_finding(walk, f"a row breaks the query's filter: {text}", page) for page, text in wrong[:3]]
    return _judged(evidence, judge)


# -- completeness ---------------------------------------------------------------------------------------
def _missing(walk: "ListingWalk") -> list[Finding] | None:
    """The run's orders the walk must list and does not (None: the walk is not complete, nothing to judge)."""
    if not walk.complete or not walk.expected:
        return None
    listed = {str(row.get("orderId")).lower() for _, row in rows_of(walk)}
    gone = [o for o in walk.expected if o.order_id.lower() not in listed]
    if not gone:
        return []
    named = "; ".join(f"{o.order_id} ({o.status or 'in flight'}, received {o.received_at})" for o in gone[:5])
    return [_finding(walk, f"{len(gone)} of the run's {len(walk.expected)} orders matching the query are not on "
                           f"its {len(walk.pages)} page(s): {named}")]


@check(family="listing", subject="run", rules=["listing.complete"])
def list_complete(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """Every order of the run that matches a query is listed: by each status and a comma list of them, by
    reference, by a window around the run, either bound alone."""
    return _judged(evidence, _missing, ("listing.complete",))


@check(family="listing", subject="run", rules=["listing.paging"])
def list_paging_complete(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """Walking a window with pageSize and nextPageKey reaches every order of the run in it (a page that says more
    follow without a nextPageKey leaves the rest out of reach)."""
    def judge(walk: "ListingWalk") -> list[Finding] | None:
        if NO_NEXT_KEY in walk.stopped:
            return [_finding(walk, f"the walk cannot go on: {walk.stopped}; the rest of the window is out of reach")]
        return _missing(walk)
    return _judged(evidence, judge, ("listing.paging",))


@check(family="listing", subject="run", rules=["listing.in-flight"])
def list_in_flight(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """`status=Submitted,Scheduled,Processing` lists what is still in flight: the run's order seen in flight
    before and after the list is on it (doc 002)."""
    return _judged(evidence, _missing, ("listing.in-flight",))


@check(family="listing", subject="run", rules=["listing.combined"])
def list_combined_filters(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """Filters given together each narrow the list (doc 002's example: a status and a window): the run's orders
    matching them all are listed, and no row breaks any of them."""
    def judge(walk: "ListingWalk") -> list[Finding] | None:
        if not walk.pages:
            return None
        problem = row_problem(walk.query)
        wrong = [_finding(walk, f"a row breaks one of the query's filters: {text}", page)
                 for page, row in rows_of(walk) if (text := problem(row))]
        missing = _missing(walk)
        return wrong[:3] + (missing or [])
    return _judged(evidence, judge, ("listing.combined",))


@check(family="listing", subject="run", rules=["listing.removed"])
def list_removed_absent(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """An order deleted as Draft or Error is gone from the list as well (doc 000: the row is removed entirely):
    no page the probe asked for after it was seen gone (getOrder 404) lists it."""
    gone = {h.order_id.lower(): max(o.at for o in h.observations if o.status == "removed")
            for h in evidence.histories if h.order_id and any(o.status == "removed" for o in h.observations)}
    pages = [(w, p) for w in evidence.listings for p in w.pages if page_rows(p)]
    if not gone or not pages:
        return None
    found = []
    for walk, page in pages:
        listed = [r.get("orderId") for r in page_rows(page)
                  if str(r.get("orderId")).lower() in gone and page.at >= gone[str(r.get("orderId")).lower()]]
        if listed:
            found.append(_finding(walk, f"orders deleted as Draft or Error (getOrder: 404) are still listed: {listed}",
                                  page))
    return found[:3]


@check(family="listing", subject="run", rules=["listing.inclusive-bounds"], level="strict")
def list_bounds_inclusive(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """receivedAtFrom and receivedAtTo are inclusive: orders received exactly on a bound are listed."""
    return _judged(evidence, _missing, ("listing.inclusive-bounds",))


@check(family="listing", subject="run", rules=["listing.reference-case"], level="strict")
def list_reference_any_case(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """sellToOrderReference finds the order in any letter case (references are stored upper-cased)."""
    return _judged(evidence, _missing, ("listing.reference-case",))


# -- pages ------------------------------------------------------------------------------------------------
@check(family="listing", subject="run", rules=["listing.once"], level="strict")
def list_rows_once(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """A walk lists each order once, across all its pages."""
    def judge(walk: "ListingWalk") -> list[Finding] | None:
        if not walk.complete:
            return None
        seen: dict[str, int] = {}
        for _, row in rows_of(walk):
            seen[str(row.get("orderId"))] = seen.get(str(row.get("orderId")), 0) + 1
        twice = [f"{order_id} ×{count}" for order_id, count in seen.items() if count > 1]
        return [_finding(walk, f"orders listed more than once across the pages: {', '.join(twice[:5])}")] \
            if twice else []
    return _judged(evidence, judge)


@check(family="listing", subject="run", rules=["listing.order"], level="strict")
def list_in_received_order(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """The rows of a walk, page after page, run in receivedAt order (either direction, never mixed)."""
    def judge(walk: "ListingWalk") -> list[Finding] | None:
        stamps = [(row.get("orderId"), at) for _, row in rows_of(walk)
                  if (at := instant(row.get("receivedAt"))) is not None]
        if len(stamps) < 2:
            return None
        pairs = list(zip(stamps, stamps[1:], strict=False))
        if all(a[1] <= b[1] for a, b in pairs) or all(a[1] >= b[1] for a, b in pairs):
            return []
        up = next((a, b) for a, b in pairs if a[1] < b[1])
        down = next((a, b) for a, b in pairs if a[1] > b[1])
        return [_finding(walk, f"rows are not in receivedAt order: {up[0][0]} ({up[0][1]:%H:%M:%S}) comes before "
                               f"{up[1][0]} ({up[1][1]:%H:%M:%S}), but {down[0][0]} ({down[0][1]:%H:%M:%S}) before "
                               f"{down[1][0]} ({down[1][1]:%H:%M:%S})")]
    return _judged(evidence, judge)


@check(family="listing", subject="run", rules=["listing.page-size"], level="strict")
def list_page_size(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """pageSize bounds the rows of each page."""
    def judge(walk: "ListingWalk") -> list[Finding] | None:
        size = int(walk.query.get("pageSize", "0") or 0)
        if size < 1 or not walk.pages:
            return None
        over = [(n, len(page_rows(p))) for n, p in enumerate(walk.pages, 1) if len(page_rows(p)) > size]
        return [_finding(walk, f"pageSize={size} answered {count} rows on page {n}") for n, count in over[:3]]
    return _judged(evidence, judge)


# -- what a row says -----------------------------------------------------------------------------------------
def _disagreements(order: "ListedOrder", row: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    document, wrong = order.document, []
    want: object  # the order's value: any JSON value, or None when the order does not say
    for key in keys:
        if key == "status":
            want = order.status
        else:
            want = document.get(key, "" if key == "manifestUrl" else None)
        if key not in row or want is None or (want == "" and key in AGREE_DOCUMENTED):
            continue  # a missing key is the summary-key checks'; an unknown value is not judged
        if row[key] != want:
            wrong.append(f"{key} {row[key]!r} (the order says {want!r})")
    return wrong


def _rows_agree(evidence: "Evidence", keys: tuple[str, ...], basics: bool) -> list[Finding] | None:
    def judge(walk: "ListingWalk") -> list[Finding] | None:
        ours = {o.order_id.lower(): o for o in walk.expected}
        found: list[Finding] = []
        judged = False
        for page, row in rows_of(walk):
            order = ours.get(str(row.get("orderId")).lower())
            if order is None:
                continue
            judged = True
            wrong = _disagreements(order, row, keys)
            if basics:
                wrong += _basics(order, row)
            if wrong:
                found.append(_finding(walk, f"the row of order {order.order_id} says {'; '.join(wrong)}", page))
        return found[:3] if judged else None
    return _judged(evidence, judge)


def _basics(order: "ListedOrder", row: dict[str, Any]) -> list[str]:
    wrong = []
    if "sellToOrderReference" in row and str(row["sellToOrderReference"]).casefold() != order.reference.casefold():
        wrong.append(f"sellToOrderReference {row['sellToOrderReference']!r} (sent {order.reference!r})")
    if "receivedAt" in row and instant(row["receivedAt"]) != instant(order.received_at):
        wrong.append(f"receivedAt {row['receivedAt']!r} (the order says {order.received_at!r})")
    return wrong


@check(family="listing", subject="run", rules=["listing.row-values"])
def list_rows_agree(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """A row of the run's order says what the order says: status, references (any case), receivedAt."""
    return _rows_agree(evidence, AGREE_DOCUMENTED, basics=True)


@check(family="listing", subject="run", rules=["listing.row-values-strict"], level="strict")
def list_rows_agree_exactly(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """A row carries the order's buyer, payment reference, statusMessage, jobId and manifestUrl ("" if none)."""
    return _rows_agree(evidence, AGREE_STRICT, basics=False)


@check(family="listing", subject="run", rules=["listing.unknown-partner"], level="strict")
def list_unknown_partner_empty(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """The list of a partner nobody set up answers 200 with no rows (not 404, not an error)."""
    def judge(walk: "ListingWalk") -> list[Finding] | None:
        if not walk.pages:
            return None
        first = walk.pages[0]
        if first.status == 200 and isinstance(first.response, (dict, list)) and not page_rows(first):
            return []
        return [_finding(walk, f"the list of an unknown partner answered {first.status} with "
                               f"{len(page_rows(first))} row(s); expected 200 with an empty data", first)]
    return _judged(evidence, judge, ("listing.unknown-partner",))
