"""The Channel Manager backend: orders, their lifecycle, and the clock.

This is the whole business of the mock and it knows nothing of HTTP: the
HTTP layer (responses.py) turns requests into calls here and results or
`ApiError`s into responses. Every legal move comes from the spec's
`x-lifecycle` (contracts.lifecycle); `_move` refuses anything else.

One re-entrant lock guards the store, the schedule and the issuer, and
every operation is one store transaction (`atomic`), so concurrent requests
and the background ticker never see half an update and a durable store
writes whole operations only. The state itself lives in the store (orders,
the id counter, the clock, the schedule's steps); what the process derives
from it (the issuer's capacity, the next pickup) is rebuilt by `_restore`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

from contracts.lifecycle import Lifecycle, Transition, load_lifecycle
from mockserver.config import ApiKeyConfig, MockConfig
from mockserver.sandbox.background import Background, SettleListener
from mockserver.sandbox.catalog import Catalog
from mockserver.sandbox.clock import WarpClock, compact_stamp, to_datetime, whole_second
from mockserver.sandbox.errors import Findings, bad_request, forbidden_partner, order_not_found
from mockserver.sandbox.ids import RandomIds
from mockserver.sandbox.issuance import Issuer
from mockserver.sandbox.models import Directives, Order, OrderLine, Scope, StatusChange
from mockserver.sandbox.order_input import order_lines
from mockserver.sandbox.schedule import Schedule
from mockserver.sandbox.snapshots import SOLD, FollowListener, LoadListener, SnapshotCheck, Snapshots
from mockserver.sandbox.units import Unit
from mockserver.store.base import ClockState, ListQuery, Store
from mockserver.store.memory import MemoryStore

R = TypeVar("R")
T = TypeVar("T")

# Called with (order, the change) whenever an order settles in the background.
ResetListener = Callable[[Optional[str]], None]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the API key and the partners it may act for."""

    api_key: ApiKeyConfig

    def holds(self, partner_id: str) -> bool:
        return self.api_key.holds(partner_id)


class ChannelManagerBackend(Background, Snapshots):
    """The operations; the background steps they queue are `Background`'s (background.py), snapshots
    `Snapshots`' (snapshots.py)."""

    def __init__(self, config: MockConfig, clock: WarpClock, lifecycle: Lifecycle | None = None,
                 store: Store | None = None) -> None:
        self.config = config
        self.clock = clock
        self.lifecycle = lifecycle or load_lifecycle()
        self.lock = threading.RLock()
        self._atomic, self._reading = Unit(self, writes=True), Unit(self, writes=False)
        self.store = store if store is not None else MemoryStore()  # (an empty store is falsy: it has __len__)
        self.schedule = Schedule()
        self.schedule.journal = self.store
        self.schedule.handle("pickup", lambda _subject, _generation, at: self._pickup(at))
        self.schedule.handle("startProcessing", self._order_step(self._start_processing))
        self.schedule.handle("completeProcessing", self._order_step(self._complete_processing))
        self.issuer = Issuer(Catalog.load(config.catalog_path), config.manifest_base_url)
        self.issuer.on_sold = self._keep_sold
        self.settle_listeners: list[SettleListener] = []
        self.reset_listeners: list[ResetListener] = []
        self.snapshot_checks: list[SnapshotCheck] = []
        self.load_listeners: list[LoadListener] = []
        self.follow_listeners: list[FollowListener] = []
        self.ids = RandomIds()  # order ids and reference suffixes
        self._pickup_due: Optional[float] = None
        #: whether the clock came from the store (a sandbox started again) rather than from the options
        self.resumed = self._restore()

    def _restore(self) -> bool:
        """Stand where the store stood: the clock, the pending steps, the capacity sold. False for a new store."""
        saved = self.store.saved_clock()
        if saved is None:
            with self.atomic():  # shared: a process starting at the same moment may have saved its clock first
                if self.store.saved_clock() is None:
                    self._save_clock()
                    return False
            return True  # that process's clock and steps, replayed (follow)
        self._stand_where_stored(saved, self.store.saved_steps(), journal=False)
        return True

    def atomic(self) -> Unit:
        """One operation that may write: under the lock, as one store transaction (webhook delivery records its
        attempts so); on a shared store, holding the sandbox lock (units.py)."""
        return self._atomic

    def reading(self) -> Unit:
        """One operation that only reads, unless a step comes due (`catch_up` then holds the sandbox lock)."""
        return self._reading

    def _save_clock(self) -> None:
        offset, frozen_at = self.clock.state()
        self.store.save_clock(ClockState(offset, frozen_at))

    # -- time ---------------------------------------------------------------
    def catch_up(self) -> int:
        """Run every background event that has come due on the clock (a read until one has)."""
        with self.reading():
            due = self.schedule.next_due()
            if due is None or due > self.clock.now():
                return 0
            with self.atomic():  # shared: another process may have run them meanwhile (replayed, then not due)
                return self.schedule.run_until(self.clock.now())

    def advance(self, seconds: float) -> float:
        """Move the clock forward, running every due event in time order."""
        with self.atomic():
            self.catch_up()
            now = self.clock.advance(seconds)
            self._save_clock()
            self.schedule.run_until(now)
            return now

    def jump(self, instant: float) -> float:
        with self.atomic():
            self.catch_up()
            now = self.clock.jump(instant)
            self._save_clock()
            self.schedule.run_until(now)
            return now

    def freeze(self) -> float:
        with self.atomic():
            now = self.clock.freeze()
            self._save_clock()
            return now

    def resume(self) -> float:
        with self.atomic():
            now = self.clock.resume()
            self._save_clock()
            return now

    # -- authorization ------------------------------------------------------
    def caller_for(self, api_key: str | None) -> Caller | None:
        for configured in self.config.api_keys:
            if api_key is not None and secrets.compare_digest(configured.key, api_key):
                return Caller(configured)
        return None

    # -- operations ---------------------------------------------------------
    def answered(self, view: Callable[[R], T], operation: Callable[..., R], *args: Any) -> T:
        """One operation, then the rendering of its result, under the backend's
        lock: no other unit (no other request, no replay of another process's
        units) comes in between, so the answer shows exactly what the operation
        left (the HTTP handlers' entry: they never hold the lock themselves).
        The operation is its own unit: a write neither catches up twice (a read
        unit around it would read the epoch first, one more round trip to a
        shared store) nor keeps the sandbox lock while its answer is rendered."""
        with self.lock:
            return view(operation(*args))

    def create_order(
        self, caller: Caller, scope: Scope, body: dict[str, Any], directives: Directives | None, sync: bool
    ) -> Order:
        with self.atomic():
            self.catch_up()
            now = self.clock.now()
            found = Findings()  # every problem of the body in details; the first one's text is the message
            partner_id = self._check_partner(caller, body["partnerId"], found)
            lines = order_lines(self.issuer.catalog, body, to_datetime(now).date(), found)
            reference = body["sellToOrderReference"].upper()
            existing = self.store.find_by_reference(scope, partner_id, reference) if partner_id else None
            if existing is not None:
                partner = self.config.partners[existing.partner_id].name
                found.add("sellToOrderReference", f"{reference} is the reference of order {existing.order_id}",
                          f"An order with sellToOrderReference '{reference}' already exists for partner '{partner}'")
            found.raise_any()
            assert partner_id is not None  # no problem found: the partner is known and active
            order = Order(
                order_id=self.ids.uuid(),
                scope=scope,
                partner_id=partner_id,
                sell_to_order_reference=reference,
                buy_from_order_reference=_buy_from_reference(now, self.ids.hex(2)),
                received_at=math.floor(now),  # the API shows whole seconds; filters compare what it shows
                seq=self._take_seq(),
                directives=self._directives(directives, partner_id),
            )
            _apply_header(order, body, lines)
            order.status_since = now
            order.history.append(StatusChange(order.status, now, "createOrder"))
            self.store.add(order)
            self._submitted(order, now, sync, "createOrder")
            return order

    def get_order(self, caller: Caller, scope: Scope, order_id: str) -> Order:
        with self.reading():
            self.catch_up()
            return self._visible(caller, scope, order_id)

    def replace_order(
        self, caller: Caller, scope: Scope, order_id: str, body: dict[str, Any],
        directives: Directives | None, sync: bool,
    ) -> Order:
        with self.atomic():
            self.catch_up()
            order = self._visible(caller, scope, order_id)
            if order.status not in self.lifecycle.sources("replaceOrder"):
                raise bad_request(f"Order cannot be replaced in status {order.status}")
            if body["partnerId"].lower() != order.partner_id:
                raise bad_request("partnerId cannot be changed via PUT")
            if body["sellToOrderReference"].upper() != order.sell_to_order_reference:
                raise bad_request("sellToOrderReference cannot be changed via PUT")
            now = self.clock.now()
            lines = self._lines(body, now)
            self._tear_down(order)
            order.generation += 1
            order.directives = self._directives(directives, order.partner_id)
            _apply_header(order, body, lines)
            self._move(order, "Submitted", "replaceOrder", now)
            self._submitted(order, now, sync, "replaceOrder")
            return order

    def confirm_order(
        self, caller: Caller, scope: Scope, order_id: str, read_body: Callable[[], dict[str, Any]]
    ) -> Order:
        """Draft → Issued. On Issued a no-op that does not even read the body."""
        with self.atomic():
            self.catch_up()
            order = self._visible(caller, scope, order_id)
            if order.status == "Issued":  # docs/000: a no-op, the order unchanged
                return order
            if order.status not in self.lifecycle.sources("confirmOrder"):
                raise bad_request(f"Order cannot be confirmed in status {order.status}")
            body = read_body()
            order.payment_reference = body["paymentReference"].upper()
            order.changed()
            self.issuer.build_manifests(order)
            self._move(order, "Issued", "confirmOrder", self.clock.now())
            return order

    def delete_order(self, caller: Caller, scope: Scope, order_id: str) -> Order:
        """Tear down; keep Issued/Cancelled as Cancelled, remove Draft/Error."""
        with self.atomic():
            self.catch_up()
            order = self._visible(caller, scope, order_id)
            targets = self.lifecycle.targets(order.status, "deleteOrder")
            if not targets:
                raise bad_request(f"Order is mid-flight (status {order.status}); retry once it has settled.")
            self._tear_down(order)
            order.lines = []  # a cancelled order shows no items (CONTRACT.md)
            (target,) = targets
            now = self.clock.now()
            if target == self.lifecycle.removed:
                order.history.append(StatusChange(self.lifecycle.removed, now, "deleteOrder"))
                self.store.remove(order)
                order.status = "Cancelled"  # the response shows the order after teardown
                order.changed()
                return order
            self._move(order, target, "deleteOrder", now)
            return order

    def list_orders(
        self, caller: Caller, scope: Scope, partner_id: str, query: ListQuery
    ) -> tuple[list[Order], bool]:
        with self.reading():
            self.catch_up()
            partner_id = partner_id.lower()
            if not caller.holds(partner_id):
                raise forbidden_partner(partner_id)
            return self.store.page(scope, partner_id, query)

    # -- control --------------------------------------------------------------
    def reset(self, partner_id: str | None = None) -> int:
        """Forget every order (or one partner's) and its pending work."""
        with self.atomic():
            removed = self.store.clear(partner_id.lower() if partner_id else None)
            if partner_id is None:
                self.schedule.clear()
                self.store.clear_steps()
                self.issuer.reset()
                self.store.clear_records(SOLD)
                self._pickup_due = None
            else:
                for order in removed:
                    self.issuer.release(order)
            for listener in self.reset_listeners:
                listener(partner_id.lower() if partner_id else None)
            return len(removed)

    def recent_orders(self, limit: int, partner_id: str = "", statuses: frozenset[str] = frozenset(),
                      reference: str = "", before_seq: int | None = None) -> tuple[list[Order], bool]:
        """A page of every order, newest first (the dashboard), and whether more follow."""
        with self.reading():
            self.catch_up()
            orders = self.store.newest_first(partner_id.lower(), statuses, reference.upper(), before_seq)
            page = list(itertools.islice(orders, limit + 1))
            return page[:limit], len(page) > limit

    def order(self, order_id: str) -> Order | None:
        """Any order by id, whoever owns it (the control side, not the API)."""
        with self.reading():
            self.catch_up()
            return self.store.get(order_id)

    def order_count(self) -> int:
        with self.reading():
            return len(self.store)

    def orders(self) -> list[Order]:
        with self.reading():
            self.catch_up()
            return list(self.store.all())

    # -- the lifecycle ------------------------------------------------------
    def _move(self, order: Order, target: str, trigger: str, at: float, reason: str = "") -> Transition:
        """Change status, refusing any move the spec's lifecycle does not have."""
        transition = self.lifecycle.transition(order.status, target, trigger)  # KeyError if illegal
        self.store.set_status(order, target)
        order.status_since = at
        order.history.append(StatusChange(target, at, trigger, reason))
        return transition

    def _tear_down(self, order: Order) -> None:
        """Destroy wallets, tickets and coupons (replace and delete)."""
        self.issuer.release(order)
        for line in order.lines:
            line.wallets = []
        order.job_id = ""
        order.manifest_url = ""
        order.status_message = ""
        order.changed()

    # -- checks ---------------------------------------------------------------
    def _visible(self, caller: Caller, scope: Scope, order_id: str) -> Order:
        """The order if it exists in this company and the key may see it."""
        order = self.store.get(order_id.lower())
        if order is None or order.scope != scope or not caller.holds(order.partner_id):
            raise order_not_found(order_id)
        return order

    def _check_partner(self, caller: Caller, partner_id: str, found: Findings) -> Optional[str]:
        """The partner, lower-cased; None with its problem in `found` (a 403 for a key that may not act for it)."""
        partner_id = partner_id.lower()
        if not caller.holds(partner_id):
            raise forbidden_partner(partner_id)
        partner = self.config.partners.get(partner_id)
        if partner is None:
            found.add("partnerId", f"{partner_id} is not a partner of this sandbox", f"Unknown partnerId '{partner_id}'")
            return None
        if not partner.active:
            found.add("partnerId", f"partner '{partner.name}' is not active",
                      f"Partner '{partner.name}' is not active")  # the server names it
            return None
        return partner_id

    def _lines(self, body: dict[str, Any], now: float) -> list[OrderLine]:
        """Order lines from the request, checked against the catalog (400s)."""
        return order_lines(self.issuer.catalog, body, to_datetime(now).date())

    def _directives(self, requested: Directives | None, partner_id: str) -> Directives:
        """This order's own copy: the request's directives, else the partner's."""
        return dataclasses.replace(requested or self.config.partners[partner_id].directives)

    def _take_seq(self) -> int:
        return self.store.take_seq()


def _apply_header(order: Order, body: dict[str, Any], lines: list[OrderLine]) -> None:
    """Header mutables from a create/replace body; absent ones are cleared."""
    order.sell_to_email = body.get("sellToEmail", "")
    order.sell_to_name = body.get("sellToName", "")
    order.sell_to_language = body.get("sellToLanguage", "").upper()
    order.payment_reference = body.get("paymentReference", "").upper()
    order.lines = lines
    order.changed()


def _buy_from_reference(now: float, random_hex: str) -> str:
    """`CM-<yyMMddHHmmss>-<4 upper-case hex>`, as the server builds it (the stamp formatted once per second)."""
    return f"CM-{compact_stamp(whole_second(now))}-{random_hex.upper()}"
