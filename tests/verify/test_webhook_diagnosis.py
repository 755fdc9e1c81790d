"""Issue 18's webhook diagnosis: what each event must carry, once per settle across POSTs, and duplicates
reported under the check that explains them (with when each copy arrived)."""

from __future__ import annotations

import copy
import queue
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from broken_targets import wrap_sender
from realtime_targets import realtime_mock
from test_probe_broken import VENUE
from test_webhook_receiver import TIMEOUT, _QueueWriter

from contracts.checks.registry import Registry
from contracts.checks.webhook_arrivals import same_clock
from contracts.checks.webhook_events import target_company
from contracts.checks.webhooks import split_copies, webhook_event_values
from contracts.cli import build_parser
from contracts.cli.webhooks import format_delivery, run_listen, verdict
from contracts.spec import load_spec
from contracts.target import Address, Exchange, Target, detect, reach
from contracts.verify.evidence import CheckContext, Evidence, OrderHistory
from contracts.verify.judge import judge
from contracts.verify.probe import Probe
from contracts.webhooks.receiver import WebhookReceiver

COMPANY = "CRONUS International Ltd."
STATE = "secret_value_from_subscription_creation_mirrored"
REGISTRY = Registry.collect()


def make_event(status: str = "Issued", order_id: str | None = None, **changes: Any) -> dict[str, Any]:
    example = load_spec().document["components"]["examples"]["webhookEnvelope"]["value"]
    event = copy.deepcopy(example["values"][0])
    event["payload"].update(orderId=order_id or str(uuid.uuid4()), status=status)
    return event | changes


def post(receiver: WebhookReceiver, *events: dict[str, Any]) -> None:
    assert requests.post(receiver.url, json={"values": list(events)}, timeout=TIMEOUT).status_code == 200


# -- what each event must carry ----------------------------------------------------------------------


def test_the_docs_example_carries_every_value_the_run_knows() -> None:
    assert webhook_event_values(make_event(), COMPANY) == []


@pytest.mark.parametrize("encoded", ["CRONUS%20International%20Ltd.", "CRONUS+International+Ltd.",
                                     "CRONUS%2520International%2520Ltd."])
def test_a_company_name_left_url_encoded_is_named_so(encoded: str) -> None:
    (found,) = webhook_event_values(make_event(companyName=encoded), COMPANY)
    assert found.where.endswith(".companyName") and "still URL-encoded" in found.message and COMPANY in found.message


@pytest.mark.parametrize(("changes", "where"), [
    ({"eventName": "ota_cm_order_Processed"}, "eventName"), ({"eventVersion": "2.0"}, "eventVersion"),
    ({"timestamp": "15/05/2026 09:30"}, "timestamp"), ({"timestamp": "2026-05-15T09:30:05"}, "timestamp"),
    ({"companyName": "Another company"}, "companyName"),
])
def test_each_wrong_value_is_reported_at_its_key(changes: dict[str, Any], where: str) -> None:
    (found,) = webhook_event_values(make_event(**changes), COMPANY)
    assert found.where.endswith(f".{where}")


def test_a_missing_timestamp_fails_and_what_the_run_does_not_know_is_not_judged() -> None:
    event = make_event()
    del event["timestamp"]
    assert [v.where.rpartition(".")[2] for v in webhook_event_values(event, None)] == ["timestamp"]
    assert webhook_event_values(make_event(appId="anything"), None) == []  # no appId subscribed, no company known
    assert [v.where.rpartition(".")[2] for v in webhook_event_values(make_event(appId="x"), None, app_id="y")] == ["appId"]
    assert webhook_event_values(make_event(eventVersion="2.0"), None, event_version="2.0") == []


def test_the_company_is_read_decoded_from_the_runs_own_calls() -> None:
    made = OrderHistory("f", "an order", {}, order_id="o")
    made.exchanges.append(Exchange("POST", "http://h/p/t/sandbox/CRONUS%20International%20Ltd./channelManager", {},
                                   None, "createOrder", status=201))
    assert target_company(Evidence([made])) == COMPANY
    assert target_company(Evidence()) is None


# -- once per settle across POSTs: the receiver and `otacm webhooks listen` ---------------------------


def test_a_repeat_of_an_orders_last_status_is_a_duplicate_across_posts_and_inside_one() -> None:
    order_id = str(uuid.uuid4())
    with WebhookReceiver(expected_client_state=STATE) as receiver:
        post(receiver, make_event("Draft", order_id))
        post(receiver, make_event("Issued", order_id))  # replaced, issued: another status, no repeat
        post(receiver, make_event("Issued", order_id))
        post(receiver, make_event("Error"), make_event("Error", order_id), make_event("Error", order_id))
        deliveries = receiver.wait_for_deliveries(4, TIMEOUT)
    assert [len(d.repeats) for d in deliveries] == [0, 0, 1, 1]
    assert "duplicate?" in deliveries[2].repeats[0] and "POST #2" in deliveries[2].repeats[0]
    assert deliveries[2].ok and not deliveries[2].clean  # a duplicate? is no violation, but not OK either


def test_a_retry_of_a_post_the_receiver_refused_is_no_duplicate() -> None:
    with WebhookReceiver(expected_client_state=STATE) as receiver:
        receiver.fail_next(1)
        event = make_event()
        requests.post(receiver.url, json={"values": [event]}, timeout=TIMEOUT)
        post(receiver, event)
        assert [d.repeats for d in receiver.wait_for_deliveries(2, TIMEOUT)] == [[], []]


def test_listen_reports_two_posts_of_one_settle_as_duplicate_and_its_verdict_says_so() -> None:
    lines: queue.Queue[str] = queue.Queue()
    stop = threading.Event()
    args = build_parser().parse_args(["webhooks", "listen", "--port", "0", "--client-state", STATE])
    thread = threading.Thread(target=run_listen, args=(args, _QueueWriter(lines), stop))
    thread.start()
    try:
        url = lines.get(timeout=TIMEOUT).split(" on ")[1].split(" ")[0]
        event = make_event()
        for _ in range(2):
            requests.post(url, json={"values": [event]}, timeout=TIMEOUT)
        first, second = lines.get(timeout=TIMEOUT), lines.get(timeout=TIMEOUT)
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert "OK: no violations" in first
    assert "duplicate? order" in second and "OK" not in second and "1 duplicate?" in second
    last = lines.get(timeout=TIMEOUT)
    assert last.startswith("Stopped. 2 POST(s), 2 event(s): NOT OK") and "duplicate?" in last


def test_the_verdict_of_clean_deliveries_is_ok() -> None:
    with WebhookReceiver(expected_client_state=STATE) as receiver:
        post(receiver, make_event())
        deliveries = receiver.wait_for_deliveries(1, TIMEOUT)
    assert verdict(deliveries) == "Stopped. 1 POST(s), 1 event(s): OK"
    assert "OK: no violations" in format_delivery(deliveries[0])
    assert verdict([]).endswith("nothing arrived")


# -- duplicates reported under the check that explains them -------------------------------------------


def test_copies_are_events_repeating_an_earlier_payload() -> None:
    first, other = make_event(), make_event(status="Draft")
    again = copy.deepcopy(first) | {"timestamp": "2026-05-15T09:31:00Z"}
    firsts, copies = split_copies([first, other, again, copy.deepcopy(other)])
    assert firsts == [first, other] and len(copies) == 2


def _exchange(operation: str, status: int, at: float, order: dict[str, Any], wall: float) -> Exchange:
    date = (datetime.fromtimestamp(int(wall), timezone.utc)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return Exchange("POST", f"http://h/t/e/C/channelManager/{order['orderId']}", {}, None, operation,
                    {"orderId": order["orderId"]}, {}, status, order, {"Date": date}, at=at)


def test_a_copy_arriving_after_confirm_fails_once_per_settle_only_with_its_arrivals() -> None:
    """The second copy of a Draft event arrives after confirmOrder: a duplicate, not an event the confirm caused."""
    order_id, now = str(uuid.uuid4()), datetime.now(timezone.utc).timestamp()
    order = {"orderId": order_id, "status": "Draft", "buyFromOrderReference": "CM-260515093000-A1B2"}
    made = OrderHistory("f", "unpaid order (Draft, then confirmed)", {}, order_id=order_id, background_settles=1)
    made.exchanges = [_exchange("createOrder", 201, now - 3, order | {"status": "Submitted"}, now - 3),
                      _exchange("getOrder", 200, now - 2, order, now - 2),
                      _exchange("confirmOrder", 200, now - 1, order | {"status": "Issued"}, now - 1)]
    event = make_event("Draft", order_id, clientState=STATE)
    event["payload"]["buyFromOrderReference"] = order["buyFromOrderReference"]
    with WebhookReceiver(expected_client_state=STATE) as receiver:
        post(receiver, event)
        post(receiver, event)
        receiver.wait_for_deliveries(2, TIMEOUT)
    made.events = receiver.events()
    deliveries = receiver.deliveries()
    deliveries[0].received_at = datetime.fromtimestamp(now - 1.5, timezone.utc)  # before the confirm
    deliveries[1].received_at = datetime.fromtimestamp(now - 0.5, timezone.utc)  # after it
    ctx = CheckContext("documented", VENUE, Evidence([made], deliveries=deliveries, quiet_window=2.0), 5.5, STATE)
    assert REGISTRY.get("no_webhook_on_confirm_or_delete")(ctx, made) == []
    (found,) = REGISTRY.get("webhook_once_per_settle")(ctx, ctx.evidence)
    assert "got 2" in found.message and "repeats an earlier event" in found.message
    arrivals = found.details[0]
    assert "2 copies in 2 POST(s)" in arrivals and "POST #1" in arrivals and "POST #2" in arrivals
    assert "1.500 s after createOrder answered" in arrivals and "0.500 s after confirmOrder answered" in arrivals
    assert any(line.startswith("calls: createOrder answered 201") for line in found.details)


def test_call_times_are_set_beside_arrivals_only_on_the_receivers_clock() -> None:
    now = datetime.now(timezone.utc).timestamp()
    order = {"orderId": "o"}
    assert same_clock([_exchange("getOrder", 200, now, order, now)])
    assert not same_clock([_exchange("getOrder", 200, now + timedelta(minutes=2).total_seconds(), order, now)])
    assert not same_clock([])


def test_a_target_sending_each_webhook_twice_fails_once_per_settle_not_the_confirm_check() -> None:
    """The measured misdiagnosis: the second copy lands after the confirm or delete and looked caused by it."""
    with realtime_mock(lambda server: wrap_sender(server, lambda body: [body, body])) as server:
        config = server.config
        target = Target(Address(server.url, config.tenant, config.environment, config.company), server.api_key,
                        server.partner_id, capabilities=detect(server.url))
        probe = Probe(target, VENUE, strictness="documented", today=reach(target), timeout=15.0, webhooks=True,
                      poll=0.2, close_poll=0.05, settle_timeout=10.0, quiet_window=2.0)
        evidence = probe.run()
    ctx = CheckContext("documented", VENUE, evidence, 5.5, probe.client_state)
    chosen = REGISTRY.select(["webhook_once_per_settle", "no_webhook_on_confirm_or_delete"], "documented")
    outcomes = judge(chosen, ctx)
    verdicts = {(o.check, o.verdict) for o in outcomes}
    assert ("webhook_once_per_settle", "failed") in verdicts, outcomes
    assert ("no_webhook_on_confirm_or_delete", "failed") not in verdicts, outcomes
    assert ("no_webhook_on_confirm_or_delete", "passed") in verdicts, outcomes
    failed = next(o for o in outcomes if o.verdict == "failed")
    assert any("2 copies in 2 POST(s)" in d for d in failed.details), failed.details
