"""The one interface the backend keeps its state behind.

A store holds the orders (each with its status history) and their indexes,
the id counters, the clock's state, the schedule's data steps and the
webhook side's records (subscriptions, deliveries, held events) and the
request log (bounded, newest kept; see mockserver/api/request_log.py). The backend
calls it only inside `transaction()`, under its own lock, so every change of
one operation (a request, a pickup, a warp) is one atomic unit: all of it
is written, or none. A durable store writes at the end of that unit what the
unit changed (`add`, `set_status`, `save` and `remove` mark an order; steps
come through the schedule's journal) and gives it all back when opened again.

Implementations: `memory` (nothing survives the process), `sqlite` (one
file; see sqlite.py) and `postgresql` (a database; see postgresql.py), the
last two on writethrough.py. `open_store` in __init__.py picks one by URL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Optional, Sequence

from mockserver.sandbox.models import Order, Scope
from mockserver.sandbox.schedule import Event


@dataclass(frozen=True)
class ListQuery:
    statuses: frozenset[str] = frozenset()
    reference: str = ""  # upper-cased
    received_from: Optional[float] = None
    received_to: Optional[float] = None
    after_seq: int = -1  # the page key: the last seq already returned
    page_size: int = 20000


@dataclass(frozen=True)
class ClockState:
    """The sandbox clock as it can be written down: an offset from real time, or a frozen instant."""

    offset: float
    frozen_at: Optional[float]


@dataclass(frozen=True)
class SavedStep:
    """A data step of the schedule as a store keeps it (see sandbox/schedule.py)."""

    due: float
    kind: str
    subject: str
    generation: int


@dataclass
class Replayed:
    """What other processes sharing the store changed, now in this one's read side (a shared store's `hold` and
    `refresh`): what the backend derives from the store must follow (the clock, the schedule, the capacity sold,
    the webhook side). `reload`: too much to replay one by one (a reset, a snapshot loaded, units pruned before
    this process read them): the read side was loaded again whole, and the backend stands on it as a start does."""

    reload: bool = False
    clock: Optional[ClockState] = None
    steps: list[tuple[bool, SavedStep]] = field(default_factory=list)  # (queued, else done), in the order they happened
    record_kinds: set[str] = field(default_factory=set)  # the kinds of records changed


class LoggedRequest(NamedTuple):
    """The fields of one API request as the request log keeps it, in the order of a `RequestRow`: the stores
    hold plain tuples of scalars (the cyclic GC stops tracking those; it scans a NamedTuple for ever), and
    `LoggedRequest._make(row)` reads one by name. The log (mockserver/api/request_log.py) builds them."""

    id: int  # increasing, never reused while the store holds an older one
    at: float  # wall clock, POSIX seconds
    sandbox_at: float  # the sandbox clock, POSIX seconds
    method: str
    path: str  # as sent, percent-encoding kept
    query: str  # the raw query string, "" if none
    operation: Optional[str]  # operationId; None when no route matched
    partner_id: Optional[str]  # the one the request named (path, body); an answer's is found when read
    order_id: Optional[str]
    status: int
    code: Optional[str]  # the error body's; None on success
    message: Optional[str]
    latency_ms: float
    request_headers: str  # a JSON object, the API key masked
    request_body: bytes  # cut at the log's limit
    request_truncated: bool
    response_body: bytes
    response_truncated: bool
    client: str  # the caller's address (`otacm mock --log`'s lines), "-" if unknown


#: a logged request as a store keeps it: LoggedRequest's fields, in order, in a plain tuple (its id first)
RequestRow = tuple[Any, ...]


class Store(ABC):
    """Orders, their indexes, the id counter, the clock and the schedule's steps."""

    #: what the banner says of where state lives
    description: str = ""
    #: whether the state outlives the process
    durable: bool = False
    #: a unit could not reach the database (StoreUnavailable): the read side holds what the database may not,
    #: so the backend has the store `reload` before its next unit
    stale: bool = False
    #: other processes may change the state too (PostgreSQL, issue 20): a unit first takes the sandbox's lock
    #: (`hold`), a read first catches up (`refresh`)
    shared: bool = False
    #: this process among those sharing the store (a worker number, unique while it lives); 0 when not shared
    worker: int = 0

    # -- units of work --------------------------------------------------------------
    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit; re-entrant (an inner unit joins the outer one)."""

    @abstractmethod
    def after_unit(self, action: Callable[[], None]) -> None:
        """Run `action` once the current outermost unit is written (at once outside a unit; never if the
        write fails): what tells the outside world of a change (a webhook POST) must not run before a
        `kill -9` can no longer undo that change."""

    # -- orders ---------------------------------------------------------------------
    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def add(self, order: Order) -> None: ...

    @abstractmethod
    def get(self, order_id: str) -> Optional[Order]: ...

    @abstractmethod
    def find_by_reference(self, scope: Scope, partner_id: str, reference: str) -> Optional[Order]: ...

    @abstractmethod
    def set_status(self, order: Order, status: str) -> None: ...

    @abstractmethod
    def save(self, order: Order) -> None:
        """The order changed in place (its lines, wallets, header): write it with this unit."""

    @abstractmethod
    def in_status(self, status: str) -> list[Order]:
        """A snapshot, oldest first in that status, safe to change while iterating."""

    @abstractmethod
    def count_in(self, statuses: Iterable[str]) -> int: ...

    @abstractmethod
    def remove(self, order: Order) -> None: ...

    @abstractmethod
    def all(self) -> Iterator[Order]: ...

    @abstractmethod
    def page(self, scope: Scope, partner_id: str, query: ListQuery) -> tuple[list[Order], bool]:
        """One page of a partner's orders in arrival order, and whether more follow."""

    @abstractmethod
    def newest_first(self, partner_id: str = "", statuses: frozenset[str] = frozenset(), reference: str = "",
                     before_seq: Optional[int] = None) -> Iterator[Order]:
        """Every scope's orders, newest first, filtered (the dashboard)."""

    @abstractmethod
    def clear(self, partner_id: Optional[str] = None) -> list[Order]:
        """Forget every order (or one partner's); returns what was removed."""

    # -- counters, clock, schedule --------------------------------------------------
    @abstractmethod
    def take_seq(self) -> int:
        """The next order sequence number (arrival order and page keys); never reused."""

    @abstractmethod
    def take_number(self, counter: str) -> int:
        """The next number of a named counter (e.g. delivery ids), from 1; never reused."""

    @abstractmethod
    def counters(self) -> dict[str, int]:
        """Every counter's last number taken (what a snapshot writes down)."""

    @abstractmethod
    def set_counter(self, counter: str, value: int) -> None:
        """Continue a counter after `value` (a snapshot loaded): its next number is value + 1."""

    # -- records: the webhook side's state, by kind (subscriptions, deliveries, held events)
    @abstractmethod
    def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        """Keep (or replace) a record with this unit."""

    @abstractmethod
    def drop_record(self, kind: str, key: str) -> None: ...

    @abstractmethod
    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every record of a kind, oldest first."""

    @abstractmethod
    def clear_records(self, kind: str) -> None: ...

    @abstractmethod
    def record_kinds(self) -> list[str]:
        """The kinds the store holds records of (a snapshot writes them all down)."""

    # -- the request log: not part of a snapshot, kept by a reset (`/_mock/reset` forgets orders, not calls)
    @abstractmethod
    def log_requests(self, requests: Sequence[RequestRow], keep: int) -> None:
        """Keep these requests (ids increasing, above every one kept) with this unit, then only the newest
        `keep` of all (0: none); an empty `requests` just trims to `keep`."""

    @abstractmethod
    def write_requests(self) -> None:
        """Write the requests logged since the last call where the store keeps them (a durable store's
        database, the bound trimmed in the same transaction), called outside any unit and without the
        backend's lock (the log's writer, after the unit that logged them): no request waits for the log's
        writes. A StoreError if they could not be written (they stay in the read side)."""

    def take_request_ids(self, count: int) -> Optional[int]:
        """The first of `count` consecutive request ids for the log, where other processes log into the same store
        (each then has ids of its own); None: the log numbers its requests itself."""
        return None

    @abstractmethod
    def logged_requests(self) -> Sequence[RequestRow]:
        """The requests kept, oldest first: a live view, read under the backend's lock."""

    @abstractmethod
    def last_request_id(self) -> int:
        """The highest id logged (0 for none): the log's ids continue from it after a restart."""

    @abstractmethod
    def clear_requests(self) -> None:
        """Forget every logged request (`DELETE /_mock/requests`); ids still continue."""

    @abstractmethod
    def saved_clock(self) -> Optional[ClockState]:
        """The clock as last saved, or None for a new store."""

    @abstractmethod
    def save_clock(self, state: ClockState) -> None: ...

    @abstractmethod
    def saved_steps(self) -> list[SavedStep]:
        """The schedule's data steps still pending, in due order."""

    @abstractmethod
    def step_queued(self, event: Event) -> None: ...

    @abstractmethod
    def step_done(self, event: Event) -> None: ...

    @abstractmethod
    def clear_steps(self) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Release the store's resources (a file, a connection)."""

    def hold(self) -> Optional[Replayed]:
        """At the start of a unit that may write (the backend's `atomic`): take the lock every process sharing the
        store takes, held until the unit is written, and catch up on what the others wrote. None: nothing changed
        (and, for a store no other process writes, nothing to hold)."""
        return None

    def refresh(self, arrived: Optional[float] = None) -> Optional[Replayed]:
        """At the start of a read (the backend's `reading`): catch up on what other processes wrote, without the
        lock. None: nothing changed. `arrived`: when the request the read serves reached this process
        (`time.monotonic()`), if known: what was committed before then is what it must see."""
        return None

    def worker_alive(self, worker: int) -> bool:
        """Whether the process with this worker number still runs (a shared store: its session is open); what it
        had queued to send is taken over once it is not."""
        return worker == self.worker

    def reload(self) -> None:
        """The read side again from where the state lives, once `stale` (a StoreUnavailable while it is still
        out of reach). Nothing to do for a store that is its own read side."""
        self.stale = False


class StoreError(Exception):
    """A store that cannot be opened or written; the message says why and what to do."""


class StoreUnavailable(StoreError):
    """The store's database cannot be reached now (down, restarting, the network): the unit was not carried
    out, and the API answers a flat 503 until it can be reached again (issue 20)."""
