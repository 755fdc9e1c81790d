"""Which of CONTRACT.md's named message cases a request is, decided only from what the run knows.

CONTRACT.md names a message for some cases (contracts/data/messages.yaml) and is silent on the rest: a
wrong JSON type in a field, a subscription body, a path that does not route may be answered with any
message. So `error_message_wording` needs, for each error answer, the messages CONTRACT.md names for the
request that caused it, and it may only say "this message is wrong" when that is certain.

`expected_messages(request, known)` returns the message templates of the case, or None. None means: the
request is not a named case, or it might not be. A body is judged defect by defect: each field is fine,
a named case, or uncertain (a wrong JSON type, an item the venue does not name, a reference that might be
taken, a date a day from today, ...). One uncertain defect makes the whole request uncertain, because the
server may report that one first; otherwise the answer must be the message of one of the named defects
(CONTRACT.md does not order a server's checks, so any of them is right).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

if TYPE_CHECKING:
    from contracts.target import Exchange

MESSAGES_FILE = Path(__file__).resolve().parent.parent / "data" / "messages.yaml"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ROUTABLE = re.compile(r"^[A-Za-z0-9._~-]+$")  # a path segment every server routes the same way
LINE_NO_STEP = 100000
SHORT = 50  # a free-text value longer than this might meet a length limit CONTRACT.md does not state
STATUSES = frozenset({"Submitted", "Scheduled", "Processing", "Issued", "Draft", "Error", "Cancelled"})
UNCERTAIN = "uncertain"  # a defect that may or may not be one, or one CONTRACT.md names no message for


@lru_cache(maxsize=1)
def message_data() -> Mapping[str, Any]:
    """contracts/data/messages.yaml, read once."""
    with MESSAGES_FILE.open(encoding="utf-8") as handle:
        return MappingProxyType(yaml.safe_load(handle))


def case_templates(case: str) -> tuple[str, ...]:
    return tuple(message_data()["cases"][case])


def all_templates() -> tuple[str, ...]:
    """Every message CONTRACT.md names, once, in the file's order."""
    return tuple(dict.fromkeys(t for templates in message_data()["cases"].values() for t in templates))


def _never_fresh(reference: str) -> bool:
    return False


@dataclass(frozen=True)
class Known:
    """What the run knows about the target besides the request itself."""

    partners: frozenset[str] = frozenset()  # partner ids (lower case) the target accepted orders for
    items: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # item number → kind
    unknown_items: frozenset[str] = frozenset()  # item numbers the venue says it does not have
    taken: frozenset[tuple[str, str]] = frozenset()  # (partner, reference casefolded) of orders that exist
    fresh: Callable[[str], bool] = _never_fresh  # whether a reference is certainly not taken on the target
    today: date | None = None  # the target's date when it answered


def known_from_venue(venue: Mapping[str, Any], **more: Any) -> Known:
    """The venue's items by kind (messages.yaml `venue_items`), and its `unknown_item` if it names one."""
    items = {str(venue[key]): kind for key, kind in message_data()["venue_items"].items() if venue.get(key)}
    unknown = frozenset({str(venue["unknown_item"])} if venue.get("unknown_item") else set())
    return Known(items=MappingProxyType(items), unknown_items=unknown, **more)


NOT_SEEN = ("the request body was not seen",)  # a Request's body when the caller did not pass it


@dataclass(frozen=True)
class Request:
    """The call an error answered: what the run sent, nothing inferred."""

    operation: str | None
    method: str = ""
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    query: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    body: Any = NOT_SEEN  # None: no body was sent
    path: str = ""  # the URL path as sent (for a call that matched no operation)


def ascii_digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits 0-9 (`str.isdigit` is true for '¹', '٣' and other digits
    that `int()` refuses or reads otherwise)."""
    return bool(re.fullmatch(r"[0-9]+", text))


def today_at(at: float) -> date | None:
    return datetime.fromtimestamp(at, tz=timezone.utc).date() if at else None


# -- the cases ---------------------------------------------------------------------------------------
def expected_messages(request: Request, status: int, known: Known) -> tuple[str, ...] | None:
    """The templates CONTRACT.md names for this request's error answer; None where it names none for certain."""
    if request.operation is None:
        return _route_case(request, status)
    if request.operation in ("getOrder", "deleteOrder", "confirmOrder", "replaceOrder"):
        return _order_id_case(request, status)
    if request.operation == "createOrder" and status == 400 and request.body is not NOT_SEEN:
        return _defects_to_templates(order_body_defects(request.body, known))
    if request.operation == "listOrdersByPartner" and status == 400:
        return _defects_to_templates(_list_defects(request))
    return None


def _order_id_case(request: Request, status: int) -> tuple[str, ...] | None:
    """An order id that routes: a GUID unknown is 404 "Order '<id>' not found", anything else "Invalid order id".

    Only for calls whose answer cannot be about their body or the order's state instead."""
    order_id = str(request.params.get("orderId", ""))
    if not ROUTABLE.match(order_id):
        return None  # control characters, spaces, slashes...: it may not route at all (CONTRACT.md: any message)
    if status == 404 and GUID.match(order_id):
        return (f"Order '{order_id}' not found Not Found",)
    bodiless = request.operation in ("getOrder", "deleteOrder")
    if status == 400 and not GUID.match(order_id) and bodiless:
        return case_templates("order-id-invalid")
    return None


def _route_case(request: Request, status: int) -> tuple[str, ...] | None:
    """A call no operation declares: another method is 400 "Http method X ...", an undeclared route under
    /channelManager 404 "API endpoint not found" — when its path certainly routes there (clean segments)."""
    method = request.method.upper()
    if status == 400 and method and method not in ("GET", "POST", "PUT", "PATCH", "DELETE") and method.isalpha():
        return (f"Http method {method} is not supported",)
    segments = [s for s in request.path.split("/") if s]
    lowered = [s.lower() for s in segments]
    if status == 404 and method in ("GET", "POST", "PUT", "PATCH", "DELETE") and "channelmanager" in lowered \
            and all(ROUTABLE.match(s.replace("%20", "").replace("+", "")) for s in segments[lowered.index("channelmanager"):]):
        return case_templates("route-not-found")
    return None


def _defects_to_templates(defects: list[str]) -> tuple[str, ...] | None:
    if not defects or UNCERTAIN in defects:
        return None
    return tuple(dict.fromkeys(t for case in defects for t in case_templates(case)))


def _list_defects(request: Request) -> list[str]:
    partner = str(request.params.get("partnerId", ""))
    defects = [] if GUID.match(partner) else ["list-partner-invalid" if ROUTABLE.match(partner) else UNCERTAIN]
    for name, value in request.query.items():
        if name in ("receivedAtFrom", "receivedAtTo"):
            defects.append(_datetime_defect(str(value), "received-from-invalid" if name.endswith("From")
                                            else "received-to-invalid"))
        elif name == "pageSize" and not ascii_digits(str(value)):
            defects.append(UNCERTAIN)  # CONTRACT.md: out of range is never rejected; a non-number it does not say
        elif name == "status" and not set(str(value).split(",")) <= STATUSES:
            defects.append(UNCERTAIN)  # CONTRACT.md names no message for an unknown status: any 400 may answer it
        elif name not in ("sellToOrderReference", "pageSize", "status"):
            defects.append(UNCERTAIN)
    return [d for d in defects if d]


def _datetime_defect(value: str, case: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", value):
        return ""
    return case if value and not re.search(r"\d", value) else UNCERTAIN  # "" and near-misses: not said


# -- createOrder bodies ----------------------------------------------------------------------------------
def order_body_defects(body: Any, known: Known) -> list[str]:
    """Every defect of a createOrder body: a case name of messages.yaml, or UNCERTAIN."""
    if not isinstance(body, dict):
        return ["body-not-object"]
    fields = message_data()["order"]
    defects = [_required(body, name) for name in fields["required"]]
    defects += [_optional(body, name) for name in fields["optional"]]
    defects += _partner(body.get("partnerId"), known)
    defects += _reference(body, known)
    defects += _items(body, known)
    return [d for d in defects if d]


def _required(values: Mapping[str, Any], name: str) -> str:
    if name not in values:
        return "required-missing"
    value = values[name]
    if value is None:
        return "required-null"
    if isinstance(value, (dict, list)):
        return "required-not-primitive"
    if not isinstance(value, str):
        return UNCERTAIN  # a wrong JSON type (5, true): CONTRACT.md names no message
    if value == "":
        return "required-empty"
    return "" if value.strip() else UNCERTAIN


def _optional(values: Mapping[str, Any], name: str) -> str:
    if name not in values:
        return ""
    value = values[name]
    if isinstance(value, (dict, list)):
        return "optional-not-primitive"
    if not isinstance(value, str) or len(value) > SHORT:
        return UNCERTAIN  # null, false, 5 (CONTRACT.md is silent), or a length it does not state
    return ""


def _partner(value: Any, known: Known) -> list[str]:
    if not isinstance(value, str) or not value:
        return []  # `_required` judged it
    if not GUID.match(value):
        return ["partner-not-guid"]
    return [] if value.lower() in known.partners else [UNCERTAIN]  # unknown, or inactive: not known which


def _reference(body: Mapping[str, Any], known: Known) -> list[str]:
    reference, partner = body.get("sellToOrderReference"), body.get("partnerId")
    if not isinstance(reference, str) or not reference.strip():
        return []
    if len(reference) > SHORT:
        return [UNCERTAIN]  # "≤ 50": CONTRACT.md names no message for a longer one
    if isinstance(partner, str) and (partner.lower(), reference.casefold()) in known.taken:
        return ["duplicate-reference"]
    return [] if known.fresh(reference) else [UNCERTAIN]  # it may be taken by an order the run never saw


def _items(body: Mapping[str, Any], known: Known) -> list[str]:
    if "items" not in body:
        return ["items-missing"]
    items = body["items"]
    if items is None:
        return ["items-null"]
    if not isinstance(items, list):
        return ["items-not-array"] if isinstance(items, (dict, str)) else [UNCERTAIN]
    if not items:
        return ["items-empty"]
    defects = []
    for index, line in enumerate(items):
        defects += _line(line, index, known) if isinstance(line, dict) else ["line-not-object"]
    return defects


def _line(line: Mapping[str, Any], index: int, known: Known) -> list[str]:
    fields = message_data()["line"]
    defects = [_required(line, name) for name in fields["required"]]
    defects += [_optional(line, name) for name in fields["optional"]]
    kind = _item_kind(line.get("itemNumber"), known)
    defects += [kind if kind in ("unknown-item", UNCERTAIN) else ""]
    defects += [_visit_date(line.get("visitDate"), known), _visit_time(line.get("visitTime"))]
    quantity = line.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        defects.append(UNCERTAIN)
    elif quantity < 1:
        defects.append("quantity-below-one")
    elif quantity > 10:
        defects.append(UNCERTAIN)  # capacity: the server may refuse a large quantity in words of its own
    defects += _wallet(line, kind, quantity)
    return defects


def _item_kind(value: Any, known: Known) -> str:
    """The venue's kind of the item (individual, group, package), unknown-item, or UNCERTAIN ("" if judged)."""
    if not isinstance(value, str) or not value.strip():
        return ""  # `_required` judged it (or a wrong type: UNCERTAIN there)
    if value in known.items:
        return known.items[value]
    return "unknown-item" if value in known.unknown_items else UNCERTAIN


def _visit_date(value: Any, known: Known) -> str:
    if not isinstance(value, str) or not value:
        return ""  # `_required` judged it
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            visit = date.fromisoformat(value)
        except ValueError:
            return UNCERTAIN  # 2026-02-30: shaped right, not a day; which message is not said
        if known.today is None:
            return UNCERTAIN
        if visit < known.today - timedelta(days=1):
            return "visit-date-past"  # a day of slack: "local today" is in the server's time zone
        return "" if visit >= known.today + timedelta(days=2) else UNCERTAIN
    return "visit-date-format" if not re.search(r"\d+\D\d+\D\d+", value) else UNCERTAIN


def _visit_time(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return ""
    if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", value):
        return ""
    return "visit-time-format" if not re.search(r"\d+\D\d+", value) else UNCERTAIN


def _wallet(line: Mapping[str, Any], kind: str, quantity: Any) -> list[str]:
    if "wallet" not in line:
        return []
    wallet = line["wallet"]
    if not isinstance(wallet, dict):
        return [UNCERTAIN]
    expected = 1 if kind == "group" else quantity if kind in ("individual", "package") else None
    defects = []
    for key, case in (("names", "wallet-names-length"), ("externalReferenceNumbers", "wallet-references-length")):
        values = wallet.get(key)
        if key not in wallet:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) and len(v) <= SHORT for v in values) \
                or not isinstance(expected, int):
            defects.append(UNCERTAIN)
        elif len(values) != expected:
            defects.append(case)
    if "componentSchedule" in wallet:
        schedule = wallet["componentSchedule"]
        defects.append("schedule-not-package" if isinstance(schedule, list) and kind in ("individual", "group")
                       else UNCERTAIN)
    return defects  # other wallet keys: unknown fields are ignored (CONTRACT.md)


# -- what a run knows ------------------------------------------------------------------------------------
OWN_REFERENCE = re.compile(r"^otacm-", re.IGNORECASE)  # the probe's and the fuzzer's references embed a run id


def request_of(exchange: Exchange) -> Request:
    """The request an exchange records, as sent."""
    path = urlsplit(exchange.url).path
    return Request(exchange.operation or None, exchange.method, MappingProxyType(dict(exchange.params)),
                   MappingProxyType(dict(exchange.query)), exchange.body, path)


def known_for(exchange: Exchange, venue: Mapping[str, Any], exchanges: Iterable[Exchange]) -> Known:
    """What the run knew when `exchange` was answered: the partners the target took orders for, the
    references of its orders that still existed (none deleted since), the references it made itself."""
    creates, deleted, seen = [], set(), set()
    for other in exchanges:
        body = other.body if isinstance(other.body, dict) else {}
        if other.operation == "createOrder" and other.status == 201 and isinstance(other.response, dict):
            creates.append((other, str(body.get("partnerId", "")).lower(),
                            str(body.get("sellToOrderReference", "")).casefold(),
                            str(other.response.get("orderId", "")).lower()))
            seen.add(str(body.get("sellToOrderReference", "")).casefold())
        elif other.operation == "deleteOrder" and other.ok:
            deleted.add(str(other.params.get("orderId", "")).lower())
    # Which orders existed before this answer is known only when its time is (a fuzz answer of a warped
    # target has none): then none counts as taken, and a duplicate is not a case this run can name.
    taken = frozenset((partner, reference) for other, partner, reference, order_id in creates
                      if exchange.at and other.at and other is not exchange and other.at <= exchange.at
                      and order_id not in deleted)

    def fresh(reference: str) -> bool:
        return bool(OWN_REFERENCE.match(reference)) and reference.casefold() not in seen

    return known_from_venue(venue, partners=frozenset(p for _, p, _, _ in creates), taken=taken, fresh=fresh,
                            today=today_at(exchange.at))
