"""The running sandbox's side of snapshots: export it, and load one as a restart would stand.

Standing where a store stood is here too (`_stand_where_stored`): a restart,
a loaded snapshot and a store reloaded after its database was out of reach
(`recover`) run the same code.

A mixin of the backend (backend.py), as background.py is. The document
itself (its format, its checks, writing it into a store) is
store/snapshot.py's; here the sandbox checks a snapshot against what it can
run, replaces its state with it in one unit, and rebuilds what it derives
from the store (the clock, the capacity sold, the schedule, and through the
load listeners the webhook side) by the same code a restart runs.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from typing import Any, Callable, Iterable, Optional

from contracts.lifecycle import Lifecycle
from mockserver.sandbox.clock import WarpClock
from mockserver.sandbox.issuance import Issuer, SlotKey
from mockserver.sandbox.schedule import Schedule
from mockserver.store.base import ClockState, Replayed, SavedStep, Store
from mockserver.store.snapshot import SandboxNotEmpty, Snapshot, SnapshotError, to_document, write

SOLD = "sold"  # store records: the capacity issuance took per slot, so a restart need not read every order
# Called before a snapshot is loaded: raises SnapshotError for what the listener could not stand on.
SnapshotCheck = Callable[[Snapshot], None]
# Called once a snapshot is in the store, in the same unit: rebuild what the listener derives from it.
LoadListener = Callable[[], None]
# Called once what other processes wrote is in the read side (a shared store, issue 20): follow it.
FollowListener = Callable[[Replayed], None]


class Snapshots:
    lifecycle: Lifecycle
    clock: WarpClock
    store: Store
    schedule: Schedule
    issuer: Issuer
    _pickup_due: Optional[float]
    snapshot_checks: list[SnapshotCheck]
    load_listeners: list[LoadListener]
    follow_listeners: list[FollowListener]

    def atomic(self) -> AbstractContextManager[None]:
        raise NotImplementedError  # the backend's: one operation under its lock, as one store unit

    def reading(self) -> AbstractContextManager[None]:
        raise NotImplementedError  # the backend's: a unit that only reads

    def catch_up(self) -> int:
        raise NotImplementedError

    def _restore(self) -> bool:
        raise NotImplementedError  # the backend's: stand where the store stands, as a start does

    def reset(self, partner_id: Optional[str] = None) -> int:
        raise NotImplementedError

    def recover(self) -> None:
        """Under the lock, before a unit, when the store is `stale` (a unit could not reach its database): the
        store's read side reloaded, then the clock, the capacity sold, the schedule and (load listeners) the
        webhook side rebuilt from it by a start's own code. A StoreUnavailable while the database is still away."""
        self.store.reload()
        self._stand_again()

    def follow(self, replayed: Replayed) -> None:
        """At the start of a unit, what other processes sharing the store wrote is in its read side (units.py):
        the clock, the steps they queued and ran, the capacity sold and (follow listeners) the webhook side follow
        it. Nothing is run: their steps ran there, their webhooks go out from there."""
        if replayed.reload:
            self._stand_again()
            return
        if replayed.clock is not None:
            self.clock.restore(replayed.clock.offset, replayed.clock.frozen_at)
        for queued, step in replayed.steps:
            if queued:
                self.schedule.step(step.due, step.kind, step.subject, step.generation, journal=False)
                if step.kind == "pickup":
                    self._pickup_due = step.due if self._pickup_due is None else min(self._pickup_due, step.due)
            else:
                self.schedule.cancel((step.due, step.kind, step.subject, step.generation))
                if step.kind == "pickup" and self._pickup_due == step.due:
                    self._pickup_due = None
        if SOLD in replayed.record_kinds:
            self.issuer.restore_sold({tuple(json.loads(key)): record["sold"]
                                      for key, record in self.store.records(SOLD).items()})
        for listener in self.follow_listeners:
            listener(replayed)

    def _stand_again(self) -> None:
        """What the process derives from the store, rebuilt from the store's read side as a start does."""
        self.schedule.clear()
        self.issuer.reset()
        self._pickup_due = None
        self._restore()
        for listener in self.load_listeners:
            listener()

    def _stand_where_stored(self, clock: ClockState, steps: Iterable[SavedStep], journal: bool) -> None:
        """Rebuild what the process derives from the stored state (a restart; a snapshot loaded, whose
        steps the schedule then journals to the store): the clock, the capacity sold, the queued steps."""
        self.clock.restore(clock.offset, clock.frozen_at)
        self._stand_on_sold(recount=journal)
        for step in steps:
            self.schedule.step(step.due, step.kind, step.subject, step.generation, journal=journal)
            if step.kind == "pickup":
                self._pickup_due = step.due if self._pickup_due is None else min(self._pickup_due, step.due)

    def _stand_on_sold(self, recount: bool) -> None:
        """The capacity sold per slot: as the store kept it (a restart), or counted from every order's wallets
        and kept (a snapshot loaded, whose counts are not trusted; a store written before the counts were)."""
        kept = self.store.records(SOLD)
        if kept and not recount:
            self.issuer.restore_sold({tuple(json.loads(key)): record["sold"] for key, record in kept.items()})
            return
        for order in self.store.all():
            self.issuer.restore(order)
        counted = {json.dumps(slot): {"sold": count} for slot, count in self.issuer.sold().items() if count}
        if counted == kept:
            return  # nothing to write (a new sandbox: none sold; processes sharing a store start without a unit)
        with self.atomic():
            self.store.clear_records(SOLD)
            for slot, count in self.issuer.sold().items():
                self._keep_sold(slot, count)

    def _keep_sold(self, slot: SlotKey, count: int) -> None:
        """One slot's capacity sold, kept with the unit that changed it (none left: no record)."""
        key = json.dumps(slot)
        if count:
            self.store.put_record(SOLD, key, {"sold": count})
        else:
            self.store.drop_record(SOLD, key)

    def export_snapshot(self) -> dict[str, Any]:
        """Everything the sandbox holds, once what came due has run, as a document (store/snapshot.py)."""
        with self.reading():
            self.catch_up()
            steps = [SavedStep(e.due, e.kind, e.subject, e.generation) for e in self.schedule.pending() if e.kind]
            return to_document(self.store, steps, time.time(), derived=frozenset({SOLD}))

    def load_snapshot(self, snapshot: Snapshot, replace: bool = False) -> None:
        """Hold exactly the snapshot, in one unit, and stand where it stood, as a restart on its store
        would. Refused (SandboxNotEmpty) over any state unless `replace`. Checked first: the memory
        store cannot roll back a unit that fails halfway."""
        with self.atomic():
            self._check_loadable(snapshot)
            if self.holds_state() and not replace:
                raise SandboxNotEmpty(f"this sandbox is not empty ({len(self.store)} order(s), "
                                      f"{self._record_count()} webhook record(s)): a snapshot replaces everything "
                                      "it holds")
            self.reset()
            write(self.store, snapshot)
            self._stand_where_stored(snapshot.clock, snapshot.steps, journal=True)
            for listener in self.load_listeners:
                listener()

    def holds_state(self) -> bool:
        """Whether loading a snapshot would lose something: an order, a webhook record, a pending step."""
        with self.reading():
            return bool(len(self.store) or self._record_count() or self.schedule.pending())

    def _record_count(self) -> int:
        """The webhook side's records (the capacity sold is rebuilt from the orders)."""
        return sum(len(self.store.records(kind)) for kind in self.store.record_kinds() if kind != SOLD)

    def _check_loadable(self, snapshot: Snapshot) -> None:
        """Refuse what this sandbox could not run: a status its lifecycle lacks, an item its catalog
        lacks, a step kind nothing handles, and what a listener refuses (the webhook records)."""
        for index, order in enumerate(snapshot.orders):
            if order.status not in self.lifecycle.states:
                raise SnapshotError(f"orders[{index}].status: {order.status!r} is not a status of the lifecycle")
            for line in order.lines:
                if line.item_number not in self.issuer.catalog.items:
                    raise SnapshotError(f"orders[{index}]: item {line.item_number!r} is not in this sandbox's "
                                        "catalog; start it with the config of the sandbox the snapshot came from")
        for index, step in enumerate(snapshot.steps):
            if not self.schedule.handles(step.kind):
                raise SnapshotError(f"steps[{index}].kind: {step.kind!r} is not a step this sandbox runs")
        for check in self.snapshot_checks:
            check(snapshot)
