"""`kill -9` of the real `otacm mock --store sqlite:PATH`, then a restart on the same file (issue 19).

The restart tests (test_restart*.py) simulate the crash in-process; these
kill the process the user started, as `kill -9 PID` does, at moments chosen
by watching it (never by sleeping): in the middle of a storm of creates, and
in the middle of a warp that settles thousands of orders: while it computes
(the worker burning CPU, nothing written yet), while its one SQLite
transaction is being written (the WAL growing), or just after it answered
(its webhooks going out). What must hold after
the restart: every order answered 201 is there; each timeline is a path of
the lifecycle with no status twice; the warp happened entirely or not at
all; a webhook sent before the kill told of nothing the sandbox then forgot;
advancing again settles every order exactly once; and the receiver got each
settle at least once, always under one delivery id.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from contracts.lifecycle import load_lifecycle
from sandbox_process import CUT, SandboxProcess, order_body
from scripted_receiver import ScriptedReceiver, delivery_problems

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="watches the processes through /proc")

ORDERS = 5000  # the settle-all warp then computes for about 0.7 s and writes about 8 MB
WARP = "10m"
SETTLES = ["Submitted", "Scheduled", "Processing", "Issued"]  # a paid order's whole timeline, each status once


@pytest.mark.timeout(120)
def test_kill9_during_a_storm_of_creates_loses_no_answered_order(sandbox: SandboxProcess) -> None:
    sandbox.start()
    answered = _creates_until_killed(sandbox, after=1000)
    sandbox.start()
    _assert_every_order_is_there(sandbox, answered)
    more = sandbox.create_orders(50, "AFTER")  # the counters went on from the file: no id or seq reused
    _assert_every_order_is_there(sandbox, {**answered, **more})


@pytest.mark.timeout(180)
@pytest.mark.parametrize("moment", ["computing", "writing", "answered"])
def test_kill9_during_a_large_warp_loses_nothing_and_every_order_settles_once(sandbox: SandboxProcess,
                                                                                moment: str) -> None:
    sandbox.start()
    with ScriptedReceiver([]) as receiver:
        sandbox.subscribe(receiver.url)
        created = sandbox.create_orders(ORDERS, "WARP")
        start = sandbox.now()
        answered = _warp_and_kill(sandbox, moment)
        told = receiver.received()  # what webhooks said before the kill
        sandbox.start()
        _assert_every_order_is_there(sandbox, created)
        timelines = sandbox.timelines()
        _assert_lawful(timelines)
        warped = sandbox.now() > start
        assert warped or not answered, "the warp was answered, then lost"
        _assert_all_or_nothing(timelines, warped)
        _assert_nothing_told_was_forgotten(told, timelines)
        sandbox.advance(WARP, wait_for_webhooks=True)
        timelines = sandbox.timelines()
        assert {tuple(c["status"] for c in history) for history in timelines.values()} == {tuple(SETTLES)}
        _assert_lawful(timelines)
        settles = {(order_id, history[-1]["status"], history[-1]["at"]) for order_id, history in timelines.items()}
        assert delivery_problems(receiver.received(), settles) == []


# -- killing at a moment ---------------------------------------------------------------------------
def _creates_until_killed(sandbox: SandboxProcess, after: int) -> dict[str, str]:
    """Creates from 8 threads, and kill -9 once `after` are answered; reference → orderId of each 201."""
    answered: dict[str, str] = {}
    lock, enough, stop = threading.Lock(), threading.Event(), threading.Event()
    http = sandbox.http(timeout=10)

    def creator(index: int) -> None:
        for n in range(index, 10**6, 8):
            if stop.is_set():
                return
            reference = f"STORM-{n}"
            try:
                status, body = http.call("POST", sandbox.orders_path, order_body(reference, slot=n))
            except CUT:
                return  # killed: this one was never answered
            assert status == 201, body
            with lock:
                answered[reference] = body["orderId"]
                if len(answered) >= after:
                    enough.set()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(creator, index) for index in range(8)]
        try:
            assert enough.wait(60), f"only {len(answered)} creates answered in 60 s"
            sandbox.kill9()
        finally:
            stop.set()  # the creators end even when the kill failed
        for future in futures:
            future.result(timeout=30)
    return answered


def _warp_and_kill(sandbox: SandboxProcess, moment: str) -> bool:
    """Start the settle-all warp and kill -9 the sandbox once it is `moment`: "computing" (the worker has
    spent 0.2 s of CPU on it and nothing is written yet), "writing" (its transaction grows the WAL) or
    "answered" (its 200 arrived; the webhooks it started are going out). Whether it was answered."""
    wal = sandbox.store.with_name(sandbox.store.name + "-wal")
    written, cpu = wal.stat().st_size, sandbox.worker_cpu()
    answer: list[Any] = []
    warp = threading.Thread(target=lambda: answer.append(_try_advance(sandbox)), daemon=True)
    warp.start()
    deadline = time.monotonic() + 60
    while not (answer if moment == "answered" else _reached(moment, sandbox, wal, written, cpu)):
        assert not answer, f"the warp ended ({answer}) before it was {moment}: give it more orders"
        assert time.monotonic() < deadline, f"the warp was never seen {moment}"
        time.sleep(0.001)
    sandbox.kill9()
    warp.join(30)
    answered = bool(answer) and not isinstance(answer[0], CUT)
    assert answered == (moment == "answered"), f"killed when {moment}, the warp's answer was {answer}"
    assert not answered or answer[0][0] == 200, answer
    return answered


def _reached(moment: str, sandbox: SandboxProcess, wal: Path, written: int, cpu: float) -> bool:
    if moment == "writing":
        return wal.stat().st_size > written
    return sandbox.worker_cpu() - cpu >= 0.2 and wal.stat().st_size == written


def _try_advance(sandbox: SandboxProcess) -> Any:
    """The warp's answer, or the error of a connection the kill cut."""
    try:
        return sandbox.http(timeout=60).call("POST", "/_mock/clock/advance", {"by": WARP})
    except CUT as error:
        return error


# -- what must hold ------------------------------------------------------------------------------------
def _assert_every_order_is_there(sandbox: SandboxProcess, answered: dict[str, str]) -> None:
    """getOrder finds every order answered 201, under its reference; the ids are all distinct."""
    http = sandbox.http()
    assert len(set(answered.values())) == len(answered)

    def get(item: tuple[str, str]) -> tuple[str, int, Any]:
        status, body = http.call("GET", f"{sandbox.orders_path}/{item[1]}")
        return item[0], status, body

    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(get, answered.items(), timeout=120))
    missing = [(reference, status) for reference, status, _ in found if status != 200]
    assert not missing, f"{len(missing)} of {len(answered)} answered orders are gone: {missing[:5]}"
    assert all(body["sellToOrderReference"] == reference for reference, _, body in found)


def _assert_lawful(timelines: dict[str, list[dict[str, str]]]) -> None:
    """Each timeline starts where the lifecycle does, moves only along it, and has no status twice."""
    lifecycle = load_lifecycle()
    for order_id, history in timelines.items():
        statuses = [change["status"] for change in history]
        assert statuses[0] == lifecycle.initial and len(set(statuses)) == len(statuses), (order_id, history)
        for before, change in zip(history, history[1:], strict=False):
            lifecycle.transition(before["status"], change["status"], change["trigger"])  # KeyError if illegal


def _assert_all_or_nothing(timelines: dict[str, list[dict[str, str]]], warped: bool) -> None:
    """The warp is one unit: after the restart either it all happened (the clock moved on) or none of it."""
    lengths = {len(history) for history in timelines.values()}
    assert lengths == ({len(SETTLES)} if warped else {1}), (warped, lengths)


def _assert_nothing_told_was_forgotten(told: list[Any], timelines: dict[str, list[dict[str, str]]]) -> None:
    """A webhook POSTed before the kill tells of a settle the restarted sandbox has (none it forgot)."""
    kept = {(order_id, c["status"], c["at"]) for order_id, history in timelines.items() for c in history}
    forgotten = [(post.delivery_id, event) for post in told for event in post.events if event not in kept]
    assert not forgotten, (f"{len(forgotten)} events were POSTed for settles the sandbox does not have after "
                           f"the restart, e.g. {forgotten[:3]}")
