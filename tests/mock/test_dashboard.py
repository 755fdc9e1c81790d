"""The dashboard's server side: the page, its fragments, filters, paging, errors; the Requests
view against the real request log (the requests these tests send through the API)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests

from bench.apps import fill
from mockclient import FROZEN_START, Api, line, order_body
from mockserver.server import MockServer, frozen_config

UI = "/_mock/ui"


def test_root_and_ui_serve_the_page_offline(mock: MockServer) -> None:
    for path in ("/", UI):
        page = requests.get(mock.url + path)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        for panel in ('id="clock"', 'id="orders"', 'id="webhooks"', 'id="try-order"', 'id="detail"'):
            assert panel in page.text
        assert "http://" not in page.text.replace(mock.url, "") and "https://" not in page.text  # no CDN
    for asset in ("dashboard.js", "dashboard.css"):
        assert requests.get(f"{mock.url}{UI}/static/{asset}").status_code == 200


def test_root_keeps_the_api_answers_for_api_clients_and_other_methods(mock: MockServer) -> None:
    keyed = requests.get(mock.url + "/", headers={"x-np-api-key": mock.api_key})
    assert keyed.status_code == 404 and keyed.json()["code"] == "resource_not_found"
    assert requests.get(mock.url + "/", headers={"x-np-api-key": "wrong"}).status_code == 401
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        answer = requests.request(method, mock.url + "/")
        assert answer.status_code == 401 and set(answer.json()) == {"code", "message"}
    assert requests.get(mock.url + "/anything/else").status_code == 401


def test_orders_newest_first_filtered_and_paged(api: Api) -> None:
    ids = [api.create(order_body(api.mock.partner_id, reference=f"DASH-{i}")).json()["orderId"] for i in range(5)]
    page = requests.get(f"{api.mock.url}{UI}/orders", params={"size": 2}).text
    assert page.index(ids[4]) < page.index(ids[3]) and ids[2] not in page
    older = page.split('data-page="')[1].split('"')[0]
    second = requests.get(f"{api.mock.url}{UI}/orders", params={"size": 2, "before": older}).text
    assert ids[2] in second and ids[1] in second and ids[4] not in second
    by_reference = requests.get(f"{api.mock.url}{UI}/orders", params={"reference": "dash-3"}).text
    assert ids[3] in by_reference and ids[2] not in by_reference
    assert ids[0] in requests.get(f"{api.mock.url}{UI}/orders", params={"status": "Submitted"}).text
    assert ids[0] not in requests.get(f"{api.mock.url}{UI}/orders", params={"status": "Issued"}).text
    other = requests.get(f"{api.mock.url}{UI}/orders", params={"partner": "7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812"})
    assert ids[0] not in other.text and "No orders match" in other.text


@pytest.mark.parametrize("params, word", [({"status": "Done"}, "status"), ({"size": "0"}, "size"),
                                          ({"size": "x"}, "whole"), ({"before": "1.5"}, "whole")])
def test_bad_filters_are_a_flat_400(mock: MockServer, params: dict[str, str], word: str) -> None:
    answer = requests.get(f"{mock.url}{UI}/orders", params=params)
    assert answer.status_code == 400 and set(answer.json()) == {"code", "message"}
    assert word in answer.json()["message"]


@pytest.mark.parametrize("view", ["orders", "requests"])
def test_an_empty_size_or_before_is_the_first_page_of_the_default_size_in_both_views(mock: MockServer,
                                                                                  view: str) -> None:
    """A form that sends `size=&before=` (its fields left empty) gets the view's first page, on both views."""
    answer = requests.get(f"{mock.url}{UI}/{view}", params={"size": "", "before": ""})
    assert answer.status_code == 200, answer.text


def test_order_detail_has_timeline_wallets_and_deliveries(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    api.mock.clock.advance(120)
    detail = requests.get(f"{api.mock.url}{UI}/orders/{order_id}").text
    for status in ("Submitted", "Scheduled", "Processing", "Issued"):
        assert f'data-status="{status}"' in detail
    assert "pickup" in detail and "getOrder JSON" in detail and "ticket" in detail
    missing = requests.get(f"{api.mock.url}{UI}/orders/nope")
    assert missing.status_code == 404 and set(missing.json()) == {"code", "message"}


def test_deliver_now_sends_a_waiting_retry(api: Api) -> None:
    subscription = {"notificationUrl": "http://127.0.0.1:9/hooks", "eventName": "ota_cm_order_processed"}
    assert api.session.post(api.base + "/webhook", json=subscription).status_code == 201
    api.create(order_body(api.mock.partner_id))
    api.mock.clock.advance(70)  # settles at +64 s; the first retry is booked 30 s later
    assert api.mock.webhooks.wait_idle(10)
    log = requests.get(api.mock.url + "/_mock/webhooks/deliveries").json()["deliveries"]
    assert [e["outcome"] for e in log] == ["retrying"]
    assert 'data-retry="' in requests.get(f"{api.mock.url}{UI}/webhooks").text
    retried = requests.post(f"{api.mock.url}/_mock/webhooks/deliveries/{log[0]['deliveryId']}/retry")
    assert retried.status_code == 200 and api.mock.webhooks.wait_idle(10)
    log = requests.get(api.mock.url + "/_mock/webhooks/deliveries").json()["deliveries"]
    assert [e["attempt"] for e in log] == [1, 2]
    assert requests.get(f"{api.mock.url}{UI}/webhooks").text.count('data-retry="') == 1  # the newest attempt only
    api.mock.clock.advance(31)  # the booked retry no longer fires: attempt 2 was sent early
    assert api.mock.webhooks.wait_idle(10)
    assert len(requests.get(api.mock.url + "/_mock/webhooks/deliveries").json()["deliveries"]) == 2
    again = requests.post(f"{api.mock.url}/_mock/webhooks/deliveries/nope/retry")
    assert again.status_code == 409 and set(again.json()) == {"code", "message"}


def test_first_page_renders_under_300_ms_with_10000_orders(mock: MockServer) -> None:
    fill(mock.backend, 10_000)
    client = mock.app.test_client()
    client.get(UI)  # templates compiled once
    timings = []
    for params in ({}, {"status": "Draft"}, {"status": "Issued"}, {"reference": "FILL-77"}, {"before": "5000"}):
        began = time.perf_counter()
        answer = client.get(UI, query_string=params)
        timings.append(time.perf_counter() - began)
        assert answer.status_code == 200 and answer.text.count('class="order-row') == (1 if "reference" in params else 50)
    assert max(timings) < 0.3, timings


def test_newest_first_merges_companies_and_skips_reset_orders(api: Api) -> None:
    other_company = Api(api.mock, base_url=api.mock.base_url.rsplit("/", 1)[0] + "/Other%20Company")
    second_partner = "7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812"
    made = []
    for i in range(6):
        client = api if i % 2 else other_company
        partner = second_partner if i == 4 else api.mock.partner_id
        made.append(client.create(order_body(partner, reference=f"MIX-{i}")).json()["orderId"])
    backend = api.mock.backend
    page, more = backend.recent_orders(10)
    assert [o.order_id for o in page] == made[::-1] and not more
    page, more = backend.recent_orders(2, before_seq=backend.store.get(made[4]).seq)
    assert [o.order_id for o in page] == [made[3], made[2]] and more
    page, _ = backend.recent_orders(10, partner_id=api.mock.partner_id.upper(), before_seq=backend.store.get(made[3]).seq)
    assert [o.order_id for o in page] == [made[2], made[1], made[0]]
    backend.reset(second_partner)
    assert made[4] not in [o.order_id for o in backend.recent_orders(10)[0]]


# -- the Requests view (the request log) -------------------------------------------------
UNKNOWN_ITEM = "99999-NOT-IN-CATALOG"


def _rejected(api: Api, reference: str = "REJECT-ME") -> requests.Response:
    answer = api.create(order_body(api.mock.partner_id, reference=reference, items=[line(UNKNOWN_ITEM)]))
    assert 400 <= answer.status_code < 500, answer.text
    return answer


def _row_ids(html: str) -> list[int]:
    return [int(part.split('"')[0]) for part in html.split('class="request-row" data-request-id="')[1:]]


def _requests(mock: MockServer, **params: str | int) -> requests.Response:
    return requests.get(f"{mock.url}{UI}/requests", params=params)


def test_requests_view_filters_by_status_class_operation_and_partner_and_pages(api: Api) -> None:
    created = api.create(order_body(api.mock.partner_id))
    assert created.status_code == 201
    rejected = _rejected(api)
    assert api.get("00000000-0000-4000-8000-000000000000").status_code == 404
    everything = _requests(api.mock)
    assert everything.status_code == 200
    ids = _row_ids(everything.text)
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)  # newest first
    assert "createOrder" in everything.text and "getOrder" in everything.text
    assert rejected.json()["code"] in everything.text

    assert _row_ids(_requests(api.mock, status="2xx").text) == [ids[2]]
    assert _row_ids(_requests(api.mock, status="4xx").text) == ids[:2]
    assert _row_ids(_requests(api.mock, status="5xx").text) == [] and "No requests match" in _requests(api.mock, status="5xx").text
    assert _row_ids(_requests(api.mock, operation="getOrder").text) == [ids[0]]
    assert _row_ids(_requests(api.mock, operation="createOrder", status="4xx").text) == [ids[1]]
    assert _row_ids(_requests(api.mock, partner=api.mock.partner_id, operation="createOrder").text) == ids[1:]
    assert _row_ids(_requests(api.mock, partner="7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812").text) == []

    first = _requests(api.mock, size=2).text
    assert _row_ids(first) == ids[:2]
    older = first.split('data-requests-page="')[-1].split('"')[0]
    assert older == str(ids[1])
    second = _requests(api.mock, size=2, before=older).text
    assert _row_ids(second) == [ids[2]] and 'data-requests-page=""' in second  # the way back to the newest


def test_the_page_has_the_requests_view_with_the_specs_operations(api: Api) -> None:
    _rejected(api)
    page = requests.get(api.mock.url + UI).text
    assert 'id="requests"' in page and 'id="requests-filters"' in page and 'id="exchange"' in page
    for operation in api.mock.app.extensions["otacm"].spec.operations:
        assert f"<option>{operation}</option>" in page
    for status_class in ("2xx", "4xx", "5xx"):
        assert f"<option>{status_class}</option>" in page
    assert len(_row_ids(page)) == 1


@pytest.mark.parametrize("params, word", [({"status": "6xx"}, "6xx"), ({"operation": "nope"}, "nope"),
                                          ({"before": "x"}, "whole"), ({"size": "0"}, "size")])
def test_a_bad_requests_filter_is_a_clear_message_in_the_view(mock: MockServer, params: dict[str, str],
                                                              word: str) -> None:
    answer = _requests(mock, **params)
    assert answer.status_code == 400 and answer.headers["Content-Type"].startswith("text/html")
    assert 'id="requests-error"' in answer.text and word in answer.text
    assert "Traceback" not in answer.text


def test_an_exchange_shows_the_request_as_sent_and_the_answer_escaped(api: Api) -> None:
    answer = _rejected(api, reference='<script>alert("sent")</script>')
    entry_id = _row_ids(_requests(api.mock).text)[0]
    exchange = requests.get(f"{api.mock.url}{UI}/requests/{entry_id}")
    assert exchange.status_code == 200
    html = exchange.text
    assert "<script>" not in html and "&lt;script&gt;alert(" in html  # the body is text, never markup
    assert f"<code>POST {urlsplit(api.base).path}/channelManager</code>" in html  # the request line, as sent
    assert 'id="exchange-message"' in html and answer.json()["code"] in html
    assert str(answer.status_code) in html and UNKNOWN_ITEM in html
    assert api.mock.api_key not in html  # masked by the log
    assert "\n  &#34;partnerId&#34;: " in html  # the JSON body, pretty-printed
    assert requests.get(f"{api.mock.url}{UI}/requests/999999").status_code == 404


def test_an_orders_page_lists_the_requests_that_touched_it(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    assert api.get(order_id).status_code == 200
    other = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    _rejected(api)
    ids = _row_ids(_requests(api.mock).text)  # rejected, other, getOrder, createOrder
    detail = requests.get(f"{api.mock.url}{UI}/orders/{order_id}").text
    assert "Requests that touched this order" in detail
    assert _row_ids(detail) == [ids[2], ids[3]]
    assert _row_ids(requests.get(f"{api.mock.url}{UI}/orders/{other}").text) == [ids[1]]
    exchange = requests.get(f"{api.mock.url}{UI}/requests/{ids[3]}").text
    assert f'data-open-order="{order_id}"' in exchange  # the exchange links back to the order


def test_the_requests_view_says_when_the_log_is_off() -> None:
    with MockServer(frozen_config(clock_start=FROZEN_START, request_log_limit=0)) as mock:
        assert Api(mock).create(order_body(mock.partner_id)).status_code == 201
        view = _requests(mock).text
        assert 'id="requests-off"' in view and _row_ids(view) == []
