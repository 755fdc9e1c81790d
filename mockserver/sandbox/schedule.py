"""A discrete-event schedule on the mock's clock.

Background work (pickups, issuance steps, webhook deliveries) is queued as
events due at a clock time; whoever moves the clock or serves a request runs
the events that have come due, in time order, each at its own due time. No
thread sleeps per order, so advancing the clock by a day costs only the
events that day holds.

A lifecycle step is data, not a closure: a `kind` (e.g. `startProcessing`),
a `subject` (the order id) and the order's `generation` when it was queued,
run by the handler registered for its kind. Such a step can be written down
by a durable store and queued again after a restart (`Schedule.journal`).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Callable, Protocol

Action = Callable[[float], None]
# A step's handler: (subject, generation, due time).
StepHandler = Callable[[str, int, float], None]
# What names a data step, as a store keeps it: (due, kind, subject, generation).
StepKey = tuple[float, str, str, int]


@dataclass(order=True)
class Event:
    due: float
    seq: int
    name: str = field(compare=False)
    action: Action = field(compare=False, repr=False)
    cancelled: bool = field(default=False, compare=False)
    kind: str = field(default="", compare=False)  # "" for an action that is only a closure
    subject: str = field(default="", compare=False)
    generation: int = field(default=0, compare=False)


class Journal(Protocol):
    """Who records the data steps (a durable store): told when one is queued and when it has run."""

    def step_queued(self, event: Event) -> None: ...

    def step_done(self, event: Event) -> None: ...


class Schedule:
    """A time-ordered queue of actions. Not thread-safe: the backend locks."""

    def __init__(self) -> None:
        self._heap: list[Event] = []
        self._seq = itertools.count()
        self._handlers: dict[str, StepHandler] = {}
        self._steps: dict[StepKey, Event] = {}  # the data steps queued, by what names them (`cancel`)
        self.journal: Journal | None = None

    def handle(self, kind: str, handler: StepHandler) -> None:
        """Register what runs a step of `kind`."""
        self._handlers[kind] = handler

    def handles(self, kind: str) -> bool:
        """Whether a step of `kind` has a handler (a loaded snapshot may name only those)."""
        return kind in self._handlers

    def at(self, due: float, name: str, action: Action) -> Event:
        event = Event(due, next(self._seq), name, action)
        heapq.heappush(self._heap, event)
        return event

    def step(self, due: float, kind: str, subject: str = "", generation: int = 0, journal: bool = True) -> Event:
        """Queue a data step; its kind's handler runs it. `journal=False` when restoring one already recorded."""
        if kind not in self._handlers and journal:
            raise KeyError(f"no handler for steps of kind {kind!r}")
        # looked up when it runs: a restored step may name a kind whose handler registers later (webhooks)
        event = Event(due, next(self._seq), f"{kind} {subject}".strip(),
                      lambda at: self._handlers[kind](subject, generation, at), kind=kind, subject=subject,
                      generation=generation)
        heapq.heappush(self._heap, event)
        self._steps[(due, kind, subject, generation)] = event
        if journal and self.journal is not None:
            self.journal.step_queued(event)
        return event

    def cancel(self, key: StepKey) -> bool:
        """Drop a queued data step without running it: another process sharing the store ran it (issue 20).
        False if it is not queued here."""
        event = self._steps.pop(key, None)
        if event is None:
            return False
        event.cancelled = True
        return True

    def next_due(self) -> float | None:
        self._drop_cancelled()
        return self._heap[0].due if self._heap else None

    def run_until(self, now: float) -> int:
        """Run every event due at or before `now`, including ones that the
        actions themselves schedule inside the window. Returns how many ran."""
        ran = 0
        while True:
            self._drop_cancelled()
            if not self._heap or self._heap[0].due > now:
                return ran
            event = heapq.heappop(self._heap)
            if event.kind:
                self._steps.pop((event.due, event.kind, event.subject, event.generation), None)
            event.action(event.due)
            if event.kind and self.journal is not None:
                self.journal.step_done(event)
            ran += 1

    def pending(self) -> list[Event]:
        return sorted(event for event in self._heap if not event.cancelled)

    def clear(self) -> None:
        self._heap.clear()
        self._steps.clear()

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
