"""The SQLite store (`--store sqlite:PATH`): a sandbox in one file that survives a restart.

The write side is the file; the read side is the memory store's indexes,
loaded from the file when it opens. Each unit of work (`transaction`) is
marked (writethrough.py) and written at its end as one SQLite transaction: the
orders it marked, the steps it queued and ran, the counters and the clock. So a
`kill -9` loses only a unit that had not ended, and a unit ends before its
answer is sent. WAL with `synchronous=NORMAL`: a committed unit survives the
process dying; a power cut may lose the last few (SQLite's documented trade).

One process owns a file (`locking_mode=EXCLUSIVE`): the read side is that
process's memory, so a second sandbox on the same file would read stale
orders; it is refused at start instead.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from mockserver.store.base import ClockState, SavedStep, StoreError
from mockserver.store.queries import migrations, queries
from mockserver.store.writethrough import (
    Unit,
    WriteThroughStore,
    clock_from_json,
    clock_to_json,
    decode_requests,
    order_row,
    request_ops,
)

APPLICATION_ID = 0x6F74636D  # "otcm": marks a file as an otacm sandbox (PRAGMA application_id)
Q = queries("sqlite")
FREEZE_FROM_ORDERS = 10_000  # a load this large is frozen out of the cyclic GC's view (_gc_paused)


class SQLiteStore(WriteThroughStore):
    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.description = describe(self.path)
        self._db = _connect(self.path)
        self._load()

    def _write(self, unit: Unit) -> None:
        """One unit as one SQLite transaction: orders, then steps and records in order, then the request log,
        then counters and clock."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            if unit.cleared:
                db.execute(Q["delete_all_orders"])
            db.executemany(Q["delete_order"], [(order_id,) for order_id in unit.removed])
            db.executemany(Q["upsert_order"], [order_row(order) for order in unit.orders.values()])
            for name, parameters in unit.ops:
                db.execute(Q[name], parameters)
            for name, parameters in request_ops(unit):
                db.execute(Q[name], parameters)
            db.executemany(Q["upsert_meta"], [(key, json.dumps(value)) for key, value in _meta(unit).items()])
            db.execute("COMMIT")
        except sqlite3.Error as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"could not write the sandbox to {self.path}: {error}") from error

    def saved_steps(self) -> list[SavedStep]:
        with self._writing:  # the connection is the log writer's too
            return [SavedStep(due, kind, subject, generation)
                    for due, kind, subject, generation in self._db.execute(Q["pending_steps"])]

    def close(self) -> None:
        self.commit()
        self.write_requests()
        with self._writing:  # a write of the log's writer thread ends first
            self._closed = True
            self._db.close()

    # -- opening ------------------------------------------------------------------
    def _load(self) -> None:
        """The read side from the file: every order in arrival order, the counters, the records, the clock, the
        request log."""
        meta = {key: json.loads(value) for key, value in self._db.execute(Q["all_meta"])}
        counters = {key.partition(":")[2]: int(value) for key, value in meta.items() if key.startswith("counter:")}
        records = {kind: {key: json.loads(value) for key, value in self._db.execute(Q["records_of_kind"], (kind,))}
                   for (kind,) in self._db.execute(Q["record_kinds"]).fetchall()}
        with _gc_paused(self):
            requests = list(decode_requests((chunk for (chunk,) in self._db.execute(Q["all_requests"])),
                                            str(self.path)))
            self._restore(self._db.execute(Q["all_orders"]), counters, records, clock_from_json(meta.get("clock")),
                          requests)


@contextmanager
def _gc_paused(store: SQLiteStore) -> Iterator[None]:
    """Loading builds millions of objects that all live on. With the cyclic GC
    on, its full collections rescan them over and over as they grow, and the
    first one after the load scans them all again: at 100,000 orders that was
    about 7 of the 12 CPU seconds `otacm mock` took to open its file. So it is
    off while loading, and a large load is frozen out of its view (as the
    granian worker freezes its startup objects, server.for_granian). A small
    one is not: a test process opening many small stores keeps collecting
    the garbage it leaves, and pays no full collection per open for it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if len(store) >= FREEZE_FROM_ORDERS:
            gc.freeze()
        if enabled:
            gc.enable()


def inspect(path: str | Path) -> tuple[int, Optional[ClockState]]:
    """(orders held, saved clock or None) of a sandbox file, creating it if new, without loading it;
    a StoreError for a file that cannot be a sandbox (what `otacm mock` checks before it serves)."""
    db = _connect(Path(path))
    try:
        orders = db.execute(Q["count_orders"]).fetchone()[0]
        row = db.execute(Q["clock_meta"]).fetchone()
    finally:
        db.close()
    return orders, clock_from_json(None if row is None else json.loads(row[0]))


def describe(path: str | Path) -> str:
    """What the banner says of a sandbox file."""
    return f"in SQLite {path} (kept across restarts)"


def _meta(unit: Unit) -> dict[str, Any]:
    """The meta rows a unit changes: `counter:NAME` → its last number, `clock` → the clock."""
    rows: dict[str, Any] = {f"counter:{name}": value for name, value in unit.counters.items()}
    if unit.clock is not None:
        rows["clock"] = clock_to_json(unit.clock)
    return rows


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
