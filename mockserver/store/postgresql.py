"""The PostgreSQL store (`--store postgresql://USER@HOST:PORT/DATABASE`): one sandbox, as many processes as you like.

The SQLite store's shape (writethrough.py) for each process: the read side is
the memory store's indexes, loaded from the database when the store opens, and
each unit of work is written at its end as one PostgreSQL transaction, its
statements pipelined, through a small psycopg_pool pool. Tables live in the
schema `otacm`; the numbered migrations run at start in one transaction under
`pg_advisory_xact_lock`, so concurrent starts are safe.

Several processes (`otacm mock --workers N`, or several hosts on one
database) are one sandbox (issue 20):

- A unit that may write (`hold`, the backend's `atomic`) first takes the
  sandbox's lock, a transaction-scoped advisory lock every process takes, on
  the connection that then writes the unit; the commit releases it (so does
  the end of the session: a `kill -9` mid-unit leaves nothing half-written and
  nothing locked). Units therefore happen one at a time, across processes.
- Each unit is numbered (the epoch) and written down whole once more in
  `otacm.units`. Holding the lock, a process first replays the units it has not
  seen (store/replay.py), so it decides on what the database holds: a
  duplicate create is found, a step another process ran is not run again,
  two warps run each due step once, in time order.
- A read (`refresh`, the backend's `reading`) takes no lock: it reads the
  epoch (one round trip) and replays what it missed, so a request answered by
  one process is seen by the next request to any other. A request that
  arrived before the last epoch read was sent skips its own: that read saw
  all it must (a busy worker's queued reads share one, front.py).
- Each process holds a session-level advisory lock on its worker number, so
  the others can tell when it died (`worker_alive`).
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence

import psycopg
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg_pool import PoolClosed, PoolTimeout

from mockserver.store.base import ClockState, Replayed, RequestRow, SavedStep, StoreError, StoreUnavailable
from mockserver.store.pg_connect import APPLICATION_ID, UNITS_NAME, connect, migrate, one_line, open_pool, unavailable
from mockserver.store.pg_units import (
    hold_units,
    numbered,
    prepare,
    simple,
    unit_statements,
    write_pipelined,
    write_unit,
)
from mockserver.store.queries import queries
from mockserver.store.replay import order_rows, replay, unit_body
from mockserver.store.urls import shown
from mockserver.store.writethrough import Unit, WriteThroughStore, decode_requests

UNIT_LOCK = (APPLICATION_ID, 2)  # the sandbox lock: held by the transaction of the unit being carried out
WORKER_KEY = APPLICATION_ID + 1  # (WORKER_KEY, worker number): held by each process's session while it lives
PRUNE_EVERY, KEEP_UNITS = 1000, 10_000  # units kept for replay; a process further behind loads again whole
Q = queries("postgresql")


class PostgreSQLStore(WriteThroughStore):
    shared = True

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.description = describe(url)
        self._session = connect(url)  # autocommit: the worker lock, the epoch a read checks, liveness checks
        self._session_lock = threading.Lock()  # the session's one conversation at a time (reads, the log's ids)
        self._held: Optional[psycopg.Connection[Any]] = None  # the unit's connection, holding the sandbox lock
        self._epoch = 0  # the last unit this read side holds
        self._current_since = -math.inf  # it holds every unit committed before then (time.monotonic(); refresh)
        self._loaded_steps: Optional[list[SavedStep]] = None  # the steps as the last load found them (saved_steps)
        self._loaded_epoch = 0
        self._units: Optional[psycopg.Connection[Any]] = None  # units are written on it (_units_connection)
        self._epoch_prepared: Optional[psycopg.Connection[Any]] = None  # the session the epoch read is prepared on
        self._ids_taken = 0  # the highest request id this process took (take_request_ids)
        try:
            migrate(self._session, url)
            self.worker = int(_value(self._session, "take_worker"))
            _value(self._session, "hold_worker_lock", (WORKER_KEY, self.worker))
            self._pool = open_pool(url)
        except BaseException:
            self._session.close()
            raise
        try:
            self._load()
        except BaseException:
            self.close()
            raise

    # -- units of work: the sandbox lock, then what the other processes wrote --------
    def hold(self) -> Optional[Replayed]:
        """Take the sandbox lock for this unit (kept until `commit`) and replay the units other processes wrote, in
        one round trip (pg_units.py). Units take turns in a process (the backend's lock), so they have one connection
        of their own: a pooled one would be checked, one more round trip, at every unit."""
        if self._held is not None:
            return None
        for attempt in (1, 2):  # a connection the server dropped while idle (its restart): once more on a new one
            connection = self._units_connection()
            sent = time.monotonic()
            try:
                rows = hold_units(connection, UNIT_LOCK, self._epoch)
                break
            except psycopg.Error as error:
                dropped = connection.closed
                self._give_back(connection)
                if attempt == 2 or not dropped:
                    raise self._failure(error, "read") from error
        self._held = connection
        return self._caught_up(rows, sent)

    def refresh(self, arrived: Optional[float] = None) -> Optional[Replayed]:
        """Replay what other processes wrote since this read side's last unit (no lock: a read). Once per outermost
        unit: a read nested in another (getOrder's catch-up) stands on what its outer unit caught up on. The epoch
        is read through libpq itself: psycopg's cursor took 58 µs of CPU a read, this 23 µs (on every getOrder).

        No round trip for a request that `arrived` before the last epoch read (or lock) was sent: that read saw
        every unit committed before the request reached this process, and this read side has replayed them. A
        busy worker's queued requests so share one read (front.py lets them all arrive before the first runs)."""
        if self._held is not None or self._depth > 1:
            return None
        if arrived is not None and arrived < self._current_since:
            return None
        with self._session_lock:
            sent = time.monotonic()
            try:
                same = self._read_epoch() == self._epoch
                rows = [] if same else self._session.execute(Q["units_after"], (self._epoch,)).fetchall()
            except psycopg.Error as error:
                self.stale = True  # the session is gone: `reload` connects again
                raise self._failure(error, "read") from error
        return self._caught_up(rows, sent)

    def _read_epoch(self) -> int:
        """The epoch (the newest unit's number) by a statement prepared on the session (under the session lock)."""
        pgconn = self._session.pgconn
        if self._epoch_prepared is not self._session:
            result = pgconn.prepare(b"otacm_epoch", Q["epoch"].encode())
            if result.status != ExecStatus.COMMAND_OK:
                raise psycopg.OperationalError(pgconn.error_message.decode(errors="replace"))
            self._epoch_prepared = self._session
        result = pgconn.exec_prepared(b"otacm_epoch", None)
        if result.status != ExecStatus.TUPLES_OK:
            raise psycopg.OperationalError(pgconn.error_message.decode(errors="replace"))
        return int(result.get_value(0, 0) or 0)

    def _units_connection(self) -> psycopg.Connection[Any]:
        """The connection units are written on, made again if the server dropped it."""
        connection = self._units
        if self._closed:
            raise StoreUnavailable(f"the sandbox's store {shown(self.url)} is closed (the sandbox is stopping)")
        if connection is None or connection.closed or connection.broken:
            try:
                connection = connect(self.url, name=UNITS_NAME)  # autocommit: a unit sends its BEGIN and COMMIT
            except StoreError as error:  # said as a request is told it: what failed, nothing changed, retry
                cause = error.__context__ if isinstance(error.__context__, psycopg.Error) else error
                raise StoreUnavailable(unavailable(self.url, cause)) from None
            try:
                prepare(connection)
            except psycopg.Error as error:
                connection.close()
                raise StoreUnavailable(unavailable(self.url, error)) from None
            self._units = connection
        return connection

    def commit(self) -> None:
        """Write the unit, numbered, with its copy for the other processes, and release the sandbox lock."""
        if self._held is None:
            if not self._unit:
                return
            if self.hold() is not None:  # a unit used without `hold` (the store alone): others wrote meanwhile
                self.stale = True
                self._give_back(self._held)  # type: ignore[arg-type]
                self._held, self._unit = None, Unit()
                raise StoreError("another process wrote to the sandbox while this unit was made; nothing was "
                                 "written (a unit that may write takes the sandbox lock first: Store.hold)")
        unit, self._unit = self._unit, Unit()
        held, self._held = self._held, None
        assert held is not None
        try:
            with self._writing:
                if not unit:
                    simple(held, Q["rollback_unit"].encode())  # nothing to write: the lock goes with the transaction
                    return
                rows = order_rows(unit)
                epoch = self._epoch + 1
                prune_to = epoch - KEEP_UNITS if epoch % PRUNE_EVERY == 0 else None
                write_unit(held, numbered(unit_statements(unit, rows), epoch, unit_body(unit, rows), prune_to))
                self._epoch = epoch
        except psycopg.Error as error:
            self.stale = True  # the read side holds what the database does not
            raise self._failure(error, "write") from error
        finally:
            self._give_back(held)

    def _caught_up(self, rows: list[tuple[int, bytes]], sent: float) -> Optional[Replayed]:
        """The other processes' units replayed into the read side; loaded again whole when they cannot be one by one
        (a reset, a snapshot loaded, units pruned before this process read them). `rows` are what a look at the
        database sent at `sent` found: the read side then holds every unit committed before then."""
        replayed: Optional[Replayed] = None
        if rows:
            replayed = Replayed()
            if rows[0][0] == self._epoch + 1 and replay(self, [bytes(body) for _, body in rows], replayed):
                self._epoch = rows[-1][0]
            else:
                self._empty()
                self._load()
                replayed = Replayed(reload=True)
        self._current_since = sent
        return replayed

    def _give_back(self, connection: psycopg.Connection[Any]) -> None:
        """The units' connection after a unit: kept if its transaction ended, else closed (the next unit connects
        again). Not rolled back through psycopg: once psycopg has prepared statements of its own (a large unit's
        pipeline), its rollback deallocates every prepared statement, `prepare`'s too."""
        if not connection.closed and connection.info.transaction_status != TransactionStatus.IDLE:
            connection.close()

    def _failure(self, error: psycopg.Error, doing: str) -> StoreError:
        if isinstance(error, (psycopg.OperationalError, PoolTimeout, PoolClosed)):
            return StoreUnavailable(unavailable(self.url, error))
        return StoreError(f"could not {doing} the sandbox {'to' if doing == 'write' else 'from'} {shown(self.url)}: "
                          f"{one_line(error)}")

    # -- the request log and the other processes ---------------------------------------------------
    def take_request_ids(self, count: int) -> Optional[int]:
        """The first of `count` request ids no other process sharing the sandbox is given."""
        with self._session_lock:
            try:
                self._ids_taken = int(_value(self._session, "take_request_ids", (count,)))
            except psycopg.Error as error:
                raise self._failure(error, "write") from error
        return self._ids_taken - count + 1

    def log_requests(self, requests: Sequence[RequestRow], keep: int) -> None:
        """As the write-through store logs them, but the stored log is trimmed by every process's ids: what is
        stored below the newest `keep` ids taken (by this process's last take: a bound no lower than the
        sandbox's) goes; trimmed by this process's own rows only, each would keep `keep` of its own."""
        super().log_requests(requests, keep)
        if self._ids_taken:
            with self._unwritten_lock:
                self._unwritten.requests_from = max(1, self._ids_taken - keep + 1)

    def logged_requests(self) -> Sequence[RequestRow]:
        """Every process's requests: those stored (each process writes its own every few seconds) with this one's,
        the newest `limit` (this read side's bound) by id. A read of the whole stored log: the Requests view's."""
        with self._reading() as connection:
            chunks = [chunk for (chunk,) in connection.execute(Q["all_requests"])]
        merged = {row[0]: row for row in decode_requests(chunks, shown(self.url))}
        merged.update((row[0], row) for row in self._requests)
        keep = self._requests.maxlen if self._requests.maxlen is not None else len(merged)
        return [merged[key] for key in sorted(merged)[-keep:]] if keep else []

    def worker_alive(self, worker: int) -> bool:
        """Whether that process still holds its worker lock (its session lives); True when it cannot be told."""
        if worker == self.worker:
            return True
        with self._session_lock:
            try:
                if not _value(self._session, "try_worker_lock", (WORKER_KEY, worker)):
                    return True
                _value(self._session, "release_worker_lock", (WORKER_KEY, worker))
                return False
            except psycopg.Error:
                return True

    def _write(self, unit: Unit) -> None:
        """The request log's rows (write_requests) as one transaction; units go through `commit`. A pooled
        connection the server dropped while idle fails the first try: written once more on a new connection
        (chunks already there are not inserted twice)."""
        for attempt in (1, 2):
            try:
                with self._pool.connection() as connection:
                    write_pipelined(connection, unit_statements(unit, []))
                return
            except psycopg.OperationalError as error:
                if attempt == 2 or isinstance(error, (PoolTimeout, PoolClosed)):
                    raise StoreUnavailable(unavailable(self.url, error)) from error
            except psycopg.Error as error:
                raise self._failure(error, "write") from error

    def saved_steps(self) -> list[SavedStep]:
        """The pending steps: as the last load found them, in its snapshot with the orders, until the epoch moves
        (the start stands on them: the units after it are replayed); then as the database holds them."""
        if self._loaded_steps is not None and self._epoch == self._loaded_epoch:
            return list(self._loaded_steps)
        with self._reading() as connection:
            return [SavedStep(*row) for row in connection.execute(Q["pending_steps"])]

    def close(self) -> None:
        """Write what is pending, then end the sessions (the worker lock goes with the session)."""
        try:
            self.commit()
            self.write_requests()
        finally:
            with self._writing:  # a write of the log's writer thread ends first
                self._closed = True
                if self._units is not None:
                    self._units.close()
                self._pool.close()
                self._session.close()

    # -- opening ------------------------------------------------------------------
    def _load(self) -> None:
        """The read side from one snapshot of the database (REPEATABLE READ): the epoch it stands at, every order in
        arrival order, the counters, the records, the clock, the steps, the request log."""
        with self._reading() as connection, connection.transaction():
            connection.execute(Q["repeatable_read"])
            epoch = int(_value(connection, "epoch"))
            counters = {name: int(value) for name, value in connection.execute(Q["all_counters"])}
            records: dict[str, dict[str, dict[str, Any]]] = {}
            for kind, key, value in connection.execute(Q["all_records"]):
                records.setdefault(kind, {})[key] = value
            clock = _saved_clock(connection)
            steps = [SavedStep(*row) for row in connection.execute(Q["pending_steps"])]
            requests = list(decode_requests((chunk for (chunk,) in connection.execute(Q["all_requests"])),
                                            shown(self.url)))
            self._restore(connection.execute(Q["all_orders"]), counters, records, clock, requests)
        self._epoch, self._loaded_epoch, self._loaded_steps = epoch, epoch, steps

    def _reconnect(self) -> None:
        """The session again if the database dropped it (a restart ends every session, and the worker lock with
        it); a StoreUnavailable while it cannot be had."""
        with self._session_lock:
            if not (self._session.closed or self._session.broken):
                try:
                    self._session.execute("SELECT 1")
                    return
                except psycopg.Error:
                    self._session.close()
            try:
                session = connect(self.url)
                _value(session, "hold_worker_lock", (WORKER_KEY, self.worker))
            except (StoreError, psycopg.Error) as error:
                raise StoreUnavailable(str(error)) from None
            self._session = session

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for reads; its failures as a StoreError naming the (masked) URL (a
        StoreUnavailable when the database cannot be reached)."""
        try:
            with self._pool.connection() as connection:
                yield connection
        except psycopg.Error as error:
            raise self._failure(error, "read") from error


def inspect(url: str) -> tuple[int, Optional[ClockState]]:
    """(orders held, saved clock or None) of a sandbox database, migrated if new, without loading it; a
    StoreError for one that cannot be opened (`otacm mock` checks before it serves)."""
    connection = connect(url)
    try:
        migrate(connection, url)
        return _value(connection, "count_orders"), _saved_clock(connection)
    except psycopg.Error as error:
        raise StoreError(f"could not read the sandbox from {shown(url)}: {one_line(error)}") from None
    finally:
        connection.close()


def describe(url: str) -> str:
    """What the banner says of a sandbox database (its password masked)."""
    return f"in PostgreSQL {shown(url)} (kept across restarts)"


def _saved_clock(connection: psycopg.Connection[Any]) -> Optional[ClockState]:
    """The clock's one row, or None for a sandbox that has not saved one yet (a new store)."""
    row = connection.execute(Q["saved_clock"]).fetchone()
    return None if row is None else ClockState(float(row[0]), None if row[1] is None else float(row[1]))


# -- opening ------------------------------------------------------------------------
def _value(connection: psycopg.Connection[Any], name: str, parameters: tuple[Any, ...] = ()) -> Any:
    """The one value a named query answers."""
    return _one(connection.execute(Q[name], parameters))


def _one(cursor: psycopg.Cursor[Any]) -> Any:
    row = cursor.fetchone()
    return None if row is None else row[0]


