"""How a unit of work reaches PostgreSQL (store/postgresql.py's `hold` and `commit`): few round trips, little CPU.

A createOrder on a shared sandbox (issue 20) spent more CPU in psycopg's
cursor and pipeline machinery than on the order itself: ~150 µs to take the
sandbox lock and ~110 µs to send a one-order unit, against ~17 µs for the
memory store's whole create. And every microsecond spent holding the lock is
one no other process can write in. So:

- The hold is one simple query through libpq itself (`simple`): BEGIN, the
  lock, the units after this process's epoch. libpq waits without the GIL.
- A small unit (a create, a confirm, a step or two) goes the same way: its
  statements bound client-side (psycopg's `ClientCursor.mogrify`, psycopg's
  own quoting) into one simple query that ends with COMMIT, so the server
  lets the lock go as soon as it has run it.
- A large unit (a warp settling thousands of orders) is pipelined through
  psycopg, also ending with COMMIT: psycopg's pipeline sends and reads at
  once, so megabytes never wait on a full socket, and each statement is one
  prepared statement run many times, where a simple query would parse every
  row's statement anew.
- The statements a small unit runs are prepared once per connection
  (`prepare`, SQL `PREPARE`/`EXECUTE`): planned anew in every simple query,
  they cost the server ~100 µs more per createOrder, most of it while the
  sandbox lock is held.
- psycopg's own `rollback()` is never used on the units' connection: once
  psycopg has prepared statements of its own (a large unit's pipeline), it
  deallocates them all on rollback, `prepare`'s too (postgresql.py sends
  ROLLBACK itself, or closes the connection after a failed unit).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Optional

import psycopg
from psycopg.errors import error_from_result
from psycopg.pq import ConnStatus, Escaping, ExecStatus
from psycopg.pq.abc import PGresult

from mockserver.store.queries import queries
from mockserver.store.writethrough import Unit, request_ops

Q = queries("postgresql")
SMALL_UNIT = 64  # statements: up to this many, a unit is written as one simple query (`write_unit`)
Statements = list[tuple[str, list[tuple[Any, ...]]]]  # (named query, the parameters of each time it runs)
PREPARED = ("units_after", "upsert_order", "delete_order", "insert_step", "delete_step", "upsert_counter",
            "upsert_clock", "upsert_record", "delete_record", "insert_unit")  # what a unit of a few orders runs
_CALLS = MappingProxyType({name: f"EXECUTE otacm_{name}({', '.join(['%s'] * Q[name].count('%s'))});"
                           for name in PREPARED})


def _numbered(query: str) -> str:
    """A named query's `%s` placeholders as PREPARE's `$1`, `$2`, ..., without its final `;`."""
    parts = query.rstrip().rstrip(";").split("%s")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


def hold_units(connection: psycopg.Connection[Any], lock: tuple[int, int], after: int) -> list[tuple[int, bytes]]:
    """Begin the unit's transaction, take the sandbox lock, and read the units numbered after `after`: one round
    trip, on a connection `prepare` prepared. The numbers are integers, written into the text as such."""
    text = Q["begin_locked"] % (int(lock[0]), int(lock[1])) + _CALLS["units_after"] % int(after)
    result = simple(connection, text.encode())
    unescape = Escaping().unescape_bytea  # the text form of bytea, hex or escape (the server's bytea_output)
    return [(int(result.get_value(row, 0) or 0), unescape(result.get_value(row, 1) or b""))
            for row in range(result.ntuples)]


def prepare(connection: psycopg.Connection[Any]) -> None:
    """The statements units run most, prepared on the units' connection once (`PREPARE`): a simple query is
    otherwise planned statement by statement, ~100 µs of the server's time a createOrder, most of it while the
    sandbox lock is held. `hold_units` and `write_unit` then call them (`EXECUTE`)."""
    text = "".join(f"PREPARE otacm_{name} AS {_numbered(Q[name])};" for name in PREPARED)
    simple(connection, text.encode())


def write_unit(connection: psycopg.Connection[Any], statements: Statements) -> None:
    """A held unit's statements (`numbered`: they end with COMMIT), on a connection `prepare` prepared: one simple
    query when small, pipelined when large."""
    if sum(len(runs) for _, runs in statements) > SMALL_UNIT:
        write_pipelined(connection, statements)
        return
    binding = psycopg.ClientCursor(connection)
    text = "\n".join(binding.mogrify(_CALLS.get(name) or Q[name], parameters)
                     for name, runs in statements for parameters in runs)
    simple(connection, text.encode())


def write_pipelined(connection: psycopg.Connection[Any], statements: Statements) -> None:
    """Statements through psycopg's pipeline: parameters sent as they are (binary), results read while sending. A
    large unit's way, and the request log's (its chunks of rows are written by a thread of their own, under no
    lock; as a simple query's text they would only double in size)."""
    with connection.pipeline(), connection.cursor() as cursor:
        for name, runs in statements:
            if len(runs) == 1:
                cursor.execute(Q[name], runs[0])
            else:
                cursor.executemany(Q[name], runs)


def unit_statements(unit: Unit, rows: list[tuple[Any, ...]]) -> Statements:
    """The SQLite store's order of writes: orders (`rows`, as replay.order_rows made them), then steps and records as
    they happened, then the request log, counters, clock."""
    statements: Statements = []
    if unit.cleared:
        statements.append(("delete_all_orders", [()]))
    if unit.removed:
        statements.append(("delete_order", [(order_id,) for order_id in unit.removed]))
    if unit.orders:
        statements.append(("upsert_order", rows))
    statements.extend((name, [parameters]) for name, parameters in [*unit.ops, *request_ops(unit)])
    if unit.counters:
        statements.append(("upsert_counter", list(unit.counters.items())))
    if unit.clock is not None:
        statements.append(("upsert_clock", [(unit.clock.offset, unit.clock.frozen_at)]))
    return statements


def numbered(statements: Statements, epoch: int, body: bytes, prune_to: Optional[int]) -> Statements:
    """A held unit's writes, then its copy for the other processes, the copies pruned every so often, and COMMIT
    (which lets the sandbox lock go)."""
    ending: Statements = [("insert_unit", [(epoch, body)])]
    if prune_to is not None:
        ending.append(("prune_units", [(prune_to,)]))
    return [*statements, *ending, ("commit_unit", [()])]


def simple(connection: psycopg.Connection[Any], text: bytes) -> PGresult:
    """One simple query (statements separated by `;`, one round trip) through libpq, which waits without the GIL;
    its last statement's result. A statement that fails stops the rest: the error, as psycopg raises it."""
    result = connection.pgconn.exec_(text)
    if result.status == ExecStatus.FATAL_ERROR:
        if connection.pgconn.status == ConnStatus.BAD:  # the server went away
            raise psycopg.OperationalError(result.get_error_message(connection.info.encoding))
        raise error_from_result(result, connection.info.encoding)
    return result
