"""The lifecycle probe: documented flows driven concurrently against a target, recorded as `Evidence`.

Each flow (contracts.verify.flows) runs in a thread with its own
`TargetClient` and records every call it makes. When a flow waits for an
order to settle it hands the order to one `Poller`, which polls every waiting
order together on the target's clock: on a mock with `/_mock/clock` it is the
only thing that advances the clock (and only when every flow is waiting, so a
call never races a warp); on a real target it polls on the wall clock. One
webhook receiver is subscribed before the first order and one quiet window is
waited at the end, for all orders together, so a run against a target with
60 s pickups takes two settle rounds plus that window. The probe never judges.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import uuid
from datetime import date
from typing import Any, Callable

import requests

from contracts.lifecycle import load_lifecycle
from contracts.target import Exchange, SubscriptionFailed, Target, TargetClient
from contracts.verify.evidence import Evidence, ListingWalk, OrderHistory
from contracts.verify.flows import Flow, missing_fact, why_skipped
from contracts.verify.foreign_deliveries import foreign_client_states, own_deliveries
from contracts.verify.listing_walks import run_listings
from contracts.verify.poller import Poller
from contracts.verify.strict_flows import ALL_FLOWS
from contracts.webhooks.receiver import WebhookReceiver

Progress = Callable[[str], None]
WARPED_QUIET_WINDOW = 60.0  # target seconds: a warp costs nothing, and the mock retries on its clock


class Probe:
    """Drives the documented flows against a target and returns what it saw.

    `poll` / `close_poll`: seconds between looks at a waiting order (close:
    the orders that must show Scheduled and Processing). `timeout`: one HTTP
    call's limit. `settle_timeout`: how long (target seconds) to wait for one
    settle; by default a pickup interval of the spec plus a minute.
    `quiet_window`: seconds waited once at the end for late or duplicate
    events; on a warpable target it costs nothing, so at least a minute of
    target time is warped there.
    """

    def __init__(self, target: Target, venue: dict[str, Any], *, strictness: str, today: date, poll: float,
                 close_poll: float, timeout: float, webhooks: bool, quiet_window: float,
                 progress: Progress | None = None, settle_timeout: float | None = None,
                 event_wait: float = 15.0, webhook_host: str = "127.0.0.1", webhook_port: int = 0,
                 webhook_url: str | None = None) -> None:
        self.target, self.strictness, self.today = target, strictness, today
        self.venue = {**venue, "other_partner_id": target.other_partner_id or ""}
        self.poll, self.close_poll, self.request_timeout = poll, close_poll, timeout
        self.settle_timeout = settle_timeout or load_lifecycle().pickup_interval + 60.0
        self.quiet_window = max(quiet_window, WARPED_QUIET_WINDOW) if target.clock_control else quiet_window
        self.webhooks, self.event_wait = webhooks, event_wait
        # where the receiver binds, and the URL the target is told to call (default: the receiver's own)
        self.webhook_host, self.webhook_port, self.webhook_url = webhook_host, webhook_port, webhook_url
        self.say: Progress = progress or (lambda text: None)
        self.run_id = secrets.token_hex(3).upper()
        self.client_state = f"otacm-probe-{self.run_id}"
        self.evidence = Evidence(quiet_window=self.quiet_window)
        self.receiver: WebhookReceiver | None = None
        self.receiver_url = ""  # what the target was told to call, once subscribed
        self._lock = threading.Lock()

    def client(self) -> TargetClient:
        """A client for one flow: it reads the target's clock but never moves it."""
        return TargetClient(self.target, self.request_timeout, warp=False)

    def run(self) -> Evidence:
        runnable = []
        for name, (needs, function) in ALL_FLOWS.items():
            missing = missing_fact(self.venue, needs)
            if missing:
                self.evidence.skipped_flows[name] = why_skipped(missing)
            else:
                runnable.append((name, function))
        driver = TargetClient(self.target, self.request_timeout)
        poller = Poller(driver, warp=self.target.clock_control, poll=self.poll, close_poll=self.close_poll,
                        timeout=self.settle_timeout, flows=len(runnable))
        with contextlib.ExitStack() as stack:
            self._subscribe(stack, driver)
            threads = [threading.Thread(target=self._flow, args=(Flow(self, poller, name), function, poller),
                                        name=f"probe-{name}", daemon=True) for name, function in runnable]
            for thread in threads:
                thread.start()
            poller.drive()
            for thread in threads:
                thread.join()
            self._listing()
            self._quiet(driver)
        self._assign_events()
        driver.close()
        return self.evidence

    def _flow(self, flow: Flow, function: Callable[[Flow], None], poller: Poller) -> None:
        try:
            function(flow)
        except Exception as error:  # a flow must never hang the run: say why it stopped
            self.say(f"probe: flow {flow.name} stopped: {error!r}")
            self.evidence.skipped_flows.setdefault(flow.name, f"stopped: {error!r}")
        finally:
            flow.client.close()
            poller.finished()
            for history in [h for h in self.evidence.histories if h.flow == flow.name]:
                self.say(f"probe: {history.label}: {timeline_text(history)}")

    def record(self, history: OrderHistory | None = None, exchange: Exchange | None = None,
               listing: ListingWalk | None = None) -> None:
        """Keep a history, a call about no single order, or a flow's own list walk in the evidence (thread-safe)."""
        with self._lock:
            if history is not None:
                self.evidence.histories.append(history)
            if exchange is not None:
                self.evidence.exchanges.append(exchange)
            if listing is not None:
                self.evidence.listings.append(listing)

    # -- webhooks ------------------------------------------------------------------------------
    def _subscribe(self, stack: contextlib.ExitStack, client: TargetClient) -> None:
        if not self.webhooks:
            self.evidence.webhook_problem = "--no-webhooks turned the webhook receiver off"
            return

        def lookup(order_id: str) -> dict[str, Any] | None:
            with contextlib.closing(self.client()) as own:
                exchange = own.call("getOrder", {"orderId": order_id})
            return exchange.response if exchange.status == 200 else None

        receiver = WebhookReceiver(self.webhook_host, self.webhook_port, expected_client_state=self.client_state,
                                   order_lookup=lookup, strict=self.strictness == "strict")
        try:
            receiver.start()
        except OSError as error:  # the port is taken, or the host is not an interface of this machine
            self.evidence.webhook_problem = (f"the webhook receiver could not listen on "
                                             f"{self.webhook_host}:{self.webhook_port}: {error}")
            return
        stack.callback(receiver.stop)
        url = self.webhook_url or receiver.url
        app_id = str(uuid.uuid5(uuid.NAMESPACE_URL, self.client_state))  # its events must carry it (docs/004)
        try:
            stack.enter_context(client.subscription(url, self.client_state, app_id))
            self.evidence.subscription_app_id = app_id
        except SubscriptionFailed:
            try:  # appId is optional (CONTRACT.md): a target that refuses it is subscribed without
                stack.enter_context(client.subscription(url, self.client_state))
            except SubscriptionFailed as error:
                self.evidence.webhook_problem = f"the webhook subscription of {url} was refused: {error}"
                return
        self.receiver = receiver
        self.receiver_url = url
        where = f" (listening on {receiver.host}:{receiver.port})" if url != receiver.url else ""
        self.say(f"probe: webhook receiver {url} subscribed{where}")

    def await_events(self, client: TargetClient, history: OrderHistory) -> None:
        """Before moving a settled order again: let its settle's event arrive (bounded, never a sleep)."""
        if self.receiver is None or history.background_settles == 0:
            return
        if self.target.capabilities.webhook_idle_wait:
            with contextlib.suppress(requests.RequestException, RuntimeError):
                client.deliveries_idle(5)
            return
        deadline = time.monotonic() + self.event_wait
        while len(self._events_of(history.order_id)) < history.background_settles and time.monotonic() < deadline:
            self.receiver.wait_for_events(len(self.receiver.events()) + 1, timeout=deadline - time.monotonic())

    def _events_of(self, order_id: str) -> list[Any]:
        events = self.receiver.events() if self.receiver else []
        return [e for e in events if e.order_id and e.order_id.lower() == order_id.lower()]

    def _quiet(self, client: TargetClient) -> None:
        """One window for all orders together: late or duplicate events show up here."""
        if self.receiver is None:
            return
        self.say(f"probe: waiting {self.quiet_window:g} s for late or duplicate webhook events")
        if client.warp:
            client.advance(self.quiet_window)
            with contextlib.suppress(requests.RequestException, RuntimeError):
                client.deliveries_idle(10)
        else:
            time.sleep(self.quiet_window)

    def _assign_events(self) -> None:
        """The run's own deliveries (foreign_deliveries.py: not another subscription's to our URL), per order."""
        if self.receiver is None:
            return
        with contextlib.closing(self.client()) as client:
            try:
                foreign = foreign_client_states(client, self.receiver_url, self.client_state)
            except requests.RequestException:
                foreign = frozenset()
        received = self.receiver.deliveries()
        self.evidence.deliveries = own_deliveries(received, foreign)
        self.evidence.foreign_deliveries = len(received) - len(self.evidence.deliveries)
        events = [e for d in self.evidence.deliveries if d.accepted for e in d.events]
        for history in self.evidence.histories:
            if history.order_id:
                history.events = [e for e in events if e.order_id and e.order_id.lower() == history.order_id.lower()]

    def _listing(self) -> None:
        with contextlib.closing(self.client()) as client:
            run_listings(self.evidence, client, self.target.partner_id, self.strictness)


def timeline_text(history: OrderHistory) -> str:
    """Statuses seen, repeats folded: `Submitted ×37 → Scheduled → Issued → Cancelled (deleteOrder)`."""
    parts: list[list[Any]] = []
    for seen in history.observations:
        label = seen.status + (f" ({seen.via})" if seen.via != "getOrder" else "")
        if parts and parts[-1][0] == label:
            parts[-1][1] += 1
        else:
            parts.append([label, 1])
    return " → ".join(label + (f" ×{n}" if n > 1 else "") for label, n in parts) or "no status seen"
