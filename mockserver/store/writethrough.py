"""The durable stores' shared half: the memory indexes read, each unit of work written through at its end.

SQLite and PostgreSQL keep the same read side (the memory store's indexes,
loaded when the store opens) and differ only in how a finished unit reaches
the database. So the marking lives here once: `add`, `set_status`, `save`,
`remove`, `clear`, the counters, the records, the clock, the schedule's
steps and the request log note what the unit changed in a `Unit`, and at
the end of the outermost `transaction()` `commit` hands it to the engine's
`_write`, which writes it as one database transaction (all of it, or none).

The request log is the exception: a unit notes what it logged in the
read side only, and the log's writer writes those rows later, outside the
backend's lock (`write_requests`), so that no request waits for them; one
write lock keeps the database's transactions one at a time.
"""

from __future__ import annotations

import bisect
import json
import marshal
import sys
import threading
from abc import abstractmethod
from collections import deque
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Iterable, Iterator, Optional, Sequence

from mockserver.sandbox.models import Order
from mockserver.sandbox.schedule import Event
from mockserver.store.base import ClockState, LoggedRequest, RequestRow, StoreUnavailable
from mockserver.store.codec import order_to_dict, stored_order
from mockserver.store.memory import ORDER_COUNTER, REQUEST_COUNTER, MemoryStore

FIELDS = len(LoggedRequest._fields)  # of a RequestRow
MARSHAL_VERSION = 4  # the request log's chunks (encode_requests): never changed for the types they hold
CHUNK_ROWS = 2000  # requests per stored chunk: marshalling one holds the GIL (~4 ms for 2,000 getOrders)

#: a write that is not an order: (query name, parameters), the same names and order in every engine
Op = tuple[str, tuple[Any, ...]]


@dataclass
class Unit:
    """What one unit of work changed, to be written at its end."""

    orders: dict[str, Order] = field(default_factory=dict)  # added or changed: written whole
    removed: set[str] = field(default_factory=set)
    cleared: bool = False  # every order removed first
    ops: list[Op] = field(default_factory=list)  # steps and records, in the order they happened
    counters: dict[str, int] = field(default_factory=dict)  # each counter's last number taken
    clock: Optional[ClockState] = None
    # the request log: written by write_requests, apart from the units (cleared: with the unit)
    requests: list[RequestRow] = field(default_factory=list)  # logged, oldest first
    requests_cleared: bool = False  # every logged request removed first
    requests_from: int = 0  # then those with a lower id removed (the bound)

    def __bool__(self) -> bool:
        return bool(self.orders or self.removed or self.cleared or self.ops or self.counters
                    or self.clock is not None or self.requests or self.requests_cleared or self.requests_from)


class WriteThroughStore(MemoryStore):
    """A memory store that writes each finished unit of work to a database (`_write`)."""

    durable = True

    def __init__(self) -> None:
        super().__init__()
        self._unit = Unit()
        self._writing = threading.RLock()  # one database transaction at a time: a unit's, or the log's
        self._unwritten = Unit()  # the log's rows and bound, for write_requests (under _unwritten_lock)
        self._unwritten_lock = threading.Lock()
        self._closed = False  # set by the engine's close, under _writing: the log's writer then writes nothing

    @abstractmethod
    def _write(self, unit: Unit) -> None:
        """Write one finished unit as one database transaction; a StoreError if it could not be (a
        StoreUnavailable if the database could not be reached)."""

    @abstractmethod
    def _load(self) -> None:
        """The read side from the database (`_restore`); a StoreUnavailable if it cannot be reached."""

    def commit(self) -> None:
        """The end of an outermost unit: write what it changed (a unit that failed to write is not tried again).
        One the database could not be reached for leaves the read side ahead of it: `stale` until `reload`."""
        unit, self._unit = self._unit, Unit()
        if unit:
            with self._writing:
                try:
                    self._write(unit)
                except StoreUnavailable:
                    self.stale = True
                    raise

    def reload(self) -> None:
        """The read side as the database holds it: what the failed unit changed is forgotten (its client got a
        503), what was written before it is all there."""
        self._reconnect()
        self._empty()
        self._unit = Unit()
        self._load()
        self.stale = False

    def _reconnect(self) -> None:
        """What the engine must set up again before reading (a session lost with the database)."""

    # -- orders: the memory indexes, marked for writing ------------------------------
    def add(self, order: Order) -> None:
        super().add(order)
        self._unit.orders[order.order_id] = order

    def set_status(self, order: Order, status: str) -> None:
        super().set_status(order, status)
        self._unit.orders[order.order_id] = order

    def save(self, order: Order) -> None:
        self._unit.orders[order.order_id] = order

    def remove(self, order: Order) -> None:
        super().remove(order)
        self._unit.orders.pop(order.order_id, None)
        self._unit.removed.add(order.order_id)

    def clear(self, partner_id: Optional[str] = None) -> list[Order]:
        removed = super().clear(partner_id)
        if partner_id is None:  # one DELETE of everything instead of one per order
            self._unit.orders.clear()
            self._unit.removed.clear()
            self._unit.cleared = True
        return removed

    # -- counters, records, clock, steps ---------------------------------------------
    def take_number(self, counter: str) -> int:
        number = super().take_number(counter)
        self._unit.counters[counter] = number
        return number

    def set_counter(self, counter: str, value: int) -> None:
        super().set_counter(counter, value)
        self._unit.counters[counter] = value

    def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        super().put_record(kind, key, value)
        self._unit.ops.append(("upsert_record", (kind, key, json.dumps(value, separators=(",", ":")))))

    def drop_record(self, kind: str, key: str) -> None:
        super().drop_record(kind, key)
        self._unit.ops.append(("delete_record", (kind, key)))

    def clear_records(self, kind: str) -> None:
        super().clear_records(kind)
        self._unit.ops.append(("delete_records_of_kind", (kind,)))

    def save_clock(self, state: ClockState) -> None:
        super().save_clock(state)
        self._unit.clock = state

    def log_requests(self, requests: Sequence[RequestRow], keep: int) -> None:
        """Into the read side now; into the database at the next `write_requests`: the rows still kept once
        trimmed are inserted, the trimmed ones deleted, the last id noted."""
        super().log_requests(requests, keep)
        kept = self._requests
        first = kept[0][0] if kept else self._last_request + 1
        with self._unwritten_lock:
            unwritten = self._unwritten
            unwritten.requests.extend(requests)
            if unwritten.requests and unwritten.requests[0][0] < first:  # ids increase: the trimmed are a prefix
                del unwritten.requests[:bisect.bisect_left(unwritten.requests, first, key=itemgetter(0))]
            unwritten.requests_from = first
            if requests:
                unwritten.counters[REQUEST_COUNTER] = self._last_request

    def write_requests(self) -> None:
        with self._writing:
            if self._closed:  # the app closed its store before its log: nothing left to write to
                return
            with self._unwritten_lock:
                unit, self._unwritten = self._unwritten, Unit()
            if unit:
                self._write(unit)

    def clear_requests(self) -> None:
        """With this unit: rows logged and not yet written are dropped, every row deleted."""
        self.forget_requests()
        self._unit.requests_cleared = True

    def forget_requests(self) -> None:
        """The read side's logged rows and those not yet written dropped (what `clear_requests` does here, and
        what another process's clear replayed does: store/replay.py)."""
        MemoryStore.clear_requests(self)
        with self._unwritten_lock:
            self._unwritten.requests, self._unwritten.requests_from = [], 0

    def step_queued(self, event: Event) -> None:
        self._unit.ops.append(("insert_step", (event.due, event.kind, event.subject, event.generation)))

    def step_done(self, event: Event) -> None:
        self._unit.ops.append(("delete_step", (event.due, event.kind, event.subject, event.generation)))

    def clear_steps(self) -> None:
        self._unit.ops.append(("delete_all_steps", ()))

    # -- opening ------------------------------------------------------------------
    def _restore(self, rows: Iterable[tuple[Any, ...]], counters: dict[str, int],
                 records: dict[str, dict[str, dict[str, Any]]], clock: Optional[ClockState],
                 requests: Iterable[RequestRow] = ()) -> None:
        """The read side from what the database holds (orders in arrival order, as the engine's `all_orders`
        gives them: see `stored_from_row`; the logged requests by id); nothing is marked."""
        for row in rows:
            MemoryStore.add(self, stored_from_row(row))
        self._counters = dict(counters)
        self._requests = deque(requests)
        last = self._counters.pop(REQUEST_COUNTER, 0)  # the log's, not a counter a snapshot writes down
        self._last_request = max(last, self._requests[-1][0] if self._requests else 0)
        highest = max((o.seq for o in self._orders.values()), default=0)
        self._counters[ORDER_COUNTER] = max(self._counters.get(ORDER_COUNTER, 0), highest)
        self._records = {kind: dict(kept) for kind, kept in records.items()}
        self._clock = clock


def order_row(order: Order) -> tuple[Any, ...]:
    """An order as both engines' `upsert_order` writes it: the columns the read side's indexes are rebuilt
    from, then the whole order as JSON text."""
    tenant, environment, company = order.scope
    return (order.order_id, order.seq, tenant, environment, company, order.partner_id,
            order.sell_to_order_reference, order.status, order.received_at,
            json.dumps(order_to_dict(order), separators=(",", ":")))


def stored_from_row(row: tuple[Any, ...]) -> Order:
    """An `all_orders` row (order_id, tenant, environment, company, partner_id, reference, received_at, seq,
    status, body text) as an order decoded on its first read (codec.stored_order): opening a store of
    100,000 orders decodes none of them."""
    order_id, tenant, environment, company, partner_id, reference, received_at, seq, status, body = row
    return stored_order(order_id, (tenant, environment, company), partner_id, reference, received_at, seq, status,
                        body)


def clock_to_json(state: ClockState) -> dict[str, Any]:
    """The clock as a JSON value (the SQLite store's meta row `clock`)."""
    return {"offset": state.offset, "frozenAt": state.frozen_at}


def clock_from_json(value: Optional[dict[str, Any]]) -> Optional[ClockState]:
    """The clock as `clock_to_json` wrote it, or None for a store that has none yet."""
    return None if value is None else ClockState(float(value["offset"]), value["frozenAt"])


def encode_requests(requests: list[RequestRow]) -> tuple[int, int, bytes]:
    """A chunk of the request log as the engines store it: (its last id, its first id, its rows marshalled).
    marshal, at a fixed version, for its speed and because it builds no objects but the data's own (scalars,
    tuples, a list); it also writes a body shared by several requests (getOrder's cached bytes) once."""
    rows = [tuple(row) for row in requests]  # the same tuples (a LoggedRequest made plain)
    return rows[-1][0], rows[0][0], marshal.dumps(rows, MARSHAL_VERSION)


def request_ops(unit: Unit) -> list[Op]:
    """The request log's part of a unit as named queries both engines have: cleared, the new rows as chunks of
    at most CHUNK_ROWS, then the chunks wholly under the bound deleted."""
    ops: list[Op] = []
    if unit.requests_cleared:
        ops.append(("delete_all_requests", ()))
    for start in range(0, len(unit.requests), CHUNK_ROWS):
        ops.append(("insert_requests", encode_requests(unit.requests[start:start + CHUNK_ROWS])))
    if unit.requests_from:
        ops.append(("delete_requests_below", (unit.requests_from,)))
    return ops


def decode_requests(chunks: Iterable[bytes], where: str = "") -> Iterator[RequestRow]:
    """The requests of stored chunks (oldest chunk first). A chunk that cannot be read is left out, said on
    stderr: the log is not the sandbox's state, so it never keeps the sandbox from starting."""
    for chunk in chunks:
        try:
            requests = marshal.loads(bytes(chunk))
        except (EOFError, ValueError, TypeError) as error:
            _unreadable(where, f"cannot be read ({error})")
            continue
        if not isinstance(requests, list) or not all(isinstance(row, tuple) and len(row) == FIELDS for row in requests):
            _unreadable(where, "is of another shape")
            continue
        yield from requests


def _unreadable(where: str, problem: str) -> None:
    print(f"otacm mock: a chunk of the request log in {where or 'the store'} {problem}: its requests are left out "
          "(orders and everything else are not affected); DELETE /_mock/requests clears the log", file=sys.stderr)
