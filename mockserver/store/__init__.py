"""Where the sandbox's state lives: one interface (base.py), one module per engine.

A store is named by a URL: `memory` (the default: in this process, lost on
exit), `sqlite:PATH` (one file on this host, kept across restarts) or
`postgresql://USER@HOST:PORT/DATABASE` (a database, kept across restarts).
PostgreSQL needs psycopg (the `postgresql` extra): its module is imported
only when such a URL is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Optional

from mockserver.store import sqlite
from mockserver.store.base import ClockState, Store, StoreError
from mockserver.store.memory import MemoryStore
from mockserver.store.sqlite import SQLiteStore
from mockserver.store.urls import STORE_URLS, is_postgresql, shown


@dataclass(frozen=True)
class StoreInfo:
    """What the banner says of a store before the sandbox opens it."""

    description: str
    orders: int = 0
    clock: Optional[ClockState] = None  # the saved clock of an existing store
    shared: bool = False  # several processes may serve it as one sandbox (PostgreSQL: `otacm mock --workers N`)


def inspect_store(url: str) -> StoreInfo:
    """Check a store URL and look at what it holds (a StoreError says what is wrong)."""
    engine, _, rest = url.partition(":")
    if url == "memory":
        return StoreInfo(MemoryStore.description)
    if engine == "sqlite" and rest:
        orders, clock = sqlite.inspect(rest)
        return StoreInfo(sqlite.describe(rest), orders, clock)
    if is_postgresql(url):
        postgresql = _postgresql()
        orders, clock = postgresql.inspect(url)
        return StoreInfo(postgresql.describe(url), orders, clock, shared=True)
    raise StoreError(f"unknown store {shown(url)!r}: use {STORE_URLS}")


def open_store(url: str) -> Store:
    """The store a URL names; a StoreError says what is wrong with it."""
    engine, _, rest = url.partition(":")
    if url == "memory":
        return MemoryStore()
    if engine == "sqlite" and rest:
        return SQLiteStore(rest)
    if is_postgresql(url):
        store: Store = _postgresql().PostgreSQLStore(url)
        return store
    raise StoreError(f"unknown store {shown(url)!r}: use {STORE_URLS}")


def _postgresql() -> ModuleType:
    """The PostgreSQL engine, or a StoreError saying how to install its driver."""
    try:
        from mockserver.store import postgresql
    except ModuleNotFoundError as error:
        if error.name not in ("psycopg", "psycopg_pool"):
            raise
        raise StoreError(f"PostgreSQL needs {error.name} (pip install 'otacm[postgresql]')") from None
    return postgresql


__all__ = ["STORE_URLS", "MemoryStore", "SQLiteStore", "Store", "StoreError", "StoreInfo", "inspect_store",
           "open_store", "shown"]
