"""Webhooks for one mock: the subscriptions and their delivery behind one facade, what the HTTP layer
(api/webhook_responses.py) and the server use. The registry is subscriptions.py's, delivery sending.py's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from mockserver.sandbox.models import Scope
from mockserver.store.base import Replayed
from mockserver.webhooks.deliveries import Sender
from mockserver.webhooks.records import (
    DELIVERY,
    HELD_EVENT,
    SUBSCRIPTION,
    check_records,
    subscription_from,
    subscription_record,
)
from mockserver.webhooks.sending import WebhookDispatcher
from mockserver.webhooks.subscriptions import Subscription, SubscriptionRegistry, WebhookConfig

if TYPE_CHECKING:
    from mockserver.sandbox.backend import ChannelManagerBackend

WEBHOOK_RECORDS = frozenset({SUBSCRIPTION, HELD_EVENT, DELIVERY})
WEBHOOK_STEPS = frozenset({"webhookFlush", "webhookRetry"})


class Webhooks:
    """Subscriptions and delivery for one mock; wired to the backend by `attach`."""

    def __init__(self, backend: "ChannelManagerBackend", config: WebhookConfig, sender: Sender | None = None) -> None:
        self.backend = backend
        self.config = config
        self.registry = SubscriptionRegistry(config)
        self.dispatcher = WebhookDispatcher(backend, self.registry, config, sender)

    def attach(self) -> "Webhooks":
        """Listen to settles, drop pending deliveries when orders are reset, and stand on the store's
        records now and whenever a snapshot is loaded (the same code for both). On a shared store, what a
        process gone had queued (a sandbox started again after a crash) is taken over now, not at a tick."""
        self.backend.settle_listeners.append(self.dispatcher.on_settle)
        self.backend.reset_listeners.append(self.dispatcher.reset)
        self.backend.snapshot_checks.append(lambda snapshot: check_records(snapshot.records))
        self.backend.load_listeners.append(self._restore)
        self.backend.follow_listeners.append(self._follow)
        with self.backend.atomic():
            self._restore()
        self.dispatcher.adopt()
        return self

    def _restore(self) -> None:
        """Know exactly the subscriptions, held events and deliveries the store holds (after a reset)."""
        self.registry.clear()
        for record in self.backend.store.records(SUBSCRIPTION).values():
            self.registry.restore(subscription_from(record))
        self.dispatcher.forget()
        self.dispatcher.restore()

    def _follow(self, replayed: Replayed) -> None:
        """Another process sharing the store changed the webhook side: its subscriptions, held events and
        deliveries as the records now are (nothing voided: this process's attempts in flight go on)."""
        if replayed.record_kinds & WEBHOOK_RECORDS or any(step.kind in WEBHOOK_STEPS for _, step in replayed.steps):
            self.registry.clear()
            for record in self.backend.store.records(SUBSCRIPTION).values():
                self.registry.restore(subscription_from(record))
            self.dispatcher.follow()

    def adopt(self) -> int:
        """Take over what a process sharing the store had queued to send and can no longer (the ticker's)."""
        return self.dispatcher.adopt()

    def subscribe(self, scope: Scope, body: Mapping[str, Any], partners: frozenset[str] | None = None) -> Subscription:
        """`partners`: those the caller's API key holds (None: every partner)."""
        with self.backend.atomic():
            self.backend.catch_up()  # settles before this moment are not this subscription's
            subscription = self.registry.create(scope, body, self.backend.clock.now(), partners)
            self.backend.store.put_record(SUBSCRIPTION, subscription.id, subscription_record(subscription))
            return subscription

    def subscriptions(self, scope: Scope | None = None) -> list[Subscription]:
        with self.backend.reading():
            return self.registry.all(scope)

    def subscription(self, scope: Scope, subscription_id: str) -> Subscription:
        with self.backend.reading():
            return self.registry.get(scope, subscription_id)

    def unsubscribe(self, scope: Scope, subscription_id: str) -> None:
        with self.backend.atomic():
            deleted = self.registry.delete(scope, subscription_id)
            self.backend.store.drop_record(SUBSCRIPTION, deleted.id)

    def wait_idle(self, timeout: float) -> bool:
        return self.dispatcher.wait_idle(timeout)

    def stop(self) -> None:
        self.dispatcher.stop()
