"""Connections to a sandbox database: the URL with otacm's defaults, a connection of the store's own, the pool,
the schema's numbered migrations, and what went wrong said in one line with what to do (store/postgresql.py
uses them)."""

from __future__ import annotations

from typing import Any, Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from mockserver.store.base import StoreError
from mockserver.store.queries import migrations, queries
from mockserver.store.urls import shown

CONNECT_TIMEOUT = 5  # seconds; a URL's own connect_timeout wins
POOL_SIZE = (1, 4)  # (min, max) connections per process (loads, the request log), besides the session and units ones
POOL_TIMEOUT = 3.0  # seconds a unit waits for a pooled connection before it fails (units take turns: longer is an outage)
# application_name: who is who in pg_stat_activity
APPLICATION_ID = 0x6F74636D  # "otcm", as the SQLite store's application_id: the advisory locks' first key
MIGRATION_LOCK = (APPLICATION_ID, 0)  # held by the transaction that migrates
Q = queries("postgresql")
OWNER_NAME, UNITS_NAME, POOL_NAME = "otacm mock (session)", "otacm mock (units)", "otacm mock"


def connect(url: str, name: str = "") -> psycopg.Connection[Any]:
    """A connection of its own, in autocommit: the session (the worker lock, the migrations, the epoch reads) or the
    one a process's units are written on (which sends its own BEGIN and COMMIT)."""
    try:
        return psycopg.connect(_conninfo(url, name or OWNER_NAME), autocommit=True)
    except psycopg.Error as error:
        raise StoreError(cannot_connect(url, error)) from None


def open_pool(url: str) -> ConnectionPool:
    """The pool the units are written and the reads made through, its first connection made now."""
    pool = ConnectionPool(_conninfo(url, POOL_NAME), min_size=POOL_SIZE[0], max_size=POOL_SIZE[1], timeout=POOL_TIMEOUT,
                          name="otacm", open=False, check=ConnectionPool.check_connection)
    try:
        pool.open(wait=True, timeout=POOL_TIMEOUT)
    except psycopg.Error as error:
        pool.close()
        raise StoreError(cannot_connect(url, error)) from None
    return pool


def _conninfo(url: str, application: str) -> str:
    """The URL with this program's defaults (a connect timeout, an application name) where it sets none."""
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise StoreError(f"{shown(url)} is not a PostgreSQL URL ({one_line(error)}); write it as "
                         "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE") from None
    defaults: dict[str, str | int] = {"connect_timeout": CONNECT_TIMEOUT, "application_name": application}
    return make_conninfo(url, **{key: value for key, value in defaults.items() if key not in given})


def unavailable(url: str, error: Exception) -> str:
    """What a request is told while the database is out of reach."""
    return (f"the sandbox's database {shown(url)} cannot be reached ({one_line(error)}); nothing was changed: "
            "retry once it is back (the sandbox reconnects by itself)")


# -- what went wrong, in one line ---------------------------------------------------
def cannot_connect(url: str, error: psycopg.Error) -> str:
    """Why a connection failed and what to do, naming the URL with its password masked."""
    why = one_line(error)
    lowered = why.lower()
    if "authentication failed" in lowered or "password" in lowered:
        hint = "check the user and password in the URL (PGPASSWORD and ~/.pgpass work too)"
    elif "database" in lowered and "does not exist" in lowered:
        hint = "create it (createdb, or CREATE DATABASE) or name another database"
    elif "role" in lowered and "does not exist" in lowered:
        hint = "create that user or name another one"
    elif isinstance(error, psycopg.ProgrammingError):
        hint = "write it as postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
    else:
        hint = "is the server running, and are the host and port right?"
    return f"cannot connect to {shown(url)} ({why}); {hint}"


def one_line(error: BaseException) -> str:
    """psycopg's message on one line: its first line that says something, without libpq's prefixes."""
    lines = [" ".join(line.split()) for line in str(error).splitlines()]
    useful = [line for line in _without_noise(lines) if line]
    if not useful:
        return type(error).__name__
    text = useful[-1] if useful[0].endswith(":") and len(useful) > 1 else useful[0]  # a list of attempts: the last
    for prefix in ("connection failed: ", "- "):
        text = text.removeprefix(prefix)
    return text.replace("FATAL: ", "")


def _without_noise(lines: list[str]) -> Iterator[str]:
    for line in lines:
        if not line.startswith(("Is the server running", "HINT:", "DETAIL:")):
            yield line


def migrate(connection: psycopg.Connection[Any], url: str) -> None:
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
    if not has_versions:
        return 0
    row = connection.execute(Q["schema_version"]).fetchone()
    return int(row[0]) if row is not None else 0
