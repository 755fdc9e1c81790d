"""The webhook side's state as store records, and back (see store/base.py, "records").

Three kinds: a subscription; an event held for company (batch, out-of-order,
delay) until its flush; a delivery not yet delivered, given up or dropped,
with the attempt it is at and whether that attempt waits on the clock (a
retry step) or was queued to send. A sandbox started again sends every
queued delivery again with the same delivery id, so a receiver that drops
duplicates by `X-Otacm-Delivery-Id` sees each once.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Mapping

from mockserver.store.shapes import ShapeError, check, check_dataclass, check_fields
from mockserver.store.snapshot import SnapshotError
from mockserver.webhooks.deliveries import Delivery, PendingEvent
from mockserver.webhooks.subscriptions import ChaosOptions, Subscription

SUBSCRIPTION = "subscription"
HELD_EVENT = "heldEvent"
DELIVERY = "delivery"


def subscription_record(subscription: Subscription) -> dict[str, Any]:
    record = dataclasses.asdict(subscription)
    record["partners"] = sorted(subscription.partners) if subscription.partners is not None else None
    return record


def subscription_from(record: dict[str, Any]) -> Subscription:
    fields = dict(record)
    fields["scope"] = tuple(fields["scope"])
    fields["chaos"] = ChaosOptions(**fields["chaos"])
    fields["partners"] = frozenset(fields["partners"]) if fields["partners"] is not None else None
    return Subscription(**fields)


def event_record(subscription_id: str, event: PendingEvent) -> dict[str, Any]:
    """Shallow on purpose (one per settle and subscription): the event's `data` is never changed once made."""
    return {"subscriptionId": subscription_id, **_event_fields(event)}


def _event_fields(event: PendingEvent) -> dict[str, Any]:
    return {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}


def event_from(record: dict[str, Any]) -> tuple[str, PendingEvent]:
    fields = dict(record)
    return fields.pop("subscriptionId"), PendingEvent(**fields)


def delivery_record(delivery: Delivery, attempt: int, due: float, waiting: bool) -> dict[str, Any]:
    """`attempt` due at `due`: waiting on the clock (a retry step will send it) or queued to send now, by the
    process `owner` (its worker number on a shared store; taken over once that process is gone)."""
    return {"subscriptionId": delivery.subscription.id, "events": [_event_fields(e) for e in delivery.events],
            "duplicate": delivery.duplicate, "attempt": attempt, "due": due, "waiting": waiting,
            "owner": delivery.owner}


def delivery_from(delivery_id: str, record: dict[str, Any], subscription: Subscription) -> Delivery:
    delivery = Delivery(subscription, [PendingEvent(**e) for e in record["events"]], delivery_id,
                        duplicate=record["duplicate"])
    delivery.waiting = record["attempt"] if record["waiting"] else None
    delivery.owner = record.get("owner", 0)  # a record written before issue 20 has none
    return delivery


_DELIVERY_SHAPE = MappingProxyType({"subscriptionId": str, "events": list[PendingEvent], "duplicate": bool,
                                    "attempt": int, "due": float, "waiting": bool, "owner": int})
_DELIVERY_REQUIRED = frozenset(_DELIVERY_SHAPE) - {"owner"}


def check_records(records: Mapping[str, Mapping[str, dict[str, Any]]]) -> None:
    """The webhook records of a snapshot, each of the shape the restore reads (a snapshot check: refused
    before anything is loaded, rather than a 500 halfway through)."""
    try:
        for key, record in records.get(SUBSCRIPTION, {}).items():
            check_dataclass(record, Subscription, f"records.{SUBSCRIPTION}.{key}")
        for key, record in records.get(HELD_EVENT, {}).items():
            _check_event(record, f"records.{HELD_EVENT}.{key}")
        for key, record in records.get(DELIVERY, {}).items():
            check(record, dict[str, Any], f"records.{DELIVERY}.{key}")
            check_fields(record, _DELIVERY_SHAPE, _DELIVERY_REQUIRED, f"records.{DELIVERY}.{key}")
    except ShapeError as error:
        raise SnapshotError(str(error)) from None


def _check_event(record: Any, where: str) -> None:
    """A held event: a PendingEvent's fields and the subscription it waits for."""
    check(record, dict[str, Any], where)
    check(record.get("subscriptionId"), str, f"{where}.subscriptionId")
    check_dataclass({k: v for k, v in record.items() if k != "subscriptionId"}, PendingEvent, where)
