"""The `strict` level of CONTRACT.md as checks on one response.

CONTRACT.md defines two strictness levels. `documented` asserts doc facts and
the spec's shapes (Schemathesis' `response_schema_conformance` does that with
the spec as written). `strict` asserts every line of CONTRACT.md exactly; for a
single response that means three more properties, each a pure function here
returning `Violation`s (empty when the property holds):

- `strict_response_schema`: the response validates against the spec with its
  `x-strict` blocks folded in (`Spec.validator_for(schema, strict=True)`):
  lower-case GUIDs, `Z` datetimes, `CM-<12 digits>-<4 hex>`, 32-hex `jobId`,
  shell wallets with the empty GUID, the paginated list envelope, ...
- `strict_key_order`: objects carry their keys in the server's order
  (`x-strict.keyOrder` of OrderHeader for orders; the property order of the
  spec's OrderLine, Wallet, Asset, OrderSummary and list envelope, which is
  the order CONTRACT.md lists them in).
- `strict_error_message`: an error's `message` is the server's text where
  CONTRACT.md names it for the request's case (contracts/data/messages.yaml;
  which case a request is, `contracts.checks.message_cases`), matched loosely as
  CONTRACT asks (case and surrounding whitespace ignored, `%1` any value),
  except where CONTRACT says what a value is: `line %1` is the line's lineNo
  (100000, 200000, ...), `partner '%2'` the partner's name, never its GUID.
  Where the request is not certainly a named case, a message that reads like
  one but does not match is a warning, never a failure.

`otacm verify` runs them on every Schemathesis response (contracts.verify.schemathesis_run) and
on every answer of its lifecycle probe when `--strictness strict`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from contracts.checks.message_cases import (
    Known,
    Request,
    all_templates,
    ascii_digits,
    expected_messages,
)
from contracts.checks.violations import Violation
from contracts.spec import load_spec

STRICTNESS_LEVELS = ("documented", "strict")
STRICT_CHECKS = ("strict_response_schema", "strict_key_order", "strict_error_message")

# Operations whose 2xx body is an order (the key order of OrderHeader applies).
ORDER_OPERATIONS = frozenset({"createOrder", "getOrder", "replaceOrder", "confirmOrder", "deleteOrder"})
ORDER_ID_OPERATIONS = frozenset({"getOrder", "replaceOrder", "confirmOrder", "deleteOrder"})

# CONTRACT.md "Messages" (server), read from contracts/data/messages.yaml with the case each one names.
MESSAGE_TEMPLATES: tuple[str, ...] = all_templates()
LINE_NO_STEP = 100000  # lines are numbered 100000, 200000, ... (CONTRACT.md)


def template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"%\d", template)
    body = "(.+?)".join(re.escape(part) for part in parts)
    return re.compile(rf"^\s*{body}\s*$", re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=1)
def _templates() -> list[tuple[str, str, re.Pattern[str]]]:
    """(template, its fixed opening, regex): the opening decides which template a message claims to be."""
    found = []
    for template in MESSAGE_TEMPLATES:
        opening = re.split(r"%\d", template)[0].strip().lower()
        found.append((template, opening, template_regex(template)))
    return found


def matches_template(message: str, template: str) -> bool:
    found = template_regex(template).match(message or "")
    # One group per `%N`, one kind per `%N`: the lengths are equal by construction.
    return found is not None and all(_value_fits(kind, value.strip())
                                     for kind, value in zip(placeholder_kinds(template), found.groups(), strict=True))


def placeholder_kinds(template: str) -> list[str]:
    """What each `%N` of a template stands for, read from the words before it:
    `line %1` a lineNo, `partner '%2'` a partner's name, anything else any value."""
    kinds = []
    for before in re.split(r"%\d", template)[:-1]:
        before = before.lower()
        kinds.append("lineNo" if before.endswith("line ") else "name" if before.endswith("partner '") else "any")
    return kinds


def _value_fits(kind: str, value: str) -> bool:
    """A 1-based line number or a partner's id where CONTRACT.md wants the lineNo or the name does not."""
    if kind == "lineNo":
        return ascii_digits(value) and int(value) > 0 and int(value) % LINE_NO_STEP == 0
    if kind == "name":
        return not _is_guid(value)
    return True


def expected_message_template(message: str) -> list[str]:
    """The CONTRACT templates a message claims to be.

    A message claims a template when it shares the template's fixed opening
    (up to its first `%N`), or at least its first 16 characters: so
    "Order cannot be replaced" claims "Order cannot be replaced in status %1".
    """
    text = (message or "").strip().lower()
    claimed = []
    for template, opening, regex in _templates():
        need = min(len(opening), 16)
        if (need >= 6 and _common_prefix(text, opening) >= need) or regex.match(text):
            claimed.append(template)  # the regex: a template opening with `%1` ("'%1' is not a component ...")
    return claimed


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


# -- key order -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def key_orders() -> dict[str, list[str]]:
    spec = load_spec()
    schemas = spec.document["components"]["schemas"]

    def props(name: str) -> list[str]:
        return [key for key in schemas[name].get("properties", {}) if schemas[name]["properties"][key] is not False]

    return {
        "order": spec.key_order("OrderHeader"),
        "line": props("OrderLine"),
        "wallet": props("Wallet"),
        "asset": props("Asset"),
        "summary": props("OrderSummary"),
        "page": props("OrderListPage"),
        "error": props("Error"),
    }


def _order_problem(obj: Mapping[str, Any], expected: list[str], where: str) -> str | None:
    """Keys present must appear in `expected`'s relative order (unknown keys are ignored)."""
    known = [key for key in obj if key in expected]
    wanted = sorted(known, key=expected.index)
    if known != wanted:
        return (f"{where}: keys are in the order {known}, but the server's order is {wanted} "
                f"(CONTRACT.md lists the keys in this order)")
    return None


def strict_key_order(operation_id: str, status: int, body: Any) -> list[Violation]:
    """The server's key order for orders, lines, wallets, assets, summaries and errors."""
    orders = key_orders()
    problems: list[str | None] = []
    if not isinstance(body, (dict, list)):
        return []
    if 200 <= status < 300 and operation_id in ORDER_OPERATIONS and isinstance(body, dict):
        problems.append(_order_problem(body, orders["order"], "(order)"))
        for i, line in enumerate(body.get("items") or []):
            if not isinstance(line, dict):
                continue
            problems.append(_order_problem(line, orders["line"], f"items[{i}]"))
            for j, wallet in enumerate(line.get("wallets") or []):
                if not isinstance(wallet, dict):
                    continue
                problems.append(_order_problem(wallet, orders["wallet"], f"items[{i}].wallets[{j}]"))
                for k, asset in enumerate(wallet.get("assets") or []):
                    if isinstance(asset, dict):
                        problems.append(_order_problem(asset, orders["asset"], f"items[{i}].wallets[{j}].assets[{k}]"))
    elif 200 <= status < 300 and operation_id == "listOrdersByPartner":
        rows = body if isinstance(body, list) else body.get("data") or []
        if isinstance(body, dict):
            problems.append(_order_problem(body, orders["page"], "(page)"))
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                problems.append(_order_problem(row, orders["summary"], f"data[{i}]"))
    elif status >= 400 and isinstance(body, dict):
        problems.append(_order_problem(body, orders["error"], "(error)"))
    return [Violation("strict_key_order", p, p.split(":", 1)[0]) for p in problems if p]


# -- schema ------------------------------------------------------------------------------
def strict_response_schema(operation_id: str, status: int, body: Any) -> list[Violation]:
    """The body against the operation's response schema with `x-strict` folded in."""
    if operation_id not in load_spec().operations:
        return []
    validator = load_spec().response_validator(operation_id, str(status), strict=True)
    if validator is None:
        return []
    violations = []
    for error in _leaves(list(validator.iter_errors(body)))[:5]:
        path = _json_path(error.absolute_path)
        violations.append(Violation(
            "strict_response_schema",
            f"{operation_id} {status}: {path}: {error.message[:300]} (the spec's x-strict shape, CONTRACT.md "
            "server facts)",
            path,
        ))
    return violations


def _leaves(errors: list[Any]) -> list[Any]:
    """The innermost errors of oneOf/anyOf/allOf failures: they say what is wrong."""
    leaves = []
    for error in errors:
        if error.context:
            # the branch that got furthest: fewest errors, deepest path
            by_branch: dict[Any, list[Any]] = {}
            for sub in error.context:
                by_branch.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
            best = min(by_branch.values(), key=lambda subs: (len(subs), -max(len(s.absolute_path) for s in subs)))
            leaves.extend(_leaves(best))
        else:
            leaves.append(error)
    return leaves


def _json_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


# -- error messages ----------------------------------------------------------------------
@dataclass(frozen=True)
class MessageViolation(Violation):
    """A wrong message; `warning` where the request is not, with certainty, a case CONTRACT.md names."""

    warning: bool = False


def strict_error_message(
    operation_id: str | None, status: int, body: Any, path_params: Mapping[str, Any] | None = None,
    request: Request | None = None, known: Known | None = None,
) -> list[MessageViolation]:
    """An error's message is the server's text where CONTRACT.md names it for the request's case.

    Which case the request is comes from the request alone (`message_cases.expected_messages`): an order id
    that routes, a createOrder body whose every defect is a named case, ... There a wrong message fails.
    Where CONTRACT.md names no message for the case, or the case is not certain (a wrong JSON type, a path
    that may not route, a subscription body), a message that opens like a CONTRACT.md message but does not
    match it is a warning: CONTRACT.md's silence holds at strict too.
    """
    if status < 400 or not isinstance(body, dict):
        return []
    message = body.get("message")
    if not isinstance(message, str):
        return []  # the schema checks report a missing message
    sent = request or Request(operation_id, params=dict(path_params or {}))
    expected = expected_messages(sent, status, known or Known())
    label = f"{operation_id or 'request'} {status}"
    if expected is not None:
        if any(matches_template(message, template) for template in expected):
            return []
        return [MessageViolation("strict_error_message", f"{label}: message {message!r}; for this request "
                                 f"CONTRACT.md (server) names {' / '.join(repr(t) for t in expected)}{_KINDS}",
                                 "message")]
    claimed = expected_message_template(message)
    if claimed and not any(matches_template(message, template) for template in claimed):
        return [MessageViolation("strict_error_message", f"{label}: message {message!r} reads like CONTRACT.md's "
                                 f"{' / '.join(repr(t) for t in claimed)} but does not match it{_KINDS}; "
                                 "CONTRACT.md names no message for this request's case with certainty, so this is "
                                 "a warning, not a failure", "message", warning=True)]
    return []


_KINDS = " (%N: any value, but a line is its lineNo 100000, 200000, ... and a partner its name, not its id)"


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def strict_violations(
    operation_id: str | None, status: int, body: Any, path_params: Mapping[str, Any] | None = None
) -> list[Violation]:
    """All three strict checks on one response."""
    violations: list[Violation] = []
    if operation_id is not None:
        violations += strict_response_schema(operation_id, status, body)
        violations += strict_key_order(operation_id, status, body)
    violations += strict_error_message(operation_id, status, body, path_params)
    return violations
