"""A run cleans up after itself: the orders it created are deleted where the contract allows.

deleteOrder is allowed on a settled order only: an `Issued` one becomes a
`Cancelled` row that stays on the list, a `Draft` or `Error` one is removed.
An order still in flight (Submitted, Scheduled, Processing) cannot be deleted
and is left, and the summary says so. Subscriptions the run made are removed
whatever `keep` says: a stray subscription makes the target call a dead URL.

The cleanup has its own client and records nothing: it runs after every
judged input was collected, so no check ever sees its calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from contracts.target.client import Target, TargetClient
from contracts.target.exchange import Exchange

DELETABLE = ("Issued", "Draft", "Error")
IN_FLIGHT = ("Submitted", "Scheduled", "Processing")


@dataclass
class Created:
    """What a run created on the target, in creation order, each once."""

    orders: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)

    def add_order(self, order_id: str | None) -> None:
        if order_id and order_id.lower() not in (o.lower() for o in self.orders):
            self.orders.append(order_id)

    def add_timelines(self, timelines: Mapping[str, Sequence[Any]]) -> None:
        """The orders whose timeline starts with createOrder: the ones this run made, not ones it only read.
        A timeline holds Observations (scenarios) or (at, status, via, sync) tuples (the fuzzer's)."""
        for order_id, timeline in timelines.items():
            vias = [(seen[0], seen[2]) if isinstance(seen, tuple) else (seen.at, seen.via) for seen in timeline]
            if vias and min(vias, key=lambda pair: pair[0])[1] == "createOrder":
                self.add_order(order_id)

    def add_exchanges(self, exchanges: Iterable[Exchange]) -> None:
        """The orders and subscriptions whose creation a 2xx answer shows."""
        for exchange in exchanges:
            document = exchange.response if isinstance(exchange.response, dict) else {}
            if not exchange.ok:
                continue
            if exchange.operation == "createOrder":
                self.add_order(str(document.get("orderId") or ""))
            elif exchange.operation == "createWebhookSubscription" and document.get("id") \
                    and str(document["id"]) not in self.subscriptions:
                self.subscriptions.append(str(document["id"]))


@dataclass
class Cleanup:
    """What the cleanup did, for the summary."""

    kept: int = 0  # --keep-orders: orders left on purpose
    deleted: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # already Cancelled or removed (the run deleted them itself)
    left: dict[str, list[str]] = field(default_factory=dict)  # reason → order ids
    subscriptions_removed: int = 0

    def leave(self, reason: str, order_id: str) -> None:
        self.left.setdefault(reason, []).append(order_id)

    def summary(self) -> str:
        """`cleanup: deleted 14 order(s) (...); left 2: 2 in flight (Submitted)` — one line."""
        parts = [f"--keep-orders kept the run's {self.kept} order(s)"] if self.kept else []
        if not self.kept:
            parts.append(f"deleted {len(self.deleted)} order(s) (Issued ones stay as Cancelled rows)")
        if self.gone:
            parts.append(f"{len(self.gone)} already deleted")
        if self.left:
            reasons = ", ".join(f"{len(ids)} {reason}" for reason, ids in self.left.items())
            parts.append(f"left {sum(len(ids) for ids in self.left.values())}: {reasons}")
        if self.subscriptions_removed:
            parts.append(f"removed {self.subscriptions_removed} subscription(s)")
        return "cleanup: " + "; ".join(parts)


def clean_up(target: Target, created: Created, keep: bool = False, timeout: float = 15.0) -> Cleanup:
    """Delete the settled orders of `created` (unless `keep`) and remove its subscriptions."""
    result = Cleanup()
    client = TargetClient(target, timeout, warp=False)
    try:
        if keep:
            result.kept = len(created.orders)
        else:
            for order_id in created.orders:
                _delete_order(client, order_id, result)
        for subscription_id in created.subscriptions:
            with contextlib.suppress(requests.RequestException):
                if client.call("deleteWebhookSubscription", {"id": subscription_id}).ok:
                    result.subscriptions_removed += 1
    finally:
        client.close()
    return result


def _delete_order(client: TargetClient, order_id: str, result: Cleanup) -> None:
    """One order: look at it, delete it when settled, say why not otherwise."""
    seen = client.call("getOrder", {"orderId": order_id})
    status = seen.response.get("status") if seen.ok and isinstance(seen.response, dict) else None
    if seen.status == 404 or status == "Cancelled":
        result.gone.append(order_id)
    elif status in IN_FLIGHT:
        result.leave(f"in flight ({status})", order_id)
    elif status not in DELETABLE:
        result.leave(f"not readable (getOrder answered {seen.status or seen.error})" if status is None
                     else f"status {status}", order_id)
    else:
        deleted = client.call("deleteOrder", {"orderId": order_id})
        if deleted.ok:
            result.deleted.append(order_id)
        else:
            result.leave(f"deleteOrder answered {deleted.status or deleted.error}", order_id)
