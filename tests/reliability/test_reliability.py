"""Reliability of the mock under contention and abuse: racing and bulk creates,
negative fuzzing of every operation, authentication, partner isolation and
malformed requests — each answered with CONTRACT.md's JSON error body.

Bounded: every request has a timeout, every thread is joined with one, the
barrier has one, and nothing sleeps; the clock is advanced instead. The
volume tests drive the real `otacm mock` in its own process (the default
WSGI server, with its own core), the rest an in-process mock.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest
import schemathesis
from schemathesis import GenerationMode

from bench.slow_clients import read_banner, stop_process
from contracts.spec import load_spec, spec_path
from mockserver.sandbox.clock import parse_instant
from mockserver.server import MockServer, frozen_config

START = "2026-05-15T09:30:00Z"
PARTNER = "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e"  # the default partner (the sandbox key holds every partner)
OTHER_PARTNER = "7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812"  # the only partner `otacm-other-partner-key` holds
OTHER_KEY = "otacm-other-partner-key"
SETTLED = {"Issued", "Draft", "Error"}
ERROR_SCHEMA = load_spec().validator("Error")


# -- a small keep-alive client (lighter than requests: the load tests send 20,000 requests) --
@dataclass
class Answer:
    status: int
    body: Any
    content_type: str


class Client:
    """One keep-alive HTTP/1.1 connection; one per thread."""

    def __init__(self, root: str, api_key: str | None) -> None:
        parts = urlsplit(root)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.api_key = api_key
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> Answer:
        sent = dict(headers or {})
        if self.api_key is not None:
            sent.setdefault("x-np-api-key", self.api_key)
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            try:
                self.connection.request(method, path, body=payload, headers=sent)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                if attempt == 2:
                    raise
        content_type = response.getheader("Content-Type", "")
        parsed = json.loads(data) if data and "json" in content_type else data
        return Answer(response.status, parsed, content_type)

    def close(self) -> None:
        self.connection.close()


def base_path(base_url: str) -> str:
    return urlsplit(base_url).path


def order_body(reference: str, partner: str = PARTNER, slot: int = 0, **extra: Any) -> dict[str, Any]:
    """A valid order; `slot` spreads orders over visit times (10,000 tickets per slot)."""
    return {
        "partnerId": partner,
        "sellToOrderReference": reference,
        "paymentReference": "PAY-1",
        "items": [{"itemNumber": "31001", "visitDate": "2026-06-01", "visitTime": f"{9 + slot % 8:02d}:15:00",
                   "quantity": 1}],
        **extra,
    }


def run_threads(count: int, work: Callable[[int], None], timeout: float = 120) -> None:
    """Run `work(i)` on `count` threads; re-raise the first failure; bounded."""
    failures: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            work(index)
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"threads still running after {timeout} s"
    if failures:
        raise failures[0]


def assert_error_body(answer: Answer, status: int, code: str | None = None) -> None:
    """CONTRACT.md's flat error body, valid against the spec's Error schema."""
    assert answer.status == status, (answer.status, answer.body)
    assert answer.content_type.startswith("application/json"), answer.content_type
    assert isinstance(answer.body, dict), answer.body
    problems = [e.message for e in ERROR_SCHEMA.iter_errors(answer.body)]
    assert not problems, (answer.body, problems)
    if code:
        assert answer.body["code"] == code, answer.body


# -- mocks ------------------------------------------------------------------------------
@pytest.fixture
def mock() -> Iterator[MockServer]:
    """In-process, checking every response it sends against the spec (strict)."""
    with MockServer(frozen_config(clock_start=parse_instant(START), validate_responses=True)) as server:
        yield server


@dataclass
class MockProcess:
    root: str
    base_url: str
    api_key: str


@pytest.fixture
def mock_process() -> Iterator[MockProcess]:
    """`otacm mock` as a partner runs it (default WSGI server), on a free port, frozen clock."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from contracts.cli import main; main()", "mock", "--port", "0",
         "--clock", "frozen", "--clock-start", START],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        fields = read_banner(process, timeout=60)
        root = "http://" + urlsplit(fields["base URL"]).netloc
        yield MockProcess(root, fields["base URL"], fields["API key"])
    finally:
        stop_process(process)


def mock_orders(root: str) -> list[dict[str, Any]]:
    client = Client(root, None)
    try:
        answer = client.send("GET", "/_mock/orders")
    finally:
        client.close()
    assert answer.status == 200
    return answer.body["orders"]


def advance(root: str, by: str) -> None:
    client = Client(root, None)
    try:
        assert client.send("POST", "/_mock/clock/advance", {"by": by}).status == 200
    finally:
        client.close()


# -- races and volume ---------------------------------------------------------------------
ROUNDS, RACERS = 500, 16


def test_racing_creates_of_one_reference_give_exactly_one_201(mock_process: MockProcess) -> None:
    """16 threads create the same (partnerId, sellToOrderReference) at once, 500 times:
    one 201 per reference, fifteen 400s (half of them send it lower-case:
    the duplicate check ignores case)."""
    barrier = threading.Barrier(RACERS, timeout=60)
    answers: list[list[Answer | None]] = [[None] * RACERS for _ in range(ROUNDS)]
    path = base_path(mock_process.base_url) + "/channelManager"

    def racer(index: int) -> None:
        client = Client(mock_process.root, mock_process.api_key)
        try:
            for round_ in range(ROUNDS):
                reference = f"race-{round_}" if index % 2 else f"RACE-{round_}"
                barrier.wait()
                answers[round_][index] = client.send("POST", path, order_body(reference, slot=round_))
        finally:
            client.close()

    run_threads(RACERS, racer)
    for round_, answered in enumerate(answers):
        statuses = Counter(a.status for a in answered)
        assert statuses == {201: 1, 400: RACERS - 1}, (round_, statuses)
        for answer in answered:
            if answer.status == 400:
                assert_error_body(answer, 400, "generic_error")
                assert f"sellToOrderReference 'RACE-{round_}' already exists" in answer.body["message"]
    stored = Counter(o["sellToOrderReference"] for o in mock_orders(mock_process.root))
    assert stored == {f"RACE-{r}": 1 for r in range(ROUNDS)}


CREATES, CREATORS = 10_000, 16


def test_ten_thousand_concurrent_creates_lose_nothing_and_each_settles_once(mock_process: MockProcess) -> None:
    path = base_path(mock_process.base_url)
    created: list[list[str]] = [[] for _ in range(CREATORS)]

    def creator(index: int) -> None:
        client = Client(mock_process.root, mock_process.api_key)
        try:
            for n in range(index, CREATES, CREATORS):
                answer = client.send("POST", path + "/channelManager", order_body(f"bulk-{n}", slot=n))
                assert answer.status == 201, (n, answer.status, answer.body)
                created[index].append(answer.body["orderId"])
        finally:
            client.close()

    run_threads(CREATORS, creator)
    ids = {order_id for ids in created for order_id in ids}
    assert len(ids) == CREATES

    # Nothing lost: the store and the partner's list both have every order.
    assert {o["orderId"] for o in mock_orders(mock_process.root)} == ids
    client = Client(mock_process.root, mock_process.api_key)
    try:
        listed = client.send("GET", f"{path}/channelManager/orders/{PARTNER}?pageSize=20000")
    finally:
        client.close()
    assert listed.status == 200 and listed.body["morePages"] is False
    assert {row["orderId"] for row in listed.body["data"]} == ids

    # One clock advance settles every order, each exactly once.
    advance(mock_process.root, "2m")
    orders = mock_orders(mock_process.root)
    assert len(orders) == CREATES
    for order in orders:
        settles = [change["status"] for change in order["history"] if change["status"] in SETTLED]
        assert settles == ["Issued"], (order["orderId"], order["history"])
        assert order["status"] == "Issued"


# -- negative fuzzing -------------------------------------------------------------------------
FUZZ = schemathesis.openapi.from_path(spec_path())
FUZZ.config.generation.update(modes=[GenerationMode.NEGATIVE], max_examples=25, database="none", deterministic=True)
FUZZ.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@pytest.fixture(scope="module")
def fuzz_mock() -> Iterator[MockServer]:
    """One mock for all fuzzed operations (Hypothesis runs many cases per test)."""
    with MockServer(frozen_config(clock_start=parse_instant(START), validate_responses=True)) as server:
        yield server


@FUZZ.parametrize()
def test_negative_fuzzing_never_5xx_and_every_4xx_is_the_error_shape(case: Any, fuzz_mock: MockServer) -> None:
    """Schemathesis' negative cases for every operation: no 5xx (the mock also
    answers 500 if any of its own responses breaks the spec), and every 4xx
    is CONTRACT.md's flat error body."""
    response = case.call(base_url=fuzz_mock.url, headers={"x-np-api-key": fuzz_mock.api_key}, timeout=30)
    assert response.status_code < 500, (response.status_code, response.text[:500], case.as_curl_command())
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type") or [""]  # Schemathesis: lower-case names, lists
        assert content_type[0].startswith("application/json"), (response.status_code, content_type)
        problems = [e.message for e in ERROR_SCHEMA.iter_errors(response.json())]
        assert not problems, (response.status_code, response.text[:500], problems)


# -- authentication --------------------------------------------------------------------------
def every_operation(base: str, order_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, body) for each operation of the spec, with real ids."""
    values = {"orderId": order_id, "partnerId": PARTNER, "id": "00000000-0000-4000-8000-000000000000"}
    bodies = {
        "createOrder": order_body("auth-1"), "replaceOrder": order_body("auth-1"),
        "confirmOrder": {"paymentReference": "PAY-2"},
        "createWebhookSubscription": {"notificationUrl": "http://127.0.0.1:9/hooks", "eventName": "ota_cm_order_processed"},
    }
    calls = []
    for operation in load_spec().operations.values():
        path = operation.path.split("{company}", 1)[1]
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        calls.append((operation.method, base + path, bodies.get(operation.operation_id)))
    return calls


@pytest.mark.parametrize("credentials", [
    {},
    {"x-np-api-key": "wrong-key"},
    {"x-np-api-key": ""},
    {"Authorization": "Bearer wrong-key"},
    {"Authorization": "Basic b3RhY206c2VjcmV0"},
], ids=["none", "wrong", "empty", "wrong-bearer", "basic"])
def test_every_operation_without_a_valid_key_is_401(mock: MockServer, credentials: dict[str, str]) -> None:
    owner = Client(mock.url, mock.api_key)
    stranger = Client(mock.url, None)
    base = base_path(mock.base_url)
    order_id = owner.send("POST", base + "/channelManager", order_body("owned")).body["orderId"]
    calls = every_operation(base, order_id)
    assert len(calls) == len(load_spec().operations) >= 10
    for method, path, body in calls:
        answer = stranger.send(method, path, body, headers=credentials)
        assert_error_body(answer, 401, "unauthorized")
    # ... and none of them did anything.
    assert owner.send("GET", f"{base}/channelManager/{order_id}").body["status"] == "Submitted"
    assert [o["orderId"] for o in mock_orders(mock.url)] == [order_id]


# -- partner isolation ---------------------------------------------------------------------------
def test_a_partner_can_never_touch_another_partners_orders(mock: MockServer) -> None:
    """`otacm-other-partner-key` holds only the second partner: the first
    partner's orders do not exist for it (404), its create and list are 403,
    and nothing it tries changes them."""
    owner = Client(mock.url, mock.api_key)
    intruder = Client(mock.url, OTHER_KEY)
    base = base_path(mock.base_url)
    issued = owner.send("POST", base + "/channelManager", order_body("mine-issued")).body["orderId"]
    draft = owner.send("POST", base + "/channelManager", order_body("mine-draft", paymentReference="")).body["orderId"]
    failed = owner.send("POST", base + "/channelManager", order_body("mine-error"),
                        headers={"Prefer": "outcome=Error"}).body["orderId"]
    advance(mock.url, "2m")
    own = intruder.send("POST", base + "/channelManager", order_body("theirs", partner=OTHER_PARTNER))
    assert own.status == 201  # the key works for its own partner
    before = {o["orderId"]: o for o in mock_orders(mock.url)}
    assert [before[i]["status"] for i in (issued, draft, failed)] == ["Issued", "Draft", "Error"]

    for order_id in (issued, draft, failed):
        for method, path, body in [
            ("GET", f"{base}/channelManager/{order_id}", None),
            ("PUT", f"{base}/channelManager/{order_id}", order_body("mine-draft")),
            ("POST", f"{base}/channelManager/{order_id}/confirm", {"paymentReference": "STOLEN"}),
            ("DELETE", f"{base}/channelManager/{order_id}", None),
            ("PUT", f"{base}/channelManager/{order_id}", order_body("mine-draft", partner=OTHER_PARTNER)),
        ]:
            answer = intruder.send(method, path, body)
            assert_error_body(answer, 404, "resource_not_found")
            assert answer.body["message"] == f"Order '{order_id}' not found Not Found"
    listed = intruder.send("GET", f"{base}/channelManager/orders/{PARTNER}")
    assert_error_body(listed, 403, "unauthorized")
    for status in ("", "?status=Issued", "?sellToOrderReference=MINE-ISSUED"):
        assert intruder.send("GET", f"{base}/channelManager/orders/{PARTNER}{status}").status == 403
    created = intruder.send("POST", base + "/channelManager", order_body("in-your-name"))
    assert_error_body(created, 403, "unauthorized")
    # Its own list shows only its own order.
    mine = intruder.send("GET", f"{base}/channelManager/orders/{OTHER_PARTNER}").body["data"]
    assert [row["sellToOrderReference"] for row in mine] == ["THEIRS"]

    after = {o["orderId"]: o for o in mock_orders(mock.url)}
    for order_id in (issued, draft, failed):
        assert after[order_id] == before[order_id]  # same status, same history
    assert owner.send("GET", f"{base}/channelManager/{issued}").body["paymentReference"] == "PAY-1"


# -- malformed requests ----------------------------------------------------------------------------
def test_oversized_body_is_413(mock: MockServer) -> None:
    """Every operation with a body, on a Draft order (confirmOrder reads its body
    only for a Draft: on Issued it is a no-op and elsewhere the status is a 400)."""
    client = Client(mock.url, mock.api_key)
    base = base_path(mock.base_url)
    order_id = client.send("POST", base + "/channelManager", order_body("big-1", paymentReference="")).body["orderId"]
    advance(mock.url, "2m")
    before = mock_orders(mock.url)
    assert before[0]["status"] == "Draft"
    huge = order_body("big-1", sellToName="x" * (1024 * 1024 + 1))
    for method, path in [("POST", "/channelManager"), ("PUT", f"/channelManager/{order_id}"),
                         ("POST", f"/channelManager/{order_id}/confirm"), ("POST", "/webhook")]:
        answer = Client(mock.url, mock.api_key).send(method, base + path, huge)  # a fresh connection each
        assert_error_body(answer, 413)
    assert mock_orders(mock.url) == before  # nothing created or changed


@pytest.mark.parametrize("raw", [b"{", b'{"partnerId": }', b"\xff\xfe", b"[1, 2", b"nul"], ids=repr)
def test_malformed_json_is_400(mock: MockServer, raw: bytes) -> None:
    client = Client(mock.url, mock.api_key)
    base = base_path(mock.base_url)
    for path in ("/channelManager", "/webhook"):
        answer = client.send("POST", base + path, raw=raw, headers={"Content-Type": "application/json"})
        assert_error_body(answer, 400, "generic_error")
        assert answer.body["message"] == "Body must be a JSON object"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x"])
def test_a_json_body_is_read_whatever_the_content_type(mock: MockServer, content_type: str) -> None:
    """CONTRACT.md: no 415; a JSON body is accepted under any Content-Type, anything else is a 400."""
    client = Client(mock.url, mock.api_key)
    base = base_path(mock.base_url)
    raw = json.dumps(order_body("typed")).encode()
    answer = client.send("POST", base + "/channelManager", raw=raw, headers={"Content-Type": content_type})
    assert answer.status == 201
    answer = client.send("POST", base + "/channelManager", raw=b"<order/>", headers={"Content-Type": content_type})
    assert_error_body(answer, 400, "generic_error")
    assert answer.body["message"] == "Body must be a JSON object"
    assert len(mock_orders(mock.url)) == 1


@pytest.mark.parametrize("path", [
    "/channelManagers", "/channelManager/x/y/z", "/channelManager/orders/a/b", "/orders", "/",
    "/channelManager/00000000-0000-4000-8000-000000000000/cancel", "/webhooks",
])
def test_unknown_paths_are_404(mock: MockServer, path: str) -> None:
    client = Client(mock.url, mock.api_key)
    answer = client.send("GET", base_path(mock.base_url) + path)
    assert_error_body(answer, 404, "resource_not_found")
    assert answer.body["message"] == "API endpoint not found Not Found"


@pytest.mark.parametrize("method, path", [
    ("GET", "/channelManager"),
    ("PUT", "/channelManager"),
    ("DELETE", "/channelManager"),
    ("PATCH", "/channelManager/{id}"),
    ("POST", "/channelManager/{id}"),
    ("GET", "/channelManager/{id}/confirm"),
    ("DELETE", "/channelManager/orders/{partner}"),
    ("PUT", "/webhook"),
])
def test_wrong_methods_are_404_not_405(mock: MockServer, method: str, path: str) -> None:
    """CONTRACT.md: the real server has no 405; another method is an unknown endpoint."""
    client = Client(mock.url, mock.api_key)
    base = base_path(mock.base_url)
    order_id = client.send("POST", base + "/channelManager", order_body("methods")).body["orderId"]
    path = path.replace("{id}", order_id).replace("{partner}", PARTNER)
    answer = client.send(method, base + path, order_body("methods") if method in ("PUT", "POST", "PATCH") else None)
    assert_error_body(answer, 404, "resource_not_found")
    assert answer.body["message"] == "API endpoint not found Not Found"
    assert [o["status"] for o in mock_orders(mock.url)] == ["Submitted"]


@pytest.mark.parametrize("method, path", [
    ("OPTIONS", "/channelManager"),
    ("TRACE", "/channelManager/{id}"),
    ("PROPFIND", "/webhook"),
    ("OPTIONS", "/nowhere"),
])
def test_other_methods_are_400_unsupported_http_method(mock: MockServer, method: str, path: str) -> None:
    """CONTRACT.md: a method other than GET, POST, PUT, PATCH, DELETE is `400 unsupported_http_method`."""
    client = Client(mock.url, mock.api_key)
    base = base_path(mock.base_url)
    order_id = client.send("POST", base + "/channelManager", order_body("methods")).body["orderId"]
    answer = client.send(method, base + path.replace("{id}", order_id))
    assert_error_body(answer, 400, "unsupported_http_method")
    assert answer.body["message"] == f"Http method {method} is not supported"
    assert [o["status"] for o in mock_orders(mock.url)] == ["Submitted"]
