"""pytest plugin (entry point `pytest11`): a running mock in one line.

    def test_my_integration(otacm_mock):
        client = MyClient(otacm_mock.base_url, otacm_mock.api_key)
        order = client.submit(partner_id=otacm_mock.partner_id, ...)
        otacm_mock.clock.advance(120)          # the order settles, no sleeping
        assert client.get(order.id).status == "Issued"

The mock starts in-process on a free 127.0.0.1 port with a frozen clock; a
fresh one per test, so tests never see each other's orders. Pass options with
`@pytest.mark.otacm_mock(api_mode="sync", clock_start="2026-06-01T09:00:00Z")`.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from mockserver.sandbox.clock import parse_instant
from mockserver.server import MockServer, frozen_config


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "otacm_mock(**options): options for the otacm_mock fixture "
        "(api_mode, clock_start, validate_responses, any MockConfig field)",
    )


@pytest.fixture
def otacm_mock(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    """A started mock: `.base_url`, `.api_key`, `.partner_id`, `.clock`, `.url`."""
    marker = request.node.get_closest_marker("otacm_mock")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    if isinstance(options.get("clock_start"), str):
        options["clock_start"] = parse_instant(options["clock_start"])
    with MockServer(frozen_config(**options)) as server:
        yield server
