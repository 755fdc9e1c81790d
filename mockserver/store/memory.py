"""The in-memory store and its indexes (`--store memory`, the default).

Not locked itself: the backend holds one lock around every read and write,
so a request never sees half an update. Nothing outlives the process; the
SQLite store keeps these same indexes as its read side. Indexes: by orderId; by
(scope, partner, upper-cased reference) for the duplicate check; by
(scope, partner) in arrival order for listing; by status for the pickup job
and status filters. The request log is a bounded deque, oldest first.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict, deque
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from mockserver.sandbox.models import Order, Scope
from mockserver.sandbox.schedule import Event
from mockserver.store.base import ClockState, ListQuery, RequestRow, SavedStep, Store

PartnerKey = tuple[Scope, str]
ORDER_COUNTER = "order"  # the counter of order sequence numbers
REQUEST_COUNTER = "request-log"  # the request log's last id, as the durable stores keep it (not a snapshot's)


class MemoryStore(Store):
    description = "in memory (lost on exit; --store sqlite:sandbox.db keeps it)"

    def __init__(self) -> None:
        self._empty()
        self._counters: dict[str, int] = {}
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._clock: Optional[ClockState] = None
        self._requests: deque[RequestRow] = deque()
        self._last_request = 0
        self._depth = 0
        self._unit_context = _Unit(self)
        self._after_unit: list[Callable[[], None]] = []

    def transaction(self) -> "_Unit":
        return self._unit_context

    def _enter_unit(self) -> None:
        self._depth += 1

    def _exit_unit(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._end_unit()

    def _end_unit(self) -> None:
        """Write the unit, then run what waited for it (a unit that failed to write runs none of it)."""
        actions, self._after_unit = self._after_unit, []
        self.commit()
        for action in actions:
            action()

    def after_unit(self, action: Callable[[], None]) -> None:
        if self._depth == 0:
            action()
        else:
            self._after_unit.append(action)

    def commit(self) -> None:
        """The end of an outermost unit: nothing to write in memory."""

    def save(self, order: Order) -> None:
        """In memory the order is the record: nothing to do."""

    def take_seq(self) -> int:
        return self.take_number(ORDER_COUNTER)

    def take_number(self, counter: str) -> int:
        self._counters[counter] = self._counters.get(counter, 0) + 1
        return self._counters[counter]

    def counters(self) -> dict[str, int]:
        return dict(self._counters)

    def set_counter(self, counter: str, value: int) -> None:
        self._counters[counter] = value

    def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        self._records.setdefault(kind, {})[key] = value

    def drop_record(self, kind: str, key: str) -> None:
        self._records.get(kind, {}).pop(key, None)

    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        return dict(self._records.get(kind, {}))

    def clear_records(self, kind: str) -> None:
        self._records.pop(kind, None)

    def record_kinds(self) -> list[str]:
        return [kind for kind, records in self._records.items() if records]

    def log_requests(self, requests: Sequence[RequestRow], keep: int) -> None:
        if self._requests.maxlen != keep:  # the bound is the deque's own: extend() trims in C
            self._requests = deque(self._requests, maxlen=keep)
        self._requests.extend(requests)
        if requests:
            self._last_request = max(self._last_request, requests[-1][0])

    def write_requests(self) -> None:
        """In memory the deque is the log: nothing to write."""

    def logged_requests(self) -> Sequence[RequestRow]:
        return self._requests

    def last_request_id(self) -> int:
        return self._last_request

    def clear_requests(self) -> None:
        self._requests.clear()

    def saved_clock(self) -> Optional[ClockState]:
        return self._clock

    def save_clock(self, state: ClockState) -> None:
        self._clock = state

    def saved_steps(self) -> list[SavedStep]:
        return []  # the schedule itself holds them for the process's life

    def step_queued(self, event: Event) -> None:
        """Memory keeps no second copy of the schedule."""

    def step_done(self, event: Event) -> None:
        """Memory keeps no second copy of the schedule."""

    def clear_steps(self) -> None:
        """Memory keeps no second copy of the schedule."""

    def close(self) -> None:
        """Nothing to release."""

    def _empty(self) -> None:
        self._orders: dict[str, Order] = {}
        self._by_reference: dict[tuple[Scope, str, str], str] = {}
        # Arrival order per partner: parallel sorted lists (orders only append;
        # removed ones are skipped when read).
        self._seqs: dict[PartnerKey, list[int]] = defaultdict(list)
        self._received: dict[PartnerKey, list[float]] = defaultdict(list)
        self._by_seq: dict[int, str] = {}
        self._by_status: dict[str, dict[str, Order]] = defaultdict(dict)

    def __len__(self) -> int:
        return len(self._orders)

    def add(self, order: Order) -> None:
        key = (order.scope, order.partner_id)
        self._orders[order.order_id] = order
        self._by_reference[(order.scope, order.partner_id, order.sell_to_order_reference)] = order.order_id
        self._seqs[key].append(order.seq)
        self._received[key].append(order.received_at)
        self._by_seq[order.seq] = order.order_id
        self._by_status[order.status][order.order_id] = order

    def get(self, order_id: str) -> Optional[Order]:
        return self._orders.get(order_id)

    def find_by_reference(self, scope: Scope, partner_id: str, reference: str) -> Optional[Order]:
        order_id = self._by_reference.get((scope, partner_id, reference))
        return None if order_id is None else self._orders.get(order_id)

    def set_status(self, order: Order, status: str) -> None:
        self._by_status[order.status].pop(order.order_id, None)
        order.status = status
        order.changed()
        self._by_status[status][order.order_id] = order

    def replace(self, old: Order, new: Order) -> None:
        """`new` in place of `old`, the same order as another process wrote it (store/replay.py): in its status's
        place if that did not change, else last in its new status, as `set_status` puts it."""
        self._orders[new.order_id] = new
        if old.status != new.status:
            self._by_status[old.status].pop(old.order_id, None)
        self._by_status[new.status][new.order_id] = new

    def in_status(self, status: str) -> list[Order]:
        """A snapshot, oldest first in that status, safe to change while iterating."""
        return list(self._by_status[status].values())

    def count_in(self, statuses: Iterable[str]) -> int:
        return sum(len(self._by_status[status]) for status in statuses)

    def remove(self, order: Order) -> None:
        self._orders.pop(order.order_id, None)
        self._by_reference.pop((order.scope, order.partner_id, order.sell_to_order_reference), None)
        self._by_seq.pop(order.seq, None)
        self._by_status[order.status].pop(order.order_id, None)

    def all(self) -> Iterator[Order]:
        return iter(list(self._orders.values()))

    def page(self, scope: Scope, partner_id: str, query: ListQuery) -> tuple[list[Order], bool]:
        """One page of a partner's orders in arrival order, and whether more follow."""
        if not (query.reference or query.statuses or query.received_to is not None):
            return self._plain_page((scope, partner_id), query)
        found: list[Order] = []
        for order in self._candidates((scope, partner_id), query):
            if _matches(order, query):
                if len(found) == query.page_size:
                    return found, True
                found.append(order)
        return found, False

    def _candidates(self, key: PartnerKey, query: ListQuery) -> Iterator[Order]:
        if query.reference:
            order = self.find_by_reference(key[0], key[1], query.reference)
            yield from ([order] if order is not None and order.seq > query.after_seq else [])
        elif query.statuses and self._few(query, len(self._seqs.get(key, ()))):
            matching = [o for s in query.statuses for o in self._by_status[s].values() if (o.scope, o.partner_id) == key]
            yield from sorted((o for o in matching if o.seq > query.after_seq), key=lambda o: o.seq)
        else:
            yield from self._timeline(key, query)

    def _few(self, query: ListQuery, timeline: int) -> bool:
        """Whether sorting the orders in the wanted statuses (about M of them)
        beats walking the arrival order, where `_matches` filters and the page
        of P fills after about P × N / M orders: when M² is well under P × N.
        (Sorting every match made `?status=Issued` cost 0.1 s at 100,000 orders.)"""
        wanted = self.count_in(query.statuses)
        return wanted * wanted * 4 < query.page_size * timeline

    def _plain_page(self, key: PartnerKey, query: ListQuery) -> tuple[list[Order], bool]:
        """The unfiltered list (the common call): runs of the arrival order from
        where the page key and receivedAtFrom start it, with no per-row test."""
        seqs, by_seq, orders = self._seqs.get(key, []), self._by_seq, self._orders
        want = query.page_size + 1  # one more than a page tells whether more follow
        found: list[Order] = []
        index = self._start(key, query)
        while len(found) < want and index < len(seqs):
            run = seqs[index:index + want - len(found)]
            index += len(run)
            found += [orders[order_id] for order_id in map(by_seq.get, run) if order_id is not None]
        return found[:query.page_size], len(found) > query.page_size

    def _start(self, key: PartnerKey, query: ListQuery) -> int:
        """The first index of the arrival order past the page key and from receivedAtFrom."""
        start = bisect.bisect_right(self._seqs.get(key, []), query.after_seq)
        if query.received_from is not None:
            start = max(start, bisect.bisect_left(self._received.get(key, []), query.received_from))
        return start

    def _timeline(self, key: PartnerKey, query: ListQuery) -> Iterator[Order]:
        """Arrival order, starting where the page key and receivedAtFrom allow."""
        seqs, received = self._seqs.get(key, []), self._received.get(key, [])
        for index in range(self._start(key, query), len(seqs)):
            if query.received_to is not None and received[index] > query.received_to:
                return
            order_id = self._by_seq.get(seqs[index])
            if order_id is not None:
                yield self._orders[order_id]

    def newest_first(self, partner_id: str = "", statuses: frozenset[str] = frozenset(), reference: str = "",
                     before_seq: Optional[int] = None) -> Iterator[Order]:
        """Every scope's orders, newest first, filtered (the dashboard): from
        the indexes, so a page costs about its size, never the store's."""
        if reference:  # one lookup per (scope, partner): no walk at all
            found = [o for (scope, partner) in list(self._seqs) if not partner_id or partner == partner_id
                     for o in [self.find_by_reference(scope, partner, reference)] if o is not None]
            candidates: Iterable[Order] = sorted(found, key=lambda o: -o.seq)
        elif statuses and self.count_in(statuses) <= 2000:  # few matches: sort just those
            candidates = sorted((o for s in statuses for o in self._by_status[s].values()), key=lambda o: -o.seq)
        else:
            candidates = self._arrivals_backwards(partner_id, before_seq)
        for order in candidates:
            if before_seq is not None and order.seq >= before_seq:
                continue
            if (partner_id and order.partner_id != partner_id) or (statuses and order.status not in statuses):
                continue
            yield order

    def _arrivals_backwards(self, partner_id: str, before_seq: Optional[int]) -> Iterator[Order]:
        """The per-(scope, partner) arrival lists merged newest first, each
        entered by bisection below `before_seq`: a deep page costs its size."""
        walks = []
        for (_, partner), seqs in list(self._seqs.items()):
            if partner_id and partner != partner_id:
                continue
            top = len(seqs) if before_seq is None else bisect.bisect_left(seqs, before_seq)
            walks.append(_backwards(seqs, top))
        for seq in heapq.merge(*walks, reverse=True):
            order_id = self._by_seq.get(seq)
            if order_id is not None:  # removed orders stay in the lists, skipped here
                yield self._orders[order_id]

    def clear(self, partner_id: Optional[str] = None) -> list[Order]:
        """Forget every order (or one partner's); returns what was removed."""
        doomed = [o for o in self._orders.values() if partner_id is None or o.partner_id == partner_id]
        for order in doomed:
            self.remove(order)
        if partner_id is None:
            self._empty()  # also drops the arrival-order lists of removed orders
        return doomed


def _backwards(values: list[int], top: int) -> Iterator[int]:
    """values[top - 1], values[top - 2], ... without copying the list."""
    for index in range(top - 1, -1, -1):
        yield values[index]


def _matches(order: Order, query: ListQuery) -> bool:
    if query.statuses and order.status not in query.statuses:
        return False
    if query.received_from is not None and order.received_at < query.received_from:
        return False
    if query.received_to is not None and order.received_at > query.received_to:
        return False
    return order.seq > query.after_seq


class _Unit:
    """`transaction()`'s context manager: one per store, reused (it keeps no state of a call). A
    generator-based one cost ~2.3 µs per use, and a getOrder enters three units (issue 19's bench)."""

    __slots__ = ("_store",)

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._enter_unit()

    def __exit__(self, *exc: object) -> None:
        self._store._exit_unit()
