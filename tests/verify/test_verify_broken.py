"""`otacm verify` on real-time targets with one rule broken: it fails, naming the check of that rule.

The targets are the mock as a foreign implementation looks (`realtime_mock`: no
/_mock/, real clock), broken by a middleware or a patch of one instance
(tests/broken_targets.py); verify is run as QA types it, with only the check
that must see the break, so each case stays short. The probe's own checks are
broken one by one in test_probe_broken.py and test_broken_rules.py.
"""

from __future__ import annotations

from typing import Callable

import pytest

from broken_targets import (
    _create_answers_200,
    _created_order_not_found,
    _drop_received_at,
    _errors_as_text,
    _keys_sorted,
    _long_buy_from_reference,
    _no_auth,
    _short_not_found,
    _unknown_order_500,
)
from contracts.cli import main
from contracts.verify.results import EXIT_OK, EXIT_VIOLATION
from mockserver.server import MockServer
from realtime_targets import realtime_mock, verify_argv

FUZZ = ("--no-scenarios", "--no-webhooks", "--seed", "7")
Case = tuple[str, str, Callable[[MockServer], None], tuple[str, ...]]

CASES: dict[str, Case] = {
    "createOrder answers 200, not 201": ("responses", "status_code_conformance", _create_answers_200,
                                         ("--phases", "examples", "--operations", "createOrder")),
    "errors as text/plain": ("responses", "content_type_conformance", _errors_as_text,
                             ("--phases", "examples", "--operations", "getOrder")),
    "no API key needed": ("responses", "ignored_auth", _no_auth,
                          ("--phases", "examples", "--operations", "listOrdersByPartner")),
    "an unknown order is a 500": ("responses", "not_a_server_error", _unknown_order_500,
                                  ("--phases", "examples", "--operations", "getOrder")),
    "orders without receivedAt": ("responses", "response_schema_conformance", _drop_received_at,
                                  ("--phases", "examples", "--operations", "createOrder")),
    "a created order is not found": ("responses", "ensure_resource_availability", _created_order_not_found,
                                     ("--phases", "stateful", "--operations", "createOrder,getOrder")),
    "keys sorted alphabetically (strict)": ("strict", "server_key_order", _keys_sorted, ("--strictness", "strict")),
    "the docs' 22-character buyFromOrderReference (strict)": ("strict", "server_formats", _long_buy_from_reference,
                                                              ("--strictness", "strict")),
    "404 without the server's message (strict)": ("rejections", "error_message_wording", _short_not_found,
                                                  ("--strictness", "strict")),
}
STRICT_ONLY = [name for name, case in CASES.items() if "--strictness" in case[3]]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CASES))
def test_verify_fails_naming_the_check_of_the_broken_rule(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    family, check, apply, extra = CASES[name]
    with realtime_mock(apply) as server:
        code, out = run(verify_argv(server, "--checks", check, *FUZZ, *extra), capsys)
    assert code == EXIT_VIOLATION, out
    assert f"[{check}]" in out, out  # the failures list names the check...
    rows = [line for line in out.splitlines() if line.strip().startswith(f"{family}/{check}")]
    assert rows and rows[0].rstrip().endswith("FAIL"), out  # ...and its row in the table fails


@pytest.mark.parametrize("name", sorted(STRICT_ONLY))
def test_a_server_fact_is_not_a_violation_at_the_documented_level(name: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """What CONTRACT.md marks server/decision fails `strict` only: `documented` passes the same target."""
    _, _, apply, _ = CASES[name]
    with realtime_mock(apply) as server:
        code, out = run(verify_argv(server, "--checks", "orders,rejections,calls", *FUZZ), capsys)
    assert code == EXIT_OK, out
