"""Reliability of webhook delivery: one webhook per settle under concurrent
creates; a receiver that hangs, resets the connection or answers 500 neither
slows the API nor loses an event; the notificationUrl allow-list.

Bounded: the receiver's condition variable and the dispatcher's wait_idle
wait (with timeouts), the clock is advanced for retries, nothing sleeps.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Iterator

import pytest
from test_reliability import (
    PARTNER,
    SETTLED,
    Client,
    advance,
    assert_error_body,
    base_path,
    mock_orders,
    order_body,
    run_threads,
)

from contracts.webhooks.receiver import WebhookReceiver
from mockserver.config import MockConfig
from mockserver.sandbox.clock import parse_instant
from mockserver.server import MockServer, frozen_config

START = parse_instant("2026-05-15T09:30:00Z")
CLIENT_STATE = "reliability"
WAIT = 20.0  # real seconds any single wait may take (they return as soon as the condition holds)


@pytest.fixture
def mock() -> Iterator[MockServer]:
    """A receiver gets 1 real second to answer (then the attempt failed and is retried)."""
    webhooks = MockConfig.load().webhooks.replace(timeout_seconds=1.0)
    with MockServer(frozen_config(clock_start=START, webhooks=webhooks)) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(expected_client_state=CLIENT_STATE) as hooks:
        yield hooks


def subscribe(mock: MockServer, url: str) -> Any:
    client = Client(mock.url, mock.api_key)
    body = {"notificationUrl": url, "eventName": "ota_cm_order_processed", "clientState": CLIENT_STATE}
    return client.send("POST", base_path(mock.base_url) + "/webhook", body)


def settled_statuses(mock: MockServer) -> dict[str, list[str]]:
    return {o["orderId"]: [c["status"] for c in o["history"] if c["status"] in SETTLED] for o in mock_orders(mock.url)}


def accepted_events(receiver: WebhookReceiver) -> Counter:
    return Counter((event.order_id, event.status) for event in receiver.events(accepted_only=True))


# -- one webhook per settle --------------------------------------------------------------------
ORDERS, CREATORS = 2_000, 16


def test_concurrent_creates_settle_once_each_with_exactly_one_webhook(mock: MockServer,
                                                                      receiver: WebhookReceiver) -> None:
    assert subscribe(mock, receiver.url).status == 201
    path = base_path(mock.base_url) + "/channelManager"

    def creator(index: int) -> None:
        client = Client(mock.url, mock.api_key)
        for n in range(index, ORDERS, CREATORS):
            # Issued, Draft and Error settles (every 7th fails issuance on purpose)
            body = order_body(f"hook-{n}", slot=n, **({} if n % 5 else {"paymentReference": ""}))
            headers = {"Prefer": "outcome=Error"} if n % 7 == 0 else None
            assert client.send("POST", path, body, headers=headers).status == 201
        client.close()

    run_threads(CREATORS, creator)
    advance(mock.url, "2m")
    assert mock.webhooks.wait_idle(WAIT)
    receiver.wait_for_events(ORDERS, WAIT)

    settles = settled_statuses(mock)
    assert len(settles) == ORDERS
    assert all(len(statuses) == 1 for statuses in settles.values())  # each settles exactly once
    expected = Counter((order_id, statuses[0]) for order_id, statuses in settles.items())
    assert accepted_events(receiver) == expected  # ... with exactly one webhook, of that status
    assert set(Counter(s for (_, s) in expected)) == {"Issued", "Draft", "Error"}
    assert not receiver.violations()


# -- a misbehaving receiver -------------------------------------------------------------------------
def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


@pytest.mark.parametrize("misbehave", ["hang", "reset", "500"])
def test_a_failing_receiver_neither_slows_the_api_nor_loses_an_event(mock: MockServer, receiver: WebhookReceiver,
                                                                     misbehave: str) -> None:
    """The first three POSTs fail (hang past the 1 s timeout / connection
    reset / 500). While the first one fails, API calls answer as fast as
    before; retries on the warped clock then deliver every event once."""
    assert subscribe(mock, receiver.url).status == 201
    client = Client(mock.url, mock.api_key)
    base = base_path(mock.base_url)
    first = [client.send("POST", base + "/channelManager", order_body(f"{misbehave}-a{n}", slot=n)).body["orderId"]
             for n in range(20)]
    baseline = max(timed(lambda: client.send("GET", f"{base}/channelManager/{first[0]}")) for _ in range(20))

    {"hang": receiver.hang_next, "reset": receiver.close_next, "500": receiver.fail_next}[misbehave](3)
    advance(mock.url, "2m")  # the 20 orders settle; their POST goes out and fails
    receiver.wait_for_deliveries(1, WAIT)  # the first attempt has reached the receiver
    during = []
    for n in range(30):  # API calls while that attempt fails (a hang lasts the full second)
        during.append(timed(lambda: client.send("GET", f"{base}/channelManager/{first[n % 20]}")))
        during.append(timed(lambda: client.send("POST", base + "/channelManager",
                                                order_body(f"{misbehave}-b{n}", slot=n))))
    assert max(during) < max(0.5, 10 * baseline), (max(during), baseline)

    for _ in range(12):  # retries come due on the mock's clock: 30 s, 60 s, 2 min, ...
        if len(accepted_events(receiver)) == 50:
            break
        assert mock.webhooks.wait_idle(WAIT)
        advance(mock.url, "5m")
    assert mock.webhooks.wait_idle(WAIT)
    receiver.wait_for_events(50, WAIT)

    settles = settled_statuses(mock)
    assert len(settles) == 50 and all(statuses == ["Issued"] for statuses in settles.values())
    assert accepted_events(receiver) == Counter({(order_id, "Issued"): 1 for order_id in settles})
    failed = [d for d in receiver.deliveries() if not d.accepted]
    assert len(failed) == 3  # the three planned failures reached the receiver, then were retried


# -- the allow-list ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "http://example.com/hooks",
    "https://hooks.partner.example/ota",
    "http://10.0.0.5:8080/hooks",
    "http://169.254.169.254/latest/meta-data",  # cloud metadata
    "http://127.0.0.1.nip.io/hooks",
    "http://evil.example#@127.0.0.1/",
    "http://localhost.evil.example/",
])
def test_a_notification_url_outside_the_allow_list_is_a_clear_400(mock: MockServer, url: str) -> None:
    answer = subscribe(mock, url)
    assert_error_body(answer, 400, "generic_error")
    assert "is not allowed in this sandbox" in answer.body["message"]
    assert "webhooks.allowedHosts" in answer.body["message"]
    listed = Client(mock.url, mock.api_key).send("GET", base_path(mock.base_url) + "/webhook")
    assert listed.body["value"] == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hooks", "http://localhost:9/hooks", "http://[::1]:9/hooks",
                                 "https://127.0.0.2/hooks"])
def test_loopback_notification_urls_are_allowed(mock: MockServer, url: str) -> None:
    assert subscribe(mock, url).status == 201


def test_the_other_partners_key_subscription_hears_only_its_partner(mock: MockServer,
                                                                    receiver: WebhookReceiver) -> None:
    """Partner isolation reaches webhooks: a subscription made with the
    second partner's key is never told about the first partner's orders."""
    other = Client(mock.url, "otacm-other-partner-key")
    body = {"notificationUrl": receiver.url, "eventName": "ota_cm_order_processed", "clientState": CLIENT_STATE}
    assert other.send("POST", base_path(mock.base_url) + "/webhook", body).status == 201
    owner = Client(mock.url, mock.api_key)
    owner.send("POST", base_path(mock.base_url) + "/channelManager", order_body("not-for-them"))
    theirs = other.send("POST", base_path(mock.base_url) + "/channelManager",
                        order_body("theirs", partner="7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812")).body["orderId"]
    advance(mock.url, "2m")
    assert mock.webhooks.wait_idle(WAIT)
    events = receiver.wait_for_events(1, WAIT)
    assert [(e.order_id, e.status) for e in events] == [(theirs, "Issued")]
    assert PARTNER not in str([e.summary() for e in events])
