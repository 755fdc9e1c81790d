"""Webhook subscriptions and delivery in the mock, over real HTTP on 127.0.0.1.

Each test runs a mock on a frozen clock and a real `WebhookReceiver`. Nothing
sleeps: the clock is advanced, `wait_idle` waits for the dispatcher's workers
and the receiver's own condition variable waits for arrivals, all bounded.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
import uuid
from typing import Any, Iterator

import pytest
import requests
import yaml

from contracts.checks.webhooks import webhook_conformance, webhook_once_per_settle
from contracts.webhooks.receiver import WebhookReceiver
from mockserver.config import DEFAULTS_FILE, MockConfig
from mockserver.sandbox.clock import iso, parse_instant
from mockserver.server import MockServer, frozen_config
from mockserver.webhooks.deliveries import company_id
from mockserver.webhooks.sending import WebhookDispatcher
from mockserver.webhooks.subscriptions import (
    ChaosOptions,
    HostAllowList,
    RetryPolicy,
    WebhookConfig,
    webhook_config,
)

START = parse_instant("2026-05-15T09:30:00Z")
CLIENT_STATE = "secret_value_from_subscription_creation_mirrored"
WAIT = 5.0
SETTLE = 120  # clock seconds after which a fresh order has settled (pickup at 60 s + 4 s)
_references = itertools.count(1)


# -- fixtures and helpers --------------------------------------------------------------
def webhook_settings(**changes: Any) -> WebhookConfig:
    return MockConfig.load().webhooks.replace(**{"timeout_seconds": 1.0, **changes})


def start_mock(**webhook_changes: Any) -> MockServer:
    config = frozen_config(clock_start=START, validate_responses=True, webhooks=webhook_settings(**webhook_changes))
    return MockServer(config).start()


@pytest.fixture
def mock() -> Iterator[MockServer]:
    server = start_mock()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(expected_client_state=CLIENT_STATE) as hooks:
        yield hooks


def session(mock: MockServer) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.headers["x-np-api-key"] = mock.api_key
    return http


def dispatcher(mock: MockServer) -> WebhookDispatcher:
    return mock.webhooks.dispatcher


def subscribe(mock: MockServer, url: str, base: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"notificationUrl": url, "eventName": "ota_cm_order_processed", "clientState": CLIENT_STATE, **extra}
    response = session(mock).post(f"{base or mock.base_url}/webhook", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def order_body(mock: MockServer, payment: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnerId": mock.partner_id,
        "sellToOrderReference": f"hook-{next(_references)}",
        "items": [{"itemNumber": "31001", "visitDate": "2026-06-01", "visitTime": "10:30:00", "quantity": 1}],
    }
    if payment:
        body["paymentReference"] = "PAY-1"
    return body


def create(mock: MockServer, payment: bool = True, prefer: str | None = None, sync: bool = False) -> dict[str, Any]:
    headers = {"Prefer": prefer} if prefer else {}
    params = {"sync": "1"} if sync else {}
    response = session(mock).post(f"{mock.base_url}/channelManager", json=order_body(mock, payment),
                                  headers=headers, params=params)
    assert response.status_code == 201, response.text
    return response.json()


def replace(mock: MockServer, order: dict[str, Any], payment: bool = True) -> dict[str, Any]:
    body = {**order_body(mock, payment), "sellToOrderReference": order["sellToOrderReference"]}
    response = session(mock).put(f"{mock.base_url}/channelManager/{order['orderId']}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def get(mock: MockServer, order_id: str) -> dict[str, Any]:
    response = session(mock).get(f"{mock.base_url}/channelManager/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


def advance(mock: MockServer, seconds: float = SETTLE) -> None:
    """Move the clock and let every attempt that came due finish."""
    mock.clock.advance(seconds)
    assert dispatcher(mock).wait_idle(WAIT), "the dispatcher did not go idle"


def settled_at(mock: MockServer, order_id: str) -> str:
    """When the order last settled (its history's last entry), as the webhook's timestamp."""
    (order,) = [o for o in mock.backend.orders() if o.order_id == order_id]
    return iso(order.history[-1].at)


def statuses(receiver: WebhookReceiver) -> list[tuple[str | None, Any]]:
    return [(event.order_id, event.status) for event in receiver.events()]


def attempts(mock: MockServer, order_id: str) -> list[dict[str, Any]]:
    return [e for e in dispatcher(mock).deliveries(order_id) if e["outcome"] != "dropped"]


# -- subscriptions ------------------------------------------------------------------------
def test_subscription_crud(mock: MockServer) -> None:
    http = session(mock)
    created = subscribe(mock, "http://127.0.0.1:9/hooks")
    uuid.UUID(created["id"])
    assert created == {
        "id": created["id"], "notificationUrl": "http://127.0.0.1:9/hooks", "eventName": "ota_cm_order_processed",
        "appId": "", "eventVersion": "1.0", "clientState": CLIENT_STATE, "timestamp": "2026-05-15T09:30:00Z",
    }
    listed = http.get(f"{mock.base_url}/webhook")
    assert listed.status_code == 200
    assert listed.json() == {"@odata.context": "webhook", "value": [created]}
    assert http.get(f"{mock.base_url}/webhook/{created['id']}").json() == created

    deleted = http.delete(f"{mock.base_url}/webhook/{created['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    for response in (http.get(f"{mock.base_url}/webhook/{created['id']}"),
                     http.delete(f"{mock.base_url}/webhook/{created['id']}")):
        assert response.status_code == 404
        assert response.json() == {"code": "resource_not_found",
                                   "message": f"Subscription '{created['id']}' not found Not Found"}
    assert http.get(f"{mock.base_url}/webhook").json()["value"] == []


def test_subscription_keeps_the_fields_sent(mock: MockServer) -> None:
    created = subscribe(mock, "http://localhost:8080/x", appId="992c2309-cca4-43cb-9e41-911f482ec088",
                        eventVersion="1.0")
    assert created["appId"] == "992c2309-cca4-43cb-9e41-911f482ec088"
    no_state = session(mock).post(f"{mock.base_url}/webhook",
                                  json={"notificationUrl": "http://[::1]:8080/", "eventName": "ota_cm_order_processed"})
    assert no_state.status_code == 201
    assert no_state.json()["clientState"] == "" and no_state.json()["eventName"] == "ota_cm_order_processed"


def test_an_event_the_sandbox_never_sends_is_refused_naming_the_one_it_has(mock: MockServer) -> None:
    """A mistyped eventName would wait silently for ever (issue 21): the mock answers 400 (CONTRACT.md: a
    decision of the mock only; no level of verify asserts it)."""
    http = session(mock)
    refused = http.post(f"{mock.base_url}/webhook", json={"notificationUrl": "http://127.0.0.1:9/",
                                                           "eventName": "order_processed"})
    assert refused.status_code == 400
    assert refused.json() == {"code": "generic_error",
                              "message": "Unknown eventName 'order_processed': the sandbox sends only "
                                         "'ota_cm_order_processed'",
                              "details": [{"field": "eventName", "problem": "must be 'ota_cm_order_processed'"}]}
    assert http.get(f"{mock.base_url}/webhook").json()["value"] == []


def test_subscriptions_are_per_company(mock: MockServer) -> None:
    mine = subscribe(mock, "http://127.0.0.1:9/")
    other_base = mock.base_url.rsplit("/", 1)[0] + "/Other%20Company"
    theirs = subscribe(mock, "http://127.0.0.1:9/", base=other_base)
    http = session(mock)
    assert [s["id"] for s in http.get(f"{mock.base_url}/webhook").json()["value"]] == [mine["id"]]
    assert http.get(f"{mock.base_url}/webhook/{theirs['id']}").status_code == 404
    assert http.get(f"{other_base}/webhook/{theirs['id']}").status_code == 200


@pytest.mark.parametrize("body, message", [
    ({"eventName": "ota_cm_order_processed"}, "Required field 'notificationUrl' is missing"),
    ({"notificationUrl": "http://127.0.0.1/"}, "Required field 'eventName' is missing"),
    ({"notificationUrl": "", "eventName": "e"}, "Required field 'notificationUrl' cannot be empty"),
    ({"notificationUrl": "http://127.0.0.1/", "eventName": "e", "clientState": "x" * 51},
     "Field 'clientState' must be at most 50 characters"),
    ({"notificationUrl": "ftp://127.0.0.1/hooks", "eventName": "e"},
     "notificationUrl must be an absolute http or https URL (got 'ftp://127.0.0.1/hooks')"),
    ({"notificationUrl": "/relative/hooks", "eventName": "e"},
     "notificationUrl must be an absolute http or https URL (got '/relative/hooks')"),
    ({"notificationUrl": "https://partner.example.com/hooks", "eventName": "e"},
     "notificationUrl host 'partner.example.com' is not allowed in this sandbox; "
     "allowed: 127.0.0.0/8, ::1, localhost (configure webhooks.allowedHosts)"),
    ({"notificationUrl": "http://127.0.0.1/", "eventName": "ota_cm_order_processed", "x-otacm-chaos": {"dupe": True}},
     "x-otacm-chaos: unknown option 'dupe' (known: duplicate, batch, delaySeconds, outOfOrder)"),
    ({"notificationUrl": "http://127.0.0.1/", "eventName": "ota_cm_order_processed", "x-otacm-chaos": {"batch": 0}},
     "x-otacm-chaos.batch must be an integer >= 1"),
    ({"notificationUrl": "http://127.0.0.1/", "eventName": "ota_cm_order_processed", "x-otacm-chaos": "duplicate"},
     "x-otacm-chaos must be an object such as {\"duplicate\": true, \"batch\": 3}"),
])
def test_bad_subscription_bodies_are_400(mock: MockServer, body: dict[str, Any], message: str) -> None:
    response = session(mock).post(f"{mock.base_url}/webhook", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "generic_error"
    assert response.json()["message"] == message
    assert session(mock).get(f"{mock.base_url}/webhook").json()["value"] == []


def test_subscription_id_must_be_a_guid(mock: MockServer) -> None:
    response = session(mock).get(f"{mock.base_url}/webhook/not-a-guid")
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid subscription id"


def test_allowed_hosts_from_the_config() -> None:
    allow = HostAllowList(("hooks.partner.example", "*.ngrok.io", "10.0.0.0/8"))
    for host in ("127.0.0.1", "127.5.6.7", "::1", "LOCALHOST", "hooks.partner.example", "abc.ngrok.io", "10.1.2.3"):
        assert allow.allows(host), host
    for host in ("partner.example", "ngrok.io.evil.com", "192.168.0.1", "169.254.169.254", "::2"):
        assert not allow.allows(host), host
    assert HostAllowList(("*",)).allows("anything.example.com")


def test_configured_host_is_accepted_over_http() -> None:
    server = start_mock(allowed_hosts=("hooks.partner.example",))
    try:
        assert subscribe(server, "https://hooks.partner.example/ota")["notificationUrl"] == \
            "https://hooks.partner.example/ota"
    finally:
        server.stop()


# -- one webhook per settle ----------------------------------------------------------------
def test_one_webhook_per_settle_with_the_documented_envelope(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    issued = create(mock, payment=True)
    draft = create(mock, payment=False)
    failed = create(mock, prefer='outcome=Error; message="boom"')
    advance(mock)

    events = receiver.wait_for_events(3, timeout=WAIT)
    assert sorted(statuses(receiver)) == sorted([
        (issued["orderId"], "Issued"), (draft["orderId"], "Draft"), (failed["orderId"], "Error")])
    assert receiver.violations() == []
    for delivery in receiver.deliveries():
        assert webhook_conformance(delivery.body, CLIENT_STATE, strict=True) == []
    event = next(e for e in events if e.order_id == issued["orderId"]).data
    assert event == {
        "appId": "",
        "clientState": CLIENT_STATE,
        "companyId": company_id("CRONUS International Ltd."),
        "companyName": "CRONUS International Ltd.",
        "eventName": "ota_cm_order_processed",
        "eventVersion": "1.0",
        "initiatingUserAADObjectId": "ef546153-4168-4bd5-9365-a3161608da72",
        "payload": {"orderId": issued["orderId"], "buyFromOrderReference": issued["buyFromOrderReference"],
                    "status": "Issued"},
        "timestamp": settled_at(mock, issued["orderId"]),
    }
    assert event["timestamp"] == "2026-05-15T09:31:04Z"  # pickup at 09:31:00, + 1 s + 3 s
    assert get(mock, failed["orderId"])["statusMessage"] == "boom"


def test_events_settling_together_share_one_post(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    first, second = create(mock), create(mock)
    advance(mock)
    (delivery,) = receiver.deliveries()
    assert {e.order_id for e in delivery.events} == {first["orderId"], second["orderId"]}


def test_replace_fires_again_confirm_and_delete_do_not(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    draft = create(mock, payment=False)
    failed = create(mock, prefer="outcome=Error")
    to_confirm = create(mock, payment=False)
    advance(mock)
    replace(mock, draft, payment=True)
    replace(mock, failed, payment=False)
    advance(mock)
    confirmed = session(mock).post(f"{mock.base_url}/channelManager/{to_confirm['orderId']}/confirm",
                                   json={"paymentReference": "PAY-2"})
    assert confirmed.json()["status"] == "Issued"
    assert session(mock).delete(f"{mock.base_url}/channelManager/{draft['orderId']}").status_code == 200
    advance(mock, 3600)

    events = receiver.events()
    assert webhook_once_per_settle(events, {draft["orderId"]: 2, failed["orderId"]: 2, to_confirm["orderId"]: 1}) == []
    by_order = {oid: [s for o, s in statuses(receiver) if o == oid] for oid in (draft["orderId"], failed["orderId"])}
    assert by_order == {draft["orderId"]: ["Draft", "Issued"], failed["orderId"]: ["Error", "Draft"]}
    assert receiver.violations() == []


def test_sync_calls_fire_no_webhook(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    assert create(mock, sync=True)["status"] == "Issued"
    advance(mock, 3600)
    assert receiver.deliveries() == [] and dispatcher(mock).deliveries() == []


def test_processing_stall_fires_one_error_webhook(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    order = create(mock, prefer="stall=Processing")
    advance(mock, 2 * 3600)
    assert statuses(receiver) == [(order["orderId"], "Error")]
    assert receiver.events()[0].data["timestamp"] == settled_at(mock, order["orderId"])


def test_scheduled_recovery_fires_no_extra_webhook(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    order = create(mock, prefer="stall=Scheduled")
    advance(mock, 3600)
    assert statuses(receiver) == [(order["orderId"], "Issued")]
    triggers = [change.trigger for o in mock.backend.orders() for change in o.history]
    assert "scheduledStall" in triggers


def test_only_the_company_subscribed_receives(mock: MockServer, receiver: WebhookReceiver) -> None:
    with WebhookReceiver() as other:
        subscribe(mock, other.url, base=mock.base_url.rsplit("/", 1)[0] + "/Other%20Company")
        subscribe(mock, receiver.url)
        create(mock)
        advance(mock)
        assert len(receiver.events()) == 1
        assert other.deliveries() == []


def test_a_partner_bound_key_hears_only_its_partners_orders(mock: MockServer, receiver: WebhookReceiver) -> None:
    other_key, other_partner = "otacm-other-partner-key", "7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812"
    with WebhookReceiver() as bound:
        response = requests.post(f"{mock.base_url}/webhook", headers={"x-np-api-key": other_key},
                                 json={"notificationUrl": bound.url, "eventName": "ota_cm_order_processed"})
        assert response.status_code == 201
        subscribe(mock, receiver.url)
        mine = create(mock)
        theirs = session(mock).post(f"{mock.base_url}/channelManager",
                                    json={**order_body(mock), "partnerId": other_partner}).json()
        advance(mock)
        assert {e.order_id for e in bound.events()} == {theirs["orderId"]}
        assert {e.order_id for e in receiver.events()} == {mine["orderId"], theirs["orderId"]}


# -- retries on the mock's clock -------------------------------------------------------------
def test_receiver_down_for_three_attempts_then_up(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    receiver.fail_next(3, status=500)
    order = create(mock)
    advance(mock)  # settles at 09:31:04; attempt 1 fails, attempt 2 is due at 09:31:34 and fails too
    assert receiver.events() == []
    advance(mock, 3600)

    assert statuses(receiver) == [(order["orderId"], "Issued")]
    log = attempts(mock, order["orderId"])
    assert [(e["attempt"], e["responseCode"], e["outcome"]) for e in log] == [
        (1, 500, "retrying"), (2, 500, "retrying"), (3, 500, "retrying"), (4, 200, "delivered")]
    assert [e["at"] for e in log] == ["2026-05-15T09:31:04Z", "2026-05-15T09:31:34Z",
                                      "2026-05-15T09:32:34Z", "2026-05-15T09:34:34Z"]
    assert [e["nextRetryAt"] for e in log] == [log[1]["at"], log[2]["at"], log[3]["at"], None]
    assert log[0]["error"] == "HTTP 500" and log[3]["error"] is None
    assert len({e["deliveryId"] for e in log}) == 1 and len({tuple(e["eventIds"]) for e in log}) == 1
    assert log[0]["endpoint"] == receiver.url
    assert len(receiver.deliveries()) == 4


def test_gives_up_after_max_attempts_and_says_so() -> None:
    server = start_mock(retry=RetryPolicy(max_attempts=3, initial_seconds=30, factor=2, max_seconds=60))
    try:
        with WebhookReceiver() as hooks:
            subscribe(server, hooks.url)
            hooks.fail_next(10, status=503)
            order = create(server)
            advance(server, 86400)
            log = attempts(server, order["orderId"])
            assert [(e["attempt"], e["outcome"], e["nextRetryAt"]) for e in log] == [
                (1, "retrying", "2026-05-15T09:31:34Z"), (2, "retrying", "2026-05-15T09:32:34Z"),
                (3, "gave up", None)]
            assert len(hooks.deliveries()) == 3
            assert dispatcher(server).pending_count() == 0
    finally:
        server.stop()


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, initial_seconds=30, factor=2, max_seconds=3600)
    assert [policy.backoff(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_connection_refused_is_logged_and_a_fixed_subscription_delivers(
    mock: MockServer, receiver: WebhookReceiver
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    broken = subscribe(mock, f"http://127.0.0.1:{closed_port}/hooks")
    lost = create(mock)
    advance(mock)
    log = attempts(mock, lost["orderId"])  # attempts 1 (09:31:04) and 2 (09:31:34)
    assert [(e["attempt"], e["responseCode"], e["outcome"]) for e in log] == [(1, None, "retrying"),
                                                                             (2, None, "retrying")]
    assert all(e["error"].startswith("connection error") for e in log)

    assert session(mock).delete(f"{mock.base_url}/webhook/{broken['id']}").status_code == 204
    subscribe(mock, receiver.url)
    order = create(mock)
    advance(mock)
    assert statuses(receiver) == [(order["orderId"], "Issued")]
    dropped = [e for e in dispatcher(mock).deliveries(lost["orderId"]) if e["outcome"] == "dropped"]
    assert dropped and dropped[0]["error"] == "subscription deleted before the retry"


def test_a_hanging_receiver_does_not_slow_api_requests(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    receiver.hang_next(1, seconds=WAIT)
    order = create(mock)
    mock.clock.advance(SETTLE)
    assert len(receiver.wait_for_deliveries(1, timeout=WAIT)) == 1  # the POST is now hanging
    assert not dispatcher(mock).wait_idle(0)

    started = time.perf_counter()
    assert get(mock, order["orderId"])["status"] == "Issued"
    second = create(mock)
    assert time.perf_counter() - started < 1.0

    assert dispatcher(mock).wait_idle(WAIT)
    hung, retried = attempts(mock, order["orderId"])  # the retry (09:31:34) was already due
    assert hung["error"].startswith("timeout") and hung["outcome"] == "retrying"
    assert retried["outcome"] == "delivered"
    advance(mock)
    assert sorted(statuses(receiver)) == sorted([(order["orderId"], "Issued"), (second["orderId"], "Issued")])


def test_a_closed_connection_is_retried(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    receiver.close_next(1)
    order = create(mock)
    advance(mock)
    advance(mock, 60)
    log = attempts(mock, order["orderId"])
    assert [e["outcome"] for e in log] == ["retrying", "delivered"]
    assert log[0]["responseCode"] is None and log[0]["error"]
    assert statuses(receiver) == [(order["orderId"], "Issued")]


# -- chaos --------------------------------------------------------------------------------
def test_chaos_duplicate(mock: MockServer, receiver: WebhookReceiver) -> None:
    created = subscribe(mock, receiver.url, **{"x-otacm-chaos": {"duplicate": True}})
    assert created["x-otacm-chaos"] == {"duplicate": True, "batch": 1, "delaySeconds": 0.0, "outOfOrder": False}
    order = create(mock)
    advance(mock)
    first, second = receiver.deliveries()
    assert first.json == second.json
    assert statuses(receiver) == [(order["orderId"], "Issued")] * 2
    assert [e["duplicate"] for e in attempts(mock, order["orderId"])] == [False, True]


def test_chaos_batch_sends_several_events_in_one_post(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url, **{"x-otacm-chaos": {"batch": 3}})
    orders = []
    for _ in range(3):
        assert receiver.deliveries() == []
        orders.append(create(mock))
        advance(mock)
    (delivery,) = receiver.deliveries()
    assert [e.order_id for e in delivery.events] == [o["orderId"] for o in orders]
    assert receiver.violations() == []


def test_chaos_batch_sends_what_it_has_after_the_hold(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url, **{"x-otacm-chaos": {"batch": 3}})
    order = create(mock)
    advance(mock)
    assert receiver.deliveries() == [] and dispatcher(mock).held_count() == 1
    advance(mock, 600)
    assert statuses(receiver) == [(order["orderId"], "Issued")]


def test_chaos_delay(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url, **{"x-otacm-chaos": {"delaySeconds": 120}})
    order = create(mock)
    advance(mock)  # settled at 09:31:04, due at 09:33:04
    assert receiver.deliveries() == []
    advance(mock)
    assert statuses(receiver) == [(order["orderId"], "Issued")]
    assert receiver.events()[0].data["timestamp"] == "2026-05-15T09:31:04Z"
    assert attempts(mock, order["orderId"])[0]["at"] == "2026-05-15T09:33:04Z"


def test_chaos_out_of_order_delivers_the_newer_settle_first(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url, **{"x-otacm-chaos": {"outOfOrder": True}})
    order = create(mock, payment=False)
    advance(mock)
    assert receiver.deliveries() == []  # the Draft event waits for a later one to overtake it
    replace(mock, order, payment=True)
    advance(mock)
    assert statuses(receiver) == [(order["orderId"], "Issued"), (order["orderId"], "Draft")]
    assert len(receiver.deliveries()) == 2
    draft, issued = sorted(receiver.events(), key=lambda e: e.data["timestamp"])
    assert draft.status == "Draft" and issued.status == "Issued"


def test_chaos_out_of_order_with_batch_reverses_the_values(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url, **{"x-otacm-chaos": {"outOfOrder": True, "batch": 2}})
    first = create(mock)
    advance(mock)
    second = create(mock)
    advance(mock)
    (delivery,) = receiver.deliveries()
    assert [e.order_id for e in delivery.events] == [second["orderId"], first["orderId"]]


def test_chaos_from_the_config_applies_to_every_subscription(receiver: WebhookReceiver) -> None:
    server = start_mock(chaos=ChaosOptions(duplicate=True))
    try:
        created = subscribe(server, receiver.url)
        assert "x-otacm-chaos" not in created
        create(server)
        advance(server)
        assert len(receiver.events()) == 2
    finally:
        server.stop()


# -- control API, reset, stop, config ------------------------------------------------------
def test_control_api_lists_deliveries_and_waits(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    order = create(mock)
    mock.clock.advance(SETTLE)
    waited = requests.post(f"{mock.url}/_mock/webhooks/wait", json={"timeout": WAIT})
    assert waited.json() == {"idle": True}
    body = requests.get(f"{mock.url}/_mock/webhooks/deliveries", params={"orderId": order["orderId"]}).json()
    assert body["idle"] is True and body["pendingDeliveries"] == 0 and body["heldEvents"] == 0
    (entry,) = body["deliveries"]
    assert entry["orderIds"] == [order["orderId"]] and entry["responseCode"] == 200
    assert entry["events"][0]["status"] == "Issued" and entry["attempt"] == 1
    everyone = requests.get(f"{mock.url}/_mock/webhooks/subscriptions").json()["subscriptions"]
    assert everyone[0]["company"] == "CRONUS International Ltd."
    assert requests.post(f"{mock.url}/_mock/webhooks/wait", json={"timeout": "soon"}).status_code == 400


def test_reset_drops_pending_deliveries(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    receiver.fail_next(1, status=500)
    create(mock)
    advance(mock, 70)  # settled at 09:31:04; the retry is due at 09:31:34
    assert dispatcher(mock).pending_count() == 1
    assert requests.post(f"{mock.url}/_mock/reset").status_code == 200
    assert dispatcher(mock).pending_count() == 0 and dispatcher(mock).deliveries() == []
    advance(mock, 86400)
    assert receiver.events() == [] and len(receiver.deliveries()) == 1


def test_partner_reset_drops_and_logs_that_partners_deliveries(mock: MockServer, receiver: WebhookReceiver) -> None:
    subscribe(mock, receiver.url)
    receiver.fail_next(1, status=500)
    order = create(mock)
    advance(mock, 70)
    mock.backend.reset(mock.partner_id)
    assert dispatcher(mock).pending_count() == 0
    assert dispatcher(mock).deliveries(order["orderId"])[-1]["outcome"] == "dropped"
    advance(mock, 3600)
    assert receiver.events() == []


def test_stopping_the_mock_stops_the_workers(receiver: WebhookReceiver) -> None:
    server = start_mock()
    subscribe(server, receiver.url)
    create(server)
    advance(server)
    workers = [t for t in threading.enumerate() if t.name.startswith("otacm-webhooks-")]
    assert workers
    server.stop()
    assert not any(t.is_alive() for t in workers)


def test_defaults_yaml_and_code_defaults_agree() -> None:
    with open(DEFAULTS_FILE, encoding="utf-8") as handle:
        section = yaml.safe_load(handle)["webhooks"]
    assert webhook_config(section) == WebhookConfig()
    assert webhook_config({"retry": {"maxAttempts": 3}}).retry.max_attempts == 3
    with pytest.raises(SystemExit, match="webhooks.chaos: unknown option"):
        webhook_config({"chaos": {"sometimes": True}})
