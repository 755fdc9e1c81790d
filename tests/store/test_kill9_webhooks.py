"""`kill -9` of the real `otacm mock --store sqlite:PATH` with a webhook delivery in flight, then a restart.

Three deliveries (100 + 100 + 50 settles) to one receiver, which answers the
first POST 500 (a retry waits on the sandbox clock) and holds the second
(in flight) while the test kills the sandbox; the third is queued behind it.
After the restart on the same file the receiver answers 200: the in-flight
and the queued delivery go out again at once, the retry when the clock
reaches it. Each settle must reach the receiver at least once, always under
one delivery id, across attempts and across the restart, and nothing may
stay pending. The crash is real (test_restart_webhooks.py simulates it).
"""

from __future__ import annotations

import sys

import pytest

from sandbox_process import SandboxProcess
from scripted_receiver import HOLD, Post, ScriptedReceiver, delivery_problems

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="watches the processes through /proc")

ORDERS = 250  # three deliveries at the default maxEventsPerPost (100)
TO_THE_SETTLE = "64s"  # from the start: the pickup at 60 s, processing 1 s later, issued 3 s after that
FIRST_RETRY = "30s"  # the default backoff before attempt 2


@pytest.mark.timeout(120)
def test_kill9_with_a_delivery_in_flight_delivers_every_settle_under_one_id(sandbox: SandboxProcess) -> None:
    sandbox.start()
    with ScriptedReceiver([500, HOLD]) as receiver:
        sandbox.subscribe(receiver.url)
        sandbox.create_orders(ORDERS, "HOOK")
        sandbox.advance(TO_THE_SETTLE)  # every order settles; the warp's unit is written before this answers
        assert receiver.wait_for(2), receiver.received()  # the first failed, the second is held: in flight
        first, in_flight = receiver.received()
        sandbox.kill9()
        receiver.release()  # its answer goes to a dead process

        sandbox.start()
        assert receiver.wait_for(4), receiver.received()  # the one in flight and the one queued, at once
        sandbox.wait_for_webhooks()
        again = receiver.received()[2:]
        assert sorted(p.delivery_id for p in again) == sorted({in_flight.delivery_id, _third(first, in_flight)})
        assert first.delivery_id not in {p.delivery_id for p in again}  # its retry waits on the clock

        sandbox.advance(FIRST_RETRY, wait_for_webhooks=True)
        posts = receiver.received()
        assert [(p.delivery_id, p.attempt) for p in posts[4:]] == [(first.delivery_id, 2)]
        assert _attempts(posts, in_flight.delivery_id) == [1, 1]  # sent again as the same attempt
        assert _pending(sandbox) == 0
        timelines = sandbox.timelines()
        settles = {(order_id, h[-1]["status"], h[-1]["at"]) for order_id, h in timelines.items()}
        assert len(settles) == ORDERS and {status for _, status, _ in settles} == {"Issued"}
        assert delivery_problems(posts, settles) == []


def _third(*seen: Post) -> str:
    """The delivery id after the two seen (ids are d1, d2, ... in the order the flush made them)."""
    return f"d{max(int(post.delivery_id[1:]) for post in seen) + 1}"


def _attempts(posts: list[Post], delivery_id: str) -> list[int]:
    return [post.attempt for post in posts if post.delivery_id == delivery_id]


def _pending(sandbox: SandboxProcess) -> int:
    """Deliveries not yet delivered (the sandbox's count, from `/_mock/webhooks/deliveries`)."""
    status, body = sandbox.http().call("GET", "/_mock/webhooks/deliveries")
    assert status == 200, body
    return body["pendingDeliveries"]
