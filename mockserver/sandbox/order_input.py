"""Create/replace bodies and list queries turned into records, with the server's 400s.

The checks a schema cannot make (the catalog, dates against the mock's
today, wallet array lengths, package components) in the server's words
(CONTRACT.md); backend.py calls them under its lock, responses.py parses the
list query with them. Plain functions: no state, no HTTP.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from mockserver.sandbox.catalog import Catalog, CatalogItem
from mockserver.sandbox.clock import parse_instant
from mockserver.sandbox.errors import Findings, bad_request
from mockserver.sandbox.models import LINE_NO_STEP, ComponentVisit, OrderLine
from mockserver.store.base import ListQuery

MAX_PAGE_SIZE = 20000


def order_lines(catalog: Catalog, body: dict[str, Any], today: date, found: Findings | None = None) -> list[OrderLine]:
    """Order lines from a schema-valid body, checked against the catalog.
    A line's sellTo* fields default to the header's. Every problem of every
    line goes into `found` (a 400 naming them all is raised here when the
    caller passes none)."""
    own = found is None
    findings = Findings() if found is None else found
    lines = [_line(catalog, index, raw, today, body, findings) for index, raw in enumerate(body["items"])]
    if own:
        findings.raise_any()
    return [line for line in lines if line is not None]


def _line(catalog: Catalog, index: int, raw: dict[str, Any], today: date, header: dict[str, Any],
          found: Findings) -> OrderLine | None:
    """One line, or None with its problems in `found`."""
    line_no = (index + 1) * LINE_NO_STEP  # what the server's messages call "line"
    where = f"items[{index}]"
    before = len(found)
    item = catalog.get(str(raw["itemNumber"]))
    if item is None:
        found.add(f"{where}.itemNumber", f"{raw['itemNumber']!r} is not an item of the catalog",
                  f"Unknown item '{raw['itemNumber']}'")
    _check_visit(raw, where, f"items[{index}] visitDate", today, found)
    if item is None:
        return None
    quantity = raw.get("quantity", 1)
    expected = item.wallets_for(quantity)
    wallet = raw.get("wallet") or {}
    for key in ("names", "externalReferenceNumbers"):
        values = wallet.get(key)
        if values is not None and len(values) != expected:
            found.add(f"{where}.wallet.{key}", f"has {len(values)} entries; the line has {expected} wallet(s)",
                      f"wallet.{key} array length ({len(values)}) must equal {expected} on line {line_no}")
    entries = wallet.get("componentSchedule")
    if entries is not None and not item.is_package:  # an empty list too (CONTRACT.md)
        found.add(f"{where}.wallet.componentSchedule", f"item '{item.number}' is not a package",
                  f"wallet.componentSchedule is only valid for package items (line {line_no})")
        entries = None
    schedule = [_component_visit(entry, item, index, n, today, found) for n, entry in enumerate(entries or [])]
    if len(found) > before:
        return None
    return OrderLine(
        line_no=line_no,
        item_number=item.number,
        description=item.description,
        is_package=item.is_package,
        quantity=quantity,
        expected_wallets=expected,
        visit_date=raw["visitDate"],
        visit_time=raw["visitTime"],
        sell_to_name=raw.get("sellToName", header.get("sellToName", "")),
        sell_to_email=raw.get("sellToEmail", header.get("sellToEmail", "")),
        sell_to_language=raw.get("sellToLanguage", header.get("sellToLanguage", "")).upper(),
        wallet_names=list(wallet.get("names") or []),
        external_reference_numbers=list(wallet.get("externalReferenceNumbers") or []),
        component_schedule=[visit for visit in schedule if visit is not None],
    )


def _check_visit(raw: dict[str, Any], where: str, past_subject: str, today: date, found: Findings) -> None:
    """visitDate (YYYY-MM-DD, not before today) and visitTime (HH:mm:ss) of a line or a schedule entry."""
    visit_date = _date(raw["visitDate"])
    if visit_date is None:
        found.add(f"{where}.visitDate", f"{raw['visitDate']!r} is not a date YYYY-MM-DD",
                  "Required field 'visitDate' must be YYYY-MM-DD")
    if not _is_time(raw["visitTime"]):
        found.add(f"{where}.visitTime", f"{raw['visitTime']!r} is not a time HH:mm:ss",
                  "Required field 'visitTime' must be HH:mm:ss")
    if visit_date is not None and visit_date < today:
        found.add(f"{where}.visitDate", f"{raw['visitDate']} is before the sandbox's today, {today}",
                  f"{past_subject} must not be in the past (received {raw['visitDate']}, local today {today})")


def _component_visit(entry: dict[str, Any], item: CatalogItem, index: int, position: int, today: date,
                     found: Findings) -> ComponentVisit | None:
    """One entry of a package line's `wallet.componentSchedule` (line `index`, 0-based)."""
    line_no = (index + 1) * LINE_NO_STEP
    where = f"items[{index}].wallet.componentSchedule[{position}]"
    before = len(found)
    if entry["itemNumber"] not in item.components:
        found.add(f"{where}.itemNumber", f"'{entry['itemNumber']}' is not a component of package '{item.number}'",
                  f"'{entry['itemNumber']}' is not a component of package '{item.number}' (line {line_no})")
    _check_visit(entry, where, f"items[{index}].componentSchedule entry '{entry['itemNumber']}' visitDate",
                 today, found)
    if len(found) > before:
        return None
    return ComponentVisit(entry["itemNumber"], entry["visitDate"], entry["visitTime"])


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _is_time(value: str) -> bool:
    """strptime once per distinct time (visit times repeat: slots)."""
    try:
        datetime.strptime(value, "%H:%M:%S")
    except ValueError:
        return False
    return True


def _instant_param(value: str, name: str) -> float:
    try:
        return parse_instant(value)
    except ValueError:
        raise bad_request(f"{name} must be ISO 8601 datetime") from None


def list_query(params: dict[str, str], known_statuses: list[str]) -> ListQuery:
    """The list filters from query parameters, each checked (400 on a bad one)."""
    # Spaces around a name are forgiven ("Issued, Draft"); str.strip() would also drop control characters
    # (\x1c-\x1f count as whitespace), turning "status=%1F" into no filter at all instead of an unknown status.
    statuses = frozenset(s.strip(" ") for s in params.get("status", "").split(",") if s.strip(" "))
    unknown = sorted(statuses - set(known_statuses))
    if unknown:
        raise bad_request(f"status must be a comma list of {', '.join(known_statuses)} (got {', '.join(unknown)})")
    page_size = _page_size(params.get("pageSize"))
    page_key = params.get("pageKey", "")
    if page_key and not (page_key.isascii() and page_key.isdigit()):  # "¹9".isdigit(), but int() refuses it
        raise bad_request("pageKey is not valid: pass the nextPageKey of the previous page")
    return ListQuery(
        statuses=statuses,
        reference=params.get("sellToOrderReference", "").upper(),
        received_from=_instant_param(params["receivedAtFrom"], "receivedAtFrom") if "receivedAtFrom" in params else None,
        received_to=_instant_param(params["receivedAtTo"], "receivedAtTo") if "receivedAtTo" in params else None,
        after_seq=int(page_key) if page_key else -1,
        page_size=page_size,
    )


def _page_size(value: str | None) -> int:
    """CONTRACT.md: default and maximum 20000; a value below 1 or above it is taken as 20000, never rejected.

    Only an absent pageSize is the default: an empty or non-numeric one is refused (CONTRACT.md is silent).
    """
    if value is None:
        return MAX_PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        raise bad_request(f"pageSize must be an integer (got {value!r})") from None
    return size if 1 <= size <= MAX_PAGE_SIZE else MAX_PAGE_SIZE
