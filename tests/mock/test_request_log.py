"""The request log (issue 21): every API request, kept in the store, read through `/_mock/requests`.

In-process mocks on a frozen clock (tests/conftest.py), except the last
tests, which run the real `otacm mock --log` and read its lines.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import subprocess
import time
from typing import Any, Iterator

import pytest
import requests

from bench.slow_clients import start_mock
from mockclient import FROZEN_START, Api, order_body
from mockserver.api.request_log import BODY_LIMIT
from mockserver.sandbox.clock import iso
from mockserver.server import MockServer, frozen_config

OTHER_PARTNER = "7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812"  # defaults.yaml's second partner


def logged(mock: MockServer, **params: Any) -> list[dict[str, Any]]:
    response = requests.get(mock.url + "/_mock/requests", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["requests"]


@pytest.fixture
def small_log() -> Iterator[MockServer]:
    with MockServer(frozen_config(clock_start=FROZEN_START, request_log_limit=3)) as server:
        yield server


def test_a_rejected_create_order_is_logged_with_its_error_body_and_the_key_masked(mock: MockServer, api: Api) -> None:
    body = {"partnerId": mock.partner_id, "items": []}  # no sellToOrderReference, no lines
    rejected = api.create(body)
    assert rejected.status_code == 400

    [entry] = logged(mock, status="4xx")
    assert entry["method"] == "POST" and entry["operation"] == "createOrder" and entry["status"] == 400
    assert entry["path"] == mock.base_url.removeprefix(mock.url) + "/channelManager" and entry["query"] == ""
    assert entry["code"] == rejected.json()["code"] and entry["message"] == rejected.json()["message"]
    assert json.loads(entry["requestBody"]) == body and entry["requestBodyTruncated"] is False
    assert json.loads(entry["responseBody"]) == rejected.json() and entry["responseBodyTruncated"] is False
    assert entry["partnerId"] == mock.partner_id and entry["orderId"] is None
    assert entry["requestHeaders"]["x-np-api-key"] == mock.api_key[:4] + "…"
    assert mock.api_key not in json.dumps(entry)
    assert entry["sandboxAt"] == iso(FROZEN_START).replace("Z", ".000Z")
    assert entry["at"].endswith("Z") and len(entry["at"]) == len("2026-05-15T09:30:00.000Z")
    assert entry["latencyMs"] > 0
    assert set(entry) == {"id", "at", "sandboxAt", "method", "path", "query", "operation", "partnerId", "orderId",
                          "status", "code", "message", "latencyMs", "requestHeaders", "requestBody",
                          "requestBodyTruncated", "responseBody", "responseBodyTruncated"}
    assert requests.get(f"{mock.url}/_mock/requests/{entry['id']}", timeout=10).json() == entry


def test_entries_are_newest_first_and_filter_by_status_operation_partner_and_order(mock: MockServer, api: Api) -> None:
    created = api.create(order_body(mock.partner_id)).json()
    other = Api(mock, api_key="otacm-other-partner-key")
    other_created = other.create(order_body(OTHER_PARTNER)).json()
    assert api.get(created["orderId"]).status_code == 200
    assert other.get(created["orderId"]).status_code == 404  # not its partner's order
    assert api.list(mock.partner_id, pageSize="5").status_code == 200

    newest = logged(mock)
    assert [e["operation"] for e in newest] == ["listOrdersByPartner", "getOrder", "getOrder", "createOrder",
                                                 "createOrder"]
    assert [e["id"] for e in newest] == sorted((e["id"] for e in newest), reverse=True)
    assert [e["id"] for e in logged(mock, operation="createOrder")] == [newest[3]["id"], newest[4]["id"]]
    assert [e["status"] for e in logged(mock, status="404")] == [404]
    assert [e["status"] for e in logged(mock, status="2xx")] == [200, 200, 201, 201]
    assert [e["orderId"] for e in logged(mock, partner=OTHER_PARTNER)] == [other_created["orderId"]]
    assert [e["operation"] for e in logged(mock, partner=mock.partner_id.upper())] == \
        ["listOrdersByPartner", "getOrder", "createOrder"]
    assert [e["operation"] for e in logged(mock, order=created["orderId"])] == ["getOrder", "getOrder",
                                                                                 "createOrder"]
    assert newest[0]["query"] == "pageSize=5" and newest[0]["partnerId"] == mock.partner_id
    page = logged(mock, limit=2)
    assert [e["id"] for e in page] == [e["id"] for e in newest[:2]]
    assert [e["id"] for e in logged(mock, limit=2, before=page[-1]["id"])] == [e["id"] for e in newest[2:4]]


@pytest.mark.parametrize("params", [{"status": "6xx"}, {"status": "40"}, {"operation": "getorders"},
                                    {"limit": "0"}, {"limit": "1001"}, {"before": "x"}])
def test_a_bad_filter_is_a_400_with_the_flat_error_body(mock: MockServer, params: dict[str, str]) -> None:
    response = requests.get(mock.url + "/_mock/requests", params=params, timeout=10)
    assert response.status_code == 400
    body = response.json()
    assert set(body) <= {"code", "message", "details"} and body["message"]


def test_the_control_api_and_the_dashboard_are_not_logged(mock: MockServer, api: Api) -> None:
    assert api.get("4f6c3a52-8a44-4a8e-9a0e-2f4f1f3d9e11").status_code == 404
    for path in ("/_mock/clock", "/_mock/info", "/_mock/orders", "/_mock/ui", "/_mock/requests"):
        assert requests.get(mock.url + path, timeout=10).status_code == 200, path
    assert requests.post(mock.url + "/_mock/clock/advance", json={"by": "1m"}, timeout=10).status_code == 200
    assert [e["operation"] for e in logged(mock)] == ["getOrder"]


def test_requests_without_a_route_or_a_key_are_logged_too(mock: MockServer) -> None:
    assert requests.get(mock.base_url + "/nothing-here", headers={"x-np-api-key": mock.api_key},
                        timeout=10).status_code == 404
    assert requests.post(mock.base_url + "/channelManager", json={}, headers={"Authorization": "Bearer wrong-key"},
                         timeout=10).status_code == 401
    unauthorized, unrouted = logged(mock)
    assert unrouted["operation"] is None and unrouted["status"] == 404 and unrouted["code"]
    assert unauthorized["operation"] == "createOrder" and unauthorized["status"] == 401
    assert unauthorized["requestHeaders"]["authorization"] == "Bear…"


def test_a_reset_keeps_the_log_and_delete_clears_it(mock: MockServer, api: Api) -> None:
    api.create(order_body(mock.partner_id))
    assert requests.post(mock.url + "/_mock/reset", timeout=10).status_code == 200
    [before] = logged(mock)
    assert requests.delete(mock.url + "/_mock/requests", timeout=10).status_code == 200
    assert logged(mock) == []
    assert requests.get(f"{mock.url}/_mock/requests/{before['id']}", timeout=10).status_code == 404
    api.create(order_body(mock.partner_id))
    [after] = logged(mock)
    assert after["id"] > before["id"]


def test_the_log_keeps_its_bound(small_log: MockServer) -> None:
    api = Api(small_log)
    for _ in range(5):
        api.get("4f6c3a52-8a44-4a8e-9a0e-2f4f1f3d9e11")
    response = requests.get(small_log.url + "/_mock/requests", timeout=10).json()
    assert [e["id"] for e in response["requests"]] == [5, 4, 3]
    assert response["kept"] == 3 and response["limit"] == 3
    assert requests.get(small_log.url + "/_mock/requests/1", timeout=10).status_code == 404


def test_a_limit_of_zero_turns_the_log_off() -> None:
    with MockServer(frozen_config(clock_start=FROZEN_START, request_log_limit=0)) as server:
        assert Api(server).create(order_body(server.partner_id)).status_code == 201
        response = requests.get(server.url + "/_mock/requests", timeout=10).json()
        assert response["requests"] == [] and response["kept"] == 0


def test_bodies_are_cut_at_the_limit(mock: MockServer, api: Api) -> None:
    body = order_body(mock.partner_id, sellToName="x" * (BODY_LIMIT + 100))
    created = api.create(body)
    assert created.status_code == 201  # the order shows the name too: both bodies are over the limit
    [entry] = logged(mock)
    assert entry["requestBodyTruncated"] is True and len(entry["requestBody"].encode()) == BODY_LIMIT
    assert entry["responseBodyTruncated"] is True and len(entry["responseBody"].encode()) == BODY_LIMIT
    assert entry["partnerId"] == mock.partner_id and entry["orderId"] == created.json()["orderId"]


# -- the real `otacm mock --log` ------------------------------------------------------------------
def read_line(process: subprocess.Popen, containing: str, timeout: float = 20) -> str:
    """The first line of the process's stdout that contains `containing`, read with a deadline."""
    assert process.stdout is not None
    buffered = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            for line in buffered.decode(errors="replace").splitlines():
                if containing in line:
                    return line
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise AssertionError(f"otacm mock printed no line with {containing!r} in {timeout} s: {buffered!r}")
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, f"otacm mock exited: {buffered!r}"
            buffered += chunk


def create_rejected(host: str, port: int, path: str, key: str, partner: str) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("POST", path, json.dumps({"partnerId": partner, "items": []}),
                           {"x-np-api-key": key, "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 400
    finally:
        connection.close()


@pytest.mark.timeout(120)
def test_otacm_mock_log_prints_a_line_per_request() -> None:
    mock = start_mock("--log")
    try:
        path = f"{mock.base_path}/channelManager"
        create_rejected(mock.host, mock.port, path, mock.api_key, mock.partner_id)
        line = read_line(mock.process, "createOrder")
        at, client, request_line = line.split(" ", 2)
        assert at.endswith("Z") and client == "127.0.0.1"
        assert f'"POST {path}" 400 createOrder ' in request_line
        assert "ms generic_error: Required field 'sellToOrderReference' is missing" in request_line
        assert mock.api_key not in line
    finally:
        mock.stop()


@pytest.mark.timeout(120)
def test_otacm_mock_log_json_prints_the_entry_without_its_bodies() -> None:
    mock = start_mock("--log", "json", "--store", "memory")
    try:
        create_rejected(mock.host, mock.port, f"{mock.base_path}/channelManager", mock.api_key, mock.partner_id)
        entry = json.loads(read_line(mock.process, '"createOrder"'))
        assert entry["operation"] == "createOrder" and entry["status"] == 400 and entry["code"] == "generic_error"
        assert entry["partnerId"] == mock.partner_id
        assert "requestBody" not in entry and "responseBody" not in entry
        assert entry["requestHeaders"]["x-np-api-key"] == mock.api_key[:4] + "…"
    finally:
        mock.stop()
