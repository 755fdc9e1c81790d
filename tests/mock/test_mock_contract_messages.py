"""CONTRACT.md's error messages and routing rules, as the mock answers them.

One case per message of CONTRACT.md's "Messages" list (each `·`-separated
text is its own case), per row of its status table, and per routing, method
and content-type rule; each asserts the exact status, `code` and `message`.
A rejected request must also leave the store as it was. The mock runs on a
frozen clock at 2026-05-15T09:30:00Z (conftest), so "today" is fixed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pytest
import requests

from mockclient import Api, line, order_body

PARTNER_NAME = "Sandbox OTA (the docs' partner)"  # mockserver/data/defaults.yaml
DISABLED_PARTNER = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
OTHER_PARTNER = "7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812"
UNKNOWN_PARTNER = "11111111-2222-4333-8444-555555555555"
UNKNOWN_ORDER = "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"
PACKAGE = "31100"  # components 31001 and 31020 (mockserver/data/catalog.yaml)
NOT_FOUND = "API endpoint not found Not Found"


@dataclass(frozen=True)
class Case:
    """`send(api, order_id)` makes the request; `setup` (optional) makes the order it acts on."""

    send: Callable[[Api, str], requests.Response]
    status: int
    code: Optional[str]  # None: the answer is not an error (or, for HEAD, has no body)
    message: Optional[str]
    setup: Optional[Callable[[Api], str]] = None


# -- requests -------------------------------------------------------------------------
def create(**header: Any) -> Callable[[Api, str], requests.Response]:
    """createOrder with the default order's fields overridden (`None` removes one)."""
    def send(api: Api, _: str) -> requests.Response:
        body = {**order_body(api.mock.partner_id, reference="MSG-1"), **header}
        return api.create({key: value for key, value in body.items() if value is not None})
    return send


def create_lines(*items: Any) -> Callable[[Api, str], requests.Response]:
    return create(items=list(items))


def raw(method: str, path: str, data: bytes | None = None,
        headers: dict[str, str] | None = None) -> Callable[[Api, str], requests.Response]:
    """Any request under the base URL; `{id}` in `path` is the set-up order's id."""
    def send(api: Api, order_id: str) -> requests.Response:
        url = api.base + path.replace("{id}", order_id).replace("{partner}", api.mock.partner_id)
        return api.session.request(method, url, data=data, headers=headers or {})
    return send


def replace(**header: Any) -> Callable[[Api, str], requests.Response]:
    def send(api: Api, order_id: str) -> requests.Response:
        return api.replace(order_id, {**order_body(api.mock.partner_id, reference="MSG-ORDER"), **header})
    return send


def duplicate(api: Api, _: str) -> requests.Response:
    api.create(order_body(api.mock.partner_id, reference="msg-dup"))
    return api.create(order_body(api.mock.partner_id, reference="MSG-DUP"))


# -- orders to act on -------------------------------------------------------------------
def submitted(api: Api) -> str:
    return api.create(order_body(api.mock.partner_id, reference="MSG-ORDER")).json()["orderId"]


def draft(api: Api) -> str:
    order_id = api.create(order_body(api.mock.partner_id, reference="MSG-ORDER", payment=None)).json()["orderId"]
    api.mock.clock.advance(120)
    assert api.status(order_id) == "Draft"
    return order_id


def package(**wallet: Any) -> dict[str, Any]:
    return line(PACKAGE, wallet=wallet)


def entry(item: str = "31001", visit_date: str = "2026-06-01") -> dict[str, str]:
    return {"itemNumber": item, "visitDate": visit_date, "visitTime": "10:30:00"}


MESSAGES: dict[str, Case] = {
    # Body must be a JSON object · Required field '%1' is missing / cannot be null / cannot be empty /
    # must be a primitive value · Optional field '%1' must be a primitive value
    "body not JSON": Case(raw("POST", "/channelManager", b"{nope", {"Content-Type": "application/json"}),
                          400, "generic_error", "Body must be a JSON object"),
    "body not an object": Case(raw("POST", "/channelManager", b"[1, 2]"), 400, "generic_error",
                               "Body must be a JSON object"),
    "required missing": Case(create(sellToOrderReference=None), 400, "generic_error",
                             "Required field 'sellToOrderReference' is missing"),
    "required null": Case(raw("POST", "/channelManager", json.dumps({
        "partnerId": "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e", "sellToOrderReference": None,
        "items": [line()]}).encode()), 400, "generic_error", "Required field 'sellToOrderReference' cannot be null"),
    "required empty": Case(create(sellToOrderReference=""), 400, "generic_error",
                           "Required field 'sellToOrderReference' cannot be empty"),
    "required not primitive": Case(create(sellToOrderReference={"a": 1}), 400, "generic_error",
                                   "Required field 'sellToOrderReference' must be a primitive value"),
    "line's required not primitive": Case(create_lines(line(itemNumber=["31001"])), 400, "generic_error",
                                          "Required field 'itemNumber' must be a primitive value"),
    "optional not primitive": Case(create(sellToName=["x"]), 400, "generic_error",
                                   "Optional field 'sellToName' must be a primitive value"),
    "line's optional not primitive": Case(create_lines(line(sellToEmail={"a": "b"})), 400, "generic_error",
                                          "Optional field 'sellToEmail' must be a primitive value"),
    # partnerId is not a valid GUID · Unknown partnerId '%1' · Partner '%1' is not active (the name)
    "partnerId not a GUID": Case(create(partnerId="partner-42"), 400, "generic_error",
                                 "partnerId is not a valid GUID"),
    "unknown partner": Case(create(partnerId=UNKNOWN_PARTNER), 400, "generic_error",
                            f"Unknown partnerId '{UNKNOWN_PARTNER}'"),
    "inactive partner": Case(create(partnerId=DISABLED_PARTNER), 400, "generic_error",
                             "Partner 'Disabled OTA' is not active"),
    # An order with sellToOrderReference '%1' already exists for partner '%2' (the name)
    "duplicate reference": Case(duplicate, 400, "generic_error",
                                f"An order with sellToOrderReference 'MSG-DUP' already exists for partner "
                                f"'{PARTNER_NAME}'"),
    # items array is required · items must be an array · items array must contain at least one entry ·
    # items[%1] must be an object · Unknown item '%1' · quantity must be >= 1 (line %1)
    "items missing": Case(create(items=None), 400, "generic_error", "items array is required"),
    "items not an array": Case(create(items={"itemNumber": "31001"}), 400, "generic_error", "items must be an array"),
    "items empty": Case(create(items=[]), 400, "generic_error", "items array must contain at least one entry"),
    "item not an object": Case(create_lines(line(), "31001"), 400, "generic_error", "items[1] must be an object"),
    "unknown item": Case(create_lines(line("99999")), 400, "generic_error", "Unknown item '99999'"),
    "quantity below 1": Case(create_lines(line(), line(quantity=0)), 400, "generic_error",
                             "quantity must be >= 1 (line 200000)"),
    # Required field '%1' must be YYYY-MM-DD · ... must be HH:mm:ss · items[%1] visitDate must not be in the past
    "visitDate format": Case(create_lines(line(visitDate="01/06/2026")), 400, "generic_error",
                             "Required field 'visitDate' must be YYYY-MM-DD"),
    "visitDate not a date": Case(create_lines(line(visitDate="2026-02-30")), 400, "generic_error",
                                 "Required field 'visitDate' must be YYYY-MM-DD"),
    "visitTime format": Case(create_lines(line(visit_time="10:30")), 400, "generic_error",
                             "Required field 'visitTime' must be HH:mm:ss"),
    "visitDate in the past": Case(create_lines(line(), line(visitDate="2026-05-14")), 400, "generic_error",
                                  "items[1] visitDate must not be in the past (received 2026-05-14, "
                                  "local today 2026-05-15)"),
    # wallet.names / wallet.externalReferenceNumbers array length (%1) must equal %2 on line %3
    "wallet.names length": Case(create_lines(line(quantity=2, wallet={"names": ["Jane"]})), 400, "generic_error",
                                "wallet.names array length (1) must equal 2 on line 100000"),
    "wallet.externalReferenceNumbers length": Case(
        create_lines(line(), line(wallet={"externalReferenceNumbers": ["A", "B"]})), 400, "generic_error",
        "wallet.externalReferenceNumbers array length (2) must equal 1 on line 200000"),
    # wallet.componentSchedule is only valid for package items (line %1) (also when the list is empty) ·
    # entries must be objects (line %1) · '%1' is not a component of package '%2' (line %3) ·
    # items[%1].componentSchedule entry '%2' visitDate must not be in the past
    "componentSchedule on a ticket": Case(create_lines(line(wallet={"componentSchedule": [entry()]})), 400,
                                          "generic_error",
                                          "wallet.componentSchedule is only valid for package items (line 100000)"),
    "empty componentSchedule on a ticket": Case(create_lines(line(wallet={"componentSchedule": []})), 400,
                                                "generic_error", "wallet.componentSchedule is only valid for "
                                                "package items (line 100000)"),
    "componentSchedule entry not an object": Case(create_lines(line(), package(componentSchedule=["31001"])), 400,
                                                  "generic_error",
                                                  "wallet.componentSchedule entries must be objects (line 200000)"),
    "not a component": Case(create_lines(package(componentSchedule=[entry("31030")])), 400, "generic_error",
                            "'31030' is not a component of package '31100' (line 100000)"),
    "component visit in the past": Case(create_lines(package(componentSchedule=[entry(visit_date="2026-05-01")])),
                                        400, "generic_error", "items[0].componentSchedule entry '31001' visitDate "
                                        "must not be in the past (received 2026-05-01, local today 2026-05-15)"),
    # Invalid order id · Invalid partnerId · receivedAtFrom / receivedAtTo must be ISO 8601 datetime
    "invalid order id": Case(raw("GET", "/channelManager/not-a-guid"), 400, "generic_error", "Invalid order id"),
    "invalid partnerId": Case(raw("GET", "/channelManager/orders/partner-42"), 400, "generic_error",
                              "Invalid partnerId"),
    "receivedAtFrom": Case(raw("GET", "/channelManager/orders/{partner}?receivedAtFrom=yesterday"), 400,
                           "generic_error", "receivedAtFrom must be ISO 8601 datetime"),
    "receivedAtTo": Case(raw("GET", "/channelManager/orders/{partner}?receivedAtTo=2026-13-01"), 400,
                         "generic_error", "receivedAtTo must be ISO 8601 datetime"),
    # Order cannot be replaced in status %1 · partnerId / sellToOrderReference cannot be changed via PUT
    "replace in flight": Case(replace(), 400, "generic_error", "Order cannot be replaced in status Submitted",
                              setup=submitted),
    "replace changes partnerId": Case(replace(partnerId=OTHER_PARTNER), 400, "generic_error",
                                      "partnerId cannot be changed via PUT", setup=draft),
    "replace changes reference": Case(replace(sellToOrderReference="MSG-OTHER"), 400, "generic_error",
                                      "sellToOrderReference cannot be changed via PUT", setup=draft),
    # Order cannot be confirmed in status %1 · Order is mid-flight (status %1); retry once it has settled.
    "confirm in flight": Case(raw("POST", "/channelManager/{id}/confirm", b'{"paymentReference": "P"}'), 400,
                              "generic_error", "Order cannot be confirmed in status Submitted", setup=submitted),
    "delete in flight": Case(raw("DELETE", "/channelManager/{id}"), 400, "generic_error",
                             "Order is mid-flight (status Submitted); retry once it has settled.", setup=submitted),
}

STATUSES: dict[str, Case] = {
    "unknown orderId": Case(raw("GET", f"/channelManager/{UNKNOWN_ORDER}"), 404, "resource_not_found",
                            f"Order '{UNKNOWN_ORDER}' not found Not Found"),
    "body over 1 MiB": Case(create(sellToName="x" * (1 << 20)), 413, "generic_error",
                            "Request body exceeds 1048576 bytes"),
    "no API key": Case(lambda api, _: requests.get(api.base + "/webhook"), 401, "unauthorized",
                       "Missing or invalid API key. Send it in the x-np-api-key header."),
}

ROUTING: dict[str, Case] = {
    # GET, POST, PUT, PATCH, DELETE on anything else: 404 resource_not_found, never 405
    "GET /channelManager": Case(raw("GET", "/channelManager"), 404, "resource_not_found", NOT_FOUND),
    "PATCH an order": Case(raw("PATCH", "/channelManager/{id}", b"{}"), 404, "resource_not_found", NOT_FOUND,
                           setup=submitted),
    "POST an order": Case(raw("POST", "/channelManager/{id}", b"{}"), 404, "resource_not_found", NOT_FOUND,
                          setup=submitted),
    "PUT /webhook": Case(raw("PUT", "/webhook", b"{}"), 404, "resource_not_found", NOT_FOUND),
    "unknown path": Case(raw("GET", "/channelManagers"), 404, "resource_not_found", NOT_FOUND),
    "literal segments in any case": Case(raw("GET", "/CHANNELMANAGER/ORDERS/{partner}"), 200, None, None),
    # any other method: 400 unsupported_http_method
    "OPTIONS": Case(raw("OPTIONS", "/channelManager"), 400, "unsupported_http_method",
                    "Http method OPTIONS is not supported"),
    "TRACE": Case(raw("TRACE", "/channelManager/{id}"), 400, "unsupported_http_method",
                  "Http method TRACE is not supported", setup=submitted),
    "PROPFIND (not even HTTP/1.1's)": Case(raw("PROPFIND", "/webhook"), 400, "unsupported_http_method",
                                           "Http method PROPFIND is not supported"),
    "OPTIONS on an unknown path": Case(raw("OPTIONS", "/nowhere"), 400, "unsupported_http_method",
                                       "Http method OPTIONS is not supported"),
    "HEAD (no body)": Case(raw("HEAD", "/channelManager/{id}"), 400, None, None, setup=submitted),
    # the body is read as JSON whatever its Content-Type (or none): no 415
    "JSON sent as text/plain": Case(
        lambda api, _: api.session.post(api.base + "/channelManager", headers={"Content-Type": "text/plain"},
                                        data=json.dumps(order_body(api.mock.partner_id))), 201, None, None),
    "JSON sent as a form": Case(
        lambda api, _: api.session.post(api.base + "/channelManager",
                                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                                        data=json.dumps(order_body(api.mock.partner_id))), 201, None, None),
    "JSON sent without Content-Type": Case(
        lambda api, _: api.session.post(api.base + "/channelManager", data=json.dumps(
            order_body(api.mock.partner_id)).encode()), 201, None, None),
    "non-JSON replace without Content-Type": Case(raw("PUT", "/channelManager/{id}", b"partnerId=x"), 400,
                                                  "generic_error", "Body must be a JSON object", setup=draft),
    "non-JSON confirm as text/plain": Case(raw("POST", "/channelManager/{id}/confirm", b"PAY-1",
                                               {"Content-Type": "text/plain"}), 400, "generic_error",
                                           "Body must be a JSON object", setup=draft),
}


def run(api: Api, case: Case) -> requests.Response:
    """Send the case; a 4xx must leave every order as it was."""
    order_id = case.setup(api) if case.setup else UNKNOWN_ORDER
    before = requests.get(api.mock.url + "/_mock/orders").json()["orders"]
    response = case.send(api, order_id)
    if 400 <= response.status_code < 500:
        after = requests.get(api.mock.url + "/_mock/orders").json()["orders"]
        created_by_case = [o for o in after if o["sellToOrderReference"] == "MSG-DUP"]  # its first create
        assert [o for o in after if o not in created_by_case] == before, "a rejected request changed the store"
    return response


def check(response: requests.Response, case: Case) -> None:
    assert response.status_code == case.status, response.text
    if case.code is None:
        return
    body = response.json()
    assert response.headers["Content-Type"] == "application/json"
    assert {key: body[key] for key in ("code", "message")} == {"code": case.code, "message": case.message}
    assert set(body) <= {"code", "message", "details"}


@pytest.mark.parametrize("name", list(MESSAGES))
def test_every_contract_message_verbatim(api: Api, name: str) -> None:
    check(run(api, MESSAGES[name]), MESSAGES[name])


@pytest.mark.parametrize("name", list(STATUSES))
def test_status_table(api: Api, name: str) -> None:
    check(run(api, STATUSES[name]), STATUSES[name])


@pytest.mark.parametrize("name", list(ROUTING))
def test_routing_method_and_content_type_rules(api: Api, name: str) -> None:
    check(run(api, ROUTING[name]), ROUTING[name])


@pytest.mark.parametrize("tenant", ["t%0Aenant", "t%00enant", "t%01enant", "t%7Fenant", "t%0D%0Aenant"])
def test_a_tenant_with_a_control_character_gets_the_apis_answer(api: Api, tenant: str) -> None:
    """Any tenant is a tenant: the documented 200, never Werkzeug's 404 page."""
    url = f"{api.mock.url}/{tenant}/sandbox/CRONUS/webhook"
    response = api.session.get(url)
    assert response.status_code == 200, response.text
    assert response.json() == {"@odata.context": "webhook", "value": []}
    missing = api.session.get(f"{api.mock.url}/{tenant}/sandbox/CRONUS/channelManager/{UNKNOWN_ORDER}")
    assert (missing.status_code, missing.json()["code"]) == (404, "resource_not_found")


def test_an_array_field_sent_as_an_object_is_not_called_a_primitive(api: Api) -> None:
    """"must be a primitive value" is for fields of a primitive type only."""
    response = api.create(order_body(api.mock.partner_id, items=[line(wallet={"names": {"a": 1}})]))
    assert response.status_code == 400
    assert response.json()["message"] == "Field 'items[0].wallet.names' must be of type array"
