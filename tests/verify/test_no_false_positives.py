"""What CONTRACT.md leaves open never fails a run: each case a correct implementation may answer either way.

The paragraph on silence: an empty query value, `null` in an optional field, an
out-of-range `pageSize`, an unknown parameter, a header the docs do not name —
and the order in which a server checks a request. At most a warning.
"""

from __future__ import annotations

from contracts.checks.registry import Registry
from contracts.target import Exchange
from contracts.verify.evidence import CheckContext, Evidence
from contracts.verify.judge import judge
from contracts.verify.schemathesis_run import classify

UNKNOWN = "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"


def _replace(body: object, status: int) -> Exchange:
    response = {"code": "generic_error" if status == 400 else "resource_not_found", "message": "x"}
    return Exchange("PUT", f"http://t/channelManager/{UNKNOWN}", {}, body, "replaceOrder", {"orderId": UNKNOWN}, {},
                    status, response)


def _verdict(exchange: Exchange) -> str:
    ctx = CheckContext("documented", {}, Evidence(exchanges=[exchange]), 70.0)
    (outcome,) = judge(Registry.collect().select(["unknown_order_not_found"], "documented"), ctx)
    return outcome.verdict


def test_an_invalid_body_may_be_refused_before_the_order_is_looked_up() -> None:
    assert _verdict(_replace({"items": "not an array"}, 400)) == "skipped"


def test_a_valid_body_for_an_unknown_order_must_be_404() -> None:
    body = {"partnerId": "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e", "sellToOrderReference": "R-1",
            "items": [{"itemNumber": "31001", "visitDate": "2030-01-01", "visitTime": "10:30:00"}]}
    assert _verdict(_replace(body, 400)) == "failed"
    assert _verdict(_replace(body, 404)) == "passed"


def test_schemathesis_findings_are_mapped_onto_the_levels() -> None:
    # accepted invalid-by-schema input: CONTRACT.md's silence, a warning at both levels
    assert classify("negative_data_rejection", "listOrdersByPartner", False, 200, None, "documented") == "warning"
    assert classify("negative_data_rejection", "listOrdersByPartner", False, 200, None, "strict") == "warning"
    # confirmOrder on Issued does not read the body (CONTRACT.md): not a finding at all
    assert classify("negative_data_rejection", "confirmOrder", False, 200, "Issued", "strict") is None
    # a read finding the Cancelled row after delete is the contract
    assert classify("use_after_free", "getOrder", True, 200, "Cancelled", "documented") is None
    # another 4xx for an invalid request: the exact code is a server fact
    assert classify("status_code_conformance", "createOrder", False, 422, None, "documented") == "warning"
    assert classify("status_code_conformance", "createOrder", False, 422, None, "strict") == "failed"
    # a server error is always a failure
    assert classify("not_a_server_error", "getOrder", True, 500, None, "documented") == "failed"


def test_a_415_for_an_odd_content_type_is_judged_at_strict_only() -> None:
    exchange = _replace({"items": []}, 415)
    documented = CheckContext("documented", {}, Evidence(exchanges=[exchange]), 70.0)
    strict = CheckContext("strict", {}, Evidence(exchanges=[exchange]), 70.0)
    registry = Registry.collect().select(["unknown_order_not_found"], "strict")
    assert [o.verdict for o in judge(registry, documented)] == ["skipped"]
    assert [o.verdict for o in judge(registry, strict)] == ["failed"]
