"""The PostgreSQL store (`--store postgresql://USER@HOST:PORT/DATABASE`): a sandbox in a database.

The SQLite store's shape (writethrough.py): the read side is the memory
store's indexes, loaded from the database when the store opens, and each unit
of work is written at its end as one PostgreSQL transaction, its statements
pipelined (sent without waiting for each one's answer), through a small
psycopg_pool pool. Its tables live in the schema
`otacm` (sql/0001_postgresql_initial.sql) and are made ready for several
processes (issue 20): order rows carry a version, steps are rows a worker can
claim with `FOR UPDATE SKIP LOCKED`. The numbered migrations run at start in
one transaction under `pg_advisory_xact_lock`, so concurrent starts are safe.

For now one process owns a sandbox database, as one owns an SQLite file: the
read side is that process's memory, so a second sandbox would serve stale
orders. The owner holds a session-level advisory lock on a connection of its
own for the store's life (it goes with the session, also on `kill -9`), and a
second `otacm mock` is refused at start.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Optional

import psycopg
from psycopg_pool import PoolClosed, PoolTimeout

from mockserver.store.base import ClockState, SavedStep, StoreError, StoreUnavailable
from mockserver.store.pg_connect import connect, one_line, open_pool, unavailable
from mockserver.store.queries import migrations, queries
from mockserver.store.urls import shown
from mockserver.store.writethrough import Unit, WriteThroughStore, decode_requests, order_row, request_ops

APPLICATION_ID = 0x6F74636D  # "otcm", as the SQLite store's application_id: the advisory locks' first key
MIGRATION_LOCK = (APPLICATION_ID, 0)  # held by the transaction that migrates
OWNER_LOCK = (APPLICATION_ID, 1)  # held by the owning process's session
Q = queries("postgresql")


class PostgreSQLStore(WriteThroughStore):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.description = describe(url)
        self._owner = connect(url)  # holds OWNER_LOCK while it is open
        try:
            _take_ownership(self._owner, url)
            _migrate(self._owner, url)
            self._pool = open_pool(url)
        except BaseException:
            self._owner.close()
            raise
        try:
            self._load()
        except BaseException:
            self.close()
            raise

    def _write(self, unit: Unit) -> None:
        """One unit as one PostgreSQL transaction (the pool's connection commits on leaving, or rolls back).
        A pooled connection the server dropped while idle (a restart of it, an idle timeout) fails the unit's
        first try: it is written once more on a new connection. Every write of a unit sets a value or inserts
        what is not there yet, so even a retry of a unit whose commit went through but whose answer was lost
        leaves the same rows (only the order rows' version grows twice)."""
        for attempt in (1, 2):
            try:
                with self._pool.connection() as connection, connection.pipeline(), connection.cursor() as cursor:
                    _write_unit(cursor, unit)
                return
            except psycopg.OperationalError as error:
                if attempt == 2 or isinstance(error, (PoolTimeout, PoolClosed)):
                    raise StoreUnavailable(unavailable(self.url, error)) from error
            except psycopg.Error as error:
                raise StoreError(f"could not write the sandbox to {shown(self.url)}: {one_line(error)}") from error

    def saved_steps(self) -> list[SavedStep]:
        with self._reading() as connection:
            return [SavedStep(due, kind, subject, generation)
                    for due, kind, subject, generation in connection.execute(Q["pending_steps"])]

    def close(self) -> None:
        """Write what is pending, then end the sessions (the owner lock goes with the owner's)."""
        try:
            self.commit()
            self.write_requests()
        finally:
            with self._writing:  # a write of the log's writer thread ends first
                self._closed = True
                self._pool.close()
                self._owner.close()

    # -- opening ------------------------------------------------------------------
    def _load(self) -> None:
        """The read side from the database: every order in arrival order, the counters, the records, the clock,
        the request log."""
        with self._reading() as connection:
            counters = {name: int(value) for name, value in connection.execute(Q["all_counters"])}
            records: dict[str, dict[str, dict[str, Any]]] = {}
            for kind, key, value in connection.execute(Q["all_records"]):
                records.setdefault(kind, {})[key] = value
            clock = _saved_clock(connection)
            requests = list(decode_requests((chunk for (chunk,) in connection.execute(Q["all_requests"])),
                                            shown(self.url)))
            self._restore(connection.execute(Q["all_orders"]), counters, records, clock, requests)

    def _reconnect(self) -> None:
        """The owner's session again if the database dropped it (a restart ends every session, and the owner
        lock with it); a StoreUnavailable while it cannot be had."""
        if not (self._owner.closed or self._owner.broken):
            try:
                self._owner.execute("SELECT 1")
                return
            except psycopg.Error:
                self._owner.close()
        try:
            owner = connect(self.url)
        except StoreError as error:
            raise StoreUnavailable(str(error)) from None
        try:
            _take_ownership(owner, self.url)
        except (StoreError, psycopg.Error) as error:
            owner.close()
            raise StoreUnavailable(str(error)) from None
        self._owner = owner

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for reads; its failures as a StoreError naming the (masked) URL (a
        StoreUnavailable when the database cannot be reached)."""
        try:
            with self._pool.connection() as connection:
                yield connection
        except psycopg.OperationalError as error:
            raise StoreUnavailable(unavailable(self.url, error)) from error
        except psycopg.Error as error:
            raise StoreError(f"could not read the sandbox from {shown(self.url)}: {one_line(error)}") from error


def inspect(url: str) -> tuple[int, Optional[ClockState]]:
    """(orders held, saved clock or None) of a sandbox database, migrated if new, without loading it; a
    StoreError for one that cannot be opened or is owned by another sandbox (`otacm mock` checks before it serves)."""
    connection = connect(url)
    try:
        _take_ownership(connection, url)  # released with the session, before the server's worker opens the store
        _migrate(connection, url)
        return _value(connection, "count_orders"), _saved_clock(connection)
    except psycopg.Error as error:
        raise StoreError(f"could not read the sandbox from {shown(url)}: {one_line(error)}") from None
    finally:
        connection.close()


def describe(url: str) -> str:
    """What the banner says of a sandbox database (its password masked)."""
    return f"in PostgreSQL {shown(url)} (kept across restarts)"


# -- writing ------------------------------------------------------------------------
def _write_unit(cursor: psycopg.Cursor[Any], unit: Unit) -> None:
    """The SQLite store's order of writes: orders, then steps and records as they happened, then the request log,
    then counters, clock."""
    if unit.cleared:
        cursor.execute(Q["delete_all_orders"])
    if unit.removed:
        cursor.executemany(Q["delete_order"], [(order_id,) for order_id in unit.removed])
    if unit.orders:
        cursor.executemany(Q["upsert_order"], [order_row(order) for order in unit.orders.values()])
    for name, parameters in unit.ops:
        cursor.execute(Q[name], parameters)
    for name, parameters in request_ops(unit):
        cursor.execute(Q[name], parameters)
    if unit.counters:
        cursor.executemany(Q["upsert_counter"], list(unit.counters.items()))
    if unit.clock is not None:
        cursor.execute(Q["upsert_clock"], (unit.clock.offset, unit.clock.frozen_at))


def _saved_clock(connection: psycopg.Connection[Any]) -> Optional[ClockState]:
    """The clock's one row, or None for a sandbox that has not saved one yet (a new store)."""
    row = connection.execute(Q["saved_clock"]).fetchone()
    return None if row is None else ClockState(float(row[0]), None if row[1] is None else float(row[1]))


# -- opening ------------------------------------------------------------------------
def _take_ownership(connection: psycopg.Connection[Any], url: str) -> None:
    """Hold OWNER_LOCK for this session's life, or refuse: the read side is one process's memory, so two
    sandboxes on one database would each serve what the other no longer holds."""
    if not _value(connection, "take_owner_lock", OWNER_LOCK):
        raise StoreError(f"{shown(url)} is in use by another otacm mock: one process owns a sandbox database "
                         "for now (sharing one across workers is coming, issue 20); stop the other one, or give "
                         "this one another database")


def _migrate(connection: psycopg.Connection[Any], url: str) -> None:
    """Apply the numbered migrations the database does not have yet, in one transaction under the migration lock
    (a concurrent start waits, then finds them applied); refuse a schema from a newer otacm or not ours."""
    known = migrations("postgresql")
    try:
        with connection.transaction():
            connection.execute(Q["lock_migrations"], MIGRATION_LOCK)
            version = _schema_version(connection, url)
            if version > known[-1][0]:
                raise StoreError(f"{shown(url)} was written by a newer otacm (schema {version}, this one knows up "
                                 f"to {known[-1][0]}); upgrade otacm or name another database")
            for number, sql in known:
                if number > version:
                    connection.execute(sql)  # several statements: without parameters psycopg sends them as one query
                    connection.execute(Q["record_migration"], (number,))
    except psycopg.Error as error:
        raise StoreError(f"could not set up the sandbox's tables in {shown(url)} ({one_line(error)}); the user "
                         "needs the right to create a schema there, or name another database") from None


def _schema_version(connection: psycopg.Connection[Any], url: str) -> int:
    row = connection.execute(Q["schema_state"]).fetchone()
    has_schema, has_versions = row if row is not None else (False, False)
    if has_schema and not has_versions:
        raise StoreError(f"{shown(url)} has a schema `otacm` that is not an otacm sandbox's; name another database")
    return int(_value(connection, "schema_version")) if has_versions else 0


def _value(connection: psycopg.Connection[Any], name: str, parameters: tuple[Any, ...] = ()) -> Any:
    """The one value a named query answers."""
    row = connection.execute(Q[name], parameters).fetchone()
    return None if row is None else row[0]


