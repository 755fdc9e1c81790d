"""Fixtures for the project's own tests: a mock on a frozen clock that checks
every response it sends against the spec (strict)."""

from __future__ import annotations

from typing import Iterator

import pytest

from mockclient import FROZEN_START, Api
from mockserver.server import MockServer, frozen_config


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(frozen_config(clock_start=FROZEN_START, validate_responses=True)) as server:
        yield server


@pytest.fixture
def api(mock: MockServer) -> Api:
    return Api(mock)
