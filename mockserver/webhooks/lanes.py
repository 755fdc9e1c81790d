"""Attempts waiting to be sent: one lane per subscription, worker threads that send them.

Attempts to one subscription go out one at a time, in order: that keeps the
chaos modes deterministic and is how a well-behaved sender treats an
endpoint. The lanes have their own condition; the dispatcher calls them
with the backend's lock held or not, never the reverse (lock order: backend
lock, then this condition).
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from typing import Callable

from mockserver.webhooks.deliveries import Attempt


class Lanes:
    def __init__(self, workers: int, send: Callable[[Attempt], None], join_timeout: float) -> None:
        self._workers = workers
        self._send = send
        self._join_timeout = join_timeout
        self._cv = threading.Condition()
        self._queue: "queue.Queue[Attempt | None]" = queue.Queue()
        self._lanes: dict[str, deque[Attempt]] = {}
        self._busy: set[str] = set()  # subscriptions with an attempt queued or in flight
        self._threads: list[threading.Thread] = []
        self._stopped = False

    def ready(self, attempt: Attempt) -> None:
        """Queue an attempt behind any other of the same subscription."""
        subscription_id = attempt.delivery.subscription.id
        with self._cv:
            if self._stopped:
                return
            self._ensure_workers()
            if subscription_id in self._busy:
                self._lanes.setdefault(subscription_id, deque()).append(attempt)
            else:
                self._busy.add(subscription_id)
                self._queue.put(attempt)
            self._cv.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no attempt is queued or in flight."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._busy, timeout)

    def clear(self) -> None:
        """Drop the queued attempts behind those in flight (a reset: in-flight ones finish as no-ops)."""
        with self._cv:
            self._lanes.clear()

    def stop(self) -> None:
        """Stop the workers; an in-flight POST ends within the join timeout."""
        with self._cv:
            self._stopped = True
            threads, self._threads = self._threads, []
            self._lanes.clear()
            self._busy.clear()
            self._cv.notify_all()
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=self._join_timeout)

    def _finished(self, attempt: Attempt) -> None:
        """Release the subscription's lane to its next attempt, if any."""
        subscription_id = attempt.delivery.subscription.id
        with self._cv:
            lane = self._lanes.get(subscription_id)
            if lane:
                self._queue.put(lane.popleft())
            else:
                self._lanes.pop(subscription_id, None)
                self._busy.discard(subscription_id)
            self._cv.notify_all()

    def _ensure_workers(self) -> None:
        """Start the worker threads on first use (an app that never fires a webhook has none)."""
        while len(self._threads) < self._workers:
            thread = threading.Thread(target=self._work, name=f"otacm-webhooks-{len(self._threads) + 1}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            attempt = self._queue.get()
            if attempt is None:
                return
            if self._stopped:
                continue
            try:
                self._send(attempt)
            finally:
                self._finished(attempt)
