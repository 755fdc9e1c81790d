"""The probe's flows that only `strict` rules judge: how the API is addressed and what it reads.

CONTRACT.md takes these from the server or decides them (lines marked
**server** or **decision**): the company in its three encodings, literal
path segments in any letter case, undeclared routes and methods, the body
read as JSON whatever its Content-Type, unknown fields ignored, `sync=true`
as well as `sync=1`, `Authorization: Bearer`, the 1 MiB limit. The probe
sends them only at `--strictness strict`, where they are asserted; at
`documented` these flows do nothing, so no documented check ever sees them.
`ALL_FLOWS` is every flow the probe runs: these and contracts.verify.flows'.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, quote_plus

from contracts.target import Exchange
from contracts.verify.flows import FLOWS, INDIVIDUAL, Flow, FlowFunction
from contracts.verify.listing_walks import IN_FLIGHT
from contracts.verify.poller import observe

BODY_LIMIT = 1024 * 1024  # CONTRACT.md: a body over 1 MiB is 413


def _strict(flow: Flow) -> bool:
    return flow.probe.strictness == "strict"


def unknown_fields(flow: Flow) -> None:
    """An order with a header field and a line field nobody defined: accepted, the fields ignored."""
    if not _strict(flow):
        return
    body = flow.individual(True)
    body["otacmNote"] = "an unknown header field"
    body["items"][0]["otacmLineNote"] = "an unknown line field"
    history = flow.order("order with unknown fields (ignored)", body, unknown_fields=True)
    if flow.create(history).ok:
        flow.settle(history)


def plain_body(flow: Flow) -> None:
    """Valid orders whose JSON body is sent as text/plain, and with no Content-Type: read as JSON all the same."""
    if not _strict(flow):
        return
    for content_type in ("text/plain", ""):
        body = flow.individual(True)
        label = f"order sent as {content_type}" if content_type else "order sent without a Content-Type"
        history = flow.order(label, body, content_type=content_type or "(none)")
        headers = {"Content-Type": content_type} if content_type else {}
        exchange = flow.client.send("POST", flow.client.url("createOrder"), operation="createOrder",
                                    headers=headers, body=body, data=json.dumps(body).encode())
        observe(history, exchange)
        if exchange.ok and isinstance(exchange.response, dict) and exchange.response.get("orderId"):
            history.order_id = str(exchange.response["orderId"])
            flow.settle(history)


def sync_true(flow: Flow) -> None:
    """`?sync=true`: the same synchronous issuance as `?sync=1` (a target ignoring it gets its settle polled)."""
    if not _strict(flow):
        return
    history = flow.order("sync=true order (Issued in the call)", flow.individual(True), sync_spelling="true")
    history.sync = True
    exchange = flow.call(history, "createOrder", body=history.request, query={"sync": "true"})
    document = exchange.response if exchange.ok and isinstance(exchange.response, dict) else {}
    if not document.get("orderId"):
        return
    history.order_id = str(document["orderId"])
    if document.get("status") in IN_FLIGHT:
        flow.settle(history)  # taken asynchronously: its background settle (and webhook) is then expected
    else:
        flow.call(history, "getOrder")


# -- addresses ---------------------------------------------------------------------------------------------
def company_forms(company: str) -> dict[str, str]:
    """The company segment as `+` and as the docs' double `%2520` encoding, where they differ from the one
    encoding every call uses (`%20`): none for a company that encodes to itself (nothing then to judge)."""
    once = quote(company, safe="")
    forms = {"with + for spaces": quote_plus(company, safe=""),
             "encoded twice (%2520, as the docs' examples)": quote(once, safe="")}
    unique: dict[str, str] = {}
    for label, segment in forms.items():
        if segment != once and segment not in unique.values():
            unique[label] = segment
    return unique


def _root(flow: Flow, company: str | None = None) -> str:
    """`{server}/{tenant}/{environment}/{company}` with the company segment as given (default: encoded once)."""
    address = flow.client.target.address
    segment = company if company is not None else quote(address.company, safe="")
    return f"{address.server}/{quote(address.tenant, safe='')}/{quote(address.environment, safe='')}/{segment}"


def addresses(flow: Flow) -> None:
    """One order read through every address form CONTRACT.md allows, and the answers it names for the rest."""
    if not _strict(flow):
        return
    history = flow.order("order the address cases read (company encodings, letter case, a Bearer key)",
                         flow.individual(True))
    flow.create(history)
    order_id = quote(history.order_id or str(uuid.uuid4()), safe="")
    partner = quote(flow.probe.target.partner_id, safe="")
    get = {"operation": "getOrder", "params": {"orderId": history.order_id}} if history.order_id else None
    if get is not None:
        for label, segment in company_forms(flow.client.target.address.company).items():
            _case(flow, f"addresses.company-encodings: the company {label}", "GET",
                  f"{_root(flow, segment)}/channelManager/{order_id}", **get)
        _case(flow, "addresses.letter-case: getOrder as /CHANNELMANAGER/{orderId}", "GET",
              f"{_root(flow)}/CHANNELMANAGER/{order_id}", **get)
        _case(flow, "addresses.api-key: the key as Authorization: Bearer", "GET",
              f"{_root(flow)}/channelManager/{order_id}", auth="bearer", **get)
    _case(flow, "addresses.letter-case: listOrdersByPartner as /channelmanager/ORDERS/{partnerId}", "GET",
          f"{_root(flow)}/channelmanager/ORDERS/{partner}", operation="listOrdersByPartner",
          params={"partnerId": flow.probe.target.partner_id})
    _case(flow, "addresses.routes: PATCH /channelManager/{orderId}", "PATCH",
          f"{_root(flow)}/channelManager/{order_id}", body={})
    _case(flow, "addresses.routes: GET /channelManager", "GET", f"{_root(flow)}/channelManager")
    _case(flow, "addresses.routes: OPTIONS /channelManager/{orderId}", "OPTIONS",
          f"{_root(flow)}/channelManager/{order_id}")
    _case(flow, "addresses.api-key: no key", "GET", f"{_root(flow)}/channelManager/{order_id}", auth="none")
    _case(flow, "addresses.api-key: a key the target never issued", "GET", f"{_root(flow)}/channelManager/{order_id}",
          auth="none", headers={"x-np-api-key": f"otacm-unknown-key-{flow.probe.run_id}"})
    _oversized(flow)
    if history.order_id:
        flow.settle(history)  # settled, so the run's cleanup can delete it


def _oversized(flow: Flow) -> None:
    """A createOrder body a byte over 1 MiB (with no items: a target without the limit refuses it all the same)."""
    head = {"partnerId": flow.probe.target.partner_id, "sellToOrderReference": flow.reference()}
    padding = BODY_LIMIT + 1 - len(json.dumps({**head, "otacmPadding": ""}).encode())
    data = json.dumps({**head, "otacmPadding": "x" * padding}).encode()
    _case(flow, f"rejections.body-size: a createOrder body of {len(data)} bytes", "POST", flow.client.url("createOrder"),
          operation="createOrder", body={**head, "otacmPadding": f"<{padding} × 'x'>"},
          data=data, headers={"Content-Type": "application/json"})


def _case(flow: Flow, case: str, method: str, url: str, **request: Any) -> Exchange:
    exchange = flow.client.send(method, url, **request)
    flow.probe.evidence.address_cases.append((case, exchange))
    flow.probe.record(exchange=exchange)
    return exchange


ALL_FLOWS: Mapping[str, tuple[tuple[str, ...], FlowFunction]] = MappingProxyType({
    **FLOWS,
    "unknown-fields": (INDIVIDUAL, unknown_fields),
    "plain-body": (INDIVIDUAL, plain_body),
    "sync-true": (INDIVIDUAL, sync_true),
    "addresses": (INDIVIDUAL, addresses),
})
