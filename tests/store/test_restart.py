"""A sandbox started again on a durable store continues where it stood.

The same script runs on a sandbox that restarts between its steps and on one
that never stops; every order must come out the same (statuses, timelines,
the API's JSON). Webhook state has tests of its own (test_restart_webhooks.py).
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from mockclient import order_body
from mockserver.app import create_app
from mockserver.cli import state_lines
from mockserver.config import MockConfig
from mockserver.sandbox.clock import parse_instant
from mockserver.server import frozen_config
from mockserver.store import inspect_store

START = parse_instant("2026-05-15T09:30:00Z")
KEY = {"x-np-api-key": "otacm-sandbox-key"}
# reference → Prefer header: one order per status the script reaches
ORDERS = {"PAID": None, "UNPAID": None, "FAILS": "outcome=Error", "STALLS-S": "stall=Scheduled",
          "STALLS-P": "stall=Processing", "CANCELS": None, "REMOVED": None}


class Sandbox:
    """One sandbox over HTTP (Flask's test client: no server thread, so freezegun holds)."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.app: Flask = create_app(config)
        self.client: FlaskClient = self.app.test_client()
        self.base = f"/{config.tenant}/{config.environment}/{config.company.replace(' ', '%20')}/channelManager"

    @property
    def backend(self) -> Any:
        return self.app.extensions["otacm"].backend

    def create(self, reference: str, prefer: str | None = None) -> str:
        paid = "PAY-1" if reference != "UNPAID" and reference != "REMOVED" else None
        headers = {**KEY, **({"Prefer": prefer} if prefer else {})}
        answer = self.client.post(self.base, json=order_body(self.config.default_partner_id, reference, payment=paid),
                                  headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return answer.get_json()["orderId"]

    def get(self, order_id: str) -> tuple[int, bytes]:
        answer = self.client.get(f"{self.base}/{order_id}", headers=KEY)
        return answer.status_code, answer.get_data()

    def delete(self, order_id: str) -> None:
        assert self.client.delete(f"{self.base}/{order_id}", headers=KEY).status_code == 200

    def listing(self) -> bytes:
        return self.client.get(f"{self.base}/orders/{self.config.default_partner_id}", headers=KEY).get_data()

    def timelines(self) -> dict[str, list[tuple[str, float, str]]]:
        """reference → [(status, at, trigger)] for every order the store holds."""
        return {o.sell_to_order_reference: [(c.status, c.at, c.trigger) for c in o.history]
                for o in self.backend.orders()}

    def close(self) -> None:
        self.app.extensions["otacm"].webhooks.stop()
        self.backend.store.close()


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


def test_the_banner_says_where_state_lives_and_what_it_continues(durable_url: str) -> None:
    path = durable_url.partition(":")[2]
    assert state_lines(inspect_store(durable_url)) == [f"  state       in SQLite {path} (kept across restarts)"]
    box = Sandbox(frozen_config(clock_start=START, store=durable_url))
    box.create("PAID")
    box.close()
    lines = state_lines(inspect_store(durable_url))
    assert lines[1] == ("  resumed     1 order(s), clock frozen at 2026-05-15T09:30:00Z (the saved clock wins; "
                        "--clock and --clock-start apply to a new store)")
