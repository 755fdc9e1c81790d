"""A sandbox started again on a durable store continues where it stood.

The same script runs on a sandbox that restarts between its steps and on one
that never stops; every order must come out the same (statuses, timelines,
the API's JSON). Webhook state has tests of its own (test_restart_webhooks.py).
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from freezegun import freeze_time

from contracts.cli import build_parser
from mockserver.cli import _announce, mock_config, state_lines
from mockserver.config import MockConfig
from mockserver.server import frozen_config
from mockserver.store import inspect_store
from postgresql_server import PASSWORD
from store_engines import durable_url, store, store_url  # noqa: F401, F811 (pytest fixtures)
from store_sandbox import START, Sandbox

# reference → Prefer header: one order per status the script reaches
ORDERS = {"PAID": None, "UNPAID": None, "FAILS": "outcome=Error", "STALLS-S": "stall=Scheduled",
          "STALLS-P": "stall=Processing", "CANCELS": None, "REMOVED": None}


def script(open_sandbox: Any) -> Iterator[Sandbox]:
    """The steps, each on the sandbox `open_sandbox()` gives (a new one after a restart, or the same)."""
    box = open_sandbox()
    ids = {reference: box.create(reference, prefer) for reference, prefer in ORDERS.items()}
    yield box
    box = open_sandbox()
    box.backend.advance(70)  # the pickup at 60 s; processing done by 65 s; the stalls stay
    yield box
    box = open_sandbox()
    box.delete(ids["CANCELS"])
    box.delete(ids["REMOVED"])
    box.create("NEW")
    yield box
    box = open_sandbox()
    box.backend.advance(3700)  # the 5-minute and 1-hour stalls fire; NEW settles
    yield box


def test_every_order_continues_the_same_across_restarts(durable_url: str) -> None:
    config = frozen_config(clock_start=START, store=durable_url)
    steady = Sandbox(frozen_config(clock_start=START))
    restarted: list[Sandbox] = []

    def again() -> Sandbox:
        if restarted:
            restarted[-1].close()
        restarted.append(Sandbox(config))
        return restarted[-1]

    for step, (moved, kept) in enumerate(zip(script(again), script(lambda: steady), strict=True)):
        assert _comparable(moved.timelines()) == _comparable(kept.timelines()), f"after step {step}"
        assert moved.backend.clock.now() == kept.backend.clock.now() and moved.backend.clock.frozen
    final = restarted[-1].timelines()
    assert {history[-1][0] for history in final.values()} == {"Issued", "Draft", "Error", "Cancelled"}
    assert "REMOVED" not in final
    for history in final.values():  # each step ran once: no status twice at the same instant
        assert len(set(history)) == len(history)
    restarted[-1].close()
    steady.close()


def test_the_api_shows_the_same_orders_after_a_restart(durable_url: str) -> None:
    config = frozen_config(clock_start=START, store=durable_url)
    box = Sandbox(config)
    ids = [box.create(reference, prefer) for reference, prefer in ORDERS.items()]
    box.backend.advance(70)
    box.delete(ids[-1])  # REMOVED: Draft → gone
    shown = {order_id: box.get(order_id) for order_id in ids}
    listing = box.listing()
    box.close()
    again = Sandbox(config)
    assert {order_id: again.get(order_id) for order_id in ids} == shown
    assert shown[ids[-1]][0] == 404
    assert again.listing() == listing
    assert again.backend.resumed
    again.close()


def test_a_frozen_clock_stays_frozen_at_its_instant(durable_url: str) -> None:
    box = Sandbox(frozen_config(clock_start=START, store=durable_url))
    box.backend.advance(3600)
    at = box.backend.clock.now()
    box.close()
    again = Sandbox(frozen_config(clock_start=START + 999_999, store=durable_url))  # the saved clock wins
    assert again.backend.clock.frozen and again.backend.clock.now() == at
    again.close()


def test_a_running_clock_keeps_its_offset_and_runs_what_came_due_while_down(durable_url: str) -> None:
    config = MockConfig.load(clock_start=START, store=durable_url)  # a real-time clock, started in the past
    with freeze_time("2026-12-02T10:00:00Z") as wall:
        box = Sandbox(config)
        assert not box.backend.clock.frozen
        box.backend.advance(30)
        offset = box.backend.clock.state()[0]
        order_id = box.create("PAID")
        created = box.backend.clock.now()
        box.close()
        wall.tick(600)  # ten minutes down: the pickup, processing and settle all came due
        again = Sandbox(MockConfig.load(store=durable_url))
        assert again.backend.clock.state()[0] == offset and not again.backend.clock.frozen
        status, body = again.get(order_id)
        assert status == 200 and b'"status": "Issued"' in body
        (order,) = again.backend.orders()
        assert [(c.status, c.at - created) for c in order.history] == [
            ("Submitted", 0), ("Scheduled", pytest.approx(_next_pickup(created) - created)),
            ("Processing", pytest.approx(_next_pickup(created) - created + 1)),
            ("Issued", pytest.approx(_next_pickup(created) - created + 4))]
        again.close()


def _next_pickup(at: float) -> float:
    return (int(at // 60) + 1) * 60.0


def _comparable(timelines: dict[str, list[tuple[str, float, str]]]) -> dict[str, list[tuple[str, float, str]]]:
    return dict(sorted(timelines.items()))


def test_the_banner_says_where_state_lives_and_what_it_continues(durable_url: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    engine, _, path = durable_url.partition(":")
    where = {"sqlite": f"in SQLite {path}", "postgresql": f"in PostgreSQL {durable_url.replace(PASSWORD, '***')}"}
    assert state_lines(inspect_store(durable_url)) == [f"  state       {where[engine]} (kept across restarts)"]
    box = Sandbox(frozen_config(clock_start=START, store=durable_url))
    box.create("PAID")
    box.close()
    store = inspect_store(durable_url)
    lines = state_lines(store)
    config = mock_config(build_parser().parse_args(["mock", "--store", durable_url]))  # --clock real, the default
    _announce(config, "http://127.0.0.1:8080", store)
    assert "(async, clock frozen)" in capsys.readouterr().out  # the saved clock, not the options'
    assert lines[1] == ("  resumed     1 order(s), clock frozen at 2026-05-15T09:30:00Z (the saved clock wins; "
                        "--clock and --clock-start apply to a new store)")
