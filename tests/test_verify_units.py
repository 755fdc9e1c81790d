"""Unit tests of the strict checks, the lifecycle coverage and the pytest entry."""

from __future__ import annotations

import pytest

from contracts.checks.lifecycle import Observation
from contracts.verify.pytest_entry import check_ids, contract_tests, options_from
from contracts.checks.strict import strict_error_message, strict_key_order, strict_response_schema
from contracts.verify.run import edges_seen, lifecycle_edges


def test_strict_error_message_knows_the_servers_404() -> None:
    good = {"code": "resource_not_found", "message": "Order 'abc' not found Not Found"}
    assert strict_error_message("getOrder", 404, good, {"orderId": "abc"}) == []
    bad = strict_error_message("getOrder", 404, {"code": "resource_not_found", "message": "Not found"},
                               {"orderId": "abc"})
    assert bad and bad[0].check == "strict_error_message"


def test_strict_error_message_matches_templates_loosely() -> None:
    ok = {"code": "generic_error", "message": "order cannot be replaced in status Issued "}
    assert strict_error_message("replaceOrder", 400, ok, {"orderId": "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"}) == []
    wrong = {"code": "generic_error", "message": "Order cannot be replaced"}
    assert strict_error_message("replaceOrder", 400, wrong, {"orderId": "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"})


def test_strict_key_order_names_the_misplaced_keys() -> None:
    order = {"status": "Submitted", "orderId": "x", "items": []}
    violations = strict_key_order("getOrder", 200, order)
    assert violations and "orderId" in violations[0].message


def test_strict_schema_wants_the_servers_reference_format() -> None:
    from contracts.spec import load_spec

    example = next(v for w, _, v in load_spec().examples() if w == "getOrder 200 issued")
    assert strict_response_schema("getOrder", 200, example) == []
    assert strict_response_schema("getOrder", 200, {**example, "buyFromOrderReference": "CM-20260515093000-A1B2"})


def test_edges_seen_counts_direct_moves_only() -> None:
    timeline = [Observation("Submitted", 0, "createOrder"), Observation("Issued", 70),
                Observation("Cancelled", 80, "deleteOrder")]
    seen = edges_seen(timeline)
    assert seen == {"Issued → Cancelled"}  # Submitted → Issued skipped states: not a direct edge
    assert "Submitted → Scheduled" in lifecycle_edges()


def test_pytest_entry_ids_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTACM_STRICTNESS", "strict")
    options = options_from(checks="lifecycle")
    assert options.strictness == "strict"
    ids = check_ids(options)
    assert "lifecycle/settles_within" in ids and "lifecycle/strict_key_order" in ids
    assert not any(i.startswith("responses/") for i in ids)


# the pytest entry as QA would use it, against the embedded mock
test_contract_lifecycle = contract_tests(checks=("lifecycle", "webhooks"), scenarios=False)


class _Fake:
    """Just enough of a Schemathesis case, failure or response for the tolerance rules."""

    def __init__(self, **fields: object) -> None:
        self.__dict__.update(fields)

    def json(self) -> object:
        return self.body


def _confirm_case() -> _Fake:
    return _Fake(method="POST", operation=_Fake(method="POST", path="/{tenant}/{environment}/{company}/channelManager/{orderId}/confirm"))


AcceptedNegativeData = type("AcceptedNegativeData", (), {})
UseAfterFree = type("UseAfterFree", (), {})


@pytest.mark.parametrize(
    "failure, status, body, tolerated",
    [
        (AcceptedNegativeData(), 200, {"status": "Issued"}, True),  # confirm on Issued: the body is not read
        (AcceptedNegativeData(), 200, {"status": "Draft"}, False),
        (AcceptedNegativeData(), 200, {"status": "Submitted"}, False),
        (UseAfterFree(), 200, {"status": "Cancelled"}, True),
        (UseAfterFree(), 200, {"status": "Issued"}, False),
    ],
)
def test_tolerances_are_narrow(failure: object, status: int, body: dict, tolerated: bool) -> None:
    from contracts.verify.schemathesis_run import _tolerated

    assert _tolerated(failure, _confirm_case(), _Fake(status_code=status, body=body)) is tolerated
