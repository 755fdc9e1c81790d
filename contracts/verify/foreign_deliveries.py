"""Deliveries that reached the probe's receiver for another subscription, left out before judging.

A target may hold other subscriptions to the very URL the probe was told to
listen on: a shared staging server with a colleague's run that used the same
runner port and path, a subscription a previous run could not remove, one a
fuzzer made. The target rightly sends each of them the events of every
settle, with that subscription's clientState and appId, and the probe's
receiver cannot tell them apart by address. A check judges only what the run
knows, so before judging, the probe asks the target for its subscriptions
and sets aside every delivery whose events all carry the clientState of
another subscription to its URL (when the run's own events carry another
clientState too, the two cannot be told apart and the event is not judged).
Duplicates are then counted among the deliveries that are the run's own.
"""

from __future__ import annotations

from typing import Any, Iterable

from contracts.target import TargetClient
from contracts.webhooks.settles import SettleTracker


def foreign_client_states(client: TargetClient, url: str, own_state: str) -> frozenset[str]:
    """The clientStates of the target's other subscriptions to `url` (none when it will not list them)."""
    listing = client.call("listWebhookSubscriptions")
    rows = listing.response.get("value") if listing.status == 200 and isinstance(listing.response, dict) else None
    if not isinstance(rows, list):
        return frozenset()
    return frozenset(str(row.get("clientState") or "") for row in rows
                     if isinstance(row, dict) and row.get("notificationUrl") == url
                     and str(row.get("clientState") or "") != own_state)


def own_deliveries(deliveries: Iterable[Any], foreign: frozenset[str]) -> list[Any]:
    """The deliveries that are not another subscription's; their duplicate findings counted among themselves."""
    every = list(deliveries)
    kept = [d for d in every if not _foreign(d, foreign)]
    if len(kept) == len(every):
        return kept
    tracker = SettleTracker()
    for delivery in sorted(kept, key=lambda d: d.sequence):
        if delivery.accepted:
            found = (tracker.see(e.order_id, e.status, delivery.sequence, e.where) for e in delivery.events)
            delivery.repeats = [text for text in found if text]
    return kept


def _foreign(delivery: Any, foreign: frozenset[str]) -> bool:
    events = delivery.events
    return bool(foreign) and bool(events) and all(str(e.client_state or "") in foreign for e in events)
