"""Webhook state across a restart: subscriptions, held events, retries and deliveries in flight."""

from __future__ import annotations

import pytest

from mockserver.server import frozen_config
from mockserver.webhooks.subscriptions import CHAOS_FIELD
from recording_receiver import RecordingReceiver
from store_engines import durable_url, store, store_url  # noqa: F401, F811 (pytest fixtures)
from store_sandbox import KEY, START, Sandbox


def subscribe(box: Sandbox, url: str, **chaos: object) -> str:
    body: dict[str, object] = {"notificationUrl": url, "eventName": "ota_cm_order_processed", "clientState": "s"}
    if chaos:
        body[CHAOS_FIELD] = chaos
    answer = box.client.post(box.base.replace("/channelManager", "/webhook"), json=body, headers=KEY)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()["id"]


def crash(box: Sandbox) -> None:
    """The process dies here: nothing after this moment is written (its threads may still run, in vain)."""
    store = box.backend.store
    store.close()
    store.commit = lambda: None  # type: ignore[method-assign]


@pytest.fixture
def config(durable_url: str):  # noqa: ANN201
    return frozen_config(clock_start=START, store=durable_url)


def test_subscriptions_survive(config) -> None:  # noqa: ANN001
    box = Sandbox(config)
    subscription_id = subscribe(box, "http://127.0.0.1:9/hook")
    box.close()
    again = Sandbox(config)
    listed = again.client.get(again.base.replace("/channelManager", "/webhook"), headers=KEY).get_json()
    assert [s["id"] for s in listed["value"]] == [subscription_id]
    again.close()


def test_a_retry_waiting_on_the_clock_is_sent_after_a_restart_with_the_same_delivery_id(config) -> None:  # noqa: ANN001
    with RecordingReceiver(answer=503) as receiver:
        box = Sandbox(config)
        subscribe(box, receiver.url)
        order_id = box.create("PAID")
        box.backend.advance(70)
        assert receiver.wait_for(1) and box.app.extensions["otacm"].webhooks.wait_idle(5)
        box.close()
        receiver.answer = 200
        again = Sandbox(config)
        assert len(receiver.posts) == 1  # nothing is sent before the retry is due
        again.backend.advance(3600)
        assert receiver.wait_for(2)
        first, second = receiver.posts[0], receiver.posts[1]
        assert first[0]["x-otacm-delivery-id"] == second[0]["x-otacm-delivery-id"]
        assert (first[0]["x-otacm-attempt"], second[0]["x-otacm-attempt"]) == ("1", "2")
        assert second[1]["values"][0]["payload"]["orderId"] == order_id
        assert again.app.extensions["otacm"].webhooks.wait_idle(5)
        assert again.app.extensions["otacm"].webhooks.dispatcher.pending_count() == 0
        again.close()


def test_a_delivery_in_flight_when_the_sandbox_stops_goes_out_again(config) -> None:  # noqa: ANN001
    with RecordingReceiver(answer=200) as receiver:
        box = Sandbox(config)
        subscribe(box, receiver.url)
        box.create("PAID")
        receiver.answer = None  # the first POST hangs: the sandbox stops with it in flight
        box.backend.advance(70)
        assert receiver.wait_for(1)
        crash(box)
        receiver.answer = 200
        receiver.release()
        again = Sandbox(config)
        assert receiver.wait_for(2)
        assert receiver.delivery_ids()[0] == receiver.delivery_ids()[1]  # a receiver can drop the duplicate
        assert again.app.extensions["otacm"].webhooks.wait_idle(5)
        assert again.app.extensions["otacm"].webhooks.dispatcher.pending_count() == 0
        again.close()
        box.app.extensions["otacm"].webhooks.stop()  # the dead process's threads: leak none into later tests


def test_events_held_for_a_batch_wait_for_their_flush_after_a_restart(config) -> None:  # noqa: ANN001
    with RecordingReceiver() as receiver:
        box = Sandbox(config)
        subscribe(box, receiver.url, delaySeconds=600)
        box.create("PAID")
        box.create("UNPAID")
        box.backend.advance(70)  # both settled, held for 10 minutes
        assert receiver.posts == []
        box.close()
        again = Sandbox(config)
        again.backend.advance(600)
        assert receiver.wait_for(1) and again.app.extensions["otacm"].webhooks.wait_idle(5)
        statuses = sorted(value["payload"]["status"] for _, body in receiver.posts for value in body["values"])
        assert statuses == ["Draft", "Issued"]  # each once, after the delay
        again.close()


def test_new_delivery_ids_continue_after_a_restart(config) -> None:  # noqa: ANN001
    with RecordingReceiver() as receiver:
        box = Sandbox(config)
        subscribe(box, receiver.url)
        box.create("PAID")
        box.backend.advance(70)
        assert receiver.wait_for(1) and box.app.extensions["otacm"].webhooks.wait_idle(5)
        box.close()
        again = Sandbox(config)
        again.create("UNPAID")
        again.backend.advance(70)
        assert receiver.wait_for(2)
        assert len(set(receiver.delivery_ids())) == 2
        again.close()
