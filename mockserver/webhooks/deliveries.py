"""What a webhook delivery is made of: the event as docs/004 shows it, the
events staged for a subscription, deliveries and their attempts, and the
sender that POSTs them. Data only (plus the HTTP call); `webhooks.py` decides
when each goes out.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import requests

from mockserver.sandbox.clock import iso
from mockserver.sandbox.models import Order, StatusChange
from mockserver.webhooks.subscriptions import EVENT_NAME, EVENT_VERSION, Subscription

# companyId is a stable uuid5 of the company name under this namespace, so a
# partner sees the same id for the same company on every run.
COMPANY_NAMESPACE = uuid.UUID("4f0a7c62-1b7e-5d3c-9a41-0c2d6e8b9f10")


def company_id(company: str) -> str:
    return str(uuid.uuid5(COMPANY_NAMESPACE, company))


def event_json(subscription: Subscription, order: Order, change: StatusChange, user_id: str) -> dict[str, Any]:
    """One entry of the envelope's `values`, exactly as docs/004 shows it."""
    return {
        "appId": subscription.app_id,
        "clientState": subscription.client_state,
        "companyId": company_id(order.scope[2]),
        "companyName": order.scope[2],
        "eventName": EVENT_NAME,
        "eventVersion": EVENT_VERSION,
        "initiatingUserAADObjectId": user_id,
        "payload": {
            "orderId": order.order_id,
            "buyFromOrderReference": order.buy_from_order_reference,
            "status": change.status,
        },
        "timestamp": iso(change.at),
    }


@dataclass
class PendingEvent:
    """An event waiting to go out to one subscription."""

    event_id: str
    order_id: str
    partner_id: str
    status: str
    settled_at: float
    data: dict[str, Any]
    ready_at: float = 0.0  # clock time its flush sends it

    def summary(self) -> dict[str, str]:
        return {"eventId": self.event_id, "orderId": self.order_id, "status": self.status}


@dataclass
class Delivery:
    """One POST body to one subscription, tried until accepted or given up."""

    subscription: Subscription
    events: list[PendingEvent]
    delivery_id: str  # `d1`, `d2`, ... numbered by its dispatcher, so two mocks never share a counter
    duplicate: bool = False
    cancelled: bool = False
    waiting: int | None = None  # the attempt number booked on the clock, if a retry waits
    owner: int = 0  # the worker number of the process that sends its queued attempt (a shared store; else 0)

    def body(self) -> bytes:
        return json.dumps({"values": [event.data for event in self.events]}, ensure_ascii=False).encode("utf-8")


@dataclass
class Attempt:
    delivery: Delivery
    number: int  # 1-based
    due: float  # clock time it was due
    generation: int  # the dispatcher's reset generation it belongs to


@dataclass
class Outbox:
    """Events staged for one subscription and the clock times flushes are booked for."""

    events: list[PendingEvent] = field(default_factory=list)
    flushes: set[float] = field(default_factory=set)


# (url, body, headers, timeout seconds) → (HTTP status or None, error text or None)
Sender = Callable[[str, bytes, dict[str, str], float], "tuple[int | None, str | None]"]


class HttpSender:
    """POSTs with requests, one session per worker thread, never via a proxy."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # a proxy from the environment must not see sandbox traffic
        try:
            with session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False) as response:
                return response.status_code, None
        except requests.Timeout:
            return None, f"timeout: no answer within {timeout:g} s"
        except requests.ConnectionError as error:
            return None, f"connection error: {_short(error)}"
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {_short(error)}"


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 300 else text[:297] + "..."
