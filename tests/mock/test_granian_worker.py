"""What the granian worker serves (mockserver.server.for_granian)."""

from __future__ import annotations

import sys

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
