"""Issuance (wallets, tickets, coupons, references) and listing, through HTTP."""

from __future__ import annotations

import pytest
from mockclient import VISIT_DATE, Api, line, order_body

from mockserver.sandbox.representation import EMPTY_GUID


def _issue(api: Api, items: list, payment: str | None = "PAY-1") -> tuple[dict, dict]:
    submitted = api.create(order_body(api.mock.partner_id, items=items, payment=payment)).json()
    api.mock.clock.advance(120)
    return submitted, api.get(submitted["orderId"]).json()


def test_external_references_echoed_on_shells_and_stamped_on_minted_wallets(api: Api) -> None:
    wallet = {"names": ["Jane Doe", "John Doe"], "externalReferenceNumbers": ["JD-2026-001", "JOHN-2026-001"]}
    submitted, issued = _issue(api, [line(quantity=2, wallet=wallet)])
    shells = submitted["items"][0]["wallets"]
    assert [w["externalReferenceNumber"] for w in shells] == wallet["externalReferenceNumbers"]
    assert [w["name"] for w in shells] == wallet["names"]
    assert all(w["walletId"] == EMPTY_GUID and w["assets"] == [] and "manifestUrl" not in w for w in shells)
    minted = issued["items"][0]["wallets"]
    assert [w["externalReferenceNumber"] for w in minted] == wallet["externalReferenceNumbers"]
    assert [w["name"] for w in minted] == wallet["names"]
    assert all(w["walletId"] != EMPTY_GUID and w["walletReferenceNumber"].isdigit() for w in minted)


def test_individual_tickets_get_one_wallet_each(api: Api) -> None:
    _, issued = _issue(api, [line(quantity=3)])
    wallets = issued["items"][0]["wallets"]
    assert len(wallets) == 3
    assert all([a["type"] for a in w["assets"]] == ["ticket"] for w in wallets)
    assert {w["unitPriceInclVat"] for w in wallets} == {100}
    assert {w["name"] for w in wallets} == {"Castle Admission"}  # defaults to the item description


def test_group_ticket_is_one_wallet_priced_for_the_group(api: Api) -> None:
    _, issued = _issue(api, [line(item="31010", quantity=5)])
    (wallet,) = issued["items"][0]["wallets"]
    assert (wallet["unitPriceExclVat"], wallet["unitPriceInclVat"]) == (64 * 5, 80 * 5)
    assert len(wallet["assets"]) == 1


def test_package_wallet_holds_a_ticket_per_component_and_its_coupons(api: Api) -> None:
    schedule = [{"itemNumber": "31020", "visitDate": VISIT_DATE, "visitTime": "15:00:00"}]
    submitted, issued = _issue(api, [line(item="31100", quantity=2, wallet={"componentSchedule": schedule})])
    assert submitted["items"][0]["isPackage"] is True
    assert submitted["items"][0]["componentSchedule"] == schedule
    wallets = issued["items"][0]["wallets"]
    assert len(wallets) == 2
    for wallet in wallets:
        kinds = sorted((a["type"], a["itemNumber"]) for a in wallet["assets"])
        assert kinds == [("coupon", "C-CAFE-10"), ("ticket", "31001"), ("ticket", "31020")]


def test_sold_out_slot_fails_issuance(api: Api) -> None:
    _, first = _issue(api, [line(item="31030", quantity=4, visit_time="11:00:00")])
    assert first["status"] == "Issued"
    _, second = _issue(api, [line(item="31030", quantity=1, visit_time="11:00:00")])
    assert second["status"] == "Error" and "sold out" in second["statusMessage"]


def test_deleting_an_issued_order_gives_its_capacity_back(api: Api) -> None:
    _, first = _issue(api, [line(item="31030", quantity=4, visit_time="12:00:00")])
    api.delete(first["orderId"])
    _, second = _issue(api, [line(item="31030", quantity=4, visit_time="12:00:00")])
    assert second["status"] == "Issued"


def test_line_sell_to_fields_default_to_the_header(api: Api) -> None:
    body = order_body(api.mock.partner_id, sellToName="Jane Doe", sellToEmail="guest@example.com", sellToLanguage="ENU")
    body["items"].append(line(sellToName="John Doe"))
    lines = api.create(body).json()["items"]
    assert (lines[0]["sellToName"], lines[0]["sellToEmail"], lines[0]["sellToLanguage"]) == ("Jane Doe", "guest@example.com", "ENU")
    assert lines[1]["sellToName"] == "John Doe"
    assert [l["lineNo"] for l in lines] == [100000, 200000]


# -- listOrdersByPartner ---------------------------------------------------------
@pytest.fixture
def three_orders(api: Api) -> dict[str, str]:
    """An Issued, a Draft (an hour later) and a Submitted order (a day later)."""
    ids = {}
    ids["Issued"] = api.create(order_body(api.mock.partner_id, reference="ord-a")).json()["orderId"]
    api.mock.clock.advance(3600)
    ids["Draft"] = api.create(order_body(api.mock.partner_id, reference="ord-b", payment=None)).json()["orderId"]
    api.mock.clock.advance(86400)
    ids["Submitted"] = api.create(order_body(api.mock.partner_id, reference="ord-c")).json()["orderId"]
    return ids


def _ids(api: Api, **params: str) -> list[str]:
    response = api.list(api.mock.partner_id, **params)
    assert response.status_code == 200, response.text
    return [summary["orderId"] for summary in response.json()["data"]]


def test_list_returns_compact_summaries_in_arrival_order(api: Api, three_orders: dict) -> None:
    page = api.list(api.mock.partner_id).json()
    assert page["morePages"] is False and page["nextPageKey"] == ""
    assert [s["orderId"] for s in page["data"]] == list(three_orders.values())
    assert all("items" not in s for s in page["data"])


def test_list_filters_by_status_list(api: Api, three_orders: dict) -> None:
    assert _ids(api, status="Issued") == [three_orders["Issued"]]
    assert _ids(api, status="Submitted,Scheduled,Processing") == [three_orders["Submitted"]]
    assert _ids(api, status="Draft,Issued") == [three_orders["Issued"], three_orders["Draft"]]


def test_list_filters_by_reference_case_insensitively(api: Api, three_orders: dict) -> None:
    assert _ids(api, sellToOrderReference="Ord-B") == [three_orders["Draft"]]
    assert _ids(api, sellToOrderReference="nope") == []


def test_list_filters_by_inclusive_received_at_window(api: Api, three_orders: dict) -> None:
    assert _ids(api, receivedAtFrom="2026-05-15T10:30:00Z") == [three_orders["Draft"], three_orders["Submitted"]]
    assert _ids(api, receivedAtTo="2026-05-15T10:30:00Z") == [three_orders["Issued"], three_orders["Draft"]]
    assert _ids(api, receivedAtFrom="2026-05-15T10:30:00Z", receivedAtTo="2026-05-15T10:30:00Z") == [three_orders["Draft"]]
    assert _ids(api, status="Issued", receivedAtFrom="2026-05-15T10:00:00Z") == []


def test_list_pages_with_page_size_and_key(api: Api, three_orders: dict) -> None:
    first = api.list(api.mock.partner_id, pageSize="2").json()
    assert first["morePages"] is True and len(first["data"]) == 2
    assert "pageKey=" in first["nextPageURL"]
    second = api.list(api.mock.partner_id, pageSize="2", pageKey=first["nextPageKey"]).json()
    assert second["morePages"] is False
    assert [s["orderId"] for s in first["data"] + second["data"]] == list(three_orders.values())


def test_list_of_unknown_partner_is_empty_and_invalid_input_is_400(api: Api) -> None:
    assert api.list("11111111-2222-4333-8444-555555555555").json()["data"] == []
    assert api.list("nope").json()["message"] == "Invalid partnerId"
    assert api.list(api.mock.partner_id, receivedAtFrom="yesterday").json()["message"] == (
        "receivedAtFrom must be ISO 8601 datetime")
    assert api.list(api.mock.partner_id, receivedAtTo="x").status_code == 400
    assert api.list(api.mock.partner_id, status="Lost").status_code == 400


def test_list_is_per_partner(api: Api, three_orders: dict) -> None:
    assert api.list("7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812").json()["data"] == []


def test_received_at_window_matches_the_shown_second_on_a_running_clock() -> None:
    """A filter on an order's own receivedAt finds it, whatever the sub-second."""
    from mockserver.server import MockServer, frozen_config

    with MockServer(frozen_config(clock_mode="real")) as mock:
        api = Api(mock)
        body = order_body(mock.partner_id, items=[line()])
        body["items"][0]["visitDate"] = "2099-01-01"
        shown = api.create(body).json()["receivedAt"]
        assert _ids(api, receivedAtFrom=shown, receivedAtTo=shown) != []
