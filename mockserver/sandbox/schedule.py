"""A discrete-event schedule on the mock's clock.

Background work (pickups, issuance steps, webhook deliveries) is queued as
events due at a clock time; whoever moves the clock or serves a request runs
the events that have come due, in time order, each at its own due time. No
thread sleeps per order, so advancing the clock by a day costs only the
events that day holds.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Callable

Action = Callable[[float], None]


@dataclass(order=True)
class Event:
    due: float
    seq: int
    name: str = field(compare=False)
    action: Action = field(compare=False, repr=False)
    cancelled: bool = field(default=False, compare=False)


class Schedule:
    """A time-ordered queue of actions. Not thread-safe: the backend locks."""

    def __init__(self) -> None:
        self._heap: list[Event] = []
        self._seq = itertools.count()

    def at(self, due: float, name: str, action: Action) -> Event:
        event = Event(due, next(self._seq), name, action)
        heapq.heappush(self._heap, event)
        return event

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
            event.action(event.due)
            ran += 1

    def pending(self) -> list[Event]:
        return sorted(event for event in self._heap if not event.cancelled)

    def clear(self) -> None:
        self._heap.clear()

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
