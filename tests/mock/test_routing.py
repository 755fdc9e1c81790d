"""routing.UrlTable: raw paths to operations, with the scope's decoding kept."""

from __future__ import annotations

import pytest

from contracts.spec import load_spec
from mockserver.api.routing import UrlTable

ORDER = "7c3f4f5a-2a1b-4c55-9d0e-0c7d1b0f6a11"


@pytest.mark.parametrize("segment", ["CRONUS%2520Danmark%2520A%252FS", "CRONUS%20Danmark%20A%2FS", "CRONUS+Danmark+A%2FS"])
def test_the_company_decodes_the_same_on_every_request(segment: str) -> None:
    table = UrlTable(load_spec())
    for _ in range(3):  # the second and third come from what the first kept
        match = table.match("GET", f"/tenant/Sandbox/{segment}/channelManager/{ORDER}")
        assert match is not None and match.operation.operation_id == "getOrder"
        assert dict(match.params) == {"tenant": "tenant", "environment": "Sandbox",
                                      "company": "CRONUS Danmark A/S", "orderId": ORDER}


def test_kept_decodings_are_bounded_and_params_read_only() -> None:
    table = UrlTable(load_spec())
    for n in range(5000):
        match = table.match("GET", f"/tenant/Sandbox/Company%20{n}/channelManager/{ORDER}")
        assert match is not None and match.params["company"] == f"Company {n}"
    assert table._decode_scope.cache_info().currsize <= 4096
    with pytest.raises(TypeError):
        match.params["company"] = "other"  # type: ignore[index]
