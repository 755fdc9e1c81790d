"""The backend's units of work: what every operation runs in (`atomic`, `reading`).

A unit takes the backend's lock, then a store transaction; a durable store
writes the unit whole at its end. A store shared by several processes
(PostgreSQL, issue 20) adds one step at the start: a unit that may write
takes the sandbox's lock, which every process takes (`Store.hold`), a read
only catches up (`Store.refresh`); either way the store replays what other
processes wrote, and the backend follows it (`follow`, in snapshots.py)
before the unit looks at anything. A read that turns out to write (a step
came due) takes the sandbox lock at that point, before it changed anything:
`catch_up` does.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from types import TracebackType
from typing import Optional, Protocol

from mockserver.store.base import Replayed, Store

#: When the request a unit serves reached this process (`time.monotonic()`): set around the app's call by the HTTP
#: front that knows it (front.py, granian's), None elsewhere (the ticker's units, the in-process servers). A read
#: may then stand on a look at the shared store taken after it, without one of its own (`Store.refresh`).
ARRIVED: ContextVar[Optional[float]] = ContextVar("otacm_arrived", default=None)


class Owner(Protocol):
    """What a unit needs of the backend (backend.py), named here so this module does not import it."""

    lock: threading.RLock
    store: Store

    def recover(self) -> None: ...

    def follow(self, replayed: Replayed) -> None: ...


class Unit:
    """`atomic()`'s and `reading()`'s context manager; one of each per backend, reused (re-entrant, it keeps no
    state of a call). A generator-based one cost ~2.3 µs per use on every request (issue 19)."""

    __slots__ = ("_backend", "_writes")

    def __init__(self, backend: Owner, writes: bool) -> None:
        self._backend = backend
        self._writes = writes

    def __enter__(self) -> None:
        backend = self._backend
        backend.lock.acquire()
        try:
            store = backend.store
            if store.stale:  # an earlier unit could not reach the database
                backend.recover()
            unit = store.transaction()
            unit.__enter__()
            try:
                replayed = store.hold() if self._writes else store.refresh(ARRIVED.get())
                if replayed is not None:
                    backend.follow(replayed)
            except BaseException:
                unit.__exit__(None, None, None)  # nothing done yet: nothing written, the sandbox lock let go
                raise
        except BaseException:
            backend.lock.release()
            raise

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException],
                 trace: Optional[TracebackType]) -> None:
        backend = self._backend
        try:
            backend.store.transaction().__exit__(kind, error, trace)
        finally:
            backend.lock.release()
