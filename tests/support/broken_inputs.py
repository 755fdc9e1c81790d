"""Lenient input handling, the way a real implementer might get it wrong: the breaks of the input rules.

Each function switches off one input rule of contracts/data/rules.yaml (`rejections.body-object`, …,
`rejections.schedule-entries`) on one mock. The body rewrites (`body → body`) run before the mock reads
the request (broken_rules.on_requests): the schema-level rules. The `create_order` wraps
(broken_rules.patched) see the catalog: the rules a schema cannot state. broken_rules.RULE_BREAKS names
each with the check that must then fail.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from typing import Any

from mockserver.server import MockServer

Create = Callable[..., Any]
AFTER_CLOSING = "23:59:59"  # a visit time no item of a catalog admits: issuance fails (→ Error)


def _lines(body: Any) -> list[dict[str, Any]]:
    items = body.get("items") if isinstance(body, dict) else None
    return [line for line in items if isinstance(line, dict)] if isinstance(items, list) else []


def first_order_of_array(body: Any) -> Any:
    """A JSON array is read as the order it holds first."""
    return body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body


def reference_generated(body: Any) -> Any:
    """An order without a sellToOrderReference (missing, null or empty) gets one made up."""
    if isinstance(body, dict) and "items" in body and "partnerId" in body and not body.get("sellToOrderReference"):
        body["sellToOrderReference"] = f"AUTO-{uuid.uuid4().hex[:12]}"
    return body


def reference_truncated(body: Any) -> Any:
    """A sellToOrderReference over 50 characters is cut to fit the column instead of refused."""
    reference = body.get("sellToOrderReference") if isinstance(body, dict) else None
    if isinstance(reference, str) and len(reference) > 50:
        body["sellToOrderReference"] = reference[:50]
    return body


def visit_time_defaulted(body: Any) -> Any:
    """A line without a visitTime is taken at the morning slot."""
    for line in _lines(body):
        line.setdefault("visitTime", "10:30:00")
    return body


def time_without_seconds_taken(body: Any) -> Any:
    """A visitTime HH:mm is read as HH:mm:00."""
    for line in _lines(body):
        if isinstance(line.get("visitTime"), str) and re.fullmatch(r"\d{2}:\d{2}", line["visitTime"]):
            line["visitTime"] += ":00"
    return body


def impossible_visit_taken(body: Any) -> Any:
    """A visitDate or visitTime shaped right but naming no day or time is read as a real one (Feb 28th,
    00:00:00), as a lenient parser would roll it."""
    for line in _lines(body):
        date, time = line.get("visitDate"), line.get("visitTime")
        if isinstance(date, str) and re.fullmatch(r"\d{4}-02-3\d", date):
            line["visitDate"] = date[:8] + "28"
        if isinstance(time, str) and re.fullmatch(r"(2[4-9]|[3-9]\d):\d{2}:\d{2}|\d{2}:[6-9]\d:\d{2}", time):
            line["visitTime"] = "00:00:00"
    return body


def unknown_item_fails_later(server: MockServer, create: Create) -> Create:
    """An item the catalog does not have is accepted (201) and fails at issuance (Error), not refused at submit."""
    catalog = server.backend.issuer.catalog
    stand_in = next(number for number, item in catalog.items.items() if item.kind == "individual")

    def broken(caller: Any, scope: Any, body: Any, directives: Any, sync: bool) -> Any:
        body = copy.deepcopy(body)
        for line in _lines(body):
            if catalog.get(str(line.get("itemNumber"))) is None:
                line.update(itemNumber=stand_in, visitTime=AFTER_CLOSING)
        return create(caller, scope, body, directives, sync)
    return broken


def schedule_ignored_off_packages(server: MockServer, create: Create) -> Create:
    """wallet.componentSchedule on a line that is not a package is ignored instead of refused."""
    catalog = server.backend.issuer.catalog

    def broken(caller: Any, scope: Any, body: Any, directives: Any, sync: bool) -> Any:
        body = copy.deepcopy(body)
        for line in _lines(body):
            item, wallet = catalog.get(str(line.get("itemNumber"))), line.get("wallet")
            if item is not None and not item.is_package and isinstance(wallet, dict):
                wallet.pop("componentSchedule", None)
        return create(caller, scope, body, directives, sync)
    return broken


def schedule_components_unchecked(server: MockServer, create: Create) -> Create:
    """A package's componentSchedule entry naming an item that is no component of it is dropped, not refused."""
    catalog = server.backend.issuer.catalog

    def broken(caller: Any, scope: Any, body: Any, directives: Any, sync: bool) -> Any:
        body = copy.deepcopy(body)
        for line in _lines(body):
            item, wallet = catalog.get(str(line.get("itemNumber"))), line.get("wallet")
            if item is not None and item.is_package and isinstance(wallet, dict) \
                    and isinstance(wallet.get("componentSchedule"), list):
                wallet["componentSchedule"] = [e for e in wallet["componentSchedule"]
                                               if not isinstance(e, dict) or e.get("itemNumber") in item.components]
        return create(caller, scope, body, directives, sync)
    return broken
