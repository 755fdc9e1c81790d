"""Every store engine, for the one contract suite they all pass (Django's cache backends share theirs); the store tests import these fixtures.

`ENGINES` names each engine and how a test gets a fresh store URL for it
(given a folder of its own); `DURABLE` the ones whose state must outlive the
process. PostgreSQL's URLs are new databases on the session's one server
(postgresql_server.py), started on the first test that asks; without
PostgreSQL installed those tests are skipped with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from mockserver.store import Store, open_store
from postgresql_server import SessionServer

POSTGRESQL = SessionServer()  # the session's server; tests/store/conftest.py drops its databases and stops it
ENGINES: dict[str, Callable[[Path], str]] = {
    "memory": lambda _tmp: "memory",
    "sqlite": lambda tmp: f"sqlite:{tmp / 'sandbox.db'}",
    "postgresql": lambda _tmp: POSTGRESQL.database(),
}
DURABLE = ("postgresql", "sqlite")


@pytest.fixture(params=sorted(ENGINES))
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ENGINES[request.param](tmp_path)


@pytest.fixture(params=DURABLE)
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ENGINES[request.param](tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()
