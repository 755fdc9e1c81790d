"""The durable stores' shared half: the memory indexes read, each unit of work written through at its end.

SQLite and PostgreSQL keep the same read side (the memory store's indexes,
loaded when the store opens) and differ only in how a finished unit reaches
the database. So the marking lives here once: `add`, `set_status`, `save`,
`remove`, `clear`, the counters, the records, the clock and the schedule's
steps note what the unit changed in a `Unit`, and at the end of the
outermost `transaction()` `commit` hands it to the engine's `_write`, which
writes it as one database transaction (all of it, or none).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from mockserver.sandbox.models import Order
from mockserver.sandbox.schedule import Event
from mockserver.store.base import ClockState
from mockserver.store.codec import order_from_dict
from mockserver.store.memory import ORDER_COUNTER, MemoryStore

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

    def __bool__(self) -> bool:
        return bool(self.orders or self.removed or self.cleared or self.ops or self.counters
                    or self.clock is not None)


class WriteThroughStore(MemoryStore):
    """A memory store that writes each finished unit of work to a database (`_write`)."""

    durable = True

    def __init__(self) -> None:
        super().__init__()
        self._unit = Unit()

    @abstractmethod
    def _write(self, unit: Unit) -> None:
        """Write one finished unit as one database transaction; a StoreError if it could not be."""

    def commit(self) -> None:
        """The end of an outermost unit: write what it changed (a unit that failed to write is not tried again)."""
        unit, self._unit = self._unit, Unit()
        if unit:
            self._write(unit)

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

    def step_queued(self, event: Event) -> None:
        self._unit.ops.append(("insert_step", (event.due, event.kind, event.subject, event.generation)))

    def step_done(self, event: Event) -> None:
        self._unit.ops.append(("delete_step", (event.due, event.kind, event.subject, event.generation)))

    def clear_steps(self) -> None:
        self._unit.ops.append(("delete_all_steps", ()))

    # -- opening ------------------------------------------------------------------
    def _restore(self, bodies: Iterable[dict[str, Any]], counters: dict[str, int],
                 records: dict[str, dict[str, dict[str, Any]]], clock: Optional[ClockState]) -> None:
        """The read side from what the database holds (orders in arrival order); nothing is marked."""
        for body in bodies:
            MemoryStore.add(self, order_from_dict(body))
        self._counters = dict(counters)
        highest = max((o.seq for o in self._orders.values()), default=0)
        self._counters[ORDER_COUNTER] = max(self._counters.get(ORDER_COUNTER, 0), highest)
        self._records = {kind: dict(kept) for kind, kept in records.items()}
        self._clock = clock


def clock_to_json(state: ClockState) -> dict[str, Any]:
    """The clock as a JSON value (the SQLite store's meta row `clock`)."""
    return {"offset": state.offset, "frozenAt": state.frozen_at}


def clock_from_json(value: Optional[dict[str, Any]]) -> Optional[ClockState]:
    """The clock as `clock_to_json` wrote it, or None for a store that has none yet."""
    return None if value is None else ClockState(float(value["offset"]), value["frozenAt"])
