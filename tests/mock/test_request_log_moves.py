"""Who moves the request log's captures into the store, and when (mockserver/api/request_log.py).

On the memory store with nothing to print only a read does (no writer
thread; the waiting captures stay within the bound); on a durable store
granian's front moves each full batch after its answer, so no writer thread
has to be woken for it (bench section 9: that wake cost getOrder the most).
"""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from mockclient import FROZEN_START
from mockserver.api import request_log
from mockserver.app import create_app
from mockserver.server import for_granian, frozen_config
from mockserver.store.base import StoreUnavailable

MISSING_ORDER = "/tenant/env/company/channelManager/4f6c3a52-8a44-4a8e-9a0e-2f4f1f3d9e11"


@pytest.fixture(autouse=True)
def switch_interval() -> Any:
    """for_granian sets the process's GIL switch interval: put back for the other tests."""
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def writer_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "otacm-request-log"}


def send(app: Any, count: int) -> None:
    client = app.test_client()
    for _ in range(count):
        assert client.get(MISSING_ORDER).status_code == 401  # no key: answered and logged all the same


def test_on_the_memory_store_captures_wait_for_a_read_within_the_bound_and_no_writer_runs() -> None:
    before = writer_threads()
    app = create_app(frozen_config(clock_start=FROZEN_START, request_log_limit=5))
    log = app.extensions["otacm"].request_log
    send(app, 12)
    assert writer_threads() == before
    assert len(log._backend.store.logged_requests()) == 0  # nothing moved yet
    entries = log.entries()
    assert [entry["id"] for entry in entries] == [12, 11, 10, 9, 8]  # the bound dropped 1-7; their ids are skipped
    assert log.kept() == 5
    send(app, 1)
    assert log.entries(limit=1)[0]["id"] == 13


def test_on_a_durable_store_the_front_moves_each_full_batch_after_its_answer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_log, "FLUSH_SECONDS", 3600.0)  # the writer sleeps: only the front moves
    monkeypatch.setattr(request_log, "BATCH", 4)
    app = create_app(frozen_config(clock_start=FROZEN_START, store=f"sqlite:{tmp_path / 'sandbox.db'}"))
    state = app.extensions["otacm"]
    try:
        front = for_granian(app)
        assert front.after_answer == state.request_log.after_answer
        send(app, 3)
        front.after_answer()
        assert len(state.backend.store.logged_requests()) == 0  # not a full batch yet
        send(app, 1)
        front.after_answer()
        assert [row[0] for row in state.backend.store.logged_requests()] == [1, 2, 3, 4]
    finally:
        state.request_log.stop()
        state.backend.store.close()


def test_with_the_log_off_the_front_has_nothing_to_do_after_an_answer() -> None:
    app = create_app(frozen_config(clock_start=FROZEN_START, request_log_limit=0))
    assert for_granian(app).after_answer is None


def test_a_batch_the_store_cannot_take_waits_for_the_next_move_within_the_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its database away (StoreUnavailable), a move puts the batch back, keeping the newest `limit`, with
    their ids; the next move once it is back stores them."""
    printed = io.StringIO()
    app = create_app(frozen_config(clock_start=FROZEN_START, request_log_limit=3))
    state = app.extensions["otacm"]
    log = request_log.RequestLog(state.backend, 3, state.spec.operations, "json", printed)  # printing: not deferred
    app.wsgi_app.log = log  # type: ignore[attr-defined]  # the Gateway captures into this one
    store = state.backend.store
    real = store.log_requests

    def away(requests: Any, keep: int) -> None:
        raise StoreUnavailable("the database is away")

    try:
        monkeypatch.setattr(store, "log_requests", away)
        send(app, 5)
        log.flush(write=False)
        assert printed.getvalue() == ""  # nothing moved, nothing printed
        assert len(log._pending) == 3  # what waits stays within the bound, however long the database is away
        monkeypatch.setattr(store, "log_requests", real)
        assert [entry["id"] for entry in log.entries()] == [5, 4, 3]
    finally:
        log.stop()
