"""Polling every order the probe waits on together, on the target's clock.

On a mock with `/_mock/clock` the poller is the only thing that moves the
clock, and only while every flow is waiting, so a call never races a warp; on
a real target it polls on the wall clock, each order at its own cadence
(closely around the pickup for the orders that must show every state).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from contracts.checks.lifecycle import Observation
from contracts.lifecycle import load_lifecycle
from contracts.target import Exchange, TargetClient
from contracts.verify.evidence import OrderHistory


def observe(history: OrderHistory, exchange: Exchange) -> None:
    """Record a call about an order, and the status its answer shows (404 on getOrder: `removed`)."""
    history.exchanges.append(exchange)
    document = exchange.response
    if exchange.ok and isinstance(document, dict) and isinstance(document.get("status"), str):
        history.observations.append(Observation(document["status"], exchange.at, exchange.operation))
    elif exchange.status == 404 and exchange.operation == "getOrder":
        history.observations.append(Observation("removed", exchange.at, "getOrder"))


# A close watch whose looks (from submission on) ever lie further apart than this is no evidence of which
# states the target shows: twice the close cadence, and never under half a second (a sluggish runner's floor)
CLOSE_SLACK, CLOSE_FLOOR = 2.0, 0.5


@dataclass
class _Watch:
    """An order a flow waits on, until it settles or its deadline passes."""

    history: OrderHistory
    close: bool
    due: float
    deadline: float
    done: threading.Event = field(default_factory=threading.Event)
    settled: str | None = None
    looked: float = 0.0  # the target's time the last look was sent (at first: when the flow's last call was answered)


class Poller:
    """Polls every waiting order together; on a warpable target, the one driver of the clock."""

    def __init__(self, client: TargetClient, *, warp: bool, poll: float, close_poll: float, timeout: float,
                 flows: int) -> None:
        self.client, self.warp = client, warp
        self.poll, self.close_poll, self.timeout = poll, close_poll, timeout
        self.settled = load_lifecycle().settled
        self._cond = threading.Condition()
        self._watches: list[_Watch] = []
        self._active = flows  # flows running (not waiting, not finished)
        self._answered = 0.0  # the target's time of the latest answer to a look

    # -- called by flow threads -------------------------------------------------------------
    def settle(self, history: OrderHistory, now: float, close: bool = False) -> str | None:
        """Block until the order is seen settled (its status) or the timeout passed (None).

        `now`: the target's time, read by the calling flow's own client.
        """
        watch = _Watch(history, close, now + (self.close_poll if close else self.poll), now + self.timeout,
                       looked=history.observations[-1].at if history.observations else now)
        history.polled_closely = history.polled_closely or close
        with self._cond:
            self._watches.append(watch)
            self._active -= 1
            self._cond.notify_all()
        watch.done.wait()
        return watch.settled

    def finished(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    # -- the driver (the probe's own thread) ---------------------------------------------------
    def drive(self) -> None:
        """Poll until every flow finished; if polling itself breaks, let every waiting flow go on."""
        try:
            self._drive()
        finally:
            with self._cond:
                released, self._watches = self._watches, []
                self._active += len(released)
            for watch in released:
                watch.done.set()

    def _drive(self) -> None:
        while True:
            with self._cond:
                if self.warp:
                    self._cond.wait_for(lambda: self._active == 0)
                else:
                    self._cond.wait_for(lambda: self._watches or self._active == 0)
                if not self._watches:
                    if self._active == 0:
                        return
                    continue
                watches = list(self._watches)
            now = self.client.now()
            woke = sum(self._poll(w, now) for w in self._looks_due(watches, now))
            if not woke:  # the looks themselves may have taken the target's time
                self._pass_time(min(w.due for w in watches) - max(now, self._answered))

    def _looks_due(self, watches: list[_Watch], now: float) -> list[_Watch]:
        """The watches to look at now: close ones first, then by due time.

        Warped, only the poller's warps move the clock far (a look takes at
        most its own round trip), so every due watch is looked at in one
        round. On the real clock only the first is, and the
        time is read again before the next: a close watch never waits behind
        a round of other orders' looks, and each look's send time is `now`."""
        due = sorted((w for w in watches if w.due <= now + 1e-6), key=lambda w: (not w.close, w.due))
        return due if self.warp else due[:1]

    def _pass_time(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.warp:
            self.client.advance(seconds)  # deliveries are awaited by the flow that needs them (Probe.await_events)
        else:
            with self._cond:
                self._cond.wait(seconds)

    def _poll(self, watch: _Watch, now: float) -> bool:
        exchange = self.client.call("getOrder", {"orderId": watch.history.order_id})
        observe(watch.history, exchange)
        self._answered = max(self._answered, exchange.at)
        # the target read the order at most this long after the previous look was sent (`now`: this one's)
        gap = max(exchange.at, now) - watch.looked
        if watch.close and gap > max(CLOSE_SLACK * self.close_poll, CLOSE_FLOOR):
            # a busy target or runner stretched the cadence: a short state may fall between two looks,
            # so this order is no evidence of what states the target shows (shows_every_state)
            watch.history.polled_closely = False
        watch.looked = now
        status = exchange.response.get("status") if isinstance(exchange.response, dict) else None
        watch.due = now + (self.close_poll if watch.close else self.poll)
        if exchange.ok and status in self.settled:
            watch.history.background_settles += 1
            watch.settled = status
        elif exchange.ok and now < watch.deadline:
            return False
        with self._cond:
            self._watches.remove(watch)
            self._active += 1
        watch.done.set()
        return True
