"""Once per settle, as a receiver can judge it: a repeat of an order's last announced status is a "duplicate?".

A receiver sees events, not settles. An order may settle twice to the same
status legitimately (Draft, replaced, Draft again), so it cannot know for
sure; what it can see is an order announced with the status it was last
announced with and no other status between. That is a re-sent settle or a
second settle to the same status, and it is reported with a question mark
(`duplicate?`), across POSTs and inside one. Retries of a POST the receiver
did not accept are not repeats: for the sender it was never delivered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Announced:
    """The last status announced for an order, and where."""

    status: Any
    post: int
    where: str


class SettleTracker:
    """Per order, the last status its events announced (thread-safe: deliveries arrive on several threads)."""

    def __init__(self) -> None:
        self._last: dict[str, Announced] = {}
        self._lock = threading.Lock()
        self.repeats = 0

    def see(self, order_id: str | None, status: Any, post: int, where: str) -> str:
        """Record one accepted event; the "duplicate?" message when it repeats the order's last status, else ""."""
        if not order_id:
            return ""
        key = order_id.lower()
        with self._lock:
            last = self._last.get(key)
            self._last[key] = Announced(status, post, where)
            if last is None or last.status != status:
                return ""
            self.repeats += 1
        return (f"duplicate? order {order_id} announced {status!r} again (already in POST #{last.post} {last.where}) "
                "with no other status between: the same settle sent twice, or the order settled to "
                f"{status!r} a second time (after a replace)")
