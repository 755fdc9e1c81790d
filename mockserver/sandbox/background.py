"""The lifecycle's background steps: pickups, processing, issuing, settling, and telling listeners.

A mixin of the backend (backend.py), split off so each file reads in one go:
these run inside a schedule step, under the backend's lock and in its store
transaction, and change orders only through `_move`.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

from contracts.lifecycle import Lifecycle, Transition
from mockserver.config import MockConfig
from mockserver.sandbox.errors import bad_request
from mockserver.sandbox.issuance import IssuanceFailed, Issuer
from mockserver.sandbox.models import Order, StatusChange
from mockserver.sandbox.schedule import Schedule
from mockserver.store.base import Store

STUCK_IN_PROCESSING = (
    "Order was stuck in Processing for over 1 hour and was automatically marked as Error. "
    "Inspect and either re-Process or Delete."
)
FORCED_ERROR = "Issuance failed: forced by an otacm directive (outcome=Error)"

# Called with (order, the change) whenever an order settles in the background.
SettleListener = Callable[[Order, StatusChange], None]


class Background:
    config: MockConfig
    lifecycle: Lifecycle
    store: Store
    schedule: Schedule
    issuer: Issuer
    settle_listeners: list[SettleListener]
    _pickup_due: Optional[float]

    def _move(self, order: Order, target: str, trigger: str, at: float, reason: str = "") -> Transition:
        raise NotImplementedError  # the backend's: the one place a status changes

    def _submitted(self, order: Order, at: float, sync: bool, trigger: str) -> None:
        if sync or self.config.api_mode == "sync":
            self._issue_synchronously(order, at)
        else:
            self._ensure_pickup(at)

    def _issue_synchronously(self, order: Order, at: float) -> None:
        """The earlier API (docs/003): issue inside the call; failure is a 400."""
        try:
            self._mint(order, at)
        except IssuanceFailed as failure:
            self._fail(order, "syncIssuance", at, str(failure))
            raise bad_request(str(failure)) from None
        self._settle_minted(order, "syncIssuance", at)

    def _ensure_pickup(self, after: float) -> None:
        """Pickups run on the clock's 60 s cadence (or the config's
        `pickup_seconds`, for a real-time target that settles quickly) while
        anything is in flight."""
        if self._pickup_due is not None:
            return
        interval = self.config.pickup_seconds or self.lifecycle.pickup_interval
        self._pickup_due = (math.floor(after / interval) + 1) * interval
        self.schedule.step(self._pickup_due, "pickup")

    def _pickup(self, at: float) -> None:
        """One run of the pickup job, in the server's order (CONTRACT.md)."""
        self._pickup_due = None
        for order in self.store.in_status("Scheduled"):
            if at - order.status_since >= self.lifecycle.scheduled_stall:
                self._move(order, "Submitted", "scheduledStall", at, "no progress for 5 minutes")
        for order in self.store.in_status("Processing"):
            if at - order.status_since >= self.lifecycle.processing_stall:
                self._fail(order, "processingStall", at, STUCK_IN_PROCESSING)
        for order in self.store.in_status("Submitted"):
            self._move(order, "Scheduled", "pickup", at)
            if order.directives.stall == "Scheduled":
                order.directives.stall = None  # stall once, then recover
                self.store.save(order)
                continue
            self._after(self.config.scheduled_to_processing_seconds, at, order, "startProcessing")
        if self.store.count_in(self.lifecycle.in_flight):
            self._ensure_pickup(at)

    def _after(self, delay: float, at: float, order: Order, kind: str) -> None:
        """Schedule a step of `kind` for this version of the order; a replace or reset voids it."""
        self.schedule.step(at + delay, kind, order.order_id, order.generation)

    def _order_step(self, step: Callable[[Order, float], None]) -> Callable[[str, int, float], None]:
        """A step's handler: `step` runs if the order is still there in the version the step was queued for."""
        def run(order_id: str, generation: int, due: float) -> None:
            order = self.store.get(order_id)
            if order is not None and order.generation == generation:
                step(order, due)
        return run

    def _start_processing(self, order: Order, at: float) -> None:
        if order.status != "Scheduled":
            return
        self._move(order, "Processing", "processingStarted", at)
        if order.directives.stall == "Processing":
            return  # never completes: the 1-hour stall will flip it to Error
        delay = self.config.processing_seconds + order.directives.delay
        self._after(delay, at, order, "completeProcessing")

    def _complete_processing(self, order: Order, at: float) -> None:
        if order.status != "Processing":
            return
        try:
            self._mint(order, at)
        except IssuanceFailed as failure:
            self._fail(order, "issuanceFailed", at, str(failure))
            return
        self._settle_minted(order, "issuanceCompleted", at)

    def _mint(self, order: Order, at: float) -> None:
        if order.directives.outcome == "Error":
            raise IssuanceFailed(order.directives.message or FORCED_ERROR)
        self.issuer.issue(order, at)

    def _settle_minted(self, order: Order, trigger: str, at: float) -> None:
        if order.payment_reference:
            self.issuer.build_manifests(order)
        target = "Issued" if order.payment_reference else "Draft"
        self._notify(order, self._move(order, target, trigger, at))

    def _fail(self, order: Order, trigger: str, at: float, message: str) -> None:
        order.status_message = message
        order.changed()
        self._notify(order, self._move(order, "Error", trigger, at, message))

    def _notify(self, order: Order, transition: Transition) -> None:
        """Tell listeners (webhook delivery) of a settle that fires the webhook."""
        if transition.fires_webhook:
            for listener in self.settle_listeners:
                listener(order, order.history[-1])
