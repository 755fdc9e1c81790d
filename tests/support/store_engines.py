"""Every store engine, for the one contract suite they all pass (Django's cache backends share theirs); the store tests import these fixtures.

`ENGINES` names each engine and how a test gets a fresh store URL for it;
`DURABLE` the ones whose state must outlive the process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from mockserver.store import Store, open_store

ENGINES: dict[str, Callable[[Path], str]] = {
    "memory": lambda _tmp: "memory",
    "sqlite": lambda tmp: f"sqlite:{tmp / 'sandbox.db'}",
}
DURABLE = ("sqlite",)


@pytest.fixture(params=sorted(ENGINES))
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ENGINES[request.param](tmp_path)


@pytest.fixture(params=DURABLE)
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ENGINES[request.param](tmp_path)


@pytest.fixture
def store(store_url: str) -> Store:
    opened = open_store(store_url)
    yield opened  # type: ignore[misc]
    opened.close()
