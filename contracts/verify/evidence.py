"""What a verify run saw: the material every registered check judges.

The probe (contracts.verify.probe) drives documented flows against the
target and records, per order, every call concerning it (`Exchange`s, in
order), every status seen (`Observation`s, for the lifecycle checks) and the
webhook events that named it. Calls that concern no single order (the list,
rejected creates) are kept in `Evidence.exchanges`. Checks read this and
nothing else: they never make a request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.checks.lifecycle import Observation
from contracts.target import Exchange


@dataclass
class OrderHistory:
    """One order as the probe drove it."""

    flow: str  # the probe flow that made it ("paid", "unpaid-confirm", "group", ...)
    label: str  # for people: "paid order (Issued, confirmed again, deleted twice)"
    request: dict[str, Any]  # the createOrder body
    order_id: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # venue facts used: item kinds, expected wallets, ...
    exchanges: list[Exchange] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)  # contracts.webhooks.receiver.Event naming this order
    background_settles: int = 0  # settles seen by polling (one webhook each)
    sync: bool = False  # created or replaced with ?sync=1
    polled_closely: bool = False  # polled at the close cadence from submit to settle

    def calls(self, operation_id: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.operation == operation_id]

    def before(self, exchange: Exchange) -> Any:
        """The last order document answered before `exchange` (what the order looked like then)."""
        last = None
        for earlier in self.exchanges:
            if earlier is exchange:
                return last
            if earlier.ok and isinstance(earlier.response, dict) and "status" in earlier.response:
                last = earlier.response
        return last


@dataclass
class ListedOrder:
    """An order of the run whose place in a list is known: what its row must say."""

    order_id: str
    reference: str  # the sellToOrderReference sent
    received_at: str  # as the target answered it
    status: str = ""  # its settled status; "" when it was last seen in flight (its status is not known)
    document: dict[str, Any] = field(default_factory=dict)  # the last order document the target answered


@dataclass
class ListingWalk:
    """One list query the probe built for the orders it made, walked page by page.

    `expected` are the run's orders that match every filter of `query`: the
    probe chose the query so that this is known (settled statuses, windows
    around the run's own `receivedAt`s). `rule` is the rule its
    completeness asserts (`listing.complete`; a window's exact inclusive
    bounds are `listing.inclusive-bounds`, CONTRACT.md's). `complete` is
    False when the walk stopped before the last page (`stopped` says why):
    rows of later pages are unknown then, and completeness is not judged.
    `level`: "documented" for a query the docs describe (a status or a comma
    list of them, a reference, a window with both bounds, and these
    combined), "strict" for one only CONTRACT.md describes (a bound alone,
    pageSize and pageKey). `next_urls`: for a page that said more pages
    follow, (its index, the answer of its nextPageURL fetched right after it).
    """

    purpose: str
    query: dict[str, str]
    expected: list[ListedOrder]
    rule: str = "listing.complete"
    pages: list[Exchange] = field(default_factory=list)
    complete: bool = False
    stopped: str = ""
    level: str = "documented"
    next_urls: list[tuple[int, Exchange]] = field(default_factory=list)


@dataclass
class Evidence:
    """Everything the probe saw in one run."""

    histories: list[OrderHistory] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)  # calls about no single order (list, rejections)
    deliveries: list[Any] = field(default_factory=list)  # contracts.webhooks.receiver.Delivery (the run's own)
    webhook_problem: str = ""  # why no receiver was subscribed ("" when one was)
    quiet_window: float = 0.0  # seconds waited after the last settle for late or duplicate events
    skipped_flows: dict[str, str] = field(default_factory=dict)  # flow → why it could not run (a missing venue fact)
    listings: list[ListingWalk] = field(default_factory=list)  # the probe's own list queries, with known answers
    # the probe's own invalid requests, each with the case it was built for ("rule id: what is wrong"); the
    # same exchanges are in `exchanges` too. The input-rule checks judge these and nothing else.
    rejections: list[tuple[str, Exchange]] = field(default_factory=list)
    # the probe's requests on how the API is addressed (strict only: company encodings, route letter case,
    # undeclared routes and methods, the API key's forms, the body size), each with its case ("rule id: what");
    # the same exchanges are in `exchanges` too
    address_cases: list[tuple[str, Exchange]] = field(default_factory=list)
    subscription_app_id: str = ""  # the appId the probe's subscription sent ("" when it sent none)
    foreign_deliveries: int = 0  # deliveries set aside: another subscription's to the same URL (foreign_deliveries.py)

    def all_exchanges(self) -> list[Exchange]:
        walked = [page for walk in self.listings for page in walk.pages]
        return self.exchanges + walked + [e for h in self.histories for e in h.exchanges]


@dataclass
class CheckContext:
    """What a check may know besides its subject."""

    strictness: str
    venue: dict[str, Any]  # venue facts (scenarios/vars.yaml merged with --vars/--var)
    evidence: Evidence
    settle_deadline: float  # seconds from submission to a settle (pickup interval + settle time + one poll)
    client_state: str = ""  # the clientState the probe subscribed with
