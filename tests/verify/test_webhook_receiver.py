"""The webhook receiver and its checks, against real HTTP POSTs on 127.0.0.1."""

from __future__ import annotations

import copy
import io
import json
import queue
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
import requests

from contracts.cli import build_parser
from contracts.spec import load_spec
from contracts.target import Address, Target
from contracts.checks.webhooks import (
    Violation,
    webhook_after_terminal,
    webhook_conformance,
    webhook_matches_status,
    webhook_once_per_settle,
)
from contracts.webhooks.receiver import WebhookReceiver
from contracts.cli.webhooks import (
    format_delivery,
    format_delivery_json,
    make_order_lookup,
    run_listen,
)

CLIENT_STATE = "secret_value_from_subscription_creation_mirrored"
TIMEOUT = 2.0


def make_event(status: str = "Issued", order_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """The spec's example event, for a fresh order unless told otherwise."""
    example = load_spec().document["components"]["examples"]["webhookEnvelope"]["value"]
    event = copy.deepcopy(example["values"][0])
    event["payload"].update(orderId=order_id or str(uuid.uuid4()), status=status)
    event.update(changes)
    return event


def envelope(*events: dict[str, Any]) -> dict[str, Any]:
    return {"values": list(events) or [make_event()]}


def order_for(event: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    payload = event["payload"]
    return {"orderId": payload["orderId"], "buyFromOrderReference": payload["buyFromOrderReference"],
            "status": status or payload["status"]}


def checks(violations: list[Violation]) -> list[str]:
    return [violation.check for violation in violations]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(expected_client_state=CLIENT_STATE) as running:
        yield running


def post(receiver: WebhookReceiver, body: Any) -> requests.Response:
    return requests.post(receiver.url, json=body, timeout=TIMEOUT)


def delivered_violations(receiver: WebhookReceiver, body: Any) -> list[Violation]:
    assert post(receiver, body).status_code == 200
    (delivery,) = receiver.wait_for_deliveries(1, TIMEOUT)
    return delivery.violations


# -- the envelope ------------------------------------------------------------------


def test_valid_envelope_is_answered_200_with_no_violations(receiver: WebhookReceiver) -> None:
    event = make_event()
    response = post(receiver, envelope(event))
    assert response.status_code == 200
    (received,) = receiver.wait_for_events(1, TIMEOUT)
    assert received.order_id == event["payload"]["orderId"]
    assert received.status == "Issued"
    assert received.delivery.violations == []
    assert received.delivery.accepted and received.delivery.ok
    assert response.json() == {"received": 1, "violations": []}


def test_value_instead_of_values_is_flagged(receiver: WebhookReceiver) -> None:
    (violation,) = delivered_violations(receiver, {"value": [make_event()]})
    assert violation.check == "webhook_conformance"
    assert "'value'" in violation.message and "'values'" in violation.message


def test_flat_event_without_envelope_is_flagged(receiver: WebhookReceiver) -> None:
    (violation,) = delivered_violations(receiver, make_event())
    assert "without the envelope" in violation.message
    assert len(receiver.events()) == 1  # still counted, so a waiting test does not time out


def test_missing_client_state_is_flagged(receiver: WebhookReceiver) -> None:
    event = make_event()
    del event["clientState"]
    (violation,) = delivered_violations(receiver, envelope(event))
    assert violation.where == "values[0]"
    assert "no 'clientState'" in violation.message and "mirror" in violation.message


def test_wrong_event_name_is_flagged_with_its_path(receiver: WebhookReceiver) -> None:
    (violation,) = delivered_violations(receiver, envelope(make_event(eventName="order_done")))
    assert violation.message == "values[0].eventName: 'order_done' is not 'ota_cm_order_processed'"


def test_client_state_not_mirrored_is_flagged(receiver: WebhookReceiver) -> None:
    (violation,) = delivered_violations(receiver, envelope(make_event(clientState="something else")))
    assert violation.where == "values[0].clientState"
    assert repr(CLIENT_STATE) in violation.message and "'something else'" in violation.message


def test_every_schema_error_is_reported() -> None:
    event = make_event(status="Processing", eventVersion="2.0")
    del event["timestamp"]
    messages = [v.message for v in webhook_conformance(envelope(event))]
    assert "values[0].payload.status: 'Processing' is not one of 'Issued', 'Draft', 'Error'" in messages
    assert "values[0].eventVersion: '2.0' is not '1.0'" in messages
    assert "values[0]: missing required key 'timestamp'" in messages


def test_body_that_is_not_json_is_flagged(receiver: WebhookReceiver) -> None:
    response = requests.post(receiver.url, data=b"{nope", headers={"Content-Type": "application/json"},
                             timeout=TIMEOUT)
    assert response.status_code == 200
    (delivery,) = receiver.wait_for_deliveries(1, TIMEOUT)
    assert delivery.json is None and "not JSON" in delivery.violations[0].message


def test_strict_mode_applies_x_strict_rules() -> None:
    event = make_event(order_id=str(uuid.uuid4()).upper())
    assert webhook_conformance(envelope(event)) == []
    assert any("orderId" in v.where for v in webhook_conformance(envelope(event), strict=True))


def test_reject_invalid_answers_400() -> None:
    with WebhookReceiver(reject_invalid=True) as receiver:
        assert post(receiver, {"value": [make_event()]}).status_code == 400
        assert post(receiver, envelope()).status_code == 200


# -- against getOrder ----------------------------------------------------------------


def test_status_not_matching_the_order_is_flagged() -> None:
    event = make_event(status="Issued")
    with WebhookReceiver(order_lookup=lambda order_id: order_for(event, status="Draft")) as receiver:
        post(receiver, envelope(event))
        (received,) = receiver.wait_for_events(1, TIMEOUT)
    (violation,) = received.violations
    assert violation.check == "webhook_matches_status"
    assert "'Issued'" in violation.message and "'Draft'" in violation.message


def test_matching_order_passes_every_check() -> None:
    event = make_event(status="Draft")
    with WebhookReceiver(order_lookup=lambda order_id: order_for(event)) as receiver:
        post(receiver, envelope(event))
        (received,) = receiver.wait_for_events(1, TIMEOUT)
    assert received.delivery.violations == []


def test_buy_from_order_reference_mismatch_is_flagged() -> None:
    event = make_event()
    order = dict(order_for(event), buyFromOrderReference="CM-OTHER")
    assert checks(webhook_matches_status(event, order)) == ["webhook_matches_status"]
    assert checks(webhook_matches_status(event, None)) == ["webhook_matches_status"]


def test_event_for_an_order_still_processing_is_flagged() -> None:
    event = make_event(status="Issued")
    calls: queue.Queue[str] = queue.Queue()

    def lookup(order_id: str) -> dict[str, Any]:
        calls.put(order_id)
        return order_for(event, status="Processing")

    with WebhookReceiver(order_lookup=lookup) as receiver:
        post(receiver, envelope(event))
        (received,) = receiver.wait_for_events(1, TIMEOUT)
    assert calls.get_nowait() == event["payload"]["orderId"]
    assert "webhook_after_terminal" in checks(received.violations)
    (early,) = [v for v in received.violations if v.check == "webhook_after_terminal"]
    assert "'Processing'" in early.message and "before the order settled" in early.message


@pytest.mark.parametrize("status", ["Issued", "Draft", "Error", "Cancelled"])
def test_settled_or_later_states_are_after_terminal(status: str) -> None:
    assert webhook_after_terminal(make_event(), status) == []


def test_failing_lookup_is_reported_not_raised() -> None:
    def lookup(order_id: str) -> dict[str, Any]:
        raise RuntimeError("connection refused")

    with WebhookReceiver(order_lookup=lookup) as receiver:
        assert post(receiver, envelope()).status_code == 200
        (received,) = receiver.wait_for_events(1, TIMEOUT)
    assert checks(received.violations) == ["order_lookup"]


# -- once per settle -------------------------------------------------------------------


def test_duplicate_event_is_flagged(receiver: WebhookReceiver) -> None:
    event = make_event()
    post(receiver, envelope(event))
    post(receiver, envelope(event))
    events = receiver.wait_for_events(2, TIMEOUT)
    (violation,) = webhook_once_per_settle(events, {event["payload"]["orderId"]: 1})
    assert violation.check == "webhook_once_per_settle"
    assert "expected 1 event(s)" in violation.message and "got 2" in violation.message


def test_missing_and_unexpected_events_are_flagged() -> None:
    first, second = make_event(), make_event()
    settles = [first["payload"]["orderId"], first["payload"]["orderId"]]  # created, then replaced
    violations = webhook_once_per_settle([first, second], settles)
    assert len(violations) == 2
    assert any("missing" in v.message and "got 1" in v.message for v in violations)
    assert any("expected 0" in v.message for v in violations)
    assert webhook_once_per_settle([first, first], settles) == []


def test_several_events_in_one_delivery(receiver: WebhookReceiver) -> None:
    events = [make_event(), make_event(status="Error")]
    post(receiver, envelope(*events))
    received = receiver.wait_for_events(2, TIMEOUT)
    assert [e.index for e in received] == [0, 1]
    assert len(receiver.deliveries()) == 1


def test_wait_for_events_returns_what_arrived_on_timeout(receiver: WebhookReceiver) -> None:
    post(receiver, envelope())
    assert len(receiver.wait_for_events(2, 0.05)) == 1


# -- misbehaving on purpose ----------------------------------------------------------------


def test_fail_next_answers_500_then_200(receiver: WebhookReceiver) -> None:
    receiver.fail_next(1, status=500)
    body = envelope()
    assert post(receiver, body).status_code == 500
    assert post(receiver, body).status_code == 200
    assert [d.answered for d in receiver.deliveries()] == [500, 200]
    assert len(receiver.events()) == 1  # the failed attempt was never delivered, for the sender
    assert len(receiver.events(accepted_only=False)) == 2


def test_close_next_drops_the_connection(receiver: WebhookReceiver) -> None:
    receiver.close_next(1)
    with pytest.raises(requests.ConnectionError):
        post(receiver, envelope())
    assert post(receiver, envelope()).status_code == 200
    assert [d.answered for d in receiver.wait_for_deliveries(2, TIMEOUT)] == [None, 200]


def test_hang_next_makes_the_sender_time_out(receiver: WebhookReceiver) -> None:
    receiver.hang_next(1)
    with pytest.raises(requests.Timeout):
        requests.post(receiver.url, json=envelope(), timeout=0.2)
    assert receiver.events() == []


# -- the CLI -------------------------------------------------------------------------------------


def test_format_delivery_lists_events_and_violations(receiver: WebhookReceiver) -> None:
    event = make_event(eventName="order_done")
    post(receiver, envelope(event))
    (delivery,) = receiver.wait_for_deliveries(1, TIMEOUT)
    text = format_delivery(delivery)
    assert f"orderId {event['payload']['orderId']} status Issued" in text
    assert "VIOLATION [webhook_conformance] values[0].eventName: 'order_done' is not" in text
    line = json.loads(format_delivery_json(delivery))
    assert line["answered"] == 200 and line["violations"][0]["check"] == "webhook_conformance"
    assert "\n" not in format_delivery_json(delivery)


def test_format_delivery_says_ok_when_clean(receiver: WebhookReceiver) -> None:
    post(receiver, envelope())
    (delivery,) = receiver.wait_for_deliveries(1, TIMEOUT)
    assert "OK: no violations" in format_delivery(delivery)


def test_listen_help_explains_every_flag() -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["webhooks", "listen", "--help"])
    help_text = _subparser(parser, "webhooks", "listen").format_help()
    for flag in ("--host", "--port", "--client-state", "--base-url", "--api-key", "--tenant",
                 "--environment", "--company", "--json", "--strict"):
        assert flag in help_text


def test_listen_parses_its_flags() -> None:
    args = build_parser().parse_args(["webhooks", "listen", "--port", "0", "--client-state", "s", "--json"])
    assert (args.host, args.port, args.client_state, args.json) == ("127.0.0.1", 0, "s", True)
    assert (args.tenant, args.environment, args.company) == (None, None, None)  # read from --base-url


def test_listen_prints_each_delivery_and_stops_cleanly() -> None:
    lines: queue.Queue[str] = queue.Queue()
    stop = threading.Event()
    args = build_parser().parse_args(["webhooks", "listen", "--port", "0", "--client-state", CLIENT_STATE])
    thread = threading.Thread(target=run_listen, args=(args, _QueueWriter(lines), stop))
    thread.start()
    try:
        banner = lines.get(timeout=TIMEOUT)
        url = banner.split(" on ")[1].split(" ")[0]
        requests.post(url, json=envelope(make_event(clientState="wrong")), timeout=TIMEOUT)
        block = lines.get(timeout=TIMEOUT)
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert "VIOLATION [webhook_conformance] values[0].clientState" in block
    assert lines.get(timeout=TIMEOUT).startswith("Stopped")


def test_base_url_without_api_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTACM_API_KEY", raising=False)
    args = build_parser().parse_args(["webhooks", "listen", "--port", "0", "--base-url", "http://127.0.0.1:1"])
    with pytest.raises(SystemExit):
        run_listen(args, io.StringIO(), threading.Event())


def test_get_order_lookup_calls_get_order_with_the_api_key() -> None:
    seen: queue.Queue[tuple[str, str | None]] = queue.Queue()
    order = {"orderId": "o", "status": "Issued"}
    with _fake_get_order(seen, order) as server:
        target = Target(Address(server, "t", "e", "CRONUS International Ltd."), "key-1", "")
        lookup = make_order_lookup(target)
        assert lookup("9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8") == order
        assert lookup("missing") is None
    path, key = seen.get_nowait()
    assert path == "/t/e/CRONUS%20International%20Ltd./channelManager/9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"
    assert key == "key-1"
    assert Address("http://x", "t", "e", "A/B").url("/{tenant}/{environment}/{company}/channelManager/{orderId}",
                                                    {"orderId": "id"}) == "http://x/t/e/A%2FB/channelManager/id"


# -- helpers -------------------------------------------------------------------------------------


class _QueueWriter(io.TextIOBase):
    """A stdout stand-in that hands each printed line to a queue, so a test can wait on it."""

    def __init__(self, lines: queue.Queue[str]) -> None:
        self.lines, self.buffer = lines, ""

    def write(self, text: str) -> int:
        self.buffer += text
        if self.buffer.endswith("\n"):  # the CLI writes each block whole, ending in a newline
            self.lines.put(self.buffer.rstrip("\n"))
            self.buffer = ""
        return len(text)


def _subparser(parser: Any, *names: str) -> Any:
    for name in names:
        action = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict)
                      and name in a.choices)
        parser = action.choices[name]
    return parser


class _fake_get_order:
    """A getOrder stand-in on 127.0.0.1: `order` for a GUID, 404 for anything else."""

    def __init__(self, seen: queue.Queue[tuple[str, str | None]], order: dict[str, Any]) -> None:
        self.seen, self.order = seen, order

    def __enter__(self) -> str:
        seen, order = self.seen, self.order

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                found = self.path.endswith("-a3b4c5d6e7f8")
                if found:
                    seen.put((self.path, self.headers.get("x-np-api-key")))
                data = json.dumps(order if found else {"code": "resource_not_found"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)


def test_another_subscriptions_deliveries_to_our_url_are_set_aside_before_judging() -> None:
    """A target rightly sends every subscription to the probe's URL the events of a settle: a foreign one (here
    with no clientState) must not make our clientState look wrong, nor our own copy look like a duplicate
    (two of ten real-time gate runs failed so)."""
    from contracts.verify.foreign_deliveries import own_deliveries

    with WebhookReceiver(expected_client_state="otacm-probe-1") as receiver:
        order = str(uuid.uuid4())
        assert post(receiver, envelope(make_event("Issued", order, clientState=""))).status_code == 200
        assert post(receiver, envelope(make_event("Issued", order, clientState="otacm-probe-1"))).status_code == 200
        foreign_first, ours = receiver.wait_for_deliveries(2, TIMEOUT)
        assert ours.repeats and foreign_first.violations  # as the receiver saw them: a duplicate, a wrong clientState
        kept = own_deliveries(receiver.deliveries(), frozenset({""}))
        assert kept == [ours] and ours.repeats == [] and ours.violations == []
        assert own_deliveries(receiver.deliveries(), frozenset()) == [foreign_first, ours]  # nobody else: all judged
