"""From what a person typed to a `Target`: the embedded mock, or an address plus credentials.

The one place where defaults for the address and the credentials come from:
an otacm mock describes itself at `/_mock/info`; anything else must be told.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Iterator

import requests

from contracts.target.address import FORMS, Address, AddressError, parse_address
from contracts.target.client import Target, TargetClient, detect, json_or


class Unreachable(Exception):
    """The target did not answer over HTTP."""


class UsageProblem(Exception):
    """The options cannot work against this target (missing credentials, a rejected key, an ambiguous address)."""


@dataclass
class TargetOptions:
    base_url: str | None = None  # the full base, or a server root with the three segments; None: embedded mock
    api_key: str | None = None
    partner_id: str | None = None
    tenant: str | None = None
    environment: str | None = None
    company: str | None = None
    other_api_key: str | None = None
    other_partner_id: str | None = None
    api_mode: str = "async"  # for the embedded mock
    timeout: float = 15.0


@contextlib.contextmanager
def embedded_mock(api_mode: str = "async") -> Iterator[Target]:
    """An in-process mock (frozen clock, the default partners and keys) as a Target."""
    from mockserver.server import MockServer, frozen_config

    # Start on a whole second: the API shows instants to the second, and a
    # receivedAt window built from one shown must include that order.
    with MockServer(frozen_config(api_mode=api_mode, clock_start=float(int(time.time())))) as server:
        config = server.config
        other = next((k for k in config.api_keys if k.partners), None)
        yield Target(
            Address(server.url.rstrip("/"), config.tenant, config.environment, config.company),
            api_key=server.api_key,
            partner_id=server.partner_id,
            other_api_key=other.key if other else None,
            other_partner_id=sorted(other.partners)[0] if other and other.partners else None,
            capabilities=detect(server.url.rstrip("/")),
        )


@contextlib.contextmanager
def open_target(options: TargetOptions) -> Iterator[Target]:
    """The target the options name; raises UsageProblem / Unreachable with a message for a person."""
    if not options.base_url:
        with embedded_mock(options.api_mode) as mock:
            mock.api_key = options.api_key or mock.api_key
            mock.partner_id = options.partner_id or mock.partner_id
            mock.other_api_key = options.other_api_key or mock.other_api_key
            mock.other_partner_id = options.other_partner_id or mock.other_partner_id
            yield mock
        return
    yield resolve_target(options)


def resolve_target(options: TargetOptions, need_partner: bool = True) -> Target:
    """The target a URL names; `need_partner=False` for callers that only read orders (webhooks listen)."""
    try:
        parsed = parse_address(str(options.base_url), options.tenant, options.environment, options.company)
    except AddressError as error:
        raise UsageProblem(str(error)) from None
    server = parsed if isinstance(parsed, str) else parsed.server
    try:
        requests.get(server + "/", timeout=options.timeout)
    except requests.RequestException as error:
        raise Unreachable(f"could not reach {server}: {error}") from None
    capabilities = detect(server, options.timeout)
    info: dict = {}
    if capabilities.is_mock:
        with contextlib.suppress(requests.RequestException, ValueError):
            info = json_or(requests.get(f"{server}/_mock/info", timeout=options.timeout), {}) or {}
    if isinstance(parsed, str):
        if not info.get("tenant"):
            raise UsageProblem(f"--base-url {options.base_url} is a server root without the API's path. "
                               f"Use one of:\n{FORMS}")
        parsed = Address(server, info["tenant"], info["environment"], info["company"])
    target = Target(parsed, options.api_key or info.get("apiKey") or "", options.partner_id or info.get("partnerId") or "",
                    options.other_api_key, options.other_partner_id, capabilities)
    if not target.api_key or (need_partner and not target.partner_id):
        needed = "--api-key and --partner-id are" if need_partner else "--api-key is"
        raise UsageProblem(f"{needed} required for a target that is not an otacm mock")
    return target


def reach(target: Target, timeout: float = 15.0) -> date:
    """A first authenticated call; the target's today (for visit dates). Raises Unreachable / UsageProblem."""
    client = TargetClient(target, timeout)
    exchange = client.call("listOrdersByPartner", query={"pageSize": 1})
    if exchange.error:
        raise Unreachable(f"could not reach {target.base}: {exchange.error}")
    if exchange.status == 401:
        raise UsageProblem(f"GET {exchange.url} answered 401: the target rejected the API key")
    if target.clock_control:
        with contextlib.suppress(requests.RequestException, ValueError, KeyError, RuntimeError):
            return datetime.fromtimestamp(client.now(), tz=timezone.utc).date()
    with contextlib.suppress(TypeError, ValueError, KeyError):
        return parsedate_to_datetime(exchange.response_headers["Date"]).astimezone(timezone.utc).date()
    return datetime.now(timezone.utc).date()
