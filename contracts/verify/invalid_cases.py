"""The invalid createOrder requests of the probe's invalid-input flow, each with the case it was built for.

A case is "rule id: what is wrong" (the rule of contracts/data/rules.yaml the request breaks). The flow
records each request with its case in `Evidence.rejections`, so a check knows why a request is invalid
without re-reading its body. Every body breaks one rule, once, the way a lenient implementation would let
through (a date as MM/DD/YYYY, a time without seconds, a reference a character too long); the rest of it
is a valid order of the venue with a fresh reference. Cases needing a venue fact the venue does not give
(`unknown_item`, `package_item`, `package_component`, `package_non_component`, `inactive_partner_id`) are
left out, and the checks of their rule have nothing to judge.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.verify.flows import Flow

Case = tuple[str, Any]
REFERENCE_LIMIT = 50  # CONTRACT.md: sellToOrderReference ≤ 50


def invalid_creates(flow: Flow) -> list[Case]:
    """Every invalid createOrder body the venue's facts allow, with its case."""
    return [*_documented(flow), *_header(flow), *_lines(flow), *_unknown_item(flow), *_schedule(flow)]


def _good(flow: Flow, change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """A valid paid order of the individual item (fresh reference), changed in place by `change`."""
    body = flow.individual(True)
    if change is not None:
        change(body)
    return body


def _with_line(flow: Flow, **changes: Any) -> dict[str, Any]:
    """The good order with its one line changed (a value None: the field left out)."""
    def change(body: dict[str, Any]) -> None:
        line = body["items"][0]
        line.update(changes)
        for key in [k for k, v in changes.items() if v is None]:
            del line[key]
    return _good(flow, change)


def _past(flow: Flow) -> str:
    """Two days before the target's today: in the past in every time zone."""
    return (flow.probe.today - timedelta(days=2)).isoformat()


def _documented(flow: Flow) -> list[Case]:
    """The cases `invalid_input_refused`, `unknown_partner_refused` and `inactive_partner_refused` judge."""
    def line(**changes: Any) -> dict[str, Any]:
        return _with_line(flow, **changes)
    cases = [("rejections.invalid-input: partnerId not a GUID", _good(flow) | {"partnerId": "not-a-guid"}),
             ("rejections.unknown-partner: a partnerId the target does not know",
              _good(flow) | {"partnerId": str(uuid.uuid4())}),
             ("rejections.invalid-input: no items", {k: v for k, v in _good(flow).items() if k != "items"}),
             ("rejections.invalid-input: an empty items array", _good(flow) | {"items": []}),
             ("rejections.invalid-input: visitDate in the past", line(visitDate=_past(flow))),
             ("rejections.invalid-input: one wallet.names entry for 2 wallets",
              line(quantity=2, wallet={"names": ["Only One"]})),
             ("rejections.invalid-input: one wallet.externalReferenceNumbers entry for 2 wallets",
              line(quantity=2, wallet={"externalReferenceNumbers": ["EXT-ONLY"]})),
             ("rejections.invalid-input: quantity 0", line(quantity=0))]
    if flow.venue.get("inactive_partner_id"):
        cases.append(("rejections.inactive-partner: a partner set up but disabled",
                      _good(flow) | {"partnerId": str(flow.venue["inactive_partner_id"])}))
    return cases


def _header(flow: Flow) -> list[Case]:
    """The body and its header fields: a JSON object, partnerId and sellToOrderReference present, ≤ 50."""
    too_long = flow.reference().ljust(REFERENCE_LIMIT + 1, "x")
    return [("rejections.body-object: a JSON array holding a valid order", [_good(flow)]),
            ("rejections.body-object: a JSON string", "not an order"),
            ("rejections.header-fields: partnerId missing", _without(_good(flow), "partnerId")),
            ("rejections.header-fields: sellToOrderReference missing", _without(_good(flow), "sellToOrderReference")),
            ("rejections.header-fields: sellToOrderReference null", _good(flow) | {"sellToOrderReference": None}),
            ("rejections.header-fields: sellToOrderReference empty", _good(flow) | {"sellToOrderReference": ""}),
            ("rejections.header-fields: items an object, not an array",
             _good(flow, lambda body: body.update(items=body["items"][0]))),
            (f"rejections.reference-length: a sellToOrderReference of {len(too_long)} characters",
             _good(flow) | {"sellToOrderReference": too_long})]


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def _lines(flow: Flow) -> list[Case]:
    """An order line: an object with itemNumber, visitDate (YYYY-MM-DD) and visitTime (HH:mm:ss)."""
    visit = flow.probe.today + timedelta(days=30)
    short_time = str(flow.venue["individual_time"])[:5]
    return [("rejections.line-fields: items[0] a string, not an object",
             _good(flow, lambda body: body.update(items=[str(flow.venue["individual_item"])]))),
            ("rejections.line-fields: itemNumber missing", _with_line(flow, itemNumber=None)),
            ("rejections.line-fields: itemNumber empty", _with_line(flow, itemNumber="")),
            ("rejections.line-fields: visitDate missing", _with_line(flow, visitDate=None)),
            ("rejections.line-fields: visitTime missing", _with_line(flow, visitTime=None)),
            ("rejections.visit-formats: visitDate as MM/DD/YYYY", _with_line(flow, visitDate=f"{visit:%m/%d/%Y}")),
            ("rejections.visit-formats: visitDate with a time of day",
             _with_line(flow, visitDate=f"{visit.isoformat()}T00:00:00")),
            (f"rejections.visit-formats: visitTime {short_time!r} without seconds",
             _with_line(flow, visitTime=short_time)),
            # shaped as the format, yet no day and no time of day: the format is a date's and a time's, not digits'
            (f"rejections.visit-formats: visitDate {visit.year}-02-30, no such day",
             _with_line(flow, visitDate=f"{visit.year}-02-30")),
            ("rejections.visit-formats: visitTime '25:61:00', no such time", _with_line(flow, visitTime="25:61:00"))]


def _unknown_item(flow: Flow) -> list[Case]:
    """An item the venue says it does not have (venue fact `unknown_item`): refused at submit, not an Error later."""
    item = flow.venue.get("unknown_item")
    return [(f"rejections.unknown-item: itemNumber {item!r}, which the venue does not have",
             _with_line(flow, itemNumber=str(item)))] if item not in (None, "") else []


def _schedule(flow: Flow) -> list[Case]:
    """wallet.componentSchedule: package lines only; entries objects naming a component, not in the past."""
    entry = {"itemNumber": str(flow.venue["individual_item"]), "visitDate": (flow.probe.today + timedelta(days=30))
             .isoformat(), "visitTime": str(flow.venue["individual_time"])}
    cases = [("rejections.schedule-package-only: a componentSchedule on an individual-ticket line",
              _with_line(flow, wallet={"componentSchedule": [entry]})),
             ("rejections.schedule-package-only: an empty componentSchedule on an individual-ticket line",
              _with_line(flow, wallet={"componentSchedule": []}))]
    if not flow.venue.get("package_item") or not flow.venue.get("package_time"):
        return cases
    cases.append(("rejections.schedule-entries: a componentSchedule entry that is a string, not an object",
                  _package(flow, [str(flow.venue["individual_item"])])))
    other, component = flow.venue.get("package_non_component"), flow.venue.get("package_component")
    entry = entry | {"visitTime": str(flow.venue["package_time"])}
    if other:
        cases.append((f"rejections.schedule-entries: {other!r}, not a component of the package",
                      _package(flow, [entry | {"itemNumber": str(other)}])))
    if component:
        cases.append((f"rejections.schedule-entries: component {component!r} with a visitDate in the past",
                      _package(flow, [entry | {"itemNumber": str(component), "visitDate": _past(flow)}])))
    return cases


def _package(flow: Flow, schedule: list[Any]) -> dict[str, Any]:
    """A valid order of one package (visit time `package_time`) with this componentSchedule."""
    line = flow.line(flow.venue["package_item"], flow.venue["package_time"], 1, wallet={"componentSchedule": schedule})
    return flow.body([line], True)
