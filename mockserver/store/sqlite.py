"""The SQLite store (`--store sqlite:PATH`): a sandbox in one file that survives a restart.

The write side is the file; the read side is the memory store's indexes,
loaded from the file when it opens. Each unit of work (`transaction`) is
buffered and written at its end as one SQLite transaction: the orders it
marked, the steps it queued and ran, the counter and the clock. So a
`kill -9` loses only a unit that had not ended, and a unit ends before its
answer is sent. WAL with `synchronous=NORMAL`: a committed unit survives the
process dying; a power cut may lose the last few (SQLite's documented trade).

One process owns a file (`locking_mode=EXCLUSIVE`): the read side is that
process's memory, so a second sandbox on the same file would read stale
orders; it is refused at start instead.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Optional

from mockserver.sandbox.models import Order
from mockserver.sandbox.schedule import Event
from mockserver.store.base import ClockState, SavedStep, StoreError
from mockserver.store.codec import order_from_dict, order_to_dict
from mockserver.store.memory import ORDER_COUNTER, MemoryStore
from mockserver.store.queries import migrations, queries

APPLICATION_ID = 0x6F74636D  # "otcm": marks a file as an otacm sandbox (PRAGMA application_id)
Q = queries("sqlite")


class SQLiteStore(MemoryStore):
    durable = True

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.description = describe(self.path)
        self._db = _connect(self.path)
        self._unwritten()
        self._load()

    # -- the unit of work ---------------------------------------------------------
    def _unwritten(self) -> None:
        self._dirty: dict[str, Order] = {}
        self._removed: set[str] = set()
        self._cleared = False
        self._ops: list[tuple[str, tuple[Any, ...]]] = []  # steps and records, in the order they happened
        self._meta_dirty: dict[str, Any] = {}

    def commit(self) -> None:
        if not (self._dirty or self._removed or self._cleared or self._ops or self._meta_dirty):
            return
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            if self._cleared:
                db.execute(Q["delete_all_orders"])
            db.executemany(Q["delete_order"], [(order_id,) for order_id in self._removed])
            db.executemany(Q["upsert_order"], [(o.order_id, o.seq, json.dumps(order_to_dict(o), separators=(",", ":")))
                                               for o in self._dirty.values()])
            for name, parameters in self._ops:
                db.execute(Q[name], parameters)
            db.executemany(Q["upsert_meta"], [(key, json.dumps(value)) for key, value in self._meta_dirty.items()])
            db.execute("COMMIT")
        except sqlite3.Error as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"could not write the sandbox to {self.path}: {error}") from error
        finally:
            self._unwritten()

    # -- orders: the memory indexes, marked for writing ------------------------------
    def add(self, order: Order) -> None:
        super().add(order)
        self._dirty[order.order_id] = order

    def set_status(self, order: Order, status: str) -> None:
        super().set_status(order, status)
        self._dirty[order.order_id] = order

    def save(self, order: Order) -> None:
        self._dirty[order.order_id] = order

    def remove(self, order: Order) -> None:
        super().remove(order)
        self._dirty.pop(order.order_id, None)
        self._removed.add(order.order_id)

    def clear(self, partner_id: Optional[str] = None) -> list[Order]:
        removed = super().clear(partner_id)
        if partner_id is None:
            self._dirty.clear()
            self._removed.clear()
            self._cleared = True
        return removed

    # -- counters, clock, steps ---------------------------------------------------
    def take_number(self, counter: str) -> int:
        number = super().take_number(counter)
        self._meta_dirty[f"counter:{counter}"] = number
        return number

    def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        super().put_record(kind, key, value)
        self._ops.append(("upsert_record", (kind, key, json.dumps(value, separators=(",", ":")))))

    def drop_record(self, kind: str, key: str) -> None:
        super().drop_record(kind, key)
        self._ops.append(("delete_record", (kind, key)))

    def clear_records(self, kind: str) -> None:
        super().clear_records(kind)
        self._ops.append(("delete_records_of_kind", (kind,)))

    def save_clock(self, state: ClockState) -> None:
        super().save_clock(state)
        self._meta_dirty["clock"] = {"offset": state.offset, "frozenAt": state.frozen_at}  # read by _clock_from

    def saved_steps(self) -> list[SavedStep]:
        return [SavedStep(due, kind, subject, generation)
                for due, kind, subject, generation in self._db.execute(Q["pending_steps"])]

    def step_queued(self, event: Event) -> None:
        self._ops.append(("insert_step", (event.due, event.kind, event.subject, event.generation)))

    def step_done(self, event: Event) -> None:
        self._ops.append(("delete_step", (event.due, event.kind, event.subject, event.generation)))

    def clear_steps(self) -> None:
        self._ops.append(("delete_all_steps", ()))

    def close(self) -> None:
        self.commit()
        self._db.close()

    # -- opening ------------------------------------------------------------------
    def _load(self) -> None:
        """The read side from the file: every order in arrival order, the counter, the clock."""
        meta = {key: json.loads(value) for key, value in self._db.execute(Q["all_meta"])}
        for (body,) in self._db.execute(Q["all_orders"]):
            MemoryStore.add(self, order_from_dict(json.loads(body)))
        self._counters = {key.partition(":")[2]: int(value) for key, value in meta.items()
                          if key.startswith("counter:")}
        highest = max((o.seq for o in self._orders.values()), default=0)
        self._counters[ORDER_COUNTER] = max(self._counters.get(ORDER_COUNTER, 0), highest)
        for (kind,) in self._db.execute(Q["record_kinds"]):
            self._records[kind] = {key: json.loads(value) for key, value in self._db.execute(Q["records_of_kind"],
                                                                                          (kind,))}
        self._clock = _clock_from(meta.get("clock"))


def inspect(path: str | Path) -> tuple[int, Optional[ClockState]]:
    """(orders held, saved clock or None) of a sandbox file, creating it if new, without loading it;
    a StoreError for a file that cannot be a sandbox (what `otacm mock` checks before it serves)."""
    db = _connect(Path(path))
    try:
        orders = db.execute(Q["count_orders"]).fetchone()[0]
        row = db.execute(Q["clock_meta"]).fetchone()
    finally:
        db.close()
    return orders, _clock_from(None if row is None else json.loads(row[0]))


def describe(path: str | Path) -> str:
    """What the banner says of a sandbox file."""
    return f"in SQLite {path} (kept across restarts)"


def _clock_from(value: Optional[dict[str, Any]]) -> Optional[ClockState]:
    """The clock as `save_clock` wrote it, or None for a store that has none yet."""
    return None if value is None else ClockState(float(value["offset"]), value["frozenAt"])


def _connect(path: Path) -> sqlite3.Connection:
    """Open (or create) a sandbox file, migrated to the current schema, held by this process alone."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory; name a file, e.g. --store sqlite:{path / 'sandbox.db'}")
    if not path.parent.is_dir():
        raise StoreError(f"the folder {path.parent} does not exist; create it or name a file in another folder")
    # a short busy timeout: a file another process holds is refused in a second, not five
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=1.0)
    try:
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        _migrate(db, path)
    except sqlite3.DatabaseError as error:
        db.close()
        if "locked" in str(error):
            raise StoreError(f"{path} is in use by another otacm mock: one process owns a sandbox file; "
                             "stop the other one, or give this one another file") from None
        raise StoreError(f"{path} is not an otacm sandbox file ({error}); name a new file or remove this one") \
            from None
    except StoreError:
        db.close()
        raise
    return db


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Apply the numbered migrations the file does not have yet; refuse a file that is not ours or is newer."""
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    known = migrations("sqlite")
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application_id != APPLICATION_ID and (application_id != 0 or tables):
        raise StoreError(f"{path} is an SQLite file of another program, not an otacm sandbox; name another file")
    if version > known[-1][0]:
        raise StoreError(f"{path} was written by a newer otacm (schema {version}, this one knows up to "
                         f"{known[-1][0]}); upgrade otacm or name another file")
    db.execute("BEGIN IMMEDIATE")  # also takes the exclusive lock, so a second process fails here
    for number, sql in known:
        if number > version:
            for statement in filter(str.strip, sql.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("COMMIT")
