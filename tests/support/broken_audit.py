"""Broken targets for the rules the issue 18 audit added (broken_rules.RULE_BREAKS, PART_BREAKS).

Each is a defect a real implementer might make, switched on for one mock
instance only, like those of broken_targets.py (whose helpers these use):
refusing requests before the mock sees them, rewriting list pages, changing
webhook events.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from broken_targets import on_events, rewrite_orders, rewrite_responses
from mockserver.sandbox.errors import ApiError
from mockserver.server import MockServer

# -- issue 18, the audit's gaps: each a defect a real implementer might make (broken_rules.RULE_BREAKS) -------------
Environ = dict[str, Any]
Answer = tuple[int, dict[str, Any]]


def refuse_requests(answer: Callable[[Environ], "Answer | None"]) -> Callable[[MockServer], None]:
    """Answer a request before the mock sees it when `answer(environ)` gives (status, JSON body)."""
    def apply(server: MockServer) -> None:
        inner = server.app.wsgi_app

        def app(environ: Environ, start_response: Callable[..., Any]) -> Any:
            found = answer(environ) if not environ.get("PATH_INFO", "").startswith("/_mock/") else None
            if found is None:
                return inner(environ, start_response)
            raw = json.dumps(found[1]).encode()
            start_response(f"{found[0]} X", [("Content-Type", "application/json"), ("Content-Length", str(len(raw)))])
            return [raw]
        server.app.wsgi_app = app
    return apply


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"code": code, "message": message}


def _read_json(environ: Environ) -> Any:
    """The request's JSON body, put back for the mock to read (None when it is not JSON)."""
    import io

    raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        return json.loads(raw)
    except ValueError:
        return None


KNOWN_HEADER = frozenset({"partnerId", "sellToOrderReference", "sellToEmail", "sellToName", "sellToLanguage",
                          "paymentReference", "items"})
KNOWN_LINE = frozenset({"itemNumber", "visitDate", "visitTime", "quantity", "sellToName", "sellToEmail",
                        "sellToLanguage", "wallet"})


def _unknown_field(environ: Environ) -> Answer | None:
    if environ["REQUEST_METHOD"] != "POST" or not environ.get("PATH_INFO", "").endswith("/channelManager"):
        return None
    body = _read_json(environ)
    lines = body.get("items") if isinstance(body, dict) and isinstance(body.get("items"), list) else []
    unknown = sorted(set(body) - KNOWN_HEADER) if isinstance(body, dict) else []
    unknown += sorted({k for line in lines if isinstance(line, dict) for k in line} - KNOWN_LINE)
    return _error(400, "generic_error", f"Unknown field '{unknown[0]}'") if unknown else None


unknown_fields_refused = refuse_requests(_unknown_field)


def _json_only(environ: Environ) -> Answer | None:
    typed = environ.get("CONTENT_TYPE", "")
    if environ["REQUEST_METHOD"] in ("POST", "PUT") and not typed.startswith("application/json"):
        return _error(415, "generic_error", "Content-Type must be application/json")
    return None


json_content_type_required = refuse_requests(_json_only)


def _patch_405(environ: Environ) -> Answer | None:
    return _error(405, "generic_error", "Method not allowed") if environ["REQUEST_METHOD"] == "PATCH" else None


patch_not_allowed = refuse_requests(_patch_405)


def _bearer_refused(environ: Environ) -> Answer | None:
    if environ.get("HTTP_AUTHORIZATION") and not environ.get("HTTP_X_NP_API_KEY"):
        return _error(401, "unauthorized", "Missing or invalid API key. Send it in the x-np-api-key header.")
    return None


bearer_refused = refuse_requests(_bearer_refused)


def _company_decoded_once(environ: Environ) -> Answer | None:
    """The company segment decoded once only: `+` and the docs' `%2520` name no company the target has."""
    raw = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?", 1)[0]
    segments = raw.split("/")
    company = segments[3] if len(segments) > 4 else ""
    if "+" in company or "%25" in company:
        return _error(404, "resource_not_found", "API endpoint not found Not Found")
    return None


company_decoded_once = refuse_requests(_company_decoded_once)


def _case_sensitive_routes(environ: Environ) -> Answer | None:
    segments = environ.get("PATH_INFO", "").split("/")
    literal = [s for s in segments[4:6] if s.lower() in ("channelmanager", "orders")]
    if any(s not in ("channelManager", "orders") for s in literal):
        return _error(404, "resource_not_found", "API endpoint not found Not Found")
    return None


case_sensitive_routes = refuse_requests(_case_sensitive_routes)


def no_body_limit(server: MockServer) -> None:
    """The mock takes bodies of any size (16 MiB): one over 1 MiB is read and refused for what it lacks."""
    state = server.app.extensions["otacm"]
    state.config = state.config.replace(max_body_bytes=16 * 1024 * 1024)


def sync_true_ignored(server: MockServer) -> None:
    """Only `sync=1` issues in the call; `sync=true` is taken as the asynchronous API."""
    inner = server.app.wsgi_app

    def app(environ: Environ, start_response: Callable[..., Any]) -> Any:
        kept = [p for p in environ.get("QUERY_STRING", "").split("&") if p and p.lower() != "sync=true"]
        environ["QUERY_STRING"] = "&".join(kept)
        return inner(environ, start_response)
    server.app.wsgi_app = app


def not_found_as_generic(server: MockServer) -> None:
    """404 answers carry code generic_error."""
    def rewrite(method: str, path: str, code: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if code != 404:
            return code, headers, body
        found = json.loads(body)
        return code, headers, json.dumps({**found, "code": "generic_error"}).encode()
    rewrite_responses(server, rewrite)


def _confirm_reads_body_first(server: MockServer) -> None:
    """confirmOrder validates its body (a paymentReference) before it looks at the order's status."""
    backend = server.backend
    confirm = backend.confirm_order

    def broken(caller: Any, scope: Any, order_id: str, read_body: Any) -> Any:
        body = read_body() or {}
        if not body.get("paymentReference"):
            raise ApiError(400, "generic_error", "Required field 'paymentReference' is missing")
        return confirm(caller, scope, order_id, lambda: body)
    backend.confirm_order = broken  # type: ignore[method-assign]


confirm_reads_body_first = _confirm_reads_body_first


def _confirm_empty_payment(server: MockServer) -> None:
    """confirmOrder asks only that a paymentReference key be there: an empty one confirms too."""
    import io

    inner = server.app.wsgi_app

    def app(environ: Environ, start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ.get("PATH_INFO", "").endswith("/confirm") \
                and _read_json(environ) == {"paymentReference": ""}:
            raw = json.dumps({"paymentReference": "EMPTY"}).encode()
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
        return inner(environ, start_response)
    server.app.wsgi_app = app


confirm_empty_payment = _confirm_empty_payment


def _removed_deleted_again(server: MockServer) -> None:
    """A removed (Draft or Error) order is only hidden: deleting it again answers it Cancelled once more."""
    backend = server.backend
    delete = backend.delete_order
    removed: dict[str, Any] = {}

    def broken(caller: Any, scope: Any, order_id: str) -> Any:
        if order_id.lower() in removed:
            return removed[order_id.lower()]
        order = delete(caller, scope, order_id)
        if backend.store.get(order.order_id) is None:
            removed[order.order_id.lower()] = order
        return order
    backend.delete_order = broken  # type: ignore[method-assign]


removed_deleted_again = _removed_deleted_again


# -- listing ---------------------------------------------------------------------------------------------------
def on_pages(change: Callable[[dict[str, str], dict[str, Any]], Any]) -> Callable[[MockServer], None]:
    """Rewrite each listOrdersByPartner envelope into `change(the query asked, envelope)`."""
    from urllib.parse import parse_qsl

    def apply(server: MockServer) -> None:
        inner = server.app.wsgi_app

        def app(environ: Environ, start_response: Callable[..., Any]) -> Any:
            if environ["REQUEST_METHOD"] != "GET" or "/orders/" not in environ.get("PATH_INFO", ""):
                return inner(environ, start_response)
            asked = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
            answered: dict[str, Any] = {}
            body = b"".join(inner(environ, lambda status, headers, exc=None: answered.update(status=status,
                                                                                          headers=headers)
                                  or (lambda data: None)))
            if answered["status"].startswith("200"):
                body = json.dumps(change(asked, json.loads(body))).encode()
            headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
            start_response(answered["status"], headers + [("Content-Length", str(len(body)))])
            return [body]
        server.app.wsgi_app = app
    return apply


def _more_when_full(query: dict[str, str], envelope: dict[str, Any]) -> dict[str, Any]:
    """morePages is `len(page) == pageSize`: an exactly full last page says more follow (and the next is empty)."""
    size = query.get("pageSize", "")
    if envelope.get("morePages") or not size.isdigit() or len(envelope["data"]) != int(size):
        return envelope
    return {**envelope, "morePages": True, "nextPageKey": "999999999",
            "nextPageURL": f"http://127.0.0.1/?pageKey=999999999&pageSize={size}"}


more_pages_when_full = on_pages(_more_when_full)


def _next_url_without_filters(query: dict[str, str], envelope: dict[str, Any]) -> dict[str, Any]:
    """nextPageURL carries the page key and nothing else: the filters and pageSize are lost on it."""
    url = envelope.get("nextPageURL") or ""
    if not url:
        return envelope
    return {**envelope, "nextPageURL": url.split("?", 1)[0] + f"?pageKey={envelope['nextPageKey']}"}


next_url_without_filters = on_pages(_next_url_without_filters)


def _empty_as_404(server: MockServer) -> None:
    """A list with no matching order answers 404 instead of an empty list."""
    def rewrite(method: str, path: str, code: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method != "GET" or "/orders/" not in path or code != 200 or json.loads(body).get("data"):
            return code, headers, body
        return 404, headers, json.dumps({"code": "resource_not_found", "message": "No orders found"}).encode()
    rewrite_responses(server, rewrite)


empty_list_404 = _empty_as_404


def _in_flight_unlisted(query: dict[str, str], envelope: dict[str, Any]) -> dict[str, Any]:
    """The list shows processed orders only: Submitted, Scheduled and Processing rows are left out."""
    return {**envelope, "data": [r for r in envelope["data"] if r.get("status") not in
                                 ("Submitted", "Scheduled", "Processing")]}


in_flight_unlisted = on_pages(_in_flight_unlisted)


def _reference_alone(server: MockServer) -> None:
    """A sellToOrderReference filter answers that order whatever the other filters say (a fast path)."""
    inner = server.app.wsgi_app

    def app(environ: Environ, start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "GET" and "/orders/" in environ.get("PATH_INFO", ""):
            parts = [p for p in environ.get("QUERY_STRING", "").split("&") if p]
            if any(p.startswith("sellToOrderReference=") for p in parts):
                keep = ("sellToOrderReference=", "pageSize=", "pageKey=")
                environ["QUERY_STRING"] = "&".join(p for p in parts if p.startswith(keep))
        return inner(environ, start_response)
    server.app.wsgi_app = app


reference_overrides_filters = _reference_alone


def _reference_prefix(server: MockServer) -> None:
    """sellToOrderReference matches as a prefix (SQL `LIKE 'ref%'`), not exactly."""
    from urllib.parse import parse_qsl, urlencode

    inner = server.app.wsgi_app

    def app(environ: Environ, start_response: Callable[..., Any]) -> Any:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        prefix = query.pop("sellToOrderReference", None)
        if environ["REQUEST_METHOD"] != "GET" or "/orders/" not in environ.get("PATH_INFO", "") or prefix is None:
            return inner(environ, start_response)
        answered: dict[str, Any] = {}
        body = b"".join(inner({**environ, "QUERY_STRING": urlencode(query)},
                              lambda status, headers, exc=None: answered.update(status=status, headers=headers)
                              or (lambda data: None)))
        if answered["status"].startswith("200"):
            envelope = json.loads(body)
            envelope["data"] = [r for r in envelope["data"]
                                if str(r.get("sellToOrderReference")).upper().startswith(prefix.upper())]
            body = json.dumps(envelope).encode()
        headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
        start_response(answered["status"], headers + [("Content-Length", str(len(body)))])
        return [body]
    server.app.wsgi_app = app


reference_prefix = _reference_prefix


def _soft_delete(server: MockServer) -> None:
    """Deleting a Draft or Error order only hides it from getOrder: the list still shows its row (Cancelled)."""
    deleted: dict[str, dict[str, Any]] = {}
    hidden: set[str] = set()

    def rewrite(method: str, path: str, code: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        order_id = path.rstrip("/").rsplit("/", 1)[-1].lower()
        if method == "DELETE" and code == 200:
            found = json.loads(body)
            deleted[order_id] = {k: v for k, v in found.items() if k not in ("items",)} | {"manifestUrl": ""}
        elif method == "GET" and code == 404 and order_id in deleted:
            hidden.add(order_id)
        elif method == "GET" and "/orders/" in path and code == 200:
            envelope = json.loads(body)
            partner = path.rstrip("/").rsplit("/", 1)[-1].lower()
            envelope["data"] += [row for key, row in deleted.items()
                                 if key in hidden and str(row.get("partnerId")).lower() == partner]
            return code, headers, json.dumps(envelope).encode()
        return code, headers, body
    rewrite_responses(server, rewrite)


removed_still_listed = _soft_delete


# -- webhooks ----------------------------------------------------------------------------------------------------
def _first_status_repeated(server: MockServer) -> None:
    """Each order's events carry the status of its first settle (a replace's settle is announced with the old one)."""
    first: dict[str, str] = {}

    def change(event: dict[str, Any]) -> None:
        payload = event["payload"]
        payload["status"] = first.setdefault(payload["orderId"], payload["status"])
    on_events(change)(server)


first_status_repeated = _first_status_repeated


def _app_id_own(event: dict[str, Any]) -> None:
    event["appId"] = "992c2309-cca4-43cb-9e41-911f482ec088"  # the docs' example, whatever the subscription said


app_id_not_mirrored = on_events(_app_id_own)


def _reference_unique_globally(server: MockServer) -> None:
    """The reference is unique over every partner (a unique index on sellToOrderReference alone)."""
    backend = server.backend
    create = backend.create_order

    def broken(caller: Any, scope: Any, body: Any, directives: Any, sync: bool) -> Any:
        reference = str(body.get("sellToOrderReference", "")).upper() if isinstance(body, dict) else ""
        for partner in backend.config.partners:
            if reference and backend.store.find_by_reference(scope, partner, reference) is not None:
                raise ApiError(400, "generic_error", f"An order with sellToOrderReference '{reference}' already "
                                                     f"exists for partner '{partner}'")
        return create(caller, scope, body, directives, sync)
    backend.create_order = broken  # type: ignore[method-assign]


reference_unique_globally = _reference_unique_globally


def _received_at_restamped(server: MockServer) -> None:
    """receivedAt is stamped again when issuance completes (the time the order was last written)."""
    import time

    def change(method: str, path: str, code: int, order: dict[str, Any]) -> dict[str, Any] | None:
        if order.get("status") not in ("Draft", "Issued", "Error"):
            return None
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return {**order, "receivedAt": stamp}
    rewrite_orders(server, change)


received_at_restamped = _received_at_restamped
