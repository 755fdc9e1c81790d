"""The delivery of `ota_cm_order_processed` to subscribed endpoints.

Business only, no Flask: `api/webhook_responses.py` turns requests into calls
on `Webhooks` (service.py) and results into JSON; what a delivery carries is deliveries.py.

Delivery never blocks an API request. The backend calls `on_settle` under its
lock; that only stages the event and schedules a flush on the mock's clock.
The flush (a schedule step, still under the lock) only queues attempts,
and an attempt reaches the lanes only once the unit that made it is written.
Worker threads (lanes.py) POST outside every lock, then take the backend lock
to record the attempt and schedule a retry on the mock's clock, so a day of
retries is tested in milliseconds by advancing the clock. Subscriptions, held
events and deliveries not yet done are store records (records.py), written
with the unit that changes them, so a sandbox started again goes on
delivering. Lock order: backend lock, then the lanes' condition; never the
reverse.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

from mockserver.sandbox.clock import iso
from mockserver.sandbox.models import Order, StatusChange
from mockserver.store.base import StoreUnavailable
from mockserver.webhooks.deliveries import (
    Attempt,
    Delivery,
    HttpSender,
    Outbox,
    PendingEvent,
    Sender,
    event_json,
)
from mockserver.webhooks.lanes import Lanes
from mockserver.webhooks.records import (
    DELIVERY,
    HELD_EVENT,
    delivery_from,
    delivery_record,
    event_from,
    event_record,
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

IDLE_POLL_SECONDS = 0.05  # how often wait_idle looks at the other processes' queued deliveries (a shared store)

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
        self._lanes = Lanes(config.workers, self._send, config.timeout_seconds + 1)
        backend.schedule.handle("webhookFlush", lambda subscription_id, _g, due: self._flush(subscription_id, due))
        backend.schedule.handle("webhookRetry", self._retry_step)

    def forget(self) -> None:
        """Know no held event and no delivery (the store keeps its records): before a reset clears them, or
        before `restore` reads them again. In-flight attempts finish as no-ops (old generation)."""
        self._generation += 1
        self._outboxes.clear()
        self._pending.clear()
        self._lanes.clear()

    def restore(self) -> None:
        """Continue from the store's records (a sandbox started again): held events wait for their flush
        steps, deliveries waiting on the clock for their retry steps, and queued ones go out again now. On a
        shared store the queued ones are their process's: those of a process gone are taken over (`adopt`)."""
        store = self.backend.store
        self._rebuild()
        if store.shared:
            return
        for delivery_id, record in store.records(DELIVERY).items():
            delivery = self._pending.get(delivery_id)
            if delivery is None:  # its subscription was deleted
                store.drop_record(DELIVERY, delivery_id)
            elif delivery.waiting is None:
                self._queue(Attempt(delivery, record["attempt"], record["due"], self._generation))

    def _rebuild(self) -> None:
        """The held events and the deliveries not yet done, as the store's records (and the schedule's flush
        steps) have them; nothing queued or voided."""
        store = self.backend.store
        self._outboxes.clear()
        self._pending.clear()
        for record in store.records(HELD_EVENT).values():
            subscription_id, event = event_from(record)
            self._outboxes.setdefault(subscription_id, Outbox()).events.append(event)
        for step in self.backend.schedule.pending():
            if step.kind == "webhookFlush":
                self._outboxes.setdefault(step.subject, Outbox()).flushes.add(step.due)
        for delivery_id, record in store.records(DELIVERY).items():
            subscription = self.registry.find(record["subscriptionId"])
            if subscription is not None:
                self._pending[delivery_id] = delivery_from(delivery_id, record, subscription)

    def follow(self) -> None:
        """Another process sharing the store changed the webhook side (its records, its flush or retry steps):
        stand on the records again. Attempts in flight here go on, and are recorded against them."""
        self._rebuild()

    def adopt(self) -> int:
        """Send what a process sharing the store had queued and can no longer send (it is gone: killed, or its
        database session lost), with the same delivery ids. How many were taken over."""
        store = self.backend.store
        if not store.shared:
            return 0
        with self.backend.reading():
            owners = {d.owner for d in self._pending.values() if d.waiting is None and d.owner != store.worker}
            gone = {owner for owner in owners if not store.worker_alive(owner)}
            if not gone:
                return 0
            with self.backend.atomic():  # the sandbox lock: one process takes each over, on the records as they are
                taken = [d for d in self._pending.values() if d.waiting is None and d.owner in gone]
                for delivery in taken:
                    record = store.records(DELIVERY)[delivery.delivery_id]
                    delivery.owner = store.worker
                    self._keep(delivery, record["attempt"], record["due"], waiting=False)
                    self._queue(Attempt(delivery, record["attempt"], record["due"], self._generation))
                return len(taken)

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
        self.backend.store.put_record(HELD_EVENT, event.event_id, event_record(subscription.id, event))
        if chaos.holds and len(outbox.events) >= chaos.threshold:
            release = event.settled_at + chaos.delay_seconds
            for held in outbox.events:
                if release < held.ready_at:
                    held.ready_at = release
                    self.backend.store.put_record(HELD_EVENT, held.event_id, event_record(subscription.id, held))
        self._book_flush(subscription.id, event.ready_at)

    def _book_flush(self, subscription_id: str, at: float) -> None:
        outbox = self._outboxes[subscription_id]
        if at not in outbox.flushes:
            outbox.flushes.add(at)
            self.backend.schedule.step(at, "webhookFlush", subscription_id)

    def _flush(self, subscription_id: str, at: float) -> None:
        """Schedule action: the events ready by `at` become deliveries (queued, not sent)."""
        outbox = self._outboxes.get(subscription_id)
        if outbox is None:
            return
        outbox.flushes.discard(at)
        ready = [e for e in outbox.events if e.ready_at <= at]
        outbox.events = [e for e in outbox.events if e.ready_at > at]
        for event in ready:
            self.backend.store.drop_record(HELD_EVENT, event.event_id)
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
        return f"d{self.backend.store.take_number('delivery')}"

    def _start(self, delivery: Delivery, due: float) -> None:
        delivery.owner = self.backend.store.worker  # this process sends it
        self._pending[delivery.delivery_id] = delivery
        self._keep(delivery, 1, due, waiting=False)
        self._queue(Attempt(delivery, 1, due, self._generation))

    def _queue(self, attempt: Attempt) -> None:
        """Hand the attempt to the lanes once the unit that made it is written. Sent earlier, a POST could
        tell of a settle and a delivery id that a kill -9 before the write undoes: the receiver would
        have been told of a change the sandbox no longer has, and the id would be handed out again for
        other events, which a receiver dropping duplicates by that id would never see."""
        self.backend.store.after_unit(lambda: self._lanes.ready(attempt))

    def _keep(self, delivery: Delivery, attempt: int, due: float, waiting: bool) -> None:
        """Write the delivery's record with this unit: the attempt it is at, waiting on the clock or queued."""
        self.backend.store.put_record(DELIVERY, delivery.delivery_id, delivery_record(delivery, attempt, due, waiting))

    def _forget(self, delivery: Delivery) -> None:
        """The delivery is done (delivered, given up, dropped): its record goes with this unit."""
        self.backend.store.drop_record(DELIVERY, delivery.delivery_id)

    def _retry_step(self, delivery_id: str, number: int, due: float) -> None:
        """The handler of a `webhookRetry` step: (delivery id, attempt number, due)."""
        delivery = self._pending.get(delivery_id)
        if delivery is not None:
            self._retry(delivery, number, due, self._generation)

    def _retry(self, delivery: Delivery, number: int, due: float, generation: int) -> None:
        """Schedule action for a retry that came due."""
        if delivery.cancelled or generation != self._generation or delivery.waiting != number:
            return  # voided, or already sent early by retry_now
        delivery.waiting = None
        if self.registry.find(delivery.subscription.id) is None:
            self._pending.pop(delivery.delivery_id, None)
            self._forget(delivery)
            self._log_dropped(delivery, delivery.subscription.id, delivery.events, due,
                              "subscription deleted before the retry")
            return
        delivery.owner = self.backend.store.worker
        self._keep(delivery, number, due, waiting=False)
        self._queue(Attempt(delivery, number, due, generation))

    # -- sending (a worker thread of the lanes) -----------------------------------------
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
        try:
            with self.backend.atomic():
                self._record(attempt, status, error)
                self.backend.catch_up()  # a retry already due on a warped clock goes out now
        except StoreUnavailable:  # not recorded: once the store is back, its record sends it again (same id)
            pass

    def _record(self, attempt: Attempt, status: int | None, error: str | None) -> None:
        """Log the attempt; book the retry at (due + backoff) or give up. Against the delivery as it is pending
        now (another process sharing the store may have made it again from its record); not at all once it is
        no longer pending (reset, or done)."""
        delivery = self._pending.get(attempt.delivery.delivery_id)
        if delivery is None or delivery.cancelled or attempt.generation != self._generation:
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
            number = attempt.number + 1
            delivery.waiting = number
            self._keep(delivery, number, next_due, waiting=True)
            self.backend.schedule.step(next_due, "webhookRetry", delivery.delivery_id, number)
        if next_due is None:
            self._pending.pop(delivery.delivery_id, None)
            self._forget(delivery)
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
        with self.backend.reading():
            return [dict(e) for e in self._log if order_id is None or order_id in e["orderIds"]]

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` attempts, newest first (the dashboard's log)."""
        with self.backend.reading():
            return [dict(e) for e in itertools.islice(reversed(self._log), limit)]

    def retry_now(self, delivery_id: str) -> bool:
        """Send a delivery's booked retry now rather than at its clock time
        (the dashboard's "deliver now"); False when no retry is waiting."""
        with self.backend.atomic():
            delivery = self._pending.get(delivery_id)
            if delivery is None or delivery.waiting is None:
                return False
            number, delivery.waiting = delivery.waiting, None
            now = self.backend.clock.now()
            delivery.owner = self.backend.store.worker
            self._keep(delivery, number, now, waiting=False)
            self._queue(Attempt(delivery, number, now, self._generation))
            return True

    def pending_count(self) -> int:
        """Deliveries not yet delivered, given up or dropped (held events not counted)."""
        with self.backend.reading():
            return len(self._pending)

    def held_count(self) -> int:
        """Events staged but not yet flushed (delay, batch, out-of-order)."""
        with self.backend.reading():
            return sum(len(outbox.events) for outbox in self._outboxes.values())

    # -- waiting, reset, stop -----------------------------------------------------------------
    def wait_idle(self, timeout: float) -> bool:
        """True once no attempt is queued or in flight (retries waiting on the clock don't count); on a shared
        store, in any process (their queued deliveries are records here: polled, on real time)."""
        deadline = time.monotonic() + timeout
        while True:
            if self._lanes.wait_idle(max(0.0, deadline - time.monotonic())) and not self._queued_elsewhere():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(IDLE_POLL_SECONDS)

    def _queued_elsewhere(self) -> bool:
        if not self.backend.store.shared:
            return False
        with self.backend.reading():
            return any(d.waiting is None for d in self._pending.values())

    def reset(self, partner_id: str | None = None) -> None:
        """Forget pending work with the orders (called with backend.reset, under its lock).

        A full reset also clears the log: the sandbox starts over. A partner's
        reset drops that partner's held events and deliveries and logs them.
        """
        if partner_id is None:
            self.forget()
            self._log.clear()
            self.backend.store.clear_records(HELD_EVENT)
            self.backend.store.clear_records(DELIVERY)
            return
        partner_id = partner_id.lower()
        now = self.backend.clock.now()
        for subscription_id, outbox in self._outboxes.items():
            dropped = [e for e in outbox.events if e.partner_id == partner_id]
            outbox.events = [e for e in outbox.events if e.partner_id != partner_id]
            for event in dropped:
                self.backend.store.drop_record(HELD_EVENT, event.event_id)
                self._log_dropped(None, subscription_id, [event], now, "reset")
        for delivery in list(self._pending.values()):
            if all(e.partner_id == partner_id for e in delivery.events):
                delivery.cancelled = True
                del self._pending[delivery.delivery_id]
                self._forget(delivery)
                self._log_dropped(delivery, delivery.subscription.id, delivery.events, now, "reset")

    def stop(self) -> None:
        """Stop the workers; an in-flight POST ends within the configured timeout."""
        self._lanes.stop()
