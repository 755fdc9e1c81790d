"""A local HTTP endpoint that receives `ota_cm_order_processed` webhooks and judges them.

Partners run it through `otacm webhooks listen`; the conformance suite and the
mock's tests use it as a library. Every POST becomes a `Delivery` carrying the
violations found at arrival, so a test can wait for events with a condition
variable (never a sleep) and then assert on what arrived. The receiver can be
told to misbehave (`fail_next`) so a sender's retry logic can be exercised.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Literal

from contracts.checks.webhooks import (
    Violation,
    event_order_id,
    event_payload,
    webhook_after_terminal,
    webhook_conformance,
    webhook_matches_status,
)
from contracts.webhooks.settles import SettleTracker

OrderLookup = Callable[[str], "dict[str, Any] | None"]
FailMode = Literal["status", "hang", "close"]
MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass
class Delivery:
    """One POST as received, with what the receiver answered and found wrong."""

    sequence: int  # 1-based arrival order, set when recorded
    received_at: datetime
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any | None
    violations: list[Violation] = field(default_factory=list)
    answered: int | None = None  # None: the connection was hung or closed unanswered
    seen: dict[int, str] = field(default_factory=dict)  # event index → the order's status getOrder gave at arrival
    repeats: list[str] = field(default_factory=list)  # "duplicate?" findings: an order's last status announced again

    @property
    def ok(self) -> bool:
        """No violation (a `duplicate?` is not one: the receiver cannot know; see `clean`)."""
        return not self.violations

    @property
    def clean(self) -> bool:
        """No violation and no `duplicate?`: what the CLI calls OK."""
        return self.ok and not self.repeats

    @property
    def accepted(self) -> bool:
        """Whether the sender was told the delivery arrived (a 2xx answer)."""
        return self.answered is not None and 200 <= self.answered < 300

    @property
    def events(self) -> list["Event"]:
        return [Event(data, self, i) for i, data in enumerate(_event_objects(self.json))]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's `--json` line)."""
        return {
            "sequence": self.sequence,
            "receivedAt": self.received_at.isoformat().replace("+00:00", "Z"),
            "path": self.path,
            "answered": self.answered,
            "body": self.json if self.json is not None else self.body.decode("utf-8", "replace"),
            "events": [event.summary() for event in self.events],
            "violations": [violation.to_dict() for violation in self.violations],
            "duplicates": list(self.repeats),
        }


@dataclass(frozen=True)
class Event:
    """One entry of a delivery's `values` array, with the delivery it came in."""

    data: dict[str, Any]
    delivery: Delivery = field(repr=False, compare=False)
    index: int = 0

    @property
    def where(self) -> str:
        """The event's JSON path inside its delivery."""
        return f"values[{self.index}]"

    @property
    def order_id(self) -> str | None:
        return event_order_id(self)

    @property
    def status(self) -> Any:
        return event_payload(self).get("status")

    @property
    def buy_from_order_reference(self) -> Any:
        return event_payload(self).get("buyFromOrderReference")

    @property
    def client_state(self) -> Any:
        return self.data.get("clientState")

    @property
    def status_at_arrival(self) -> str | None:
        """The order's status getOrder gave when this event arrived ("not found"), None when not looked up."""
        return self.delivery.seen.get(self.index)

    @property
    def violations(self) -> list[Violation]:
        """The delivery's violations that point into this event."""
        return [v for v in self.delivery.violations if v.where == self.where or v.where.startswith(self.where + ".")]

    def summary(self) -> dict[str, Any]:
        return {"orderId": self.order_id, "status": self.status, "buyFromOrderReference": self.buy_from_order_reference}


def _event_objects(body: Any) -> list[dict[str, Any]]:
    """The events of a body, leniently: a wrong envelope is flagged, but its events still count.

    Being lenient here keeps a waiting test from timing out on a malformed
    envelope; it gets the events and the violations saying what was wrong.
    """
    if isinstance(body, dict):
        for key in ("values", "value"):
            if isinstance(body.get(key), list):
                return [item for item in body[key] if isinstance(item, dict)]
        if "payload" in body or "eventName" in body:
            return [body]
    if isinstance(body, list):
        return [item for item in body if isinstance(item, dict)]
    return []


@dataclass
class _Failure:
    mode: FailMode
    status: int
    hang_seconds: float | None


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 that records and checks webhook POSTs.

    `expected_client_state`: the subscription's clientState, checked on every
    event. `order_lookup(order_id) -> dict | None`: a getOrder; when given, each
    event is also checked against the order at arrival (status matches, order
    settled). `on_delivery` is called (outside the lock) with each delivery.
    `reject_invalid` answers 400 instead of 200 to deliveries with violations.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        expected_client_state: str | None = None,
        order_lookup: OrderLookup | None = None,
        strict: bool = False,
        on_delivery: Callable[[Delivery], None] | None = None,
        reject_invalid: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.expected_client_state = expected_client_state
        self.order_lookup = order_lookup
        self.strict = strict
        self.on_delivery = on_delivery
        self.reject_invalid = reject_invalid
        self._deliveries: list[Delivery] = []
        self.settles = SettleTracker()
        self._failures: deque[_Failure] = deque()
        self._condition = threading.Condition()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> "WebhookReceiver":
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_class(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"webhook-receiver-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; releases hung requests so nothing lingers."""
        self._stopping.set()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> "WebhookReceiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The URL to register as `notificationUrl`."""
        return f"http://{self.host}:{self.port}/"

    # -- misbehaviour for retry tests -------------------------------------------
    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer `status` to the next `count` POSTs (then 200 again)."""
        self._plan(count, _Failure("status", status, None))

    def hang_next(self, count: int = 1, seconds: float | None = None) -> None:
        """Hold the next `count` POSTs open without answering, until `seconds` pass or stop()."""
        self._plan(count, _Failure("hang", 0, seconds))

    def close_next(self, count: int = 1) -> None:
        """Close the connection of the next `count` POSTs without answering."""
        self._plan(count, _Failure("close", 0, None))

    def _plan(self, count: int, failure: _Failure) -> None:
        with self._condition:
            self._failures.extend(failure for _ in range(count))

    def _next_failure(self) -> _Failure | None:
        with self._condition:
            return self._failures.popleft() if self._failures else None

    # -- what arrived ------------------------------------------------------------
    def deliveries(self) -> list[Delivery]:
        with self._condition:
            return list(self._deliveries)

    def events(self, accepted_only: bool = True) -> list[Event]:
        """Every event of every delivery, in arrival order.

        By default only deliveries answered 2xx count: one the receiver failed
        on purpose was, for the sender, never delivered and will be retried.
        """
        with self._condition:
            return self._events_locked(accepted_only)

    def violations(self) -> list[Violation]:
        with self._condition:
            return [v for delivery in self._deliveries for v in delivery.violations]

    def wait_for_events(self, count: int, timeout: float, accepted_only: bool = True) -> list[Event]:
        """Block until at least `count` events arrived or `timeout` passed; returns the events.

        On timeout the shorter list is returned, so a caller can still report
        which ones are missing (see `webhook_once_per_settle`).
        """
        with self._condition:
            self._condition.wait_for(lambda: len(self._events_locked(accepted_only)) >= count, timeout)
            return self._events_locked(accepted_only)

    def wait_for_deliveries(self, count: int, timeout: float) -> list[Delivery]:
        """Block until at least `count` POSTs (answered or not) arrived or `timeout` passed."""
        with self._condition:
            self._condition.wait_for(lambda: len(self._deliveries) >= count, timeout)
            return list(self._deliveries)

    def clear(self) -> None:
        """Forget what arrived and any planned failures (between test cases)."""
        with self._condition:
            self._deliveries.clear()
            self._failures.clear()
            self.settles = SettleTracker()

    def _events_locked(self, accepted_only: bool) -> list[Event]:
        return [e for d in self._deliveries if d.accepted or not accepted_only for e in d.events]

    # -- handling one POST ---------------------------------------------------------
    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> Delivery:
        """Check a POST and build its delivery (not yet recorded)."""
        parsed: Any | None
        try:
            parsed = json.loads(body.decode("utf-8"))
        except ValueError:
            parsed = None
        violations = webhook_conformance(body, self.expected_client_state, self.strict)
        delivery = Delivery(0, datetime.now(timezone.utc), path, headers, body, parsed, violations)
        if self.order_lookup is not None:
            for event in delivery.events:
                delivery.violations.extend(self._check_against_order(event))
        return delivery

    def _check_against_order(self, event: Event) -> list[Violation]:
        """Run the getOrder-based checks for one event right as it arrives (and keep what getOrder said)."""
        order_id = event.order_id
        if order_id is None or self.order_lookup is None:
            return []
        try:
            order = self.order_lookup(order_id)
        except Exception as exc:  # the lookup is the partner's server: report, never crash
            event.delivery.seen[event.index] = "getOrder failed"
            return [Violation("order_lookup", f"getOrder for order {order_id} failed: {exc}", event.where)]
        status = order.get("status") if isinstance(order, dict) else None
        event.delivery.seen[event.index] = str(status) if order is not None else "not found"
        return webhook_matches_status(event, order) + webhook_after_terminal(event, status)

    def _record(self, delivery: Delivery) -> None:
        with self._condition:
            delivery.sequence = len(self._deliveries) + 1
            if delivery.accepted:  # in arrival order: a repeat is judged against what came before it
                found = (self.settles.see(e.order_id, e.status, delivery.sequence, e.where) for e in delivery.events)
                delivery.repeats = [text for text in found if text]
            self._deliveries.append(delivery)
            self._condition.notify_all()
        if self.on_delivery is not None:
            self.on_delivery(delivery)

    def _answer_for(self, delivery: Delivery) -> tuple[_Failure | None, int]:
        failure = self._next_failure()
        if failure is not None:
            return failure, failure.status
        return None, 400 if (self.reject_invalid and delivery.violations) else 200


def _handler_class(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to one receiver (no module-level state)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "otacm-webhook-receiver"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = _read_body(self)
            delivery = receiver._receive(self.path, dict(self.headers.items()), body)
            failure, status = receiver._answer_for(delivery)
            if failure is not None and failure.mode != "status":
                receiver._record(delivery)
                if failure.mode == "hang":
                    receiver._stopping.wait(failure.hang_seconds)
                self.close_connection = True
                return
            delivery.answered = status
            receiver._record(delivery)
            self._send_json(status, {"received": len(delivery.events),
                                     "violations": [v.to_dict() for v in delivery.violations]})

        def do_GET(self) -> None:  # noqa: N802
            self._send_json(405, {"message": "POST webhook deliveries here"})

        def _send_json(self, status: int, document: Any) -> None:
            data = json.dumps(document).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            try:
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the sender gave up waiting (its timeout): nobody to answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Silent: the CLI prints deliveries its own way and tests want quiet output."""

    return Handler


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, by Content-Length or chunked transfer encoding."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = min(int(handler.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
    return handler.rfile.read(length) if length else b""
