"""Where the sandbox's state lives: one interface (base.py), one module per engine.

A store is named by a URL: `memory` (the default: in this process, lost on
exit) or `sqlite:PATH` (one file on this host, kept across restarts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from mockserver.store import sqlite
from mockserver.store.base import ClockState, Store, StoreError
from mockserver.store.memory import MemoryStore
from mockserver.store.sqlite import SQLiteStore

STORE_URLS = "memory, or sqlite:PATH (e.g. sqlite:sandbox.db)"


@dataclass(frozen=True)
class StoreInfo:
    """What the banner says of a store before the sandbox opens it."""

    description: str
    orders: int = 0
    clock: Optional[ClockState] = None  # the saved clock of an existing store


def inspect_store(url: str) -> StoreInfo:
    """Check a store URL and look at what it holds (a StoreError says what is wrong)."""
    engine, _, rest = url.partition(":")
    if url == "memory":
        return StoreInfo(MemoryStore.description)
    if engine == "sqlite" and rest:
        orders, clock = sqlite.inspect(rest)
        return StoreInfo(sqlite.describe(rest), orders, clock)
    raise StoreError(f"unknown store {url!r}: use {STORE_URLS}")


def open_store(url: str) -> Store:
    """The store a URL names; a StoreError says what is wrong with it."""
    engine, _, rest = url.partition(":")
    if url == "memory":
        return MemoryStore()
    if engine == "sqlite" and rest:
        return SQLiteStore(rest)
    raise StoreError(f"unknown store {url!r}: use {STORE_URLS}")


__all__ = ["STORE_URLS", "MemoryStore", "SQLiteStore", "Store", "StoreError", "StoreInfo", "inspect_store", "open_store"]
