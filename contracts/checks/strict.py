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
  CONTRACT.md lists it (`Order '<id>' not found Not Found`, `Invalid order id`,
  the validation and rule messages), matched loosely as CONTRACT asks (case
  and surrounding whitespace ignored, `%1` any value), except where CONTRACT
  says what a value is: `line %1` is the line's lineNo (100000, 200000, ...),
  `partner '%2'` the partner's name, never its GUID. Messages CONTRACT does
  not list are not judged.

`otacm verify` runs them on every Schemathesis response (contracts.verify.schemathesis_run) and
on every answer of its lifecycle probe when `--strictness strict`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Mapping

from contracts.spec import load_spec
from contracts.checks.violations import Violation

STRICTNESS_LEVELS = ("documented", "strict")
STRICT_CHECKS = ("strict_response_schema", "strict_key_order", "strict_error_message")

# Operations whose 2xx body is an order (the key order of OrderHeader applies).
ORDER_OPERATIONS = frozenset({"createOrder", "getOrder", "replaceOrder", "confirmOrder", "deleteOrder"})
ORDER_ID_OPERATIONS = frozenset({"getOrder", "replaceOrder", "confirmOrder", "deleteOrder"})

# CONTRACT.md "Messages" (server), `%1` placeholders as `(.+)`. Order matters
# only for readability; a message is judged against the template whose fixed
# opening it shares (see `expected_message_template`).
MESSAGE_TEMPLATES: tuple[str, ...] = (
    "Body must be a JSON object",
    "Required field '%1' is missing",
    "Required field '%1' cannot be null",
    "Required field '%1' cannot be empty",
    "Required field '%1' must be a primitive value",
    "Required field '%1' must be YYYY-MM-DD",
    "Required field '%1' must be HH:mm:ss",
    "Optional field '%1' must be a primitive value",
    "partnerId is not a valid GUID",
    "Unknown partnerId '%1'",
    "Partner '%1' is not active",
    "An order with sellToOrderReference '%1' already exists for partner '%2'",
    "items array is required",
    "items must be an array",
    "items array must contain at least one entry",
    "items[%1] must be an object",
    "Unknown item '%1'",
    "quantity must be >= 1 (line %1)",
    "items[%1] visitDate must not be in the past (received %2, local today %3)",
    "wallet.names array length (%1) must equal %2 on line %3",
    "wallet.externalReferenceNumbers array length (%1) must equal %2 on line %3",
    "wallet.componentSchedule is only valid for package items (line %1)",
    "wallet.componentSchedule entries must be objects (line %1)",
    "'%1' is not a component of package '%2' (line %3)",
    "items[%1].componentSchedule entry '%2' visitDate must not be in the past (received %3, local today %4)",
    "Invalid order id",
    "Invalid partnerId",
    "receivedAtFrom must be ISO 8601 datetime",
    "receivedAtTo must be ISO 8601 datetime",
    "Order cannot be replaced in status %1",
    "partnerId cannot be changed via PUT",
    "sellToOrderReference cannot be changed via PUT",
    "Order cannot be confirmed in status %1",
    "Order is mid-flight (status %1); retry once it has settled.",
    "Order '%1' not found Not Found",
    "API endpoint not found Not Found",
    "Http method %1 is not supported",
)
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
    return bool(found) and all(_value_fits(kind, value.strip())
                               for kind, value in zip(placeholder_kinds(template), found.groups()))


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
        return value.isdigit() and int(value) > 0 and int(value) % LINE_NO_STEP == 0
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
    for x, y in zip(a, b):
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
def strict_error_message(
    operation_id: str | None, status: int, body: Any, path_params: Mapping[str, Any] | None = None
) -> list[Violation]:
    """An error's message is the server's text where CONTRACT.md lists it.

    Known situations have one exact text: a 404 for an order id is
    `Order '<id>' not found Not Found`, an unknown route `API endpoint not
    found Not Found`. Otherwise a message that opens like a CONTRACT
    message must match that message's whole template.
    """
    if status < 400 or not isinstance(body, dict):
        return []
    message = body.get("message")
    if not isinstance(message, str):
        return []  # the schema checks report a missing message
    params = dict(path_params or {})
    check = "strict_error_message"
    if status == 404 and body.get("code") == "resource_not_found":
        if operation_id in ORDER_ID_OPERATIONS and "orderId" in params:
            expected = f"Order '{params['orderId']}' not found Not Found"
            if message.strip().lower() != expected.lower():
                return [Violation(check, f"{operation_id} 404: message {message!r}; CONTRACT.md (server) says "
                                  f"{expected!r}", "message")]
            return []
        if operation_id is None:
            expected = "API endpoint not found Not Found"
            if message.strip().lower() != expected.lower():
                return [Violation(check, f"unknown route 404: message {message!r}; CONTRACT.md (server) says "
                                  f"{expected!r}", "message")]
            return []
    if status == 400 and operation_id in ORDER_ID_OPERATIONS and "orderId" in params \
            and not _is_guid(str(params["orderId"])):
        if message.strip().lower() != "invalid order id":
            return [Violation(check, f"{operation_id} 400 for the non-GUID order id {params['orderId']!r}: message "
                              f"{message!r}; CONTRACT.md (server) says 'Invalid order id'", "message")]
        return []
    if status == 400 and operation_id == "listOrdersByPartner" and "partnerId" in params \
            and not _is_guid(str(params["partnerId"])):
        if message.strip().lower() != "invalid partnerid":
            return [Violation(check, f"listOrdersByPartner 400 for the non-GUID partner id {params['partnerId']!r}: "
                              f"message {message!r}; CONTRACT.md (server) says 'Invalid partnerId'", "message")]
        return []
    claimed = expected_message_template(message)
    if claimed and not any(matches_template(message, template) for template in claimed):
        return [Violation(check, f"{operation_id or 'request'} {status}: message {message!r} is not CONTRACT.md's "
                          f"{' / '.join(repr(t) for t in claimed)} (%N: any value, but a line is its lineNo "
                          f"100000, 200000, ... and a partner its name, not its id)", "message")]
    return []


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
