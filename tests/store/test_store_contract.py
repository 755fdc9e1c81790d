"""The store interface, as every engine must keep it (tests/store/conftest.py lists them)."""

from __future__ import annotations

import sqlite3

import pytest

from mockserver.sandbox.models import Order
from mockserver.sandbox.schedule import Event
from mockserver.store import Store, open_store, writethrough
from mockserver.store.base import ClockState, ListQuery, LoggedRequest, SavedStep
from store_engines import POSTGRESQL, durable_url, store, store_url  # noqa: F401, F811 (pytest fixtures)

SCOPE = ("tenant", "sandbox", "Company")
OTHER_SCOPE = ("tenant", "sandbox", "Other")


def order(store: Store, reference: str, received_at: float, partner: str = "p1", scope=SCOPE) -> Order:  # noqa: ANN001
    made = Order(order_id=f"id-{reference.lower()}", scope=scope, partner_id=partner,
                 sell_to_order_reference=reference, buy_from_order_reference=f"CM-{reference}",
                 received_at=received_at, seq=store.take_seq())
    with store.transaction():
        store.add(made)
    return made


def test_orders_are_found_by_id_and_by_reference(store: Store) -> None:
    first = order(store, "R-1", 100)
    assert store.get(first.order_id) is not None and store.get("id-nothing") is None
    found = store.find_by_reference(SCOPE, "p1", "R-1")
    assert found is not None and found.order_id == first.order_id
    assert store.find_by_reference(OTHER_SCOPE, "p1", "R-1") is None
    assert store.find_by_reference(SCOPE, "p2", "R-1") is None
    assert len(store) == 1


def test_sequence_numbers_only_grow(store: Store) -> None:
    numbers = [store.take_seq() for _ in range(5)]
    assert numbers == sorted(set(numbers)) and numbers[0] >= 1


def test_status_index_follows_set_status(store: Store) -> None:
    a, b = order(store, "R-1", 100), order(store, "R-2", 101)
    with store.transaction():
        store.set_status(a, "Scheduled")
    assert [o.order_id for o in store.in_status("Scheduled")] == [a.order_id]
    assert [o.order_id for o in store.in_status("Submitted")] == [b.order_id]
    assert store.count_in(["Submitted", "Scheduled"]) == 2 and store.count_in(["Issued"]) == 0


def test_a_page_is_arrival_order_with_filters_and_page_keys(store: Store) -> None:
    made = [order(store, f"R-{i}", 100 + i) for i in range(6)]
    order(store, "X-1", 200, partner="p2")
    order(store, "Y-1", 200, scope=OTHER_SCOPE)
    with store.transaction():
        store.set_status(made[1], "Issued")
        store.set_status(made[4], "Issued")
    rows, more = store.page(SCOPE, "p1", ListQuery(page_size=4))
    assert [o.order_id for o in rows] == [o.order_id for o in made[:4]] and more
    rows, more = store.page(SCOPE, "p1", ListQuery(page_size=4, after_seq=rows[-1].seq))
    assert [o.order_id for o in rows] == [o.order_id for o in made[4:]] and not more
    rows, _ = store.page(SCOPE, "p1", ListQuery(statuses=frozenset({"Issued"})))
    assert [o.order_id for o in rows] == [made[1].order_id, made[4].order_id]
    rows, _ = store.page(SCOPE, "p1", ListQuery(received_from=102, received_to=104))
    assert [o.received_at for o in rows] == [102, 103, 104]
    rows, _ = store.page(SCOPE, "p1", ListQuery(reference="R-3"))
    assert [o.order_id for o in rows] == [made[3].order_id]


def test_removed_orders_leave_every_index(store: Store) -> None:
    a, b = order(store, "R-1", 100), order(store, "R-2", 101)
    with store.transaction():
        store.remove(a)
    assert store.get(a.order_id) is None and store.find_by_reference(SCOPE, "p1", "R-1") is None
    assert [o.order_id for o in store.page(SCOPE, "p1", ListQuery())[0]] == [b.order_id]
    assert [o.order_id for o in store.newest_first()] == [b.order_id]


def test_newest_first_and_clear_by_partner(store: Store) -> None:
    a, b, c = order(store, "R-1", 100), order(store, "R-2", 101, partner="p2"), order(store, "R-3", 102)
    assert [o.order_id for o in store.newest_first()] == [c.order_id, b.order_id, a.order_id]
    assert [o.order_id for o in store.newest_first(partner_id="p1")] == [c.order_id, a.order_id]
    with store.transaction():
        removed = store.clear("p1")
    assert {o.order_id for o in removed} == {a.order_id, c.order_id} and len(store) == 1
    with store.transaction():
        store.clear()
    assert len(store) == 0 and list(store.all()) == []


def test_transactions_nest(store: Store) -> None:
    with store.transaction():
        with store.transaction():
            a = order(store, "R-1", 100)
        assert store.get(a.order_id) is a
    assert store.get(a.order_id) is not None


def test_the_clock_state_is_kept(store: Store) -> None:
    assert store.saved_clock() is None
    with store.transaction():
        store.save_clock(ClockState(12.5, None))
    assert store.saved_clock() == ClockState(12.5, None)
    with store.transaction():
        store.save_clock(ClockState(0.0, 1780000000.0))
    assert store.saved_clock() == ClockState(0.0, 1780000000.0)


def test_journaled_steps_are_kept_until_done(store_url: str) -> None:
    store = open_store(store_url)
    queued = Event(50.0, 1, "startProcessing id-1", lambda _at: None, kind="startProcessing", subject="id-1",
                   generation=2)
    pickup = Event(60.0, 2, "pickup", lambda _at: None, kind="pickup")
    with store.transaction():
        store.step_queued(queued)
        store.step_queued(pickup)
    with store.transaction():
        store.step_done(queued)
    store.close()
    again = open_store(store_url)
    expected = [SavedStep(60.0, "pickup", "", 0)] if again.durable else []  # memory's schedule is the only copy
    assert again.saved_steps() == expected
    with again.transaction():
        again.clear_steps()
    assert again.saved_steps() == []
    again.close()


# -- the request log ------------------------------------------------------------------------
def logged(first: int, count: int) -> list[LoggedRequest]:
    """`count` logged requests from id `first`, each field of a kind an engine must give back as it was."""
    return [LoggedRequest(number, 1_780_000_000.0 + number / 1000, 1_779_000_000.5, "POST",
                          "/t/sandbox/CRONUS%20International%20Ltd./channelManager", "sync=1" if number % 2 else "",
                          "createOrder" if number % 3 else None, "p1" if number % 2 else None, None, 400 + number % 2,
                          "generic_error", f"bad request {number}", 1.25, '{"x-np-api-key": "otac\u2026"}',
                          b'{"partnerId": "p1", "caf\xc3\xa9": 1}', number % 5 == 0, bytes([number % 256]) * 3,
                          False, "127.0.0.1")
            for number in range(first, first + count)]


def ids(store: Store) -> list[int]:
    return [request[0] for request in store.logged_requests()]


def test_the_request_log_keeps_only_the_newest_within_its_bound(store: Store) -> None:
    assert ids(store) == [] and store.last_request_id() == 0
    with store.transaction():
        store.log_requests(logged(1, 5), keep=3)
    store.write_requests()
    assert ids(store) == [3, 4, 5]  # oldest first: the log reads it newest first
    with store.transaction():
        store.log_requests(logged(6, 2), keep=3)
    store.write_requests()
    assert ids(store) == [5, 6, 7] and store.last_request_id() == 7
    with store.transaction():
        store.log_requests((), keep=1)  # a smaller bound: trimmed at once
    assert ids(store) == [7]
    assert list(store.logged_requests()) == logged(7, 1)


def test_the_request_log_is_cleared_and_its_ids_go_on(store: Store) -> None:
    with store.transaction():
        store.log_requests(logged(1, 4), keep=10)
    with store.transaction():
        store.clear_requests()
    store.write_requests()
    assert ids(store) == [] and store.last_request_id() == 4
    with store.transaction():
        store.log_requests(logged(5, 1), keep=10)
    assert ids(store) == [5]


def test_a_reset_of_the_orders_keeps_the_request_log(store: Store) -> None:
    order(store, "R-1", 100)
    with store.transaction():
        store.log_requests(logged(1, 2), keep=10)
        store.clear()
    assert ids(store) == [1, 2] and len(store) == 0


def log_and_close(url: str, batches: list[list[LoggedRequest]], keep: int) -> None:
    """Each batch logged in a unit of its own and written (the last one by `close`, as when a sandbox stops)."""
    store = open_store(url)
    for number, batch in enumerate(batches, 1):
        with store.transaction():
            store.log_requests(batch, keep=keep)
        if number < len(batches):
            store.write_requests()
    store.close()


def test_the_request_log_survives_a_reopen_and_its_ids_continue(durable_url: str) -> None:
    log_and_close(durable_url, [logged(1, 700), logged(701, 10)], keep=500)
    again = open_store(durable_url)
    try:
        assert again.last_request_id() == 710
        with again.transaction():
            again.log_requests((), keep=500)  # what the log does when it opens
        assert list(again.logged_requests()) == logged(211, 500)  # every field as it was logged
        with again.transaction():
            again.clear_requests()
    finally:
        again.close()
    third = open_store(durable_url)
    try:
        assert ids(third) == [] and third.last_request_id() == 710  # cleared, and the ids still go on
    finally:
        third.close()


def spoil_oldest_chunk(url: str) -> None:
    """Overwrite the oldest stored chunk of the request log with bytes that are no marshalled list."""
    if url.startswith("sqlite:"):
        db = sqlite3.connect(url.partition(":")[2])
        try:
            with db:
                db.execute("UPDATE request_log SET requests = x'00ff' "
                           "WHERE last_id = (SELECT min(last_id) FROM request_log)")
        finally:
            db.close()
        return
    POSTGRESQL.server.sql("UPDATE otacm.request_log SET requests = '\\x00ff'::bytea "
                          "WHERE last_id = (SELECT min(last_id) FROM otacm.request_log)", url.rpartition("/")[2])


def test_a_request_log_chunk_that_cannot_be_read_is_left_out_and_the_store_opens(
        durable_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    log_and_close(durable_url, [logged(1, 3), logged(4, 2)], keep=10)
    spoil_oldest_chunk(durable_url)
    again = open_store(durable_url)
    try:
        assert ids(again) == [4, 5]  # the spoiled chunk's requests left out, the others kept
        assert again.last_request_id() == 5  # ids go on past the lost ones
    finally:
        again.close()
    said = capsys.readouterr().err
    assert "a chunk of the request log" in said and "cannot be read" in said and "DELETE /_mock/requests" in said


def test_rows_written_at_once_are_stored_in_chunks_and_read_back_in_order(
        durable_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writethrough, "CHUNK_ROWS", 300)  # 700 rows: chunks of 300, 300 and 100
    log_and_close(durable_url, [logged(1, 700)], keep=650)
    again = open_store(durable_url)
    try:
        with again.transaction():
            again.log_requests((), keep=650)
        assert list(again.logged_requests()) == logged(51, 650)
    finally:
        again.close()


def test_a_unit_of_megabytes_is_written_and_read_back(durable_url: str) -> None:
    """A warp settling thousands of orders is one unit of several megabytes (on PostgreSQL, twice: the rows and the
    unit's copy for other processes), written and read back whole."""
    store = open_store(durable_url)
    with store.transaction():
        for n in range(4000):
            made = Order(order_id=f"id-big-{n}", scope=SCOPE, partner_id="p1", sell_to_order_reference=f"BIG-{n}",
                         buy_from_order_reference=f"CM-BIG-{n}", received_at=100.0 + n, seq=store.take_seq(),
                         sell_to_name="x" * 1000)
            store.add(made)
    store.close()
    again = open_store(durable_url)
    try:
        assert len(again) == 4000
        found = again.get("id-big-3999")
        assert found is not None and found.sell_to_name == "x" * 1000
    finally:
        again.close()
