"""`strict_error_message` holds a target to what CONTRACT.md says a message's
values are: `line %1` the line's lineNo, `partner '%2'` the partner's name
(issue 12), so an implementation answering 1-based lines or partner ids fails."""

from __future__ import annotations

import pytest

from contracts.checks.strict import MESSAGE_TEMPLATES, placeholder_kinds, strict_error_message


@pytest.mark.parametrize("message, ok", [
    ("quantity must be >= 1 (line 200000)", True),
    ("quantity must be >= 1 (line 2)", False),
    ("wallet.names array length (1) must equal 2 on line 100000", True),
    ("wallet.names array length (1) must equal 2 on line 1", False),
    ("wallet.componentSchedule entries must be objects (line 100000)", True),
    ("wallet.componentSchedule is only valid for package items (line 1)", False),
    ("'31030' is not a component of package '31100' (line 0)", False),
    ("Partner 'Disabled OTA' is not active", True),
    ("Partner '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6' is not active", False),
    ("An order with sellToOrderReference 'R' already exists for partner 'Sandbox OTA'", True),
    ("An order with sellToOrderReference 'R' already exists for partner '21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e'", False),
    ("Optional field 'sellToName' must be a primitive value", True),
    ("Optional field 'sellToName' must be of type string", False),
    ("items[0].componentSchedule entry '31001' visitDate must not be in the past (received 2026-05-01, "
     "local today 2026-05-15)", True),
    ("Http method OPTIONS is not supported", True),
])
def test_strict_error_message_wants_line_numbers_and_partner_names(message: str, ok: bool) -> None:
    """CONTRACT.md: `line %1` is the lineNo, `partner '%2'` the partner's name (issue 12)."""
    violations = strict_error_message("createOrder", 400, {"code": "generic_error", "message": message})
    assert (violations == []) is ok, violations


def test_the_kinds_of_placeholders_come_from_the_words_before_them() -> None:
    kinds = {template: placeholder_kinds(template) for template in MESSAGE_TEMPLATES}
    assert kinds["quantity must be >= 1 (line %1)"] == ["lineNo"]
    assert kinds["'%1' is not a component of package '%2' (line %3)"] == ["any", "any", "lineNo"]
    assert kinds["An order with sellToOrderReference '%1' already exists for partner '%2'"] == ["any", "name"]
    assert kinds["Unknown partnerId '%1'"] == ["any"]
