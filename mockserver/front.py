"""Whole request bodies before the app's thread, within a time limit.

`otacm mock` runs the app on one thread (mockserver/cli.py, GRANIAN_THREADS:
two starve each other of the GIL). Served through granian's WSGI interface,
that thread read the body itself (granian's WSGI `wsgi.input` blocks on the
socket), so one client trickling a 100-byte createOrder body over 6 s held
it, and every other request waited 5 s (issue 19). Granian has no body
timeout of its own (only `header_read_timeout`).

`RsgiFront` serves the same WSGI app through granian's RSGI interface: the
request arrives on granian's event loop, its body is collected by granian's
Rust side (`await protocol()`, no Python per chunk) under a deadline, and
only a request whose body is complete reaches the app, called on the loop's
own thread (still one app thread) or, with `threads > 1`, on a pool of that
many. A body not complete in time gets a flat `408` and the connection is
closed. Requests without a body (GET, DELETE) skip the read.

Requests to the control API (`/_mock/`, the dashboard's data) run on a
pool of their own: an advance with `waitForWebhooks` or
`/_mock/webhooks/wait` waits for webhook receivers, and a receiver that
calls the API back (`otacm webhooks listen --base-url`, a partner's
handler doing getOrder) must still be answered while it waits. They are
few, so the API's path keeps its one thread (issue 21). The pool is large
(CONTROL_THREADS): a verify run has several flows waiting for webhooks at
once while its receiver reads `/_mock/clock`; with two threads the waits
took both and the read waited out a webhook's timeout.

`deadline_bodies` does the same for the in-process werkzeug server
(mockserver/server.py, `MockServer`): it has a thread per connection, so a
slow body never held anyone else up, but a stalled one held its connection
and thread for good.

a2wsgi (ASGI -> WSGI, the library that would fit) reads the body from its
worker thread, so a trickler still holds that thread, and its hand-off
between loop and pool served a trivial app at ~2,200 req/s where this front
serves ~24,000 (granian's own WSGI: ~40,000; wrk, 16 connections, 2 cores).
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Optional

from mockserver.sandbox.units import ARRIVED

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Headers = list[tuple[str, str]]

ARRIVED_KEY = "otacm.arrived"  # the environ key of the request's arrival (time.monotonic()), for `call`
CONTROL_PREFIX = "/_mock/"  # the control API: served beside the API's thread (see the module doc)
CONTROL_THREADS = 32  # idle threads cost nothing; each wait ends by its own timeout (30 s at most)
REQUEST_TIMEOUT = 408
REQUEST_TIMEOUT_CODE = "request_timeout"
# The keys of every environ that are the same for every request (granian's
# WSGI interface also copies os.environ in; the mock reads none of it).
BASE_ENVIRON: MappingProxyType[str, Any] = MappingProxyType({
    "GATEWAY_INTERFACE": "CGI/1.1",
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "Granian",
    "wsgi.version": (1, 0),
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,  # the whole body is there: werkzeug reads a chunked one too
    "wsgi.errors": sys.stderr,
})
PROTOCOLS: Mapping[str, str] = MappingProxyType({"1.1": "HTTP/1.1", "1": "HTTP/1.0", "1.0": "HTTP/1.0",
                                                 "2": "HTTP/2"})
HEADER_KEYS_KEPT = 512  # header names whose environ key is remembered (made-up names cannot grow it for ever)


def timeout_body(seconds: float) -> bytes:
    """The API's flat error body for a body that did not arrive in time."""
    return json.dumps({"code": REQUEST_TIMEOUT_CODE,
                       "message": f"The request body did not arrive within {seconds:g} s"}).encode()


def _json_close() -> Headers:
    return [("content-type", "application/json"), ("connection", "close")]


class _Started:
    """`start_response`: the status and headers, kept for one `response_bytes` call."""

    __slots__ = ("status", "headers")

    def __init__(self) -> None:
        self.status = 500
        self.headers: Headers = []

    def __call__(self, status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
        self.status = int(status.split(" ", 1)[0])
        self.headers = headers
        return _no_write


def _no_write(data: bytes) -> None:
    raise RuntimeError("the mock answers whole bodies: WSGI write() is not supported")


class RsgiFront:
    """A WSGI app as granian's RSGI interface serves it (see the module doc).

    Also a WSGI app itself (the wrapped one, unchanged), so whoever calls it
    as WSGI gets the app."""

    def __init__(self, app: WsgiApp, body_timeout: float, max_body_bytes: int, threads: int = 1,
                 on_stop: Optional[Callable[[], None]] = None,
                 after_answer: Optional[Callable[[], None]] = None, gather: bool = False) -> None:
        self.app = app
        self.gather = gather  # a shared store: let queued requests arrive before each runs (see __rsgi__)
        self.on_stop = on_stop
        self.after_answer = after_answer
        self.body_timeout = body_timeout
        self.max_body_bytes = max_body_bytes
        self.threads = threads
        self._pool: Optional[ThreadPoolExecutor] = (
            ThreadPoolExecutor(threads, thread_name_prefix="otacm-app") if threads > 1 else None)
        self._control_pool = ThreadPoolExecutor(CONTROL_THREADS, thread_name_prefix="otacm-control")
        # Worked out once, not per request: header name -> environ key, "host:port" -> its two keys.
        self._header_keys: dict[str, str] = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
        self._servers: dict[str, tuple[str, str]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)

    def __rsgi_del__(self, loop: Any) -> None:
        """Granian's worker is stopping (Ctrl-C, SIGTERM): what the app still has to do (`on_stop`)."""
        if self.on_stop is not None:
            self.on_stop()

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        """One HTTP request: its body whole (or a 408), then the app, then one response. The app is told when the
        request arrived (`ARRIVED`): on a shared store, a read that arrived before the last epoch read was sent
        needs none of its own. With `gather`, a request without a body first lets the others granian has queued
        meanwhile arrive (one turn of the loop): the first of them to run then reads the epoch for all."""
        arrived = time.monotonic()
        environ = self.environ(scope)
        close = False
        if environ.get("CONTENT_LENGTH", "0") not in ("0", "") or "HTTP_TRANSFER_ENCODING" in environ:
            try:
                body, close = await asyncio.wait_for(self._read(protocol, environ), self.body_timeout)
            except asyncio.TimeoutError:
                _answer(protocol, REQUEST_TIMEOUT, _json_close(), timeout_body(self.body_timeout))
                return
            except Exception:  # noqa: BLE001  # the client went away mid-body: nobody is left to answer
                return
            environ["wsgi.input"] = io.BytesIO(body)
        else:
            environ["wsgi.input"] = io.BytesIO()
            if self.gather:
                await asyncio.sleep(0)
        environ[ARRIVED_KEY] = arrived
        pool = self._control_pool if environ["PATH_INFO"].startswith(CONTROL_PREFIX) else self._pool
        if pool is None:
            status, headers, payload = self.call(environ)
        else:
            status, headers, payload = await asyncio.get_running_loop().run_in_executor(pool, self.call, environ)
        if close:  # the body was left unread: do not keep a connection it is still arriving on
            headers = [*headers, ("connection", "close")]
        _answer(protocol, status, headers, payload)
        if self.after_answer is not None:  # granian sends the answer meanwhile (its own threads)
            self.after_answer()

    async def _read(self, protocol: Any, environ: dict[str, Any]) -> tuple[bytes, bool]:
        """The whole body as granian collects it, and whether some was left
        unread: past `max_body_bytes` none (a declared length) or only that
        much and a chunk more (chunked), so the app answers its own 413."""
        declared = environ.get("CONTENT_LENGTH", "")
        if declared.isascii() and declared.isdigit():
            if int(declared) > self.max_body_bytes:
                return b"", True
            return await protocol(), False
        chunks, size = [], 0
        async for chunk in protocol:
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"".join(chunks), True
        return b"".join(chunks), False

    def call(self, environ: dict[str, Any]) -> tuple[int, Headers, bytes]:
        """The WSGI app, its answer gathered into one piece; a bug past the
        app's own handlers is a flat 500, never a stack trace."""
        started = _Started()
        arrival = ARRIVED.set(environ.get(ARRIVED_KEY))  # on this thread, for this request only
        try:
            body = self.app(environ, started)
            try:
                payload = b"".join(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        except Exception as error:  # noqa: BLE001  # the last net: the app's handlers catch their own
            message = f"otacm mock: internal error {type(error).__name__}: {error}"
            return 500, [("content-type", "application/json")], json.dumps(
                {"code": "generic_error", "message": message}).encode()
        finally:
            ARRIVED.reset(arrival)
        return started.status, started.headers, payload

    def environ(self, scope: Any) -> dict[str, Any]:
        """The WSGI environ granian's WSGI interface builds for the request
        (less os.environ), `wsgi.input` apart. On every request, so kept lean."""
        environ = BASE_ENVIRON.copy()
        server = scope.server
        names = self._servers.get(server)
        if names is None:
            host, _, port = server.rpartition(":")
            names = self._servers[server] = (host, port)
        environ["SERVER_NAME"], environ["SERVER_PORT"] = names
        path = scope.path  # RSGI's is decoded text; WSGI wants its bytes as latin-1
        environ["REQUEST_METHOD"] = scope.method
        environ["PATH_INFO"] = path if path.isascii() else path.encode().decode("latin-1")
        environ["QUERY_STRING"] = scope.query_string
        environ["SERVER_PROTOCOL"] = PROTOCOLS.get(scope.http_version) or "HTTP/" + scope.http_version
        environ["REMOTE_ADDR"] = scope.client.rpartition(":")[0]
        environ["wsgi.url_scheme"] = scope.scheme
        keys = self._header_keys
        for name, value in scope.headers.items():
            key = keys.get(name)
            if key is None:
                key = "HTTP_" + name.upper().replace("-", "_")
                if len(keys) < HEADER_KEYS_KEPT:
                    keys[name] = key
            if key in environ:  # a repeated header: one value, comma-joined (as granian's WSGI does)
                environ[key] += "," + value
            else:
                environ[key] = value
        return environ


def _answer(protocol: Any, status: int, headers: Headers, body: bytes) -> None:
    try:
        protocol.response_bytes(status, headers, body)
    except Exception:  # noqa: BLE001  # the client has gone: nothing to tell it
        pass


# -- the in-process werkzeug server --------------------------------------------------
def deadline_bodies(app: WsgiApp, body_timeout: float, max_body_bytes: int) -> WsgiApp:
    """`app` behind werkzeug's development server, each body read with one
    deadline for all of it (a socket timeout alone restarts at every byte a
    trickler sends). A body not whole by then gets the flat 408 and
    `Connection: close`. Chunked bodies, lengths past `max_body_bytes` (the
    app's 413) and servers that do not expose the socket pass through."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        connection = environ.get("werkzeug.socket")
        declared = environ.get("CONTENT_LENGTH") or ""
        stream = environ.get("wsgi.input")
        if connection is None or not hasattr(stream, "read1") or not (declared.isascii() and declared.isdigit()) \
                or not 0 < int(declared) <= max_body_bytes:
            return app(environ, start_response)
        body = _read_by(connection, stream, int(declared), time.monotonic() + body_timeout)
        if body is None:
            answer = timeout_body(body_timeout)
            start_response(f"{REQUEST_TIMEOUT} Request Timeout", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(answer))), ("Connection", "close")])
            return [answer]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))  # short if the client hung up: the app answers that as before
        return app(environ, start_response)

    return wsgi


def _read_by(connection: socket.socket, stream: Any, length: int, deadline: float) -> Optional[bytes]:
    """`length` bytes from `stream` by `deadline` (None: not in time); fewer if the client closed."""
    chunks: list[bytes] = []
    previous = connection.gettimeout()
    try:
        while length > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            connection.settimeout(left)
            chunk = stream.read1(min(length, 65536))  # at most one recv, so the deadline holds between bytes
            if not chunk:
                break
            chunks.append(chunk)
            length -= len(chunk)
    except (TimeoutError, socket.timeout):
        return None
    finally:
        try:
            connection.settimeout(previous)
        except OSError:
            pass
    return b"".join(chunks)
