"""The delivery of `ota_cm_order_processed` to subscribed endpoints.

Business only, no Flask: `webhook_responses.py` turns requests into calls on
`Webhooks` and results into JSON; what a delivery carries is `delivery.py`.

Delivery never blocks an API request. The backend calls `on_settle` under its
lock; that only stages the event and schedules a flush on the mock's clock.
The flush (a schedule action, still under the lock) only queues attempts.
Worker threads POST outside every lock, then take the backend lock to record
the attempt and schedule a retry on the mock's clock, so a day of retries is
tested in milliseconds by advancing the clock. Attempts to one subscription
go out one at a time, in order: that keeps the chaos modes deterministic and
is how a well-behaved sender treats an endpoint.

Lock order: backend lock, then the dispatcher's condition; never the reverse.
"""

from __future__ import annotations

import itertools
import queue
import threading
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any, Mapping

from mockserver.sandbox.clock import iso
from mockserver.sandbox.models import Order, Scope, StatusChange
from mockserver.webhooks.deliveries import (
    Attempt,
    Delivery,
    HttpSender,
    Outbox,
    PendingEvent,
    Sender,
    event_json,
)
from mockserver.webhooks.subscriptions import (
    EVENT_NAME,
    ChaosOptions,
    Subscription,
    SubscriptionRegistry,
    WebhookConfig,
)

if TYPE_CHECKING:
    from mockserver.sandbox.backend import ChannelManagerBackend

# -- the dispatcher --------------------------------------------------------------------
class WebhookDispatcher:
    """Turns settles into POSTs with retries on the mock's clock; keeps the delivery log."""

    def __init__(self, backend: "ChannelManagerBackend", registry: SubscriptionRegistry,
                 config: WebhookConfig, sender: Sender | None = None) -> None:
        self.backend = backend
        self.registry = registry
        self.config = config
        self.sender: Sender = sender or HttpSender()
        self._outboxes: dict[str, Outbox] = {}
        self._pending: dict[str, Delivery] = {}  # not yet delivered, given up or dropped
        self._log: deque[dict[str, Any]] = deque(maxlen=config.delivery_log_limit)
        self._generation = 0
        self._delivery_numbers = itertools.count(1)
        # worker side, guarded by _cv
        self._cv = threading.Condition()
        self._queue: "queue.Queue[Attempt | None]" = queue.Queue()
        self._lanes: dict[str, deque[Attempt]] = {}
        self._busy: set[str] = set()  # subscriptions with an attempt queued or in flight
        self._threads: list[threading.Thread] = []
        self._stopped = False

    # -- from the backend (under its lock) -------------------------------------------
    def on_settle(self, order: Order, change: StatusChange) -> None:
        """Settle listener: stage one event per matching subscription. No I/O."""
        for subscription in self.registry.matching(order.scope, EVENT_NAME):
            if not subscription.hears(order):
                continue
            data = event_json(subscription, order, change, self.config.initiating_user_aad_object_id)
            event = PendingEvent(str(uuid.uuid4()), order.order_id, order.partner_id, change.status, change.at, data)
            self._stage(subscription, event)

    def _stage(self, subscription: Subscription, event: PendingEvent) -> None:
        """Book the event's flush: at settle (+ delay), or held for company (batch, out-of-order)."""
        chaos = subscription.chaos
        outbox = self._outboxes.setdefault(subscription.id, Outbox())
        hold = self.config.hold_seconds if chaos.holds else 0.0
        event.ready_at = event.settled_at + hold + chaos.delay_seconds
        outbox.events.append(event)
        if chaos.holds and len(outbox.events) >= chaos.threshold:
            release = event.settled_at + chaos.delay_seconds
            for held in outbox.events:
                held.ready_at = min(held.ready_at, release)
        self._book_flush(subscription.id, event.ready_at)

    def _book_flush(self, subscription_id: str, at: float) -> None:
        outbox = self._outboxes[subscription_id]
        if at not in outbox.flushes:
            outbox.flushes.add(at)
            self.backend.schedule.at(at, f"webhook flush {subscription_id}",
                                     lambda due: self._flush(subscription_id, due))

    def _flush(self, subscription_id: str, at: float) -> None:
        """Schedule action: the events ready by `at` become deliveries (queued, not sent)."""
        outbox = self._outboxes.get(subscription_id)
        if outbox is None:
            return
        outbox.flushes.discard(at)
        ready = [e for e in outbox.events if e.ready_at <= at]
        outbox.events = [e for e in outbox.events if e.ready_at > at]
        if not outbox.events and not outbox.flushes:
            del self._outboxes[subscription_id]
        subscription = self.registry.find(subscription_id)
        if subscription is None:
            for event in ready:
                self._log_dropped(None, subscription_id, [event], at, "subscription deleted before delivery")
            return
        for events in self._posts(ready, subscription.chaos):
            self._start(Delivery(subscription, events, self._new_delivery_id()), at)
            if subscription.chaos.duplicate:
                self._start(Delivery(subscription, events, self._new_delivery_id(), duplicate=True), at)

    def _posts(self, events: list[PendingEvent], chaos: ChaosOptions) -> list[list[PendingEvent]]:
        """How ready events are split into POST bodies."""
        if not events:
            return []
        if chaos.out_of_order:
            events = list(reversed(events))
            if chaos.batch <= 1:
                return [[event] for event in events]
        size = self.config.max_events_per_post
        return [events[i:i + size] for i in range(0, len(events), size)]

    def _new_delivery_id(self) -> str:
        """Called under the backend lock (flushes are schedule actions)."""
        return f"d{next(self._delivery_numbers)}"

    def _start(self, delivery: Delivery, due: float) -> None:
        self._pending[delivery.delivery_id] = delivery
        self._ready(Attempt(delivery, 1, due, self._generation))

    def _retry(self, delivery: Delivery, number: int, due: float, generation: int) -> None:
        """Schedule action for a retry that came due."""
        if delivery.cancelled or generation != self._generation or delivery.waiting != number:
            return  # voided, or already sent early by retry_now
        delivery.waiting = None
        if self.registry.find(delivery.subscription.id) is None:
            self._pending.pop(delivery.delivery_id, None)
            self._log_dropped(delivery, delivery.subscription.id, delivery.events, due,
                              "subscription deleted before the retry")
            return
        self._ready(Attempt(delivery, number, due, generation))

    # -- lanes and workers (the dispatcher's own lock) ------------------------------------
    def _ready(self, attempt: Attempt) -> None:
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
        while len(self._threads) < self.config.workers:
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

    def _send(self, attempt: Attempt) -> None:
        """POST outside every lock, then record under the backend lock."""
        delivery = attempt.delivery
        if delivery.cancelled or attempt.generation != self._generation:
            return
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "otacm-mock-webhooks/1",
            "X-Otacm-Delivery-Id": delivery.delivery_id,
            "X-Otacm-Attempt": str(attempt.number),
        }
        status, error = self.sender(delivery.subscription.notification_url, delivery.body(), headers,
                                    self.config.timeout_seconds)
        with self.backend.lock:
            self._record(attempt, status, error)
            self.backend.catch_up()  # a retry already due on a warped clock goes out now

    def _record(self, attempt: Attempt, status: int | None, error: str | None) -> None:
        """Log the attempt; book the retry at (due + backoff) or give up."""
        delivery = attempt.delivery
        if delivery.cancelled or attempt.generation != self._generation:
            return
        accepted = status is not None and 200 <= status < 300
        if status is not None and not accepted:
            error = f"HTTP {status}"
        next_due: float | None = None
        if accepted:
            outcome = "delivered"
        elif attempt.number >= self.config.retry.max_attempts:
            outcome = "gave up"
        else:
            outcome = "retrying"
            next_due = attempt.due + self.config.retry.backoff(attempt.number)
            number, generation = attempt.number + 1, attempt.generation
            delivery.waiting = number
            self.backend.schedule.at(next_due, f"webhook retry {delivery.delivery_id}#{number}",
                                     lambda due: self._retry(delivery, number, due, generation))
        if next_due is None:
            self._pending.pop(delivery.delivery_id, None)
        self._log.append(self._entry(delivery, delivery.subscription.id, delivery.events, attempt.number,
                                     attempt.due, outcome, status, None if accepted else error, next_due))

    # -- the log ----------------------------------------------------------------------------
    def _entry(self, delivery: Delivery | None, subscription_id: str, events: list[PendingEvent], number: int,
               at: float, outcome: str, status: int | None, error: str | None,
               next_due: float | None) -> dict[str, Any]:
        subscription = delivery.subscription if delivery else None
        return {
            "deliveryId": delivery.delivery_id if delivery else None,
            "subscriptionId": subscription_id,
            "endpoint": subscription.notification_url if subscription else None,
            "attempt": number,
            "at": iso(at),
            "events": [event.summary() for event in events],
            "eventIds": [event.event_id for event in events],
            "orderIds": [event.order_id for event in events],
            "duplicate": bool(delivery and delivery.duplicate),
            "outcome": outcome,  # delivered | retrying | gave up | dropped
            "responseCode": status,
            "error": error,
            "nextRetryAt": iso(next_due) if next_due is not None else None,
        }

    def _log_dropped(self, delivery: Delivery | None, subscription_id: str, events: list[PendingEvent],
                     at: float, reason: str) -> None:
        self._log.append(self._entry(delivery, subscription_id, events, 0, at, "dropped", None, reason, None))

    def deliveries(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """Every attempt so far, oldest first (optionally only those carrying `order_id`)."""
        with self.backend.lock:
            return [dict(e) for e in self._log if order_id is None or order_id in e["orderIds"]]

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` attempts, newest first (the dashboard's log)."""
        with self.backend.lock:
            return [dict(e) for e in itertools.islice(reversed(self._log), limit)]

    def retry_now(self, delivery_id: str) -> bool:
        """Send a delivery's booked retry now rather than at its clock time
        (the dashboard's "deliver now"); False when no retry is waiting."""
        with self.backend.lock:
            delivery = self._pending.get(delivery_id)
            if delivery is None or delivery.waiting is None:
                return False
            number, delivery.waiting = delivery.waiting, None
            self._ready(Attempt(delivery, number, self.backend.clock.now(), self._generation))
            return True

    def pending_count(self) -> int:
        """Deliveries not yet delivered, given up or dropped (held events not counted)."""
        with self.backend.lock:
            return len(self._pending)

    def held_count(self) -> int:
        """Events staged but not yet flushed (delay, batch, out-of-order)."""
        with self.backend.lock:
            return sum(len(outbox.events) for outbox in self._outboxes.values())

    # -- waiting, reset, stop -----------------------------------------------------------------
    def wait_idle(self, timeout: float) -> bool:
        """True once no attempt is queued or in flight (retries waiting on the clock don't count)."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._busy, timeout)

    def reset(self, partner_id: str | None = None) -> None:
        """Forget pending work with the orders (called with backend.reset, under its lock).

        A full reset also clears the log: the sandbox starts over. A partner's
        reset drops that partner's held events and deliveries and logs them.
        """
        if partner_id is None:
            self._generation += 1
            self._outboxes.clear()
            self._pending.clear()
            self._log.clear()
            with self._cv:
                self._lanes.clear()  # in-flight attempts finish as no-ops (old generation)
            return
        partner_id = partner_id.lower()
        now = self.backend.clock.now()
        for subscription_id, outbox in self._outboxes.items():
            dropped = [e for e in outbox.events if e.partner_id == partner_id]
            outbox.events = [e for e in outbox.events if e.partner_id != partner_id]
            for event in dropped:
                self._log_dropped(None, subscription_id, [event], now, "reset")
        for delivery in list(self._pending.values()):
            if all(e.partner_id == partner_id for e in delivery.events):
                delivery.cancelled = True
                del self._pending[delivery.delivery_id]
                self._log_dropped(delivery, delivery.subscription.id, delivery.events, now, "reset")

    def stop(self) -> None:
        """Stop the workers; an in-flight POST ends within the configured timeout."""
        with self._cv:
            self._stopped = True
            threads, self._threads = self._threads, []
            self._lanes.clear()
            self._busy.clear()
            self._cv.notify_all()
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=self.config.timeout_seconds + 1)


# -- the facade the HTTP layer uses --------------------------------------------------------
class Webhooks:
    """Subscriptions and delivery for one mock; wired to the backend by `attach`."""

    def __init__(self, backend: "ChannelManagerBackend", config: WebhookConfig, sender: Sender | None = None) -> None:
        self.backend = backend
        self.config = config
        self.registry = SubscriptionRegistry(config)
        self.dispatcher = WebhookDispatcher(backend, self.registry, config, sender)

    def attach(self) -> "Webhooks":
        """Listen to settles, and drop pending deliveries when orders are reset."""
        self.backend.settle_listeners.append(self.dispatcher.on_settle)
        self.backend.reset_listeners.append(self.dispatcher.reset)
        return self

    def subscribe(self, scope: Scope, body: Mapping[str, Any], partners: frozenset[str] | None = None) -> Subscription:
        """`partners`: those the caller's API key holds (None: every partner)."""
        with self.backend.lock:
            self.backend.catch_up()  # settles before this moment are not this subscription's
            return self.registry.create(scope, body, self.backend.clock.now(), partners)

    def subscriptions(self, scope: Scope | None = None) -> list[Subscription]:
        with self.backend.lock:
            return self.registry.all(scope)

    def subscription(self, scope: Scope, subscription_id: str) -> Subscription:
        with self.backend.lock:
            return self.registry.get(scope, subscription_id)

    def unsubscribe(self, scope: Scope, subscription_id: str) -> None:
        with self.backend.lock:
            self.registry.delete(scope, subscription_id)

    def wait_idle(self, timeout: float) -> bool:
        return self.dispatcher.wait_idle(timeout)

    def stop(self) -> None:
        self.dispatcher.stop()
