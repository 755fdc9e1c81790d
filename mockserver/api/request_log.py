"""The request log (issue 21): every API request the sandbox answered, kept in its store.

Only API requests: `urls.Gateway` captures each one it dispatches, and never
the dashboard's or the `/_mock/` control API's (nor the log's own reads).
On the request's thread a capture is one tuple of what the row needs
(scalars: clock readings, the bodies, the header values, status, route)
appended to a deque. A move numbers what is pending, builds the rows
(`RequestRow`: the headers' JSON, the path, what the bodies say) and puts
them into the store's read side as one unit of work (`backend.atomic()`;
the store keeps the newest `limit`, store/base.py). Who moves, when:

- on the memory store with nothing to print, only a read does: the
  captures wait in a deque bounded by `limit`, with no writer thread;
- else granian's front, once BATCH are pending, on its thread after it
  handed an answer to granian (`after_answer`); and a writer thread every
  FLUSH_SECONDS unless the front moved a batch meanwhile; every
  WRITE_SECONDS the writer has a durable store write the rows moved since
  and still kept to its database, outside the backend's lock (a `kill -9`
  loses the last WRITE_SECONDS of the log, never an order). Rows the bound
  dropped before that are never written: at 10,000 requests a second, with
  the default bound, a write every second wrote three times what a write
  every three seconds does, for a log that keeps only the last 10,000.

So no API request ever waits for a log write. A read (`entries`, `entry`:
the control API, the dashboard) first moves what is pending, so a request
is visible as soon as it was answered. `otacm mock --log` lines are printed
by a move.

The split was chosen by measurement (bench section 9): holding the request's
objects (environ, response) for the writer kept them alive past the cyclic
GC's young generation (~24 % of getOrder's throughput); building the whole
row on the request's thread cost ~15 %; capturing scalars and building the
row in the writer, ~10-12 % (unpinned runs, noisy). The writer is no longer
woken every 500 requests to take the GIL from the request's thread; with
the bench pinned (section 9) the log costs memory 6.7 %, SQLite 13.1 %.

Reading it (the filters, the pages, what an entry and a `--log` line show)
is request_entries.py's.

The log is not part of a snapshot (store/snapshot.py) and `/_mock/reset`
keeps it; `clear` (`DELETE /_mock/requests`) empties it, and ids go on
increasing, also across restarts of a durable store.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import deque
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Optional, TextIO
from urllib.parse import quote

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from mockserver.api.answer import JsonAnswer
from mockserver.api.request_entries import entry_of, found_by_id, matcher, newest, summary, text_line, value_in
from mockserver.sandbox.backend import ChannelManagerBackend
from mockserver.store.base import LoggedRequest, RequestRow, StoreError, StoreUnavailable

FLUSH_SECONDS = 0.2  # the writer's period
WRITE_SECONDS = 3.0  # how often it has a durable store write what it moved and still keeps (one transaction)
BATCH = 500  # pending captures the front moves at once, after an answer (not on the memory store)
BODY_LIMIT = 16 * 1024  # bytes of each body kept; the rest is cut (…Truncated: true)
MASKED_HEADERS = frozenset({"x-np-api-key", "authorization"})  # kept as their first 4 characters + "…"
PRINT_FORMATS = ("text", "json")
PLANS_KEPT = 256  # sets of environ keys, and of header values, whose work is remembered (then started over)
_PARTNER = re.compile(rb'"partnerId"\s*:\s*"([^"\\]{1,100})"')
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]*")  # a path segment percent-encoding leaves as it is
_HEADER_KEYS = MappingProxyType({"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"})

# A request as captured on its thread: (time(), sandbox time, latency in s, method, RAW_URI or REQUEST_URI or
# None, PATH_INFO, query string, client, header names, request body, status, response body, operationId, the
# path's partnerId and orderId, then the header values): scalars and one long-lived tuple (the names) only, so
# the cyclic GC stops tracking it at its first pass (a nested tuple of the values kept a fifth of them tracked
# into the older generations); a move makes its row (RequestLog._row).
Captured = tuple[Any, ...]
_VALUES_AT = 15  # where a capture's header values start

# (the header names, what takes their values out of an environ) for one set of environ keys
Plan = tuple[tuple[str, ...], Callable[[dict[str, Any]], tuple[str, ...]]]


class RequestLog:
    """One app's request log: capture, moves, the writer thread, and its reads (request_entries.py does the
    filtering and the shaping). `limit` 0: nothing is kept;
    `capturing` False (the log off and nothing to print): `Gateway` does not even capture."""

    def __init__(self, backend: ChannelManagerBackend, limit: int, operations: Iterable[str],
                 print_format: Optional[str] = None, out: Optional[TextIO] = None, capturing: bool = True) -> None:
        if print_format not in (None, *PRINT_FORMATS):
            raise ValueError(f"the request log prints {' or '.join(PRINT_FORMATS)}, not {print_format!r}")
        self.limit = max(0, limit)
        self.operations = frozenset(operations)
        self.print_format = print_format
        self.capturing = capturing and (self.limit > 0 or print_format is not None)
        self._backend = backend
        self._clock = backend.clock
        self._out = out
        # A store that keeps nothing past the process (memory), and nothing to print: the captures wait, at
        # most `limit` of them (the deque drops the oldest), and become rows only when the log is read; no
        # writer. Else the front and the writer move them in batches.
        self._deferred = not backend.store.durable and print_format is None
        self._pending: deque[Captured] = deque(maxlen=self.limit if self._deferred else None)
        self._captured = 0  # captures since the last move, those the bound dropped too (their ids are skipped)
        self._writer_due = not self._deferred  # the writer is started by the first capture
        self._plans: dict[tuple[str, ...], Plan] = {}
        self._header_texts: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
        self._encoded_heads: dict[str, str] = {}
        self._flushing = threading.Lock()  # one flush at a time: ids and printed lines stay in order
        self._wake = threading.Event()
        self._pumped = False  # the front moved a batch (after_answer) since the writer's last round
        self._starting = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._stopped = False
        with backend.atomic():  # a store kept from a run with a larger bound: within this one's now
            backend.store.log_requests((), self.limit)
            self._next_id = backend.store.last_request_id() + 1
        backend.store.write_requests()

    # -- on the request thread -----------------------------------------------------------------
    def capture(self, request: Request, answer: JsonAnswer, operation_id: Optional[str],
                params: Optional[Mapping[str, str]], started: float) -> None:
        """One API request answered (`started`: its `time.perf_counter()` on arrival), appended for the writer:
        only what cannot wait (the clocks, the body as read) and scalars, never the request's objects."""
        latency = time.perf_counter() - started
        environ = request.environ
        keys = tuple(environ)
        plan = self._plans.get(keys) or self._plan(keys)
        self._pending.append((
            time.time(), self._clock.peek(), latency, environ.get("REQUEST_METHOD", ""),
            environ.get("RAW_URI") or environ.get("REQUEST_URI"), environ.get("PATH_INFO"),
            environ.get("QUERY_STRING", ""), environ.get("REMOTE_ADDR") or "-", plan[0],
            _body(request) if environ.get("CONTENT_LENGTH") or "HTTP_TRANSFER_ENCODING" in environ else b"",
            answer.status_code, answer.body or b"",
            operation_id, *((params.get("partnerId"), params.get("orderId")) if params is not None else (None, None)))
            + plan[1](environ))
        self._captured += 1
        if self._writer_due:
            self._start()

    def after_answer(self) -> None:
        """Called by the server's front once an answer is out, on the thread that made it (granian's event
        loop): a full batch is moved there. A writer thread woken every BATCH captures to move it had to take
        the GIL from the request's thread each time; here the move costs only its own work (~1 µs a request,
        measured in-process)."""
        if len(self._pending) >= BATCH and not self._deferred:
            self._pumped = True
            self.flush(write=False)

    def _row(self, number: int, captured: Captured) -> RequestRow:
        """A capture as the store keeps it (LoggedRequest's fields, in order), built here, off the request's
        thread: the headers' JSON, the path encoded again, what the bodies say."""
        (at, sandbox_at, latency, method, raw, decoded, query, client, names, sent, status, body, operation, partner,
         order) = captured[:_VALUES_AT]
        values = captured[_VALUES_AT:]
        code = message = None
        if partner is None and sent:  # else, if the answer names one (an order), a read finds it (partner_of)
            partner = _found(_PARTNER, sent)
        if order is None and status == 201 and operation == "createOrder":
            order = value_in(body, b'"orderId": "', 400)
        if status >= 400:
            code, message = _error(body)
        if raw is None:  # granian, waitress: only the decoded path
            path = self._encoded(decoded or "/")
        else:
            path = raw.partition("?")[0] if "?" in raw else raw
        headers = self._header_texts.get((names, values)) or self._header_text(names, values)
        return (number, at, sandbox_at, method, path, query, operation, partner.lower() if partner else None, order,
                status, code, message, latency * 1000, headers, sent if len(sent) <= BODY_LIMIT else sent[:BODY_LIMIT],
                len(sent) > BODY_LIMIT, body if len(body) <= BODY_LIMIT else body[:BODY_LIMIT], len(body) > BODY_LIMIT,
                client)

    def _encoded(self, path: str) -> str:
        """A decoded WSGI path (PATH_INFO: its UTF-8 bytes as latin-1) percent-encoded again, as a client
        sends it: granian hands the app only the decoded path (a `%2F` sent comes out as `/`). The part up to
        the last `/` (the tenant, environment, company) is encoded once; the last segment (an id) rarely
        needs it."""
        head, _, tail = path.rpartition("/")
        encoded = self._encoded_heads.get(head)
        if encoded is None:
            if len(self._encoded_heads) >= PLANS_KEPT:
                self._encoded_heads.clear()
            encoded = self._encoded_heads[head] = _quote(head)
        return encoded + "/" + (tail if _PLAIN_SEGMENT.fullmatch(tail) else _quote(tail))

    def _plan(self, keys: tuple[str, ...]) -> Plan:
        """Which environ keys are headers (`HTTP_*`, the content type and length), their names, and what takes
        their values out: worked out once per set of environ keys (a client sends the same ones each time)."""
        headers = [key for key in keys if key.startswith("HTTP_") or key in _HEADER_KEYS]
        names = tuple(_HEADER_KEYS.get(key) or key[5:].replace("_", "-").lower() for key in headers)
        if len(headers) > 1:
            plan: Plan = (names, itemgetter(*headers))
        elif headers:
            only = headers[0]
            plan = (names, lambda environ: (environ[only],))
        else:
            plan = (names, lambda environ: ())
        if len(self._plans) >= PLANS_KEPT:
            self._plans.clear()
        self._plans[keys] = plan
        return plan

    def _header_text(self, names: tuple[str, ...], values: tuple[str, ...]) -> str:
        """The headers as a JSON object, the API key masked: made once per set of values."""
        text = _ENCODE({name: value if name not in MASKED_HEADERS else value[:4] + "…"
                        for name, value in zip(names, values, strict=True)})
        if len(self._header_texts) >= PLANS_KEPT:
            self._header_texts.clear()
        self._header_texts[(names, values)] = text
        return text

    # -- the writer ----------------------------------------------------------------------------
    def _start(self) -> None:
        with self._starting:
            self._writer_due = False
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="otacm-request-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Every FLUSH_SECONDS: what is pending moved, unless the front moved a batch since the last round
        (under load it does; then the rest waits for the next batch or a read); and every WRITE_SECONDS a
        durable store's write."""
        written = time.monotonic()
        while not self._stopped:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            pumped, self._pumped = self._pumped, False
            try:
                if not pumped:
                    self.flush(write=False)
                if time.monotonic() - written >= WRITE_SECONDS:
                    written = time.monotonic()
                    self._write()
            except Exception as error:  # noqa: BLE001  # a bug in the log: said, and the writer goes on
                print(f"otacm mock: request log: {type(error).__name__}: {error}", file=sys.stderr)

    def flush(self, write: bool = True) -> None:
        """What is pending into the store's read side as one unit (and its lines printed), then,
        unless `write` is False (a read: the writer will), into its database outside the backend's lock. A
        store that cannot be written loses those rows from its database, said on stderr; the log goes on."""
        with self._flushing:
            pending = self._pending
            captured = [pending.popleft() for _ in range(len(pending))]
            dropped, self._captured = max(0, self._captured - len(captured)), 0
            if captured:
                next_id = self._next_id
                try:
                    first = self._first_id(dropped + len(captured)) + dropped
                    self._next_id = first + len(captured)
                    rows = [self._row(number, capture) for number, capture in enumerate(captured, first)]
                    with self._backend.reading():  # the log's rows are not a unit's writes
                        self._backend.store.log_requests(rows, self.limit)
                except StoreUnavailable:  # its database is away: moved by a later flush, the newest `limit` kept
                    pending.extendleft(reversed(captured))
                    self._next_id = next_id
                    self._captured += dropped + len(captured)  # still captured, not moved (ids skip the trimmed)
                    for _ in range(len(pending) - self.limit):
                        pending.popleft()
                    return
                if self.print_format is not None:
                    self._print(rows)
        if write:
            self._write()

    def _first_id(self, count: int) -> int:
        """The first of `count` ids: the next ones here, or, where other processes log into the same store, a
        range of their own taken from it."""
        first = self._backend.store.take_request_ids(count)
        return self._next_id if first is None else first

    def _write(self) -> None:
        try:
            self._backend.store.write_requests()
        except StoreError as error:
            print(f"otacm mock: request log: not written: {error}", file=sys.stderr)

    def stop(self) -> None:
        """Stop the writer and write what is pending (the server is shutting down)."""
        self._stopped = True
        self._wake.set()
        with self._starting:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
        self.flush()

    def _print(self, rows: list[RequestRow]) -> None:
        out = self._out or sys.stdout
        named = map(LoggedRequest._make, rows)
        if self.print_format == "json":
            lines = [_ENCODE(summary(row)) for row in named]
        else:
            lines = [text_line(row) for row in named]
        try:
            out.write("\n".join(lines) + "\n")
            out.flush()
        except (OSError, ValueError):  # stdout closed or gone: the log itself is kept
            pass

    # -- reading -------------------------------------------------------------------------------
    def entries(self, status: str = "", operation: str = "", partner: str = "", order: str = "",
                before: Optional[int] = None, limit: int = 100) -> list[dict[str, Any]]:
        """The logged requests, newest first, filtered: `status` a class (`4xx`) or a code (`404`),
        `operation` an operationId, `partner` a partnerId, `order` an orderId, `before` an id (the next page:
        the last id shown); at most `limit`. A BadFilter for a status or operation that cannot match."""
        wanted = matcher(status, operation, partner, order, self.operations)
        self.flush(write=False)
        with self._backend.reading():
            rows = newest(self._backend.store.logged_requests(), wanted, before, limit)
        return [entry_of(LoggedRequest._make(row)) for row in rows]

    def entry(self, entry_id: int) -> Optional[dict[str, Any]]:
        """One logged request by id, or None (never logged, or no longer kept)."""
        self.flush(write=False)
        with self._backend.reading():
            row = found_by_id(self._backend.store.logged_requests(), entry_id)
        return None if row is None else entry_of(LoggedRequest._make(row))

    def kept(self) -> int:
        """How many requests the log holds now (at most `limit`)."""
        self.flush(write=False)
        with self._backend.reading():
            return len(self._backend.store.logged_requests())

    def clear(self) -> None:
        """Forget every request logged so far (ids go on from where they were)."""
        self.flush(write=False)
        with self._backend.atomic():
            self._backend.store.clear_requests()



def _quote(path: str) -> str:
    return quote(path.encode("latin-1", "replace"), safe="/!$&'()*+,;=:@")


def _found(pattern: re.Pattern[bytes], body: bytes) -> Optional[str]:
    """A client's JSON: the string the pattern's group holds, if any."""
    found = pattern.search(body)
    return found.group(1).decode("utf-8", "replace") if found else None


def _body(request: Request) -> bytes:
    """The request's body, as its handler read it (cached), else read now; b"" if it cannot be (too large)."""
    try:
        return request.get_data(cache=True, parse_form_data=False)
    except (HTTPException, OSError, ValueError):
        return b""


def _error(body: bytes) -> tuple[Optional[str], Optional[str]]:
    """An error body's `code` and `message` (None for a body that is not the flat error)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    code, message = parsed.get("code"), parsed.get("message")
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else None)
