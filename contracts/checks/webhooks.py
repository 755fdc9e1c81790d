"""Checks for `ota_cm_order_processed` webhook deliveries.

Each check is a pure function named after the property it verifies (the way
Schemathesis names its checks) and returns a list of `Violation`s, empty when
the property holds. Messages are plain words saying what was expected and what
was seen, because the person reading them is a partner debugging their own
implementation, not someone who knows JSON Schema's vocabulary.

The receiver (`contracts.webhooks.receiver`) runs `webhook_conformance` on every
delivery; the suite calls the others with what `getOrder` returned.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from jsonschema import ValidationError

from contracts.checks.violations import Violation  # noqa: F401 (re-exported: it was defined here first)
from contracts.lifecycle import load_lifecycle
from contracts.spec import load_spec
from contracts.target.address import decode_company

EVENT_NAME = "ota_cm_order_processed"
EVENT_VERSION = "1.0"  # docs/004; CONTRACT.md: a subscription's eventVersion defaults to it
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
ENVELOPE_SCHEMA = "WebhookEnvelope"
# keys that only a webhook event carries: their presence at the top level means
# the sender forgot the `values` envelope
_EVENT_KEYS = frozenset({"eventName", "payload", "clientState", "eventVersion"})
_JSON_TYPES = MappingProxyType({dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
                                 float: "number"})


# -- helpers -------------------------------------------------------------------


def event_data(event: Any) -> Mapping[str, Any]:
    """The event's JSON object, whether given as a dict or a receiver `Event`."""
    data = getattr(event, "data", event)
    return data if isinstance(data, Mapping) else {}


def event_payload(event: Any) -> Mapping[str, Any]:
    payload = event_data(event).get("payload")
    return payload if isinstance(payload, Mapping) else {}


def event_order_id(event: Any) -> str | None:
    order_id = event_payload(event).get("orderId")
    return order_id if isinstance(order_id, str) else None


def _event_where(event: Any) -> str:
    """Where an event sits, if it knows (`Event.where`), else its order."""
    where = getattr(event, "where", None)
    if where:
        return str(where)
    order_id = event_order_id(event)
    return f"order {order_id}" if order_id else "event"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def json_path(parts: Iterable[Any]) -> str:
    """`['values', 0, 'eventName']` → `values[0].eventName`; the root is `(body)`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def _parse(body: Any) -> tuple[Any, str | None]:
    """Parsed JSON of a raw body (bytes/str), or the body itself if already parsed."""
    if isinstance(body, (bytes, bytearray)):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, f"the body is not UTF-8 text ({exc})"
    if isinstance(body, str):
        try:
            return json.loads(body), None
        except ValueError as exc:
            return None, f"the body is not JSON ({exc})"
    return body, None


# -- webhook_conformance -------------------------------------------------------


def webhook_conformance(
    body: Any, expected_client_state: str | None = None, strict: bool = False
) -> list[Violation]:
    """The delivery is a spec-shaped `WebhookEnvelope` mirroring the subscription's clientState.

    Every schema error is reported with its JSON path; the usual mistakes (the
    OData `value` key, a bare event without the envelope, a missing or
    unmirrored `clientState`) get a message of their own instead of the
    schema's generic one, so the fix is obvious.
    """
    check = "webhook_conformance"
    parsed, problem = _parse(body)
    if problem:
        return [Violation(check, f"expected a JSON object {{\"values\": [...]}}; {problem}", "(body)")]
    violations = _envelope_mistakes(parsed)
    covered = {"(body)"} if violations else set()
    for error in _schema_errors(parsed, strict):
        path = json_path(error.absolute_path)
        if path in covered:
            continue
        violations.append(Violation(check, describe_schema_error(error), path))
    violations += _client_state_mismatches(parsed, expected_client_state)
    return violations


def _schema_errors(body: Any, strict: bool) -> list[ValidationError]:
    validator = load_spec().validator(ENVELOPE_SCHEMA, strict=strict)
    errors = list(validator.iter_errors(body))
    return sorted(errors, key=lambda e: (json_path(e.absolute_path), e.validator, str(e.message)))


def _envelope_mistakes(body: Any) -> list[Violation]:
    """Dedicated messages for a body that is not a `{"values": [...]}` envelope."""
    check = "webhook_conformance"
    if isinstance(body, list):
        return [Violation(check, f"expected an object {{\"values\": [...]}}, got a bare array of "
                          f"{len(body)} item(s); wrap the events in {{\"values\": [...]}}", "(body)")]
    if not isinstance(body, dict):
        return [Violation(check, f"expected an object {{\"values\": [...]}}, got {_json_type(body)} {body!r}",
                          "(body)")]
    if "values" in body:
        return []
    if "value" in body:
        return [Violation(check, "the top-level key is 'value' (the OData list key) but the webhook "
                          "envelope's key is 'values': expected {\"values\": [...]}", "(body)")]
    if _EVENT_KEYS & body.keys():
        return [Violation(check, "got a flat event object without the envelope: expected the event "
                          "wrapped as {\"values\": [{...event...}]}", "(body)")]
    return []


def _client_state_mismatches(body: Any, expected: str | None) -> list[Violation]:
    """Events whose clientState is not the subscription's (missing ones the schema reports)."""
    if expected is None:
        return []
    violations = []
    for where, event in _envelope_events(body):
        if "clientState" in event and event["clientState"] != expected:
            violations.append(Violation(
                "webhook_conformance",
                f"{where}.clientState: expected the subscription's clientState {expected!r} mirrored, "
                f"got {event['clientState']!r}",
                f"{where}.clientState",
            ))
    return violations


def _envelope_events(body: Any) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(body, dict) or not isinstance(body.get("values"), list):
        return []
    return [(f"values[{i}]", event) for i, event in enumerate(body["values"]) if isinstance(event, dict)]


def describe_schema_error(error: ValidationError) -> str:
    """A jsonschema error as `path: expected …, got …` in plain words."""
    path = json_path(error.absolute_path)
    # jsonschema types these `Any | Unset` (Unset: its sentinel default); an error that a validator
    # yielded has both set, to the JSON instance and to the keyword's value.
    instance: Any = error.instance
    expected: Any = error.validator_value
    kind = error.validator
    if kind == "required":
        missing = _missing_key(error)
        if missing == "clientState":
            return (f"{path}: no 'clientState'; every event must mirror the clientState given when "
                    "the subscription was created")
        if missing == "values":
            return f"{path}: no 'values' key; expected {{\"values\": [...]}} (got keys {sorted(instance)})"
        return f"{path}: missing required key {missing!r}"
    if kind == "const":
        return f"{path}: {instance!r} is not {expected!r}"
    if kind == "enum":
        return f"{path}: {instance!r} is not one of {', '.join(map(repr, expected))}"
    if kind == "type":
        return f"{path}: expected {expected}, got {_json_type(instance)} {instance!r}"
    if kind == "minItems":
        return f"{path}: expected at least {expected} item(s), got {len(instance)}"
    if kind == "minLength":
        return f"{path}: expected a non-empty string, got {instance!r}"
    if kind == "format":
        return f"{path}: {instance!r} is not a valid {expected}"
    if kind == "pattern":
        schema = error.schema
        hint = f" (expected a {schema['format']})" if isinstance(schema, Mapping) and "format" in schema else ""
        return f"{path}: {instance!r} does not match the pattern {expected!r}{hint}"
    return f"{path}: {error.message}"


def _missing_key(error: ValidationError) -> str:
    match = re.match(r"^'(.*)' is a required property", error.message)
    if match:
        return match.group(1)
    # A `required` error (as for describe_schema_error): set, to the required names and the object.
    required: Any = error.validator_value
    instance: Any = error.instance
    missing = [key for key in required if key not in instance]
    return missing[0] if missing else error.message


# -- checks against getOrder ---------------------------------------------------


def webhook_matches_status(event: Any, order: Mapping[str, Any] | None) -> list[Violation]:
    """The event's `status` and `buyFromOrderReference` are what getOrder returns for its order.

    `order` is the JSON getOrder answered (None when it answered 404).
    """
    check, where = "webhook_matches_status", _event_where(event)
    payload, order_id = event_payload(event), event_order_id(event)
    if order is None:
        return [Violation(check, f"getOrder found no order {order_id!r} for this event", where)]
    violations = []
    for key in ("status", "buyFromOrderReference"):
        if payload.get(key) != order.get(key):
            violations.append(Violation(
                check,
                f"payload.{key} is {payload.get(key)!r} but getOrder for order {order_id} "
                f"returns {key} {order.get(key)!r}",
                where,
            ))
    return violations


def webhook_after_terminal(event: Any, status_seen_at_delivery: str | None) -> list[Violation]:
    """The event arrives only once its order has settled, never while it is still in flight.

    `status_seen_at_delivery` is the order's status from getOrder when the
    event arrived. A settled state (Issued/Draft/Error) is expected; a later
    terminal one (Cancelled after a quick delete) still proves it settled first.
    """
    lifecycle = load_lifecycle()
    done = lifecycle.settled | lifecycle.terminal
    if status_seen_at_delivery in done:
        return []
    order_id, where = event_order_id(event), _event_where(event)
    if status_seen_at_delivery is None:
        seen = "getOrder found no such order"
    else:
        seen = f"getOrder still says {status_seen_at_delivery!r}"
    return [Violation(
        "webhook_after_terminal",
        f"event for order {order_id} arrived before the order settled: expected one of "
        f"{', '.join(sorted(lifecycle.settled))} at delivery, but {seen}",
        where,
    )]


def webhook_once_per_settle(events: Iterable[Any], settles: Mapping[str, int] | Iterable[str]) -> list[Violation]:
    """Exactly one event per order per settle: no duplicates, none missing.

    `settles` maps orderId → how many times the order settled in the
    background (a create that settles is 1, create + replace is 2), or is a
    list of orderIds with one entry per settle. Events for orders not in it
    are extra. A surplus that repeats an earlier event (same order, same
    payload) is named a copy: a re-send of one settle, not a new one.
    """
    expected = Counter(settles) if not isinstance(settles, Mapping) else Counter(dict(settles))
    events = list(events)
    seen = Counter(event_order_id(event) for event in events)
    copies = Counter(event_order_id(event) for event in split_copies(events)[1])
    violations = []
    for order_id in sorted(set(expected) | set(seen), key=str):
        want, got = expected.get(order_id, 0), seen.get(order_id, 0)
        if want == got:
            continue
        violations.append(Violation(
            "webhook_once_per_settle",
            f"order {order_id}: expected {want} event(s) (one per settle), got {got}" + _surplus(got - want,
                                                                                                 copies[order_id]),
            f"order {order_id}",
        ))
    return violations


def _surplus(extra: int, copies: int) -> str:
    if extra < 0:
        return " — missing event(s)"
    if copies:
        verb = "repeats" if copies == 1 else "repeat"
        return (f" — {copies} of them {verb} an earlier event of this order exactly (same payload): "
                "the same settle announced more than once")
    return " — duplicate or unexpected event(s)"


def announcement(event: Any) -> tuple[str, str]:
    """What an event announces: its order (case-blind) and its whole payload; two equal ones are one settle."""
    payload = dict(event_payload(event))
    order_id = (event_order_id(event) or "").lower()
    payload["orderId"] = order_id
    return order_id, json.dumps(payload, sort_keys=True, default=str)


def split_copies(events: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """(the first event of each announcement, the later copies), in arrival order.

    A copy repeats an earlier event's order and payload: whatever the target
    meant by it, it adds no settle, so the once-per-settle check owns it and
    the checks that ask what caused an event judge the first one only.
    """
    firsts: dict[tuple[str, str], Any] = {}
    copies = []
    for event in events:
        key = announcement(event)
        if key in firsts:
            copies.append(event)
        else:
            firsts[key] = event
    return list(firsts.values()), copies


# -- the values an event must carry --------------------------------------------


def webhook_event_values(event: Any, company: str | None, event_version: str = EVENT_VERSION,
                         app_id: str | None = None) -> list[Violation]:
    """The event carries what the run knows it must: the event's name and version, the company, a timestamp.

    `company`: the company of the target's base address, decoded (None: not
    known, not judged); `event_version`: the subscription's (docs/004:
    "1.0" when it named none); `app_id`: the subscription's appId, None
    when it sent none (then appId's value is not judged).
    """
    data, where = event_data(event), _event_where(event)
    wanted = {"eventName": EVENT_NAME, "eventVersion": event_version}
    if app_id is not None:
        wanted["appId"] = app_id
    violations = [Violation("webhook_event_values", f"{key} {data.get(key)!r}; expected {value!r}"
                            + (" (the subscription's)" if key != "eventName" else ""), f"{where}.{key}")
                  for key, value in wanted.items() if data.get(key) != value]
    if company is not None and data.get("companyName") != company:
        violations.append(Violation("webhook_event_values", _company_problem(data.get("companyName"), company),
                                    f"{where}.companyName"))
    problem = _instant_problem(data.get("timestamp"))
    if problem:
        violations.append(Violation("webhook_event_values", problem, f"{where}.timestamp"))
    return violations


def _company_problem(found: Any, company: str) -> str:
    if isinstance(found, str) and found != company and decode_company(found) == company:
        return (f"companyName {found!r} is still URL-encoded; expected the company of the base address "
                f"decoded: {company!r}")
    return f"companyName {found!r}; expected the company of the base address, {company!r}"


def _instant_problem(value: Any) -> str:
    """Why `value` is not an ISO 8601 instant (date, time and a UTC offset or Z), or ""."""
    if value is None:
        return "no timestamp; every event carries the ISO 8601 instant it was raised (docs/004: 2026-05-15T09:30:05Z)"
    if not isinstance(value, str) or not _INSTANT.match(value):
        return (f"timestamp {value!r} is not an ISO 8601 instant like 2026-05-15T09:30:05Z "
                "(date, time and Z or an offset)")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return f"timestamp {value!r} is not a real date and time"
    return ""
