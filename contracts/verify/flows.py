"""The probe's flows: each one a documented path through the API, on orders of its own.

A flow is a function of a `Flow` (its client, its recorder, its waiter). It
makes calls and records them; it never judges. What a check needs to know
about an order that the calls do not show goes into `OrderHistory.facts`:
`expect` ("Error": the venue cannot issue it), `kind` with `tickets` and
`coupons` (a package), `other_partner` (another partner's order).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from contracts.target import Exchange, Target, TargetClient
from contracts.verify.evidence import Evidence, ListedOrder, ListingWalk, OrderHistory
from contracts.verify.invalid_cases import invalid_creates
from contracts.verify.listing_walks import IN_FLIGHT, in_flight_walk, walk_ids
from contracts.verify.poller import Poller, observe

VISIT_DAYS_AHEAD = 30
IN_FLIGHT_RETRY = 0.5  # seconds before the in-flight list is asked again
INDIVIDUAL = ("individual_item", "individual_time")


def missing_fact(venue: dict[str, Any], needs: Iterable[str]) -> str:
    """The first venue fact a flow needs that the venue does not give ("" when none)."""
    return next((name for name in needs if venue.get(name) in (None, "")), "")


def why_skipped(fact: str) -> str:
    """What to give so a flow can run."""
    if fact == "other_partner_id":
        return "needs a second partner of the target (--other-partner-id)"
    return f"needs venue fact {fact} (--var {fact}=...)"


class FlowHost(Protocol):
    """What a flow needs of the probe that runs it (contracts.verify.probe.Probe), and nothing more."""

    target: Target
    venue: dict[str, Any]
    run_id: str
    today: date
    strictness: str  # the flows that only strict rules judge run at strict only
    evidence: Evidence  # the invalid-input flow records its cases in `rejections`

    def client(self) -> TargetClient: ...

    def record(self, history: OrderHistory | None = None, exchange: Exchange | None = None,
               listing: ListingWalk | None = None) -> None: ...

    def await_events(self, client: TargetClient, history: OrderHistory) -> None: ...


class Flow:
    """What one flow uses: its own client, the probe's recorder and the shared poller."""

    def __init__(self, probe: FlowHost, poller: Poller, name: str) -> None:
        self.probe, self.poller, self.name = probe, poller, name
        self.client = probe.client()
        self.venue = probe.venue
        self._count = 0

    # -- building requests -----------------------------------------------------------------
    def reference(self) -> str:
        self._count += 1
        return f"otacm-{self.probe.run_id}-{self.name}-{self._count}".lower()[:50]

    def line(self, item: str, visit_time: str, quantity: int = 1, days: int = VISIT_DAYS_AHEAD,
             **extra: Any) -> dict[str, Any]:
        visit = (self.probe.today + timedelta(days=days)).isoformat()
        return {"itemNumber": str(item), "visitDate": visit, "visitTime": str(visit_time), "quantity": quantity,
                **extra}

    def body(self, lines: list[dict[str, Any]], paid: bool, reference: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"partnerId": self.probe.target.partner_id,
                                "sellToOrderReference": reference or self.reference(),
                                "sellToName": "Otacm Probe", "sellToEmail": "probe@example.com",
                                "sellToLanguage": "ENU", "items": lines}
        if paid:
            body["paymentReference"] = f"PAY-{self.probe.run_id}"
        return body

    def individual(self, paid: bool, quantity: int = 1, visit_time: str = "", **extra: Any) -> dict[str, Any]:
        line = self.line(self.venue["individual_item"], visit_time or self.venue["individual_time"], quantity, **extra)
        return self.body([line], paid)

    # -- calls ---------------------------------------------------------------------------------
    def order(self, label: str, body: dict[str, Any], **facts: Any) -> OrderHistory:
        history = OrderHistory(self.name, label, copy.deepcopy(body), facts=dict(facts))
        self.probe.record(history)
        return history

    def call(self, history: OrderHistory | None, operation: str, order_id: str | None = None, *,
             body: Any = None, query: dict[str, Any] | None = None) -> Exchange:
        oid = order_id if order_id is not None else (history.order_id if history else None)
        key = "partnerId" if operation == "listOrdersByPartner" else "orderId"
        params = {key: oid} if oid is not None and operation != "createOrder" else None
        exchange = self.client.call(operation, params, query=query, body=body)
        if history is None:
            self.probe.record(exchange=exchange)
        else:
            observe(history, exchange)
        return exchange

    def create(self, history: OrderHistory, sync: bool = False) -> Exchange:
        history.sync = history.sync or sync
        exchange = self.call(history, "createOrder", body=history.request, query={"sync": "1"} if sync else None)
        if exchange.ok and isinstance(exchange.response, dict) and exchange.response.get("orderId"):
            history.order_id = str(exchange.response["orderId"])
        return exchange

    def replace(self, history: OrderHistory, body: dict[str, Any], sync: bool = False) -> Exchange:
        history.facts.setdefault("replacements", []).append(copy.deepcopy(body))
        history.sync = history.sync or sync
        return self.call(history, "replaceOrder", body=body, query={"sync": "1"} if sync else None)

    def settle(self, history: OrderHistory, close: bool = False) -> str | None:
        """Wait for the background settle, then for its webhook event (so the next call never races it)."""
        if not history.order_id:
            return None
        settled = self.poller.settle(history, self.client.now(), close)
        self.probe.await_events(self.client, history)
        return settled


# -- flows -----------------------------------------------------------------------------------------------
def paid(flow: Flow) -> None:
    """Paid, quantity 2 with names and external references: Issued; confirm is a no-op (at strict also with a
    body that has no paymentReference); delete twice; Cancelled refuses confirm and replace."""
    names, refs = ["Jane Probe", "John Probe"], [f"EXT-{flow.probe.run_id}-1", f"EXT-{flow.probe.run_id}-2"]
    body = flow.individual(True, 2, wallet={"names": names, "externalReferenceNumbers": refs},
                           sellToName="Line Guest", sellToEmail="line@example.com", sellToLanguage="DAN")
    history = flow.order("paid order (Issued, confirmed again, deleted twice, then confirm and replace refused)", body)
    if not flow.create(history).ok:
        return
    for reference in (body["sellToOrderReference"], body["sellToOrderReference"].upper()):
        flow.call(None, "createOrder", body=dict(body, sellToOrderReference=reference))
    if flow.settle(history, close=True) != "Issued":
        return
    flow.call(history, "confirmOrder", body={"paymentReference": f"OTHER-{flow.probe.run_id}"})
    if flow.probe.strictness == "strict":  # on Issued the body is not read (CONTRACT.md, server)
        flow.call(history, "confirmOrder", body={})
    flow.call(history, "replaceOrder", body=body)
    flow.call(history, "deleteOrder")
    flow.call(history, "deleteOrder")
    flow.call(history, "confirmOrder", body={"paymentReference": f"PAY-{flow.probe.run_id}"})
    flow.call(history, "replaceOrder", body=body)
    flow.call(history, "getOrder")


def unpaid_confirm(flow: Flow) -> None:
    """Unpaid: Draft; confirmOrder without a paymentReference (or an empty one) is refused; with one it issues."""
    history = flow.order("unpaid order (Draft, then confirmed)", flow.individual(False))
    if flow.create(history).ok and flow.settle(history, close=True) == "Draft":
        flow.call(history, "confirmOrder", body={})
        flow.call(history, "confirmOrder", body={"paymentReference": ""})
        flow.call(history, "confirmOrder", body={"paymentReference": f"PAY-{flow.probe.run_id}"})
        flow.call(history, "getOrder")


def unpaid_delete(flow: Flow) -> None:
    """Unpaid: Draft; deleteOrder removes the row: getOrder and a second deleteOrder find nothing (404)."""
    history = flow.order("unpaid order (Draft, then deleted)", flow.individual(False))
    if flow.create(history).ok and flow.settle(history) == "Draft":
        flow.call(history, "deleteOrder")
        flow.call(history, "getOrder")
        flow.call(history, "deleteOrder")


def unpaid_replace(flow: Flow) -> None:
    """Unpaid: Draft; replace may not change identity nor take what createOrder refuses (quantity 0); a paid
    replace without sellToEmail and sellToName re-issues with new wallets and clears those two header fields."""
    body = flow.individual(False, 2)
    history = flow.order("unpaid order (Draft, then replaced paid)", body)
    if not flow.create(history).ok or flow.settle(history) != "Draft":
        return
    flow.call(history, "replaceOrder", body=dict(body, sellToOrderReference=flow.reference()))
    flow.call(history, "replaceOrder", body=dict(body, partnerId=str(uuid.uuid4())))
    flow.call(history, "replaceOrder", body=dict(body, items=[dict(body["items"][0], quantity=0)]))
    flow.call(history, "getOrder")  # still the Draft it was
    paid_body = {k: v for k, v in body.items() if k not in ("sellToEmail", "sellToName")}  # cleared by the replace
    if flow.replace(history, dict(paid_body, paymentReference=f"PAY-{flow.probe.run_id}")).ok:
        flow.settle(history)  # a refused replace submitted nothing: no settle, no event to wait for


def failing_replace(flow: Flow) -> None:
    """An order issuance rejects: Error with a reason; replaced with a good body (another buyer) it settles."""
    body = flow.individual(True, visit_time=flow.venue["failing_time"])
    history = flow.order("failing order (Error, then replaced)", body, expect="Error")
    if flow.create(history).ok and flow.settle(history) == "Error":
        good = flow.body([flow.line(flow.venue["individual_item"], flow.venue["individual_time"])], True,
                         history.request["sellToOrderReference"])
        good.update(sellToName="Otacm Replaced", sellToEmail="replaced@example.com", sellToLanguage="DAN")
        if flow.replace(history, good).ok:
            flow.settle(history)


def failing_delete(flow: Flow) -> None:
    """An Error order: confirmOrder is refused; deleteOrder removes it."""
    body = flow.individual(False, visit_time=flow.venue["failing_time"])
    history = flow.order("failing order (Error, confirm refused, then deleted)", body, expect="Error")
    if flow.create(history).ok and flow.settle(history) == "Error":
        flow.call(history, "confirmOrder", body={"paymentReference": f"PAY-{flow.probe.run_id}"})
        flow.call(history, "deleteOrder")
        flow.call(history, "getOrder")


def error_duplicate(flow: Flow) -> None:
    """The reference of an Error order cannot be used again by createOrder (doc 000: replace it)."""
    body = flow.individual(False, visit_time=flow.venue["failing_time"])
    history = flow.order("failing order (Error; its reference submitted again; deleted)", body, expect="Error")
    if flow.create(history).ok and flow.settle(history) == "Error":
        again = flow.individual(False) | {"sellToOrderReference": body["sellToOrderReference"]}
        flow.call(None, "createOrder", body=again)
        flow.call(history, "deleteOrder")


def other_partner(flow: Flow) -> None:
    """An order of a second partner: our partner's list must not show it. Then one of ours with its reference:
    the reference is unique per partner (doc 002), so ours is no duplicate."""
    body = flow.individual(True) | {"partnerId": flow.venue["other_partner_id"]}
    history = flow.order("another partner's order (kept out of our list)", body, other_partner=True)
    if not flow.create(history).ok:
        return
    ours = flow.order("our order with the other partner's reference (unique per partner)",
                      flow.individual(True) | {"sellToOrderReference": body["sellToOrderReference"]}, same_reference=True)
    if flow.create(ours).ok:
        flow.settle(ours)
    flow.settle(history)


def group(flow: Flow) -> None:
    """A group ticket for 3: one wallet."""
    line = flow.line(flow.venue["group_item"], flow.venue["group_time"], 3)
    history = flow.order("group order (quantity 3, one wallet)", flow.body([line], True), kind="group")
    if flow.create(history).ok:
        flow.settle(history)


def multi_line(flow: Flow) -> None:
    """Paid, several lines: individual × 2, then a group × 3 (else a second individual line) on another date,
    then a package without a quantity (default 1) where the venue has one: Issued, lines as sent, in order."""
    venue = flow.venue
    second = ((venue["group_item"], venue["group_time"]) if venue.get("group_item") and venue.get("group_time")
              else (venue["individual_item"], venue["individual_time"]))
    lines = [flow.line(venue["individual_item"], venue["individual_time"], 2),
             flow.line(second[0], second[1], 3, days=VISIT_DAYS_AHEAD + 1)]
    if venue.get("package_item") and venue.get("package_time"):
        package_line = flow.line(venue["package_item"], venue["package_time"], days=VISIT_DAYS_AHEAD + 2)
        lines.append({k: v for k, v in package_line.items() if k != "quantity"})
    history = flow.order(f"multi-line order ({len(lines)} lines, Issued)", flow.body(lines, True))
    if flow.create(history).ok:
        flow.settle(history)


def package(flow: Flow) -> None:
    """A package for 2: two wallets, each with the package's tickets and coupons."""
    line = flow.line(flow.venue["package_item"], flow.venue["package_time"], 2)
    history = flow.order("package order (quantity 2)", flow.body([line], True), kind="package",
                         tickets=int(flow.venue["package_tickets"]), coupons=int(flow.venue["package_coupons"]))
    if flow.create(history).ok:
        flow.settle(history)


def plain_package(flow: Flow) -> None:
    """A package without coupons: its wallets hold tickets only."""
    line = flow.line(flow.venue["plain_package_item"], flow.venue["plain_package_time"], 1)
    history = flow.order("package order without coupons", flow.body([line], True), kind="package",
                         tickets=int(flow.venue["plain_package_tickets"]), coupons=0)
    if flow.create(history).ok:
        flow.settle(history)


def sync_create(flow: Flow) -> None:
    """`?sync=1`: the answer is the final order (Issued when paid, Draft when not); no webhook."""
    for paid, label in ((True, "sync order (Issued in the call)"), (False, "unpaid sync order (Draft in the call)")):
        history = flow.order(label, flow.individual(paid))
        if flow.create(history, sync=True).ok:
            flow.call(history, "getOrder")


def sync_failure(flow: Flow) -> None:
    """`?sync=1` that fails issuance: 400, an Error row found by reference, replaced in sync."""
    body = flow.individual(True, visit_time=flow.venue["failing_time"])
    history = flow.order("sync order failing issuance (400, Error row, replaced in sync)", body, expect="Error")
    flow.create(history, sync=True)
    if history.order_id:
        return
    found = flow.call(history, "listOrdersByPartner", flow.probe.target.partner_id,
                      query={"sellToOrderReference": body["sellToOrderReference"]})
    rows = found.response.get("data") if isinstance(found.response, dict) else found.response
    ids = [r.get("orderId") for r in rows or [] if isinstance(r, dict)]
    if found.ok and ids and ids[0]:
        history.order_id = str(ids[0])
        flow.call(history, "getOrder")
        good = flow.body([flow.line(flow.venue["individual_item"], flow.venue["individual_time"])], True,
                         body["sellToOrderReference"])
        flow.replace(history, good, sync=True)
        flow.call(history, "getOrder")


def in_flight(flow: Flow) -> None:
    """Calls an in-flight order must refuse: confirm, delete, replace; and the list of what is in flight holds it."""
    body = flow.individual(True)
    history = flow.order("order in flight (confirm, delete, replace refused; listed in flight)", body)
    created = flow.create(history)
    if not created.ok:
        return
    flow.call(history, "confirmOrder", body={"paymentReference": "PAY-EARLY"})
    flow.call(history, "deleteOrder")
    flow.call(history, "replaceOrder", body=body)
    _listed_in_flight(flow, history, created)
    flow.settle(history)


def _listed_in_flight(flow: Flow, history: OrderHistory, created: Exchange) -> None:
    """Ask the in-flight list while the order is in flight (seen so after it: it was during it). A list that
    does not show it yet is asked once more half a second later, for a target whose list lags its writes."""
    for attempt in range(2):
        if attempt:
            flow.client.wait(IN_FLIGHT_RETRY)
        listing = in_flight_walk(flow.client, flow.probe.target.partner_id)
        seen = flow.call(history, "getOrder")
        still = isinstance(seen.response, dict) and seen.response.get("status") in IN_FLIGHT
        if still and isinstance(created.response, dict) and created.response.get("receivedAt"):
            listing.expected.append(ListedOrder(history.order_id, str(history.request["sellToOrderReference"]),
                                                str(created.response["receivedAt"]), "", created.response))
        listed = history.order_id.lower() in {i.lower() for i in walk_ids(listing)}
        if listed or not still or attempt:
            flow.probe.record(listing=listing)
            return


def invalid_input(flow: Flow) -> None:
    """Requests that must be refused before any order exists (400), and unknown orders (404).

    Each invalid create is recorded with the case it was built for (contracts.verify.invalid_cases), so the
    checks judge the run's own cases and never re-read why a body is invalid."""
    for case, body in invalid_creates(flow):
        flow.probe.evidence.rejections.append((case, flow.call(None, "createOrder", body=body)))
    unknown = str(uuid.uuid4())
    for operation, body in (("getOrder", None), ("confirmOrder", {"paymentReference": "PAY-X"}),
                            ("replaceOrder", flow.individual(True)), ("deleteOrder", None)):
        flow.call(None, operation, unknown, body=body)


FlowFunction = Callable[[Flow], None]
FLOWS: Mapping[str, tuple[tuple[str, ...], FlowFunction]] = MappingProxyType({
    "paid": (INDIVIDUAL, paid),
    "unpaid-confirm": (INDIVIDUAL, unpaid_confirm),
    "unpaid-delete": (INDIVIDUAL, unpaid_delete),
    "unpaid-replace": (INDIVIDUAL, unpaid_replace),
    "failing-replace": (INDIVIDUAL + ("failing_time",), failing_replace),
    "failing-delete": (INDIVIDUAL + ("failing_time",), failing_delete),
    "error-duplicate": (INDIVIDUAL + ("failing_time",), error_duplicate),
    "other-partner": (INDIVIDUAL + ("other_partner_id",), other_partner),
    "group": (("group_item", "group_time"), group),
    "multi-line": (INDIVIDUAL, multi_line),
    "package": (("package_item", "package_time", "package_tickets", "package_coupons"), package),
    "plain-package": (("plain_package_item", "plain_package_time", "plain_package_tickets"), plain_package),
    "sync-create": (INDIVIDUAL, sync_create),
    "sync-failure": (INDIVIDUAL + ("failing_time",), sync_failure),
    "in-flight": (INDIVIDUAL, in_flight),
    "invalid-input": (INDIVIDUAL, invalid_input),
})
