"""A unit of work as other processes sharing a store read it again (issue 20).

Every process sharing a PostgreSQL sandbox keeps the whole read side in its
own memory (the memory store's indexes, writethrough.py). A unit is written
under a lock all of them take, so units happen one at a time, numbered (the
sandbox's *epoch*); with its rows, each unit also writes itself down once, as
one `otacm.units` row (`unit_body`). Before its next unit (or read) a process
replays the units it has not seen yet, in order (`replay`): its read side is
then what the database holds, and `Replayed` tells the backend what to rebuild
of what it derives (the clock, the schedule, the capacity sold, the webhook
side).

Replaying is not re-running: a unit carries its results (orders whole, records,
steps queued and done), so no step is run twice, no webhook sent twice.
"""

from __future__ import annotations

import json
import marshal
from typing import Any

from mockserver.store.base import ClockState, Replayed, SavedStep
from mockserver.store.memory import MemoryStore
from mockserver.store.writethrough import MARSHAL_VERSION, Unit, WriteThroughStore, order_row, stored_from_row

BODY_VERSION = 2  # the first item of every body: a process that meets another one loads again whole


def unit_body(unit: Unit, rows: list[tuple[Any, ...]]) -> bytes:
    """The unit as one value: `rows` are its orders as `order_row` made them (written already, not made twice)."""
    clock = None if unit.clock is None else (unit.clock.offset, unit.clock.frozen_at)
    return marshal.dumps((BODY_VERSION, rows, sorted(unit.removed), unit.cleared, unit.ops,
                          list(unit.counters.items()), clock, unit.requests_cleared), MARSHAL_VERSION)


def order_rows(unit: Unit) -> list[tuple[Any, ...]]:
    return [order_row(order) for order in unit.orders.values()]


def replay(store: WriteThroughStore, bodies: list[bytes], replayed: Replayed) -> bool:
    """Apply other processes' units to `store`'s read side (as the memory store it is: nothing is marked for
    writing), noting in `replayed` what the backend must follow. False if a unit is one to load again whole
    from (a reset, a snapshot: every order or step cleared), left unapplied."""
    for body in bodies:
        version, *fields = marshal.loads(body)
        if version != BODY_VERSION:
            return False
        rows, removed, cleared, ops, counters, clock, requests_cleared = fields
        if cleared or any(name in _WHOLE for name, _ in ops):
            return False
        if requests_cleared:  # DELETE /_mock/requests through another process: its rows here go too
            store.forget_requests()
        for order_id in removed:
            order = store.get(order_id)
            if order is not None:
                MemoryStore.remove(store, order)
        for row in rows:
            _put_order(store, row)
        for name, parameters in ops:
            _apply_op(store, name, parameters, replayed)
        for name, value in counters:
            MemoryStore.set_counter(store, name, value)
        if clock is not None:
            replayed.clock = ClockState(*clock)
            MemoryStore.save_clock(store, replayed.clock)
    return True


_WHOLE = frozenset({"delete_all_steps"})  # only a reset or a snapshot does this


def _put_order(store: MemoryStore, row: tuple[Any, ...]) -> None:
    """An `order_row` into the indexes: added, or in place of the version held (same id, seq and reference)."""
    order_id, seq, tenant, environment, company, partner_id, reference, status, received_at, body = row
    order = stored_from_row((order_id, tenant, environment, company, partner_id, reference, received_at, seq,
                             status, body))
    old = store.get(order_id)
    if old is None:
        MemoryStore.add(store, order)
    else:
        store.replace(old, order)


def _apply_op(store: MemoryStore, name: str, parameters: tuple[Any, ...], replayed: Replayed) -> None:
    if name == "upsert_record":
        kind, key, value = parameters
        MemoryStore.put_record(store, kind, key, json.loads(value))
        replayed.record_kinds.add(kind)
    elif name == "delete_record":
        kind, key = parameters
        MemoryStore.drop_record(store, kind, key)
        replayed.record_kinds.add(kind)
    elif name == "delete_records_of_kind":
        (kind,) = parameters
        MemoryStore.clear_records(store, kind)
        replayed.record_kinds.add(kind)
    elif name in ("insert_step", "delete_step"):
        due, kind, subject, generation = parameters
        replayed.steps.append((name == "insert_step", SavedStep(due, kind, subject, generation)))
    else:
        raise ValueError(f"a unit holds an operation this otacm cannot replay: {name}")
