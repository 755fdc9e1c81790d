"""What the granian worker serves (mockserver.server.for_granian)."""

from __future__ import annotations

import sys
from typing import Any

from mockserver.server import for_granian, whole_bodies


def test_whole_bodies_hands_granian_one_list_and_closes_the_iterable() -> None:
    """granian sends a list in one piece; anything else it streams, dropping the GIL per chunk."""
    closed = []

    class Streamed:
        def __iter__(self):
            return iter([b'{"a": ', b"1}"])

        def close(self) -> None:
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return Streamed()

    assert whole_bodies(app)({}, lambda status, headers: None) == [b'{"a": 1}'] and closed == [True]


def test_for_granian_sets_a_short_switch_interval_and_keeps_answers() -> None:
    before = sys.getswitchinterval()
    try:
        served = for_granian(lambda environ, start_response: [b"{}"])
        assert sys.getswitchinterval() == 0.001
        assert served({}, lambda status, headers: None) == [b"{}"]
    finally:
        sys.setswitchinterval(before)


def test_otacm_mock_serves_on_one_granian_thread_unless_told() -> None:
    """Two app threads starve each other of the GIL under load (README,
    "The getOrder tail"): the app runs on granian's RSGI loop thread unless
    `--threads` asks for a pool (mockserver/front.py)."""
    from mockserver.cli import granian_server
    from mockserver.front import RsgiFront

    server = granian_server("127.0.0.1", 0)
    assert (server.workers, server.blocking_threads) == (1, 1)  # one process: one store
    assert server.interface.value == "rsgi"  # granian collects bodies before the app sees them
    before = sys.getswitchinterval()
    try:
        assert for_granian(lambda environ, start_response: [b"{}"])._pool is None
        pooled = for_granian(lambda environ, start_response: [b"{}"], threads=2)
    finally:
        sys.setswitchinterval(before)
    assert isinstance(pooled, RsgiFront) and pooled._pool is not None and pooled._pool._max_workers == 2


def test_the_banner_names_the_server_and_its_threads() -> None:
    from mockserver.cli import server_line

    assert server_line("granian", 1) == "granian, one process, 1 thread"
    assert server_line("granian", 2) == "granian, one process, 2 threads"
    assert server_line("waitress", 8) == "waitress, one process, 8 threads"


class _Scope:
    """What RsgiFront reads of granian's RSGI scope, for a GET without a body."""

    def __init__(self, path: str) -> None:
        self.path, self.method, self.query_string, self.http_version = path, "GET", "", "1.1"
        self.server, self.client, self.scheme, self.headers = "127.0.0.1:8080", "127.0.0.1:5555", "http", {}


class _Protocol:
    def __init__(self) -> None:
        self.answered: list[int] = []

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answered.append(status)


def test_the_front_tells_the_app_when_each_request_arrived_and_on_a_shared_store_gathers_them_first() -> None:
    """The app learns when its request arrived (`ARRIVED`, on the thread that runs it, then reset). With `gather`
    (a shared store), a request without a body lets the others queued meanwhile arrive before it runs, so they can
    share the epoch read it makes (store/postgresql.py `refresh`); without, each runs as it arrives."""
    import asyncio
    import time

    from mockserver.front import RsgiFront
    from mockserver.sandbox.units import ARRIVED

    seen: list[tuple[str, float, float]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        arrived = ARRIVED.get()
        assert arrived is not None
        seen.append((environ["PATH_INFO"], arrived, time.monotonic()))
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"ok"]

    def two_requests(front: RsgiFront) -> list[tuple[str, float, float]]:
        seen.clear()
        protocol = _Protocol()

        async def both() -> None:
            await asyncio.gather(front.__rsgi__(_Scope("/a"), protocol), front.__rsgi__(_Scope("/b"), protocol))

        asyncio.run(both())
        assert protocol.answered == [200, 200]
        return list(seen)

    (_, _, first_ran), (_, second_arrived, _) = two_requests(RsgiFront(app, 5, 1000, gather=True))
    assert second_arrived < first_ran  # both had arrived before the first ran
    (_, _, first_ran), (_, second_arrived, _) = two_requests(RsgiFront(app, 5, 1000))
    assert first_ran < second_arrived  # without gathering, the first ran before the second arrived
    assert ARRIVED.get() is None
