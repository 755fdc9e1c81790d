"""Running a mock: in-process on a free port (tests, the pytest plugin, the
embedded target of `otacm verify`) or in the foreground (`otacm mock`).

The ticker runs due background events while the clock runs in real time, so
webhooks fire without a request arriving; on a frozen clock it idles.
"""

from __future__ import annotations

import gc
import sys
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mockserver.app import create_app
from mockserver.config import MockConfig, api_base_url
from mockserver.front import RsgiFront, deadline_bodies
from mockserver.sandbox.backend import ChannelManagerBackend
from mockserver.sandbox.clock import parse_duration, parse_instant
from mockserver.store.base import StoreUnavailable
from mockserver.webhooks.service import Webhooks


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: embedded mocks run inside test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Ticker:
    """Calls `backend.catch_up()` every interval until stopped, and on a shared store takes over the webhook
    deliveries of a process gone (leases on real time: also while the sandbox clock is frozen)."""

    def __init__(self, backend: ChannelManagerBackend, interval: float, webhooks: Webhooks | None = None) -> None:
        self._backend = backend
        self._webhooks = webhooks
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="otacm-ticker", daemon=True)

    def start(self) -> "Ticker":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        """While the store's database is out of reach a tick does nothing (the steps wait in it), and the
        ticker goes on: the first tick after it is back runs what came due meanwhile."""
        while not self._stop.wait(self._interval):
            try:
                if not self._backend.clock.frozen:
                    self._backend.catch_up()
                if self._webhooks is not None:
                    self._webhooks.adopt()
            except StoreUnavailable:
                pass


# The GIL's switch interval in a granian worker (CPython's default is 5 ms).
GIL_SWITCH_INTERVAL = 0.001


def for_granian(app: Any, threads: int = 1, body_timeout: float | None = None) -> RsgiFront:
    """The app as a granian worker serves it (`otacm mock`, the bench).

    Through `RsgiFront` (mockserver/front.py): granian collects each body
    before the app sees the request, within `body_timeout` seconds (default:
    the app's config, `bodyTimeoutSeconds`), so a slow client holds no app
    thread; the app runs on `threads` threads (1: granian's event loop thread
    itself). Whole bodies (see `whole_bodies`); a 1 ms GIL switch interval,
    so a thread waiting for the GIL (a request's, the ticker's) waits in 1 ms
    rounds, not 5 ms ones; and the startup's objects (spec, schemas, catalog)
    frozen out of the cyclic GC, which then never scans them again. After
    each answer the request log moves its batch, on that thread; when
    granian stops the worker, it writes what is pending."""
    state = getattr(app, "extensions", {}).get("otacm")
    config: MockConfig = state.config if state is not None else MockConfig.load()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()
    timeout = config.body_timeout_seconds if body_timeout is None else body_timeout
    on_stop = state.request_log.stop if state is not None else None  # what is still pending, written
    after_answer = state.request_log.after_answer if state is not None and state.request_log.capturing else None
    gather = state is not None and state.backend.store.shared  # reads share epoch reads (RsgiFront.__rsgi__)
    return RsgiFront(whole_bodies(app), timeout, config.max_body_bytes, threads, on_stop, after_answer, gather)


def whole_bodies(app: Any) -> Any:
    """The WSGI app answering every body as one list item (all are small JSON).

    granian sends a list in one piece while the app's thread holds the GIL;
    any other iterable (Flask's ClosingIterator) is streamed chunk by chunk,
    and the thread drops the GIL after each chunk and must win it back to end
    the response. Under load the two blocking threads keep the GIL busy, and
    winning it back took up to hundreds of milliseconds: the getOrder p99 of
    0.3–0.6 s at 4–16 connections (README, Performance)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = app(environ, start_response)
        if isinstance(body, list):
            return body
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


@dataclass
class ClockHandle:
    """The mock's clock as a test sees it: moves run every due event.

    It takes what `otacm clock` and `/_mock/clock` take, so a partner's test
    reads like the README: `advance("2m")` or `advance(120)`,
    `jump("2026-06-01T08:00:00Z")` or POSIX seconds."""

    backend: ChannelManagerBackend

    def now(self) -> float:
        return self.backend.clock.now()

    def advance(self, by: float | str) -> float:
        """Move forward by seconds or a duration (`90s`, `5m`, `1h30m`); returns the new time."""
        seconds = parse_duration(by)
        if not 0 <= seconds < float("inf"):
            raise ValueError(f"advance needs a duration of zero or more, e.g. 90, '90s', '5m' (got {by!r})")
        return self.backend.advance(seconds)

    def jump(self, to: float | str) -> float:
        """Move to an instant: POSIX seconds or ISO 8601 (`2026-06-01T08:00:00Z`; naive means UTC)."""
        return self.backend.jump(parse_instant(to) if isinstance(to, str) else float(to))

    def freeze(self) -> float:
        self.backend.catch_up()
        return self.backend.freeze()

    def resume(self) -> float:
        return self.backend.resume()


class MockServer:
    """A mock serving on 127.0.0.1 in a background thread.

    `control=False` and `pickup_seconds` override the config's, so a test can
    start a real-time target without `/_mock/` in one line."""

    def __init__(
        self,
        config: MockConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        control: bool | None = None,
        pickup_seconds: float | None = None,
    ) -> None:
        config = config or MockConfig.load()
        if control is not None:
            config = config.replace(control=control)
        if pickup_seconds is not None:
            config = config.replace(pickup_seconds=pickup_seconds)
        self.config = config.replace(host=host)
        self.app: Flask = create_app(self.config)
        # A thread per connection: a slow client holds only its own; the deadline ends a stalled body with a 408.
        served = deadline_bodies(self.app, self.config.body_timeout_seconds, self.config.max_body_bytes)
        self._server: BaseWSGIServer = make_server(host, port, served, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._serve, name="otacm-mock", daemon=True)
        self._ticker = Ticker(self.backend, self.config.ticker_interval_seconds, self.webhooks)

    @property
    def backend(self) -> ChannelManagerBackend:
        return self.app.extensions["otacm"].backend

    @property
    def webhooks(self) -> Webhooks:
        """Subscriptions and delivery: `.wait_idle(timeout)`, `.dispatcher.deliveries()`."""
        return self.app.extensions["otacm"].webhooks

    @property
    def clock(self) -> ClockHandle:
        return ClockHandle(self.backend)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The API base `{server}/{tenant}/{environment}/{company}`."""
        return api_base_url(self.url, self.config)

    @property
    def control_token(self) -> str | None:
        """What `/_mock/` and the dashboard require (None: open, on loopback)."""
        return self.app.extensions["otacm"].control_token

    @property
    def api_key(self) -> str:
        return self.config.default_api_key

    @property
    def partner_id(self) -> str:
        return self.config.default_partner_id

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)  # quick to stop: tests start one per test

    def start(self) -> "MockServer":
        self._thread.start()
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.webhooks.stop()
        self.app.extensions["otacm"].request_log.stop()
        self.backend.store.close()

    def __enter__(self) -> "MockServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def frozen_config(**overrides: Any) -> MockConfig:
    """The default config on a frozen clock, as tests want it."""
    return MockConfig.load(**{"clock_mode": "frozen", **overrides})
