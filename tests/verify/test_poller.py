"""The poller's close watches: looked at first, and no evidence once two looks lie too far apart.

`shows_every_state` judges only orders polled closely. A look is only as
close as the target's reading of the order: its answer can come late (a busy
target) or be sent late (a round of other orders' looks before it), and then a
short state may fall between two looks. The target here runs on a virtual
clock that only the poller's warps and each look's latency move.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

from contracts.target import Exchange
from contracts.verify.evidence import OrderHistory
from contracts.verify.poller import Poller

# Scheduled for just under half a second: shorter than the close slack (half a second), longer than a close poll
TIMELINE = [(0.0, "Submitted"), (0.15, "Scheduled"), (0.64, "Processing"), (1.2, "Issued")]


class _Target:
    """A warpable target whose every order follows TIMELINE; a look takes its latency, then reads the order."""

    def __init__(self, latencies: dict[str, list[float]]) -> None:
        self.t = 0.0
        self._latencies: dict[str, Iterator[float]] = {k: iter(v) for k, v in latencies.items()}

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def call(self, operation: str, params: dict[str, Any]) -> Exchange:
        order_id = params["orderId"]
        self.t += next(self._latencies[order_id], 0.0)
        status = [s for since, s in TIMELINE if since <= self.t][-1]
        exchange = Exchange("GET", f"/orders/{order_id}", {}, None, operation, dict(params), status=200,
                            response={"status": status})
        exchange.at = self.t
        return exchange


def _settle(latencies: dict[str, list[float]], close: dict[str, bool]) -> dict[str, OrderHistory]:
    """Every order waited on by its own flow, from target time 0, until each settles."""
    target = _Target(latencies)
    poller = Poller(target, warp=True, poll=0.2, close_poll=0.1, timeout=5.0, flows=len(close))  # type: ignore[arg-type]
    histories = {order_id: OrderHistory("f", "f", {}, order_id) for order_id in close}

    def flow(order_id: str) -> None:
        poller.settle(histories[order_id], 0.0, close=close[order_id])
        poller.finished()

    flows = [threading.Thread(target=flow, args=(order_id,)) for order_id in close]
    for thread in flows:
        thread.start()
    poller.drive()
    for thread in flows:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in flows)
    return histories


def _statuses(history: OrderHistory) -> list[str]:
    return [o.status for o in history.observations]


def test_a_close_watch_is_looked_at_before_a_slow_neighbour() -> None:
    """Each of B's looks takes 0.45 s; had A waited behind one, its looks would lie 0.55 s apart."""
    histories = _settle({"A": [], "B": [0.45] * 20}, {"A": True, "B": False})
    a = histories["A"]
    assert a.polled_closely and "Scheduled" in _statuses(a), _statuses(a)
    assert _statuses(a)[-1] == "Issued" and a.background_settles == 1


def test_a_close_watch_whose_answer_came_late_is_no_evidence() -> None:
    """The second look was sent 0.1 s after the first but read the order 0.45 s later: Scheduled fell between."""
    histories = _settle({"A": [0.0, 0.45]}, {"A": True})
    a = histories["A"]
    assert "Scheduled" not in _statuses(a), "the target as built here must make the poller miss Scheduled"
    assert not a.polled_closely, _statuses(a)


def test_a_steady_close_watch_stays_evidence() -> None:
    histories = _settle({"A": [0.02] * 30}, {"A": True})
    assert histories["A"].polled_closely and "Scheduled" in _statuses(histories["A"])
