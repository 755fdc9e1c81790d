"""Snapshots: a sandbox exported and imported into another, of any engine, answers as the exported one did.

The source holds an order in every status (the clock warped there, never a
sleep), a frozen clock, webhook deliveries waiting for a retry and events held
for a delay. Loaded into a fresh sandbox of each engine, every getOrder and
list page is the same bytes, and continuing both clocks gives the same
timelines and the same webhook POSTs. The CLI's own tests are test_snapshot_cli.py.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from freezegun import freeze_time

from mockserver.config import MockConfig
from mockserver.sandbox.models import Order, StatusChange
from mockserver.server import frozen_config
from mockserver.store import MemoryStore, open_store
from mockserver.store.base import ClockState, SavedStep
from mockserver.store.snapshot import FORMAT, VERSION, from_document, to_document, write
from mockserver.webhooks.subscriptions import CHAOS_FIELD
from recording_receiver import RecordingReceiver
from store_engines import ENGINES, durable_url, store, store_url  # noqa: F401, F811 (pytest fixtures)
from store_sandbox import KEY, START, Sandbox

# reference → Prefer header; after `fill` each of the seven statuses holds one (REMOVED is gone)
ORDERS = {"PAID": None, "UNPAID": None, "FAILS": "outcome=Error", "STALLS-S": "stall=Scheduled",
          "STALLS-P": "stall=Processing", "CANCELS": None, "REMOVED": None}
STATUSES = {"PAID": "Issued", "UNPAID": "Draft", "FAILS": "Error", "STALLS-S": "Scheduled",
            "STALLS-P": "Processing", "CANCELS": "Cancelled", "NEW": "Submitted"}


@pytest.fixture(params=sorted(ENGINES))
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The exporting sandbox's store, of every engine too (its own folder: store_url takes tmp_path's file)."""
    (tmp_path / "source").mkdir()
    return ENGINES[request.param](tmp_path / "source")


@pytest.fixture
def receiver() -> Iterator[RecordingReceiver]:
    with RecordingReceiver(answer=503) as running:
        yield running


@pytest.fixture
def opened() -> Iterator[Callable[..., Sandbox]]:
    """Sandboxes on a frozen clock, each closed at the end."""
    boxes: list[Sandbox] = []

    def open_sandbox(url: str = "memory", start: float = START, **overrides: Any) -> Sandbox:
        boxes.append(Sandbox(frozen_config(clock_start=start, store=url, **overrides)))
        return boxes[-1]

    yield open_sandbox
    for box in boxes:
        box.close()


def subscribe(box: Sandbox, url: str, **chaos: object) -> str:
    body: dict[str, object] = {"notificationUrl": url, "eventName": "ota_cm_order_processed", "clientState": "s",
                               **({CHAOS_FIELD: chaos} if chaos else {})}
    answer = box.client.post(box.base.replace("/channelManager", "/webhook"), json=body, headers=KEY)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()["id"]


def fill(box: Sandbox, receiver: RecordingReceiver) -> dict[str, str]:
    """An order in every status, a delivery waiting for its retry (the receiver answers 503) and
    events held for ten minutes (a second subscription); reference → order id."""
    subscribe(box, receiver.url)
    subscribe(box, receiver.url, delaySeconds=600)
    ids = {reference: box.create(reference, prefer) for reference, prefer in ORDERS.items()}
    box.backend.advance(70)  # the pickup at 60 s, settled by 65 s; the stalls stay
    box.delete(ids["CANCELS"])
    box.delete(ids["REMOVED"])
    ids["NEW"] = box.create("NEW")
    assert receiver.wait_for(1) and webhooks(box).wait_idle(5)  # the five settles in one POST, refused
    assert {o.sell_to_order_reference: o.status for o in box.backend.orders()} == STATUSES
    return ids


def webhooks(box: Sandbox) -> Any:
    return box.app.extensions["otacm"].webhooks


def export(box: Sandbox) -> bytes:
    answer = box.client.get("/_mock/snapshot")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="otacm-sandbox-')
    return answer.get_data()


def load(box: Sandbox, body: bytes, query: str = "", **headers: str) -> Any:
    return box.client.post(f"/_mock/snapshot{query}", data=body, headers=headers)


def pages(box: Sandbox, size: int = 3) -> list[bytes]:
    """Every page of the default partner's list, following the page keys."""
    found, key = [], ""
    while True:
        answer = box.client.get(f"{box.base}/orders/{box.config.default_partner_id}",
                                query_string={"pageSize": size, **({"pageKey": key} if key else {})}, headers=KEY)
        found.append(answer.get_data())
        key = answer.get_json()["nextPageKey"]
        if not key:
            return found


def without_date(document: bytes) -> dict[str, Any]:
    parsed = json.loads(document)
    parsed.pop("exportedAt")
    parsed["clock"].pop("offset")  # a frozen clock's offset from real time is not part of its state
    return parsed


def test_an_imported_sandbox_answers_as_the_exported_one(source_url: str, store_url: str, receiver: RecordingReceiver,
                                                         opened: Callable[..., Sandbox]) -> None:
    source = opened(source_url)
    ids = fill(source, receiver)
    document = export(source)
    target = opened(store_url, start=START + 86_400)  # another clock: the snapshot's wins
    answer = load(target, document)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["loaded"] == {"orders": 7, "pendingSteps": len(json.loads(document)["steps"]),
                                           "records": {"subscription": 2, "heldEvent": 5, "delivery": 1}}
    assert {ref: target.get(order_id) for ref, order_id in ids.items()} == \
           {ref: source.get(order_id) for ref, order_id in ids.items()}
    assert target.get(ids["REMOVED"])[0] == 404
    assert pages(target) == pages(source) and len(pages(source)) == 3
    assert target.client.get("/_mock/clock").get_json() == source.client.get("/_mock/clock").get_json()
    assert without_date(export(target)) == without_date(document)  # ids, seqs, counters, steps, records: all kept


def test_continuing_both_clocks_gives_the_same_orders_and_webhooks(source_url: str, store_url: str,
                                                                   receiver: RecordingReceiver,
                                                                   opened: Callable[..., Sandbox]) -> None:
    source = opened(source_url)
    fill(source, receiver)
    target = opened(store_url)
    assert load(target, export(source)).status_code == 200
    receiver.answer = 200
    continued: list[Any] = []
    for box in (target, source):  # one after the other: both deliver to the same receiver
        before = len(receiver.posts)
        box.backend.advance(3700)  # the retries, the held events' flush, the 5-minute and 1-hour stalls, NEW
        assert webhooks(box).wait_idle(10)
        posts = [(h["x-otacm-delivery-id"], h["x-otacm-attempt"], body) for h, body in receiver.posts[before:]]
        continued.append((box.timelines(), sorted(posts, key=lambda post: (int(post[0][1:]), post[1]))))
    assert continued[0] == continued[1]
    timelines, posts = continued[0]
    assert {history[-1][0] for history in timelines.values()} == {"Issued", "Draft", "Error", "Cancelled"}
    assert [post[:2] for post in posts if post[1] != "1"] == [("d1", "2")]  # the retry waiting at export, as d1
    assert [post[0] for post in posts] == [f"d{n}" for n in range(1, len(posts) + 1)]  # new ones after it: no clash


def test_a_sandbox_loaded_on_a_durable_store_continues_from_it_after_a_restart(durable_url: str,
                                                                               receiver: RecordingReceiver,
                                                                               opened: Callable[..., Sandbox]) -> None:
    source = opened()
    ids = fill(source, receiver)
    target = opened(durable_url)
    assert load(target, export(source)).status_code == 200
    target.close()
    again = opened(durable_url, start=START + 86_400)
    assert {ref: again.get(order_id) for ref, order_id in ids.items()} == \
           {ref: source.get(order_id) for ref, order_id in ids.items()}
    assert without_date(export(again)) == without_date(export(source))


def test_a_running_clock_keeps_its_offset_and_runs_what_came_due_since(store_url: str) -> None:
    with freeze_time("2026-12-02T10:00:00Z") as wall:
        source = Sandbox(MockConfig.load(clock_start=START))  # a real-time clock, started in the past
        order_id = source.create("PAID")
        document = export(source)
        wall.tick(600)  # the pickup, processing and settle come due on both
        target = Sandbox(MockConfig.load(store=store_url))
        assert load(target, document).status_code == 200
        assert not target.backend.clock.frozen
        assert target.backend.clock.state()[0] == source.backend.clock.state()[0]
        assert b'"status": "Issued"' in target.get(order_id)[1] and b'"status": "Issued"' in source.get(order_id)[1]
        assert target.timelines() == source.timelines()  # each step at its own due time (the wallets are new)
        source.close()
        target.close()


def test_a_frozen_clock_stays_frozen_at_its_instant(store_url: str, opened: Callable[..., Sandbox]) -> None:
    source = opened()
    source.backend.advance(12_345)
    target = opened(store_url, start=START + 999_999)
    assert load(target, export(source)).status_code == 200
    assert target.backend.clock.frozen and target.backend.clock.now() == START + 12_345


def test_a_sandbox_holding_state_is_replaced_only_when_told(store_url: str, receiver: RecordingReceiver,
                                                            opened: Callable[..., Sandbox]) -> None:
    source = opened()
    ids = fill(source, receiver)
    document = export(source)
    target = opened(store_url)
    own = target.create("MINE")
    for number in range(9):
        target.create(f"MORE-{number}")  # the target's order counter (10) is ahead of the source's (8)
    answer = load(target, document)
    assert answer.status_code == 409
    assert answer.get_json()["code"] == "sandbox_not_empty" and set(answer.get_json()) == {"code", "message"}
    assert "replace" in answer.get_json()["message"]
    assert target.get(own)[0] == 200 and target.get(ids["PAID"])[0] == 404  # nothing changed
    assert load(target, document, "?replace=1").status_code == 200
    assert target.get(own)[0] == 404 and target.get(ids["PAID"]) == source.get(ids["PAID"])
    assert target.backend.store.counters()["order"] == 10  # counters never go back: no sequence number reused
    replaced = dict(json.loads(document), replace=True)
    assert load(target, json.dumps(replaced).encode()).status_code == 200  # or "replace": true in the body


def test_a_sandbox_holding_only_subscriptions_is_not_empty(store_url: str, opened: Callable[..., Sandbox]) -> None:
    document = export(opened())
    target = opened(store_url)
    subscribe(target, "http://127.0.0.1:9/hook")
    assert load(target, document).status_code == 409
    assert load(target, document, "?replace=1").status_code == 200
    assert webhooks(target).subscriptions() == []  # the snapshot had none: replaced, not merged


def test_a_gzip_compressed_body_is_loaded(opened: Callable[..., Sandbox], receiver: RecordingReceiver) -> None:
    source = opened()
    ids = fill(source, receiver)
    target = opened()
    assert load(target, gzip.compress(export(source)), **{"Content-Encoding": "gzip"}).status_code == 200
    assert target.get(ids["PAID"]) == source.get(ids["PAID"])


def _document() -> dict[str, Any]:
    """A small valid document to break (one order, one subscription, a pending pickup)."""
    box = Sandbox(frozen_config(clock_start=START))
    subscribe(box, "http://127.0.0.1:9/hook")
    box.create("PAID")
    document = json.loads(export(box))
    box.close()
    return document


def _broken(change: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """The document changed in place by `change` (whatever it returns)."""
    def broken(document: dict[str, Any]) -> Any:
        document = copy.deepcopy(document)
        change(document)
        return document
    return broken


# what is broken → (the change, words the 400's message must hold)
BROKEN = {
    "not JSON": (lambda d: b"{nope", "not a JSON document"),
    "not gzip": (lambda d: b"\x1f\x8bnope", "not gzip data"),
    "not an object": (lambda d: [d], "not an otacm sandbox snapshot"),
    "another format": (_broken(lambda d: d.update(format="something-else")), "not an otacm sandbox snapshot"),
    "a newer version": (_broken(lambda d: d.update(version=VERSION + 1)), "newer otacm"),
    "a version as text": (_broken(lambda d: d.update(version="1")), "version must be a whole number"),
    "no clock": (_broken(lambda d: d.pop("clock")), "clock: expected an object"),
    "a clock without frozenAt": (_broken(lambda d: d["clock"].pop("frozenAt")), "clock: missing field 'frozenAt'"),
    "orders not a list": (_broken(lambda d: d.update(orders={})), "orders: expected an array"),
    "an order without an id": (_broken(lambda d: d["orders"][0].pop("order_id")), "orders[0]: missing field"),
    "a field of the wrong type": (_broken(lambda d: d["orders"][0]["lines"][0].update(quantity="two")),
                                  "orders[0].lines[0].quantity: expected an integer"),
    "an unknown field": (_broken(lambda d: d["orders"][0].update(colour="red")), "unknown field 'colour'"),
    "a duplicate order": (_broken(lambda d: d["orders"].append(d["orders"][0])), "the same orderId"),
    "an unknown status": (_broken(lambda d: d["orders"][0].update(status="Lost")), "not a status"),
    "an unknown item": (_broken(lambda d: d["orders"][0]["lines"][0].update(item_number="NOPE")),
                        "not in this sandbox's catalog"),
    "an unknown step": (_broken(lambda d: d["steps"][0].update(kind="explode")), "not a step this sandbox runs"),
    "a negative counter": (_broken(lambda d: d["counters"].update(order=-1)), "counters.order: must be 0 or more"),
    "a broken subscription": (_broken(lambda d: next(iter(d["records"]["subscription"].values())).update(chaos=3)),
                              "records.subscription."),
}


@pytest.mark.parametrize("what", sorted(BROKEN))
def test_a_bad_document_is_a_400_that_changes_nothing(what: str, store_url: str,
                                                      opened: Callable[..., Sandbox]) -> None:
    change, words = BROKEN[what]
    body = change(_document())
    target = opened(store_url)
    own = target.create("MINE")
    before = export(target)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = load(target, raw, "?replace=1", **({"Content-Encoding": "gzip"} if what == "not gzip" else {}))
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert set(answer.get_json()) == {"code", "message"} and words in answer.get_json()["message"]
    assert without_date(export(target)) == without_date(before) and target.get(own)[0] == 200


def test_any_store_holds_what_a_document_holds(store_url: str) -> None:
    """The store level alone: a document written into a store of each engine in one unit is the same
    document read back, and a durable store still holds it when opened again."""
    source = MemoryStore()
    with source.transaction():
        for reference in ("A", "B"):
            order = Order(f"id-{reference}", ("t", "e", "c"), "p1", reference, f"CM-{reference}", START, source.take_seq())
            order.history.append(StatusChange("Submitted", START, "createOrder"))
            source.add(order)
        source.take_number("delivery")
        source.put_record("subscription", "s1", {"any": "json"})
        source.save_clock(ClockState(-5.5, START + 60))
    steps = [SavedStep(START + 120, "pickup", "", 0)]
    document = to_document(source, steps, START)
    target = open_store(store_url)
    target.put_record("heldEvent", "gone", {})  # replaced, not merged
    write(target, from_document(json.loads(json.dumps(document))))
    assert to_document(target, steps, START) == document
    if target.durable:
        target.close()
        target = open_store(store_url)
        assert to_document(target, steps, START) == document
    assert target.take_seq() == 3 and target.take_number("delivery") == 2
    target.close()


def test_the_document_says_what_it_is(opened: Callable[..., Sandbox]) -> None:
    document = json.loads(export(opened()))
    assert (document["format"], document["version"]) == (FORMAT, VERSION)
    assert document["clock"] == {"now": "2026-05-15T09:30:00Z", "frozen": True,
                                 "offset": document["clock"]["offset"], "frozenAt": START}
    assert list(document) == ["format", "version", "exportedAt", "clock", "counters", "orders", "steps", "records"]


def test_the_control_token_guards_snapshots(opened: Callable[..., Sandbox]) -> None:
    box = opened(control_token="s3cret")
    assert box.client.get("/_mock/snapshot").status_code == 401
    assert box.client.post("/_mock/snapshot", data=b"{}").status_code == 401
    assert box.client.get("/_mock/snapshot", headers={"x-otacm-control-token": "s3cret"}).status_code == 200
