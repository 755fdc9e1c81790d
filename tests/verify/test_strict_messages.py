"""`strict_error_message` holds a target to CONTRACT.md's messages only where CONTRACT.md names the message for
the request's case (issue 18): a named case answered in other words fails at strict, a case it does not name
(a wrong JSON type, a subscription body, a path that may not route) is at most a warning. Where it names one,
a message's values are what CONTRACT.md says: `line %1` the lineNo, `partner '%2'` the partner's name (issue 12).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from contracts.checks.message_cases import Known, Request, known_for
from contracts.checks.registry import Registry
from contracts.checks.strict import (
    MESSAGE_TEMPLATES,
    placeholder_kinds,
    strict_error_message,
)
from contracts.target import Exchange
from contracts.verify.evidence import CheckContext, Evidence
from mockserver.server import MockServer
from realtime_targets import realtime_mock, verify_argv

PARTNER = "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e"
TODAY = date(2026, 5, 15)
KNOWN = Known(partners=frozenset({PARTNER}), items={"31001": "individual", "31010": "group"},
              unknown_items=frozenset({"NO-SUCH-ITEM"}), taken=frozenset({(PARTNER, "otacm-r-taken")}),
              fresh=lambda reference: reference.startswith("otacm-r-new"), today=TODAY)


def body(**changes: Any) -> dict[str, Any]:
    """A createOrder body every part of which the run knows to be valid, changed as told (None: left out)."""
    line = {"itemNumber": "31001", "visitDate": (TODAY + timedelta(days=30)).isoformat(), "visitTime": "10:30:00",
            "quantity": 1, **changes.pop("line", {})}
    made = {"partnerId": PARTNER, "sellToOrderReference": "otacm-r-new-1", "sellToName": "Probe",
            "items": [line], **changes}
    return {k: v for k, v in made.items() if v is not None}


def judge(message: str, operation: str = "createOrder", status: int = 400, sent: Any = None,
          params: dict[str, str] | None = None) -> tuple[bool, bool]:
    """(failed, warned) for an error answer with this message to this request."""
    request = Request(operation, "POST", params or {}, {}, sent)
    found = strict_error_message(operation, status, {"code": "generic_error", "message": message}, params,
                                 request, KNOWN)
    return any(not v.warning for v in found), any(v.warning for v in found)


# -- cases CONTRACT.md names no message for: never a failure -------------------------------------------------
@pytest.mark.parametrize("message", ["paymentReference must be a string",
                                     "Optional field 'paymentReference' must be of type string",
                                     "Required field 'paymentReference' is invalid"])
def test_a_wrong_json_type_in_an_optional_field_is_at_most_a_warning(message: str) -> None:
    assert not judge(message, sent=body(paymentReference=False))[0]


@pytest.mark.parametrize("message", ["Required field 'eventName' must be a string", "eventName must be a string",
                                     "Body must be a JSON object with eventName"])
def test_a_non_string_event_name_on_a_subscription_is_at_most_a_warning(message: str) -> None:
    sent = {"notificationUrl": "http://127.0.0.1:9/hook", "eventName": 5}
    assert not judge(message, "createWebhookSubscription", sent=sent)[0]


@pytest.mark.parametrize("status, message", [(404, "API endpoint not found Not Found"), (404, "Not Found"),
                                             (400, "Invalid order id: bad characters"), (400, "Bad Request")])
def test_an_order_id_with_control_characters_is_at_most_a_warning(status: int, message: str) -> None:
    for order_id in ("\x01\x7f", "abc\ndef", "a b", "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8\x00"):
        failed, _ = judge(message, "getOrder", status, params={"orderId": order_id})
        assert not failed, (order_id, message)


def test_a_message_for_an_uncertain_case_that_reads_like_a_named_one_is_a_warning() -> None:
    """Null in an optional field is not named; a message opening like the non-primitive one is a warning."""
    assert judge("Optional field 'sellToName' must be a string", sent=body(sellToName=None)) == (False, True)
    # a partner the run never saw take an order might be unknown or inactive: which message is not certain
    assert judge("Partner 'x' is not known", sent=body(partnerId="0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"))[0] is False
    # a reference the run did not make might be taken already: the answer may be the duplicate message
    sent = body(sellToOrderReference="REF-1", line={"quantity": 0})
    assert judge("An order with sellToOrderReference 'REF-1' already exists for partner 'Sandbox OTA'",
                 sent=sent) == (False, False)


# -- named cases: a wrong message fails ------------------------------------------------------------------
NAMED = {
    "missing required field": (body(sellToOrderReference=None), "sellToOrderReference is required",
                               "Required field 'sellToOrderReference' is missing"),
    "unknown item": (body(line={"itemNumber": "NO-SUCH-ITEM"}), "Item NO-SUCH-ITEM does not exist",
                     "Unknown item 'NO-SUCH-ITEM'"),
    "past visitDate": (body(line={"visitDate": "2026-05-01"}), "visitDate is in the past",
                       "items[0] visitDate must not be in the past (received 2026-05-01, local today 2026-05-15)"),
    "duplicate reference": (body(sellToOrderReference="OTACM-R-TAKEN"), "Reference already used",
                            ("An order with sellToOrderReference 'OTACM-R-TAKEN' already exists for partner "
                            "'Sandbox OTA'")),
    "quantity 0": (body(line={"quantity": 0}), "quantity must be >= 1 (line 1)", "quantity must be >= 1 (line 100000)"),
    "wallet names": (body(line={"quantity": 2, "wallet": {"names": ["One"]}}),
                     "wallet.names array length (1) must equal 2 on line 1",
                     "wallet.names array length (1) must equal 2 on line 100000"),
    "not an object": ([1, 2], "Invalid JSON", "Body must be a JSON object"),
    "empty items": (body(items=[]), "items must not be empty", "items array must contain at least one entry"),
}


@pytest.mark.parametrize("name", list(NAMED))
def test_a_named_case_answered_in_other_words_fails(name: str) -> None:
    sent, wrong, right = NAMED[name]
    assert judge(wrong, sent=sent) == (True, False), name
    assert judge(right, sent=sent) == (False, False), name


def test_two_named_defects_accept_either_message() -> None:
    sent = body(sellToName={"first": "A"}, line={"quantity": 0})
    assert judge("Optional field 'sellToName' must be a primitive value", sent=sent) == (False, False)
    assert judge("quantity must be >= 1 (line 100000)", sent=sent) == (False, False)
    assert judge("quantity must be at least 1", sent=sent) == (True, False)


def test_a_partner_is_named_by_its_name_in_the_duplicate_message() -> None:
    sent = body(sellToOrderReference="otacm-r-taken")
    message = f"An order with sellToOrderReference 'OTACM-R-TAKEN' already exists for partner '{PARTNER}'"
    assert judge(message, sent=sent) == (True, False)


def test_an_unknown_order_and_a_bad_order_id_are_named() -> None:
    oid = "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"
    assert judge("no such order", "getOrder", 404, params={"orderId": oid}) == (True, False)
    assert judge(f"Order '{oid}' not found Not Found", "getOrder", 404, params={"orderId": oid}) == (False, False)
    assert judge("bad id", "deleteOrder", 400, params={"orderId": "not-a-guid"}) == (True, False)


def test_the_kinds_of_placeholders_come_from_the_words_before_them() -> None:
    kinds = {template: placeholder_kinds(template) for template in MESSAGE_TEMPLATES}
    assert kinds["quantity must be >= 1 (line %1)"] == ["lineNo"]
    assert kinds["'%1' is not a component of package '%2' (line %3)"] == ["any", "any", "lineNo"]
    assert kinds["An order with sellToOrderReference '%1' already exists for partner '%2'"] == ["any", "name"]
    assert kinds["Unknown partnerId '%1'"] == ["any"]


# -- what the run knows, through the registered check --------------------------------------------------------
def _exchange(status: int, sent: Any, answer: Any, at: float, operation: str = "createOrder") -> Exchange:
    return Exchange("POST", "http://127.0.0.1:1/t/e/c/channelManager", {}, sent, operation, {}, {}, status, answer,
                    at=at)


def test_the_check_reads_duplicates_and_partners_from_the_run() -> None:
    at = 1_778_837_400.0  # 2026-05-15
    first = _exchange(201, body(sellToOrderReference="otacm-r-new-1"), {"orderId": "o-1", "status": "Submitted"}, at)
    again = _exchange(400, body(sellToOrderReference="OTACM-R-NEW-1"),
                      {"code": "generic_error", "message": "Reference already used"}, at + 5)
    known = known_for(again, {"individual_item": "31001"}, [first, again])
    assert (PARTNER, "otacm-r-new-1") in known.taken and PARTNER in known.partners
    check = Registry.collect().get("error_message_wording")
    found = check(CheckContext("strict", {"individual_item": "31001"}, Evidence(exchanges=[first, again]), 70.0),
                  again)
    assert found and not found[0].warning, found


# -- a broken target ------------------------------------------------------------------------------------
def _reword_past_visit(server: MockServer) -> None:
    """The past-visitDate message in the target's own words (a named case: strict must fail it)."""
    from broken_targets import rewrite_responses

    def rewrite(method: str, path: str, code: int, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if code == 400 and b"must not be in the past" in raw:
            return code, headers, json.dumps({"code": "generic_error", "message": "visitDate is in the past"}).encode()
        return code, headers, raw

    rewrite_responses(server, rewrite)


def test_a_target_rewording_a_named_message_fails_strict(capsys: pytest.CaptureFixture[str]) -> None:
    from contracts.cli import main

    with realtime_mock(_reword_past_visit) as server:
        code = main(verify_argv(server, "--strictness", "strict", "--checks", "rejections", "--phases", "examples",
                                "--operations", "getOrder"))
    out = capsys.readouterr().out
    assert code == 1, out
    row = next(line for line in out.splitlines() if line.startswith("  rejections/error_message_wording"))
    assert row.endswith("FAIL") and "'visitDate is in the past'" in out, out


def test_a_list_query_with_an_unknown_status_is_never_a_named_case() -> None:
    """A random status value next to a bad receivedAtTo: the server may name either, so no message is required."""
    from contracts.checks.message_cases import _list_defects

    class Asked:
        params = {"partnerId": "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e"}
        query = {"status": "Pending", "receivedAtTo": "yesterday"}

    assert "uncertain" in _list_defects(Asked())  # type: ignore[arg-type]
    Asked.query = {"status": "Issued,Draft", "receivedAtTo": "yesterday"}
    assert "uncertain" not in _list_defects(Asked())  # type: ignore[arg-type]


@pytest.mark.parametrize("digits", ["¹00000", "١٠٠٠٠٠", "𝟏00000", "²"])
def test_a_line_number_in_other_digits_is_a_wrong_message_not_a_crash(digits: str) -> None:
    """`str.isdigit` is true for '¹' and Arabic-Indic digits, which `int()` refuses or reads otherwise: a target's
    message holding them is judged (it is not a lineNo), never a crash of the check."""
    from contracts.checks.message_cases import ascii_digits

    assert not ascii_digits(digits) and ascii_digits("100000") and not ascii_digits("") and not ascii_digits("1\n")
    sent = body(line={"quantity": 0})
    assert judge(f"quantity must be >= 1 (line {digits})", sent=sent) == (True, False)


def test_a_page_size_in_other_digits_makes_the_list_query_uncertain() -> None:
    """pageSize='¹9' is not a number the run knows how a server reads: no message is required, and nothing crashes."""
    from contracts.checks.message_cases import _list_defects

    class Asked:
        params = {"partnerId": PARTNER}
        query = {"pageSize": "¹9", "receivedAtTo": "yesterday"}

    assert "uncertain" in _list_defects(Asked())  # type: ignore[arg-type]
    Asked.query = {"pageSize": "19", "receivedAtTo": "yesterday"}
    assert "uncertain" not in _list_defects(Asked())  # type: ignore[arg-type]


def test_a_fuzz_answer_of_a_warped_target_is_never_judged_by_this_machines_date() -> None:
    """A mock frozen on 2026-05-15 accepted a fuzz body visiting 2026-06-14; verify stamped the answer with
    this machine's clock (December) and failed invalid_input_refused ("in the past"). Such answers now carry
    no time (at 0.0): no date rule is applied to them."""
    from contracts.checks.rejections import invalid_reason

    body = {"partnerId": "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e", "sellToOrderReference": "R",
            "items": [{"itemNumber": "31001", "visitDate": "2026-06-14", "visitTime": "10:30:00", "quantity": 1}]}
    december = datetime(2026, 12, 6, tzinfo=timezone.utc).timestamp()
    assert invalid_reason(body, {}, december) == "visitDate 2026-06-14 in the past"  # a known time: judged
    assert invalid_reason(body, {}, 0.0) == ""  # no time: not judged
