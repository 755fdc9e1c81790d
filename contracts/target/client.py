"""The one description of a target and the one client for it.

`Target` says where the API is (an `Address`), who calls it and what the
target offers beyond the contract (the mock's clock control, found once by
`detect`). `TargetClient` is how every part of `otacm` talks to it: calls by
operationId with URLs built from the spec, the target's clock (warped when it
offers `/_mock/clock`, real otherwise) and a webhook subscription as a
context manager. The lifecycle probe, the scenario runner, Schemathesis and
`otacm webhooks listen` all go through here.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import requests

from contracts.spec import load_spec
from contracts.target.address import Address
from contracts.target.exchange import Exchange

EVENT_NAME = "ota_cm_order_processed"


@dataclass
class Capabilities:
    """What the target offers beyond the contract; all false for a real implementation."""

    is_mock: bool = False  # `/_mock/info` answers
    clock_control: bool = False  # `/_mock/clock`: waits can be warped
    webhook_idle_wait: bool = False  # `/_mock/webhooks/wait`: delivery can be awaited instead of guessed
    api_mode: str | None = None  # what the mock says it runs (None: unknown)


@dataclass
class Target:
    """Where the API lives, who calls it, and what it offers."""

    address: Address
    api_key: str
    partner_id: str
    other_api_key: str | None = None  # a second partner's credentials (isolation scenarios)
    other_partner_id: str | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)

    @property
    def server(self) -> str:
        return self.address.server

    @property
    def base(self) -> str:
        return self.address.base

    @property
    def clock_control(self) -> bool:
        return self.capabilities.clock_control

    @property
    def is_mock(self) -> bool:
        return self.capabilities.is_mock


def json_or(response: requests.Response, default: Any = None) -> Any:
    try:
        return response.json()
    except ValueError:
        return default


def detect(server: str, timeout: float = 5.0) -> Capabilities:
    """Look once for the mock's control API (`/_mock/info`, `/_mock/clock`, `/_mock/webhooks/wait`)."""
    found = Capabilities()
    try:
        info = requests.get(f"{server}/_mock/info", timeout=timeout)
        found.is_mock = info.status_code == 200 and "clock" in (json_or(info, {}) or {})
        if found.is_mock:
            found.api_mode = json_or(info, {}).get("apiMode")
        clock = requests.get(f"{server}/_mock/clock", timeout=timeout)
        found.clock_control = clock.status_code == 200 and "nowEpoch" in (json_or(clock, {}) or {})
        if found.is_mock:
            idle = requests.post(f"{server}/_mock/webhooks/wait", json={"timeout": 0}, timeout=timeout)
            found.webhook_idle_wait = idle.status_code == 200 and "idle" in (json_or(idle, {}) or {})
    except requests.RequestException:
        return Capabilities()
    return found


class SubscriptionFailed(Exception):
    """createWebhookSubscription did not give a subscription; the message says what it answered."""


class TargetClient:
    """Calls, clock and webhook subscription for one target; one per thread of work."""

    def __init__(self, target: Target, timeout: float = 15.0, warp: bool | None = None,
                 stop: threading.Event | None = None) -> None:
        self.target, self.timeout = target, timeout
        self.warp = target.clock_control if warp is None else (warp and target.clock_control)
        self.stop = stop or threading.Event()
        self.session = requests.Session()
        self._frozen_now: float | None = None  # a frozen mock clock moves only when told: no need to ask

    def close(self) -> None:
        self.session.close()

    # -- calls ------------------------------------------------------------------------------
    def url(self, operation_id: str, params: Mapping[str, Any] | None = None) -> str:
        """The URL of an operation, from the spec's path; `partnerId` defaults to the target's."""
        values = {"partnerId": self.target.partner_id, **{k: str(v) for k, v in (params or {}).items()}}
        return self.target.address.url(load_spec().operations[operation_id].path, values)

    def auth_headers(self, auth: str = "default") -> dict[str, str]:
        """`default`: the target's key; `other`: the second partner's; `none`: no key at all."""
        if auth == "none":
            return {}
        if auth == "other":
            if not self.target.other_api_key:
                raise ValueError("this call uses the other partner's key, but none is configured (--other-api-key)")
            return {"x-np-api-key": self.target.other_api_key}
        return {"x-np-api-key": self.target.api_key}

    def call(self, operation_id: str, params: Mapping[str, Any] | None = None, *, query: Mapping[str, Any] | None = None,
             headers: Mapping[str, Any] | None = None, body: Any = None, auth: str = "default") -> Exchange:
        """One operation; never raises for an HTTP answer (a transport error is `exchange.error`)."""
        operation = load_spec().operations[operation_id]
        url = self.url(operation_id, params)
        sent = {str(k): str(v) for k, v in (headers or {}).items()}
        sent_query = {str(k): str(v) for k, v in (query or {}).items()}
        exchange = Exchange(operation.method, url, sent, body, operation_id,
                            {str(k): str(v) for k, v in (params or {}).items()}, sent_query)
        try:
            response = self.session.request(operation.method, url, params=sent_query or None,
                                            headers={**self.auth_headers(auth), **sent},
                                            json=body, timeout=self.timeout)
        except requests.RequestException as error:
            exchange.error = str(error)
            return exchange
        exchange.url = response.request.url or url
        exchange.status = response.status_code
        exchange.response = json_or(response, response.text)
        exchange.response_headers = dict(response.headers)
        exchange.at = self.now()
        return exchange

    def send(self, method: str, url: str, *, operation: str = "", params: Mapping[str, Any] | None = None,
             headers: Mapping[str, str] | None = None, body: Any = None, data: bytes | None = None,
             auth: str = "default") -> Exchange:
        """One request as given (a URL not built from the spec, raw bytes, other headers); never raises.

        `body` is what the exchange records (and sends as JSON unless `data` is given: then `data` is sent
        as is). `auth` as for `auth_headers`, or `bearer` for `Authorization: Bearer <key>`.
        """
        sent = {str(k): str(v) for k, v in (headers or {}).items()}
        exchange = Exchange(method, url, sent, body, operation, {str(k): str(v) for k, v in (params or {}).items()})
        keys = {"Authorization": f"Bearer {self.target.api_key}"} if auth == "bearer" else self.auth_headers(auth)
        payload: dict[str, Any] = {"data": data} if data is not None else ({"json": body} if body is not None else {})
        try:
            response = self.session.request(method, url, headers={**keys, **sent}, timeout=self.timeout, **payload)
        except requests.RequestException as error:
            exchange.error = str(error)
            return exchange
        exchange.status = response.status_code
        exchange.response = json_or(response, response.text)
        exchange.response_headers = dict(response.headers)
        exchange.at = self.now()
        return exchange

    # -- the target's clock -------------------------------------------------------------------
    def _control(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.target.server}/_mock/{path}"
        response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        body = json_or(response, {})
        if response.status_code != 200:
            raise RuntimeError(f"{method} {url} answered {response.status_code}: {body}")
        return body

    def now(self) -> float:
        """The target's time (epoch seconds): the mock's clock when it has one, else real time."""
        if self._frozen_now is not None:
            return self._frozen_now
        if self.target.clock_control:
            return self._remember(self._control("GET", "clock"))
        return time.time()

    def _remember(self, state: dict[str, Any]) -> float:
        now = float(state["nowEpoch"])
        self._frozen_now = now if state.get("frozen") and self.warp else None
        return now

    def wait(self, seconds: float) -> None:
        """Let `seconds` pass on the target: a warp, or a real wait that `stop` interrupts."""
        if seconds <= 0:
            return
        if self.warp:
            self.advance(seconds)
        else:
            self.stop.wait(seconds)

    def advance(self, seconds: float) -> None:
        self._remember(self._control("POST", "clock/advance", json={"by": seconds}))

    def deliveries_idle(self, timeout: float = 5.0) -> bool:
        """On a mock that tells (`/_mock/webhooks/wait`): wait until no delivery is in flight."""
        if not self.target.capabilities.webhook_idle_wait:
            return False
        return bool(self._control("POST", "webhooks/wait", json={"timeout": timeout}).get("idle"))

    def mock_info(self) -> dict[str, Any]:
        return self._control("GET", "info")

    # -- webhooks -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def subscription(self, notification_url: str, client_state: str, app_id: str | None = None) -> Iterator[str]:
        """Subscribe `notification_url` for the order event (with `app_id` when given); unsubscribe on the way out."""
        body = {"notificationUrl": notification_url, "eventName": EVENT_NAME, "clientState": client_state}
        if app_id:
            body["appId"] = app_id
        exchange = self.call("createWebhookSubscription", body=body)
        document = exchange.response
        if exchange.status != 201 or not isinstance(document, dict) or not document.get("id"):
            answer = exchange.error or f"{exchange.status} {str(document)[:300]}"
            raise SubscriptionFailed(f"createWebhookSubscription (POST {exchange.url} {body}) answered {answer}; "
                                     "expected 201 with the subscription's id")
        subscription_id = str(document["id"])
        try:
            yield subscription_id
        finally:
            with contextlib.suppress(requests.RequestException):
                self.call("deleteWebhookSubscription", {"id": subscription_id})
