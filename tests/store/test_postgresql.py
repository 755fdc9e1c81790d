"""What only the PostgreSQL store promises, beyond the contract suite: a schema ready for several processes.

Concurrent starts migrate once (the advisory lock); a unit is one
transaction (all of it or none); order rows carry a version that grows at
each write; steps are rows that workers can claim with SKIP LOCKED.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from mockserver.sandbox.models import Order
from mockserver.sandbox.schedule import Event
from mockserver.store import StoreError, open_store, pg_connect
from mockserver.store.base import ClockState
from mockserver.store.queries import migrations
from store_engines import POSTGRESQL

psycopg = pytest.importorskip("psycopg")
postgresql = pytest.importorskip("mockserver.store.postgresql")


def sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    return POSTGRESQL.server.sql(statement, url.rpartition("/")[2])


def made(seq: int, reference: str = "R-1") -> Order:
    return Order(order_id=f"id-{seq}", scope=("tenant", "sandbox", "Company"), partner_id="p1",
                 sell_to_order_reference=reference, buy_from_order_reference=f"CM-{reference}", received_at=100.0,
                 seq=seq)


def test_concurrent_starts_migrate_once() -> None:
    url = POSTGRESQL.database()
    connections = [pg_connect.connect(url) for _ in range(4)]
    failures: list[Exception] = []
    gate = threading.Barrier(len(connections))

    def start(connection: Any) -> None:
        gate.wait()
        try:
            pg_connect.migrate(connection, url)
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=start, args=(connection,)) for connection in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for connection in connections:
        connection.close()
    assert failures == []
    assert sql(url, "SELECT version FROM otacm.schema_version ORDER BY version") == \
        [(number,) for number, _ in migrations("postgresql")]


def test_an_order_row_carries_a_version_that_grows_with_each_write() -> None:
    url = POSTGRESQL.database()
    store = open_store(url)
    order = made(store.take_seq())
    with store.transaction():
        store.add(order)
    with store.transaction():
        store.set_status(order, "Scheduled")
    with store.transaction():  # two changes of one unit: one write
        store.set_status(order, "Processing")
        store.save(order)
    store.close()
    assert sql(url, "SELECT status, version, partner_id, reference FROM otacm.orders") == \
        [("Processing", 3, "p1", "R-1")]


def test_a_unit_that_cannot_be_written_leaves_nothing_behind() -> None:
    url = POSTGRESQL.database()
    store = open_store(url)
    sql(url, "INSERT INTO otacm.orders (order_id, seq, tenant, environment, company, partner_id, reference, status, "
             "received_at, body) VALUES ('other', 1, 't', 'e', 'c', 'p', 'X', 'Draft', 0, '{}')")
    with pytest.raises(StoreError, match="could not write the sandbox to postgresql://postgres:\\*\\*\\*@"):
        with store.transaction():
            store.save_clock(ClockState(5.0, None))
            store.add(made(1))  # seq 1 is taken in the database: the unit fails as a whole
    assert sql(url, "SELECT count(*) FROM otacm.clock") == [(0,)]
    assert sql(url, "SELECT order_id FROM otacm.orders") == [("other",)]
    with store.transaction():  # the next unit is written as usual
        store.save_clock(ClockState(6.0, None))
    store.close()
    assert sql(url, "SELECT clock_offset FROM otacm.clock") == [(6.0,)]


def test_due_steps_are_rows_two_workers_can_claim_apart() -> None:
    url = POSTGRESQL.database()
    store = open_store(url)
    with store.transaction():
        for due in (50.0, 60.0):
            store.step_queued(Event(due, 1, "x", lambda _at: None, kind="startProcessing", subject=f"id-{due}"))
    store.close()
    claim = "SELECT subject FROM otacm.steps WHERE due <= 100 ORDER BY due, id LIMIT 1 FOR UPDATE SKIP LOCKED"
    with psycopg.connect(url) as first, psycopg.connect(url) as second:
        assert first.execute(claim).fetchall() == [("id-50.0",)]  # held until `first` commits
        assert second.execute(claim).fetchall() == [("id-60.0",)]


def test_a_unit_is_written_after_the_server_dropped_the_pooled_connection() -> None:
    url = POSTGRESQL.database()
    store = open_store(url)
    with store.transaction():
        store.save_clock(ClockState(1.0, None))
    dropped = sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND application_name = 'otacm mock'")
    assert dropped and all(ok for (ok,) in dropped)
    with store.transaction():  # the first try fails on the dead connection, the second is written
        store.save_clock(ClockState(2.0, None))
    assert sql(url, "SELECT clock_offset FROM otacm.clock") == [(2.0,)]
    held = sql(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
    assert held == [(1,)]  # the owner's session, untouched, still holds the sandbox
    store.close()


def test_a_large_unit_then_an_empty_one_leave_the_small_ones_their_prepared_statements() -> None:
    """A large unit goes through psycopg's pipeline, where psycopg prepares statements of its own; a rollback
    through psycopg would then deallocate every prepared statement, those the small units run (pg_units.py
    `prepare`) too, and every later unit would fail (the bench's createOrders after its fill's advance did)."""
    url = POSTGRESQL.database()
    store = open_store(url)
    with store.transaction():
        store.hold()
        for index in range(100):  # more statements than a small unit's: pipelined
            store.add(made(store.take_seq(), reference=f"BIG-{index}"))
    with store.transaction():
        store.hold()  # nothing written: the transaction rolled back, the lock let go
    with store.transaction():
        store.hold()
        store.add(made(store.take_seq(), reference="SMALL-1"))
    store.close()
    assert sql(url, "SELECT count(*) FROM otacm.orders") == [(101,)]
    assert sql(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") == [(0,)]


def test_a_read_that_arrived_before_the_last_epoch_read_stands_on_it() -> None:
    """`refresh(arrived)`: an epoch read sent after the request arrived saw every unit committed before it, so a
    read that arrived earlier needs no round trip of its own; one that arrived later reads and replays."""
    url = POSTGRESQL.database()
    writer, reader = open_store(url), open_store(url)
    try:
        arrived = time.monotonic()
        assert reader.refresh(arrived) is None  # reads the epoch: nothing new
        with writer.transaction():
            writer.hold()
            writer.add(made(writer.take_seq(), reference="AFTER"))
        assert reader.refresh(arrived) is None and reader.get("id-1") is None  # committed after that request came
        replayed = reader.refresh(time.monotonic())
        assert replayed is not None and reader.get("id-1") is not None
        assert reader.refresh() is None and reader.get("id-1") is not None  # no arrival known: reads, nothing new
    finally:
        writer.close()
        reader.close()
