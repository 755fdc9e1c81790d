"""A sandbox file written before a migration opens with this version: its orders are all there and found."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mockserver.sandbox.models import Order
from mockserver.store.base import ListQuery
from mockserver.store.sqlite import SQLiteStore

SCOPE = ("t", "sandbox", "CRONUS International Ltd.")
INDEX_COLUMNS = ("tenant", "environment", "company", "partner_id", "reference", "status", "received_at")


def _write_orders(path: Path) -> None:
    store = SQLiteStore(path)
    with store.transaction():
        for n in range(3):
            order = Order(f"o-{n}", SCOPE, "p-1", f"REF-{n}", f"BUY-{n}", 1000.0 + n, store.take_seq())
            order.sell_to_email = f"guest{n}@example.com"
            store.add(order)
        store.set_status(order, "Issued")
    store.close()


def _as_schema_3(path: Path) -> None:
    """The file as version 3 left it: the orders table without its index columns."""
    db = sqlite3.connect(path, isolation_level=None)
    for column in INDEX_COLUMNS:
        db.execute(f"ALTER TABLE orders DROP COLUMN {column}")
    db.execute("PRAGMA user_version = 3")
    db.close()


def test_a_file_without_the_index_columns_gets_them_from_each_orders_json(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    _write_orders(path)
    _as_schema_3(path)

    store = SQLiteStore(path)
    try:
        assert len(store) == 3
        found = store.find_by_reference(SCOPE, "p-1", "REF-2")
        assert found is not None and found.order_id == "o-2" and found.status == "Issued"
        assert found.sell_to_email == "guest2@example.com"  # decoded from the JSON on this read
        rows, more = store.page(SCOPE, "p-1", ListQuery(received_from=1000.5))
        assert [o.order_id for o in rows] == ["o-1", "o-2"] and not more
        assert [o.order_id for o in store.in_status("Issued")] == ["o-2"]
    finally:
        store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 4
    assert db.execute("SELECT partner_id, reference, status FROM orders WHERE order_id = 'o-2'").fetchone() \
        == ("p-1", "REF-2", "Issued")
    db.close()
