"""The store tests' fixtures: the PostgreSQL server of the session (store_engines.POSTGRESQL): each test's databases are
dropped after it, and the server, if a test started one, is stopped when the session ends."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import freezegun
import pytest

from postgresql_server import SessionServer
from sandbox_process import SandboxProcess, free_port
from store_engines import POSTGRESQL

# psycopg_pool's scheduler runs in its own thread, where freezegun answers the real time (it ignores
# `threading`), while a task the test's thread enters is timed on the frozen clock: the pool's stop would be
# due in years and its close would wait 5 s for the thread. The pool keeps real time; the sandbox's clock is
# what the tests freeze.
freezegun.configure(extend_ignore_list=["psycopg_pool"])


@pytest.fixture(scope="session", autouse=True)
def postgresql_session() -> Iterator[SessionServer]:
    """Starts nothing itself: the first test on a PostgreSQL store does (a memory-only run needs no server)."""
    yield POSTGRESQL
    POSTGRESQL.stop()


@pytest.fixture(autouse=True)
def postgresql_databases(postgresql_session: SessionServer) -> Iterator[None]:
    """Each test gets empty databases of its own and leaves none behind."""
    yield
    postgresql_session.drop_databases()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    """The sandbox's file, port and log; whatever it started is killed at teardown, pass or fail."""
    box = SandboxProcess(tmp_path / "sandbox.db", free_port(), tmp_path / "otacm-mock.log")
    try:
        yield box
    finally:
        box.stop()
