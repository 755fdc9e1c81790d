"""Snapshots: everything a sandbox holds as one versioned JSON document, and back into any store.

A partner exports the sandbox where a bug shows and QA loads it into theirs
(`otacm sandbox export/import`, `GET/POST /_mock/snapshot`). The document
holds what a durable store keeps (base.py): the orders with their history
(in codec.py's form), the id counters, the clock, the schedule's pending
steps and the webhook side's records. So a sandbox loaded from it stands
where the exported one stood, as one started again on the same file would.
The request log is not in it: it records calls, it is not the sandbox's
state, and a sandbox a snapshot is loaded into keeps its own log.

The format is versioned: version 1 is the codec's field names, and a change
to them is a new version. A document of an unknown format or of a newer
version is refused, never half-read. This module knows no HTTP and no
backend: the backend checks a document against what it can run and loads it
in one unit (`ChannelManagerBackend.load_snapshot`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Hashable, Iterable, Mapping, Optional

from mockserver.sandbox.clock import iso
from mockserver.sandbox.models import Order
from mockserver.store.base import ClockState, SavedStep, Store
from mockserver.store.codec import NOT_WRITTEN, order_from_dict, order_to_dict
from mockserver.store.memory import ORDER_COUNTER
from mockserver.store.shapes import ShapeError, check, check_dataclass, check_fields

FORMAT = "otacm-sandbox-snapshot"
VERSION = 1
_CLOCK = MappingProxyType({"offset": float, "frozenAt": Optional[float], "now": str, "frozen": bool})
_STEP = MappingProxyType({"due": float, "kind": str, "subject": str, "generation": int})


class SnapshotError(ValueError):
    """A document this otacm cannot load; the message says what is wrong. Nothing was changed."""


class SandboxNotEmpty(Exception):
    """The sandbox holds state and the load was not told to replace it (a snapshot replaces everything)."""


@dataclass(frozen=True)
class Snapshot:
    """A checked document, ready to load. `write` hands its orders to the store (load it once)."""

    clock: ClockState
    counters: Mapping[str, int]
    orders: tuple[Order, ...]
    steps: tuple[SavedStep, ...]
    records: Mapping[str, Mapping[str, dict[str, Any]]]

    def summary(self) -> dict[str, Any]:
        """What was loaded, in counts (the control API's answer)."""
        return {"orders": len(self.orders), "pendingSteps": len(self.steps),
                "records": {kind: len(records) for kind, records in self.records.items()}}


# -- export ------------------------------------------------------------------------------
def to_document(store: Store, steps: Iterable[SavedStep], exported_at: float,
                derived: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The store's whole state as a document. `steps`: the schedule's pending data steps (the memory
    store keeps none of its own); `exported_at`: real time, which also dates a running clock's `now`;
    `derived`: record kinds left out, which a load rebuilds from the rest."""
    clock = store.saved_clock() or ClockState(0.0, None)
    now = clock.frozen_at if clock.frozen_at is not None else exported_at + clock.offset
    return {
        "format": FORMAT,
        "version": VERSION,
        "exportedAt": iso(exported_at),
        "clock": {"now": iso(now), "frozen": clock.frozen_at is not None, "offset": clock.offset,
                  "frozenAt": clock.frozen_at},
        "counters": store.counters(),
        "orders": [order_to_dict(order) for order in sorted(store.all(), key=lambda order: order.seq)],
        "steps": [{"due": s.due, "kind": s.kind, "subject": s.subject, "generation": s.generation} for s in steps],
        "records": {kind: store.records(kind) for kind in store.record_kinds() if kind not in derived},
    }


# -- import ------------------------------------------------------------------------------
def from_document(document: Any) -> Snapshot:
    """The snapshot a document holds, every part checked; a SnapshotError names the first thing wrong."""
    _check_format(document)
    try:
        return Snapshot(_clock(document.get("clock")), _counters(document.get("counters", {})),
                        _orders(document.get("orders", [])), _steps(document.get("steps", [])),
                        _records(document.get("records", {})))
    except ShapeError as error:
        raise SnapshotError(str(error)) from None


def write(store: Store, snapshot: Snapshot) -> None:
    """Make the store hold exactly the snapshot, in one unit: what it held before is gone.

    Counters never go back (an id the store handed out before is never handed
    out again), and the order counter is past every order's sequence number.
    The pending steps are not written here: the backend queues them on its
    schedule, which journals them to the store as it does every step."""
    with store.transaction():
        store.clear()
        store.clear_steps()
        for kind in store.record_kinds():
            store.clear_records(kind)
        store.save_clock(snapshot.clock)
        _continue_counters(store, snapshot)
        for order in sorted(snapshot.orders, key=lambda order: order.seq):
            store.add(order)
        for kind, records in snapshot.records.items():
            for key, value in records.items():
                store.put_record(kind, key, value)


def _continue_counters(store: Store, snapshot: Snapshot) -> None:
    """Each counter at the snapshot's number, or the store's if that is higher: a receiver that dropped
    duplicates by delivery id must never see an old id again, nor a page key point at another order."""
    counters = dict(snapshot.counters)
    highest_seq = max((order.seq for order in snapshot.orders), default=0)
    counters[ORDER_COUNTER] = max(counters.get(ORDER_COUNTER, 0), highest_seq)
    current = store.counters()
    for name, value in counters.items():
        store.set_counter(name, max(value, current.get(name, 0)))


def _check_format(document: Any) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f'not an otacm sandbox snapshot (no "format": "{FORMAT}"); '
                            "make one with `otacm sandbox export FILE` or GET /_mock/snapshot")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SnapshotError(f"the snapshot's version must be a whole number from 1 (got {version!r})")
    if version > VERSION:
        raise SnapshotError(f"this snapshot is version {version}, written by a newer otacm; this one reads "
                            f"versions up to {VERSION}: upgrade otacm to load it")


def _clock(value: Any) -> ClockState:
    """`now` and `frozen` are for the reader; `offset` and `frozenAt` are what is loaded."""
    check_fields(value, _CLOCK, frozenset({"offset", "frozenAt"}), "clock")
    return ClockState(value["offset"], value["frozenAt"])


def _counters(value: Any) -> dict[str, int]:
    check(value, dict[str, int], "counters")
    negative = [name for name, number in value.items() if number < 0]
    if negative:
        raise ShapeError(f"counters.{negative[0]}: must be 0 or more")
    return dict(value)


def _orders(value: Any) -> tuple[Order, ...]:
    check(value, list[Any], "orders")
    orders = []
    for index, data in enumerate(value):
        check_dataclass(data, Order, f"orders[{index}]", NOT_WRITTEN)
        orders.append(order_from_dict(data))
    _check_unique(orders, lambda order: order.order_id, "orderId")
    _check_unique(orders, lambda order: order.seq, "seq")
    _check_unique(orders, lambda order: (order.scope, order.partner_id, order.sell_to_order_reference),
                  "sellToOrderReference of a partner")
    return tuple(orders)


def _check_unique(orders: list[Order], key: Callable[[Order], Hashable], what: str) -> None:
    """Two orders with one id, seq or reference would corrupt the indexes: refused here, not found later."""
    seen: dict[Hashable, int] = {}
    for index, order in enumerate(orders):
        first = seen.setdefault(key(order), index)
        if first != index:
            raise ShapeError(f"orders[{index}]: the same {what} as orders[{first}]")


def _steps(value: Any) -> tuple[SavedStep, ...]:
    check(value, list[Any], "steps")
    for index, step in enumerate(value):
        check(step, _STEP, f"steps[{index}]")
    return tuple(SavedStep(s["due"], s["kind"], s["subject"], s["generation"]) for s in value)


def _records(value: Any) -> dict[str, dict[str, dict[str, Any]]]:
    check(value, dict[str, dict[str, dict[str, Any]]], "records")
    return {kind: dict(records) for kind, records in value.items()}
