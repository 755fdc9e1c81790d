"""Rejections, validation and the HTTP edges of the mock, in the server's words."""

from __future__ import annotations

import pytest
import requests

from mockclient import VISIT_DATE, Api, line, order_body

OTHER_PARTNER = "7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812"
OTHER_KEY = "otacm-other-partner-key"


def _settled(api: Api, payment: str | None = "PAY-1", prefer: str | None = None, **header: object) -> dict:
    body = order_body(api.mock.partner_id, payment=payment, **header)
    order_id = api.create(body, prefer=prefer).json()["orderId"]
    api.mock.clock.advance(120)
    return {"body": body, "order": api.get(order_id).json()}


def _error(response: requests.Response, status: int, message: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == {400: "generic_error", 404: "resource_not_found", 401: "unauthorized"}.get(status, body["code"])
    assert message in body["message"], body["message"]
    return body


# -- documented rejections ------------------------------------------------------
def test_duplicate_create_is_rejected_case_insensitively(api: Api) -> None:
    body = order_body(api.mock.partner_id, reference="partner-42")
    assert api.create(body).status_code == 201
    again = api.create({**body, "sellToOrderReference": "PARTNER-42"})
    name = api.mock.config.partners[api.mock.partner_id].name  # the partner's name, not its id (CONTRACT.md)
    _error(again, 400, f"An order with sellToOrderReference 'PARTNER-42' already exists for partner '{name}'")


def test_same_reference_for_another_partner_is_accepted(api: Api) -> None:
    body = order_body(api.mock.partner_id, reference="shared-ref")
    assert api.create(body).status_code == 201
    assert api.create({**body, "partnerId": OTHER_PARTNER}).status_code == 201


@pytest.mark.parametrize("status", ["Submitted", "Issued"])
def test_replace_outside_draft_or_error_is_rejected(api: Api, status: str) -> None:
    body = order_body(api.mock.partner_id)
    order_id = api.create(body).json()["orderId"]
    if status == "Issued":
        api.mock.clock.advance(120)
    _error(api.replace(order_id, body), 400, f"Order cannot be replaced in status {status}")


@pytest.mark.parametrize(
    "field, value",
    [("partnerId", OTHER_PARTNER), ("sellToOrderReference", "another-ref")],
)
def test_identity_change_under_put_is_rejected(api: Api, field: str, value: str) -> None:
    settled = _settled(api, payment=None)
    changed = {**settled["body"], field: value}
    _error(api.replace(settled["order"]["orderId"], changed), 400, f"{field} cannot be changed via PUT")


@pytest.mark.parametrize("advance, status", [(0, "Submitted"), (60, "Scheduled"), (62, "Processing")])
def test_delete_in_flight_is_rejected(api: Api, advance: int, status: str) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    api.mock.clock.advance(advance)
    _error(api.delete(order_id), 400, f"Order is mid-flight (status {status}); retry once it has settled.")


def test_confirm_on_issued_is_a_no_op_that_ignores_the_body(api: Api) -> None:
    issued = _settled(api)["order"]
    again = api.confirm(issued["orderId"], {"nonsense": True})
    assert again.status_code == 200
    assert again.json() == issued


@pytest.mark.parametrize("status", ["Submitted", "Error", "Cancelled"])
def test_confirm_outside_draft_or_issued_is_rejected(api: Api, status: str) -> None:
    if status == "Submitted":
        order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    elif status == "Error":
        order_id = _settled(api, prefer="outcome=Error")["order"]["orderId"]
    else:
        order_id = _settled(api)["order"]["orderId"]
        api.delete(order_id)
    _error(api.confirm(order_id, {"paymentReference": "P"}), 400, f"Order cannot be confirmed in status {status}")


def test_confirm_draft_needs_a_payment_reference(api: Api) -> None:
    draft = _settled(api, payment=None)["order"]
    _error(api.confirm(draft["orderId"], {}), 400, "Required field 'paymentReference' is missing")
    _error(api.confirm(draft["orderId"], {"paymentReference": ""}), 400, "Required field 'paymentReference' cannot be empty")


def test_unknown_order_is_404_and_a_bad_id_is_400(api: Api) -> None:
    unknown = "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"
    for response in (api.get(unknown), api.delete(unknown), api.confirm(unknown, {"paymentReference": "P"})):
        _error(response, 404, f"Order '{unknown}' not found Not Found")
    _error(api.get("not-a-guid"), 400, "Invalid order id")


# -- request validation: the server's messages, every bad field named ------------
@pytest.mark.parametrize(
    "mutate, message, field",
    [
        (lambda b: b.pop("sellToOrderReference"), "Required field 'sellToOrderReference' is missing", "sellToOrderReference"),
        (lambda b: b.update(partnerId=None), "Required field 'partnerId' cannot be null", "partnerId"),
        (lambda b: b.update(sellToOrderReference=""), "Required field 'sellToOrderReference' cannot be empty", "sellToOrderReference"),
        (lambda b: b.update(partnerId={"a": 1}), "Required field 'partnerId' must be a primitive value", "partnerId"),
        (lambda b: b.update(partnerId="nope"), "partnerId is not a valid GUID", "partnerId"),
        (lambda b: b.pop("items"), "items array is required", "items"),
        (lambda b: b.update(items={}), "items must be an array", "items"),
        (lambda b: b.update(items=[]), "items array must contain at least one entry", "items"),
        (lambda b: b.update(items=[7]), "items[0] must be an object", "items[0]"),
        (lambda b: b["items"][0].update(quantity=0), "quantity must be >= 1 (line 100000)", "items[0].quantity"),
        (lambda b: b["items"][0].update(visitDate="01-06-2026"), "Required field 'visitDate' must be YYYY-MM-DD", "items[0].visitDate"),
        (lambda b: b["items"][0].update(visitTime="10:30"), "Required field 'visitTime' must be HH:mm:ss", "items[0].visitTime"),
        (lambda b: b["items"][0].pop("itemNumber"), "Required field 'itemNumber' is missing", "items[0].itemNumber"),
    ],
)
def test_invalid_create_bodies_name_the_field(api: Api, mutate, message: str, field: str) -> None:
    body = order_body(api.mock.partner_id)
    mutate(body)
    error = _error(api.create(body), 400, message)
    assert field in [d["field"] for d in error["details"]]


def test_every_bad_field_is_listed_in_details(api: Api) -> None:
    body = {"partnerId": "nope", "items": [{"itemNumber": "31001", "visitDate": "x", "visitTime": "y"}]}
    fields = {d["field"] for d in _error(api.create(body), 400, "")["details"]}
    assert {"partnerId", "sellToOrderReference", "items[0].visitDate", "items[0].visitTime"} <= fields


@pytest.mark.parametrize(
    "items, message",
    [
        ([line(item="99999")], "Unknown item '99999'"),
        ([line(visitDate="2020-01-01")], "items[0] visitDate must not be in the past (received 2020-01-01, local today 2026-05-15)"),
        ([line(visitDate="2026-02-30")], "Required field 'visitDate' must be YYYY-MM-DD"),
        ([line(quantity=2, wallet={"names": ["One"]})], "wallet.names array length (1) must equal 2 on line 100000"),
        ([line(item="31010", quantity=5, wallet={"externalReferenceNumbers": ["A", "B"]})],
         "wallet.externalReferenceNumbers array length (2) must equal 1 on line 100000"),
        ([line(wallet={"componentSchedule": [{"itemNumber": "31020", "visitDate": VISIT_DATE, "visitTime": "10:00:00"}]})],
         "wallet.componentSchedule is only valid for package items (line 100000)"),
        ([line(item="31100", wallet={"componentSchedule": [{"itemNumber": "31030", "visitDate": VISIT_DATE, "visitTime": "10:00:00"}]})],
         "'31030' is not a component of package '31100' (line 100000)"),
    ],
)
def test_catalog_rules_are_400_at_submit(api: Api, items: list, message: str) -> None:
    _error(api.create(order_body(api.mock.partner_id, items=items)), 400, message)


@pytest.mark.parametrize(
    "partner, message",
    [
        ("11111111-2222-4333-8444-555555555555", "Unknown partnerId '11111111-2222-4333-8444-555555555555'"),
        ("0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "Partner 'Disabled OTA' is not active"),
    ],
)
def test_unknown_or_disabled_partner_is_rejected(api: Api, partner: str, message: str) -> None:
    _error(api.create(order_body(partner)), 400, message)


def test_unknown_fields_are_ignored(api: Api) -> None:
    body = order_body(api.mock.partner_id, loyaltyTier="gold")
    body["items"][0]["colour"] = "red"
    assert api.create(body).status_code == 201


def test_references_are_stored_upper_cased(api: Api) -> None:
    body = order_body(api.mock.partner_id, reference="partner-42", payment="pay-9", sellToLanguage="enu")
    order = api.create(body).json()
    assert (order["sellToOrderReference"], order["paymentReference"], order["sellToLanguage"]) == ("PARTNER-42", "PAY-9", "ENU")


# -- HTTP edges ------------------------------------------------------------------
def test_missing_or_wrong_api_key_is_401(api: Api) -> None:
    url = api.base + "/channelManager/9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"
    for headers in ({}, {"x-np-api-key": "wrong"}, {"Authorization": "Bearer wrong"}):
        _error(requests.get(url, headers=headers), 401, "API key")


def test_bearer_key_is_accepted(api: Api) -> None:
    response = requests.post(api.base + "/channelManager", json=order_body(api.mock.partner_id),
                             headers={"Authorization": f"Bearer {api.mock.api_key}"})
    assert response.status_code == 201


def test_unknown_route_and_method_are_404_endpoint_not_found(api: Api) -> None:
    _error(api.session.get(api.base + "/channelManager"), 404, "API endpoint not found Not Found")
    _error(api.session.patch(api.base + "/channelManager/9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"), 404,
           "API endpoint not found Not Found")
    _error(api.session.get(api.mock.url + "/nothing/here"), 404, "API endpoint not found Not Found")


def test_literal_segments_match_in_any_case(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    assert api.session.get(f"{api.base}/CHANNELMANAGER/{order_id}").status_code == 200


@pytest.mark.parametrize("company", ["CRONUS%20International%20Ltd.", "CRONUS+International+Ltd.",
                                     "CRONUS%2520International%2520Ltd."])
def test_company_encodings_address_the_same_company(api: Api, company: str) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    tenant, environment = api.mock.config.tenant, api.mock.config.environment
    url = f"{api.mock.url}/{tenant}/{environment}/{company}/channelManager/{order_id}"
    assert api.session.get(url).status_code == 200


def test_orders_of_another_company_are_not_visible(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    other = f"{api.mock.url}/{api.mock.config.tenant}/{api.mock.config.environment}/Other%20Company"
    assert api.session.get(f"{other}/channelManager/{order_id}").status_code == 404


def test_malformed_json_is_400(api: Api) -> None:
    response = api.session.post(api.base + "/channelManager", data="{nope",
                                headers={"Content-Type": "application/json"})
    _error(response, 400, "Body must be a JSON object")
    _error(api.create([1, 2]), 400, "Body must be a JSON object")


def test_a_non_json_body_is_400_whatever_the_content_type(api: Api) -> None:
    """CONTRACT.md: the body is read as JSON whatever its Content-Type; there is no 415."""
    response = api.session.post(api.base + "/channelManager", data="partnerId=x",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    _error(response, 400, "Body must be a JSON object")


def test_oversized_body_is_413_with_json_error(api: Api) -> None:
    body = order_body(api.mock.partner_id, sellToName="x" * (1 << 20))
    response = api.create(body)
    assert response.status_code == 413
    assert response.json()["code"] == "generic_error" and "1048576" in response.json()["message"]


# -- partner isolation (a sandbox decision) ------------------------------------------
def test_a_partner_bound_key_cannot_reach_other_partners(api: Api) -> None:
    theirs = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    bound = Api(api.mock, api_key=OTHER_KEY)
    assert bound.get(theirs).status_code == 404
    assert bound.delete(theirs).status_code == 404
    assert bound.confirm(theirs, {"paymentReference": "P"}).status_code == 404
    assert bound.replace(theirs, order_body(api.mock.partner_id)).status_code == 404
    assert bound.create(order_body(api.mock.partner_id)).status_code == 403
    assert bound.list(api.mock.partner_id).status_code == 403
    assert bound.create(order_body(OTHER_PARTNER)).status_code == 201


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "HEAD"])
def test_any_other_method_is_unsupported_http_method_never_405(api: Api, method: str) -> None:
    response = api.session.request(method, api.base + "/channelManager")
    assert response.status_code == 400
    if method != "HEAD":
        assert response.json() == {"code": "unsupported_http_method", "message": f"Http method {method} is not supported"}
