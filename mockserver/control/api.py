"""`/_mock/`: the control API of the sandbox (clock, reset, order history, snapshots, the request log).

Not part of the contract: partners' tests and the conformance runner use it
to warp time and inspect what the mock did.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from mockserver.api.request_entries import BadFilter
from mockserver.api.request_log import RequestLog
from mockserver.sandbox.backend import ChannelManagerBackend
from mockserver.sandbox.clock import ClockError, iso, parse_duration, parse_instant
from mockserver.store.snapshot import SandboxNotEmpty, SnapshotError, from_document

REQUESTS_PAGE = 100  # entries a `GET /_mock/requests` answers unless `limit` says otherwise
REQUESTS_MAX_PAGE = 1000
# A gzip-sent snapshot may unpack to this much (the body limit, maxBodyBytes, counts what is sent).
SNAPSHOT_MAX_BYTES = 512 * 1024 * 1024

control = Blueprint("control", __name__, url_prefix="/_mock")


def backend() -> ChannelManagerBackend:
    return current_app.extensions["otacm"].backend


def _error(message: str, status: int = 400, code: str = "generic_error") -> Response:
    response = jsonify({"code": code, "message": message})
    response.status_code = status
    return response


def _body() -> dict[str, Any]:
    """The JSON body whatever its Content-Type (curl's -d sends form-urlencoded), as the Orders API reads
    it (CONTRACT.md: no 415); {} when there is none or it is not an object."""
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def clock_state() -> dict[str, Any]:
    be = backend()
    with be.reading():  # shared: as the last warp, through any process, left it
        now, next_due = be.clock.now(), be.schedule.next_due()
        return {
            "now": iso(now),
            "nowEpoch": now,
            "frozen": be.clock.frozen,
            "nextDue": iso(next_due) if next_due is not None else None,
            "pendingEvents": len(be.schedule.pending()),
        }


@control.get("/clock")
def read_clock() -> Response:
    return jsonify(clock_state())


@control.post("/clock/advance")
def advance_clock() -> Response:
    """Body `{"by": "2h"}` (or seconds). Runs every event due on the way;
    with `"waitForWebhooks": true` it answers once the deliveries (and the
    retries they cause on the warped clock) are done, up to 30 s."""
    raw = _body().get("by", request.args.get("by"))
    if raw is None:
        return _error("advance needs 'by': a duration such as 90s, 5m, 2h or a number of seconds")
    try:
        backend().advance(parse_duration(raw))
    except (ValueError, ClockError) as error:
        return _error(str(error))
    state = clock_state()
    if _body().get("waitForWebhooks"):
        state["webhooksIdle"] = current_app.extensions["otacm"].webhooks.wait_idle(30)
    return jsonify(state)


@control.post("/clock/jump")
def jump_clock() -> Response:
    """Body `{"to": "2026-06-01T09:00:00Z"}`: move forward to an instant."""
    raw = _body().get("to", request.args.get("to"))
    if not raw:
        return _error("jump needs 'to': an ISO 8601 instant such as 2026-06-01T09:00:00Z")
    try:
        backend().jump(parse_instant(str(raw)))
    except (ValueError, ClockError) as error:
        return _error(str(error))
    return jsonify(clock_state())


@control.post("/clock/freeze")
def freeze_clock() -> Response:
    backend().catch_up()
    backend().freeze()
    return jsonify(clock_state())


@control.post("/clock/resume")
def resume_clock() -> Response:
    backend().resume()
    return jsonify(clock_state())


@control.post("/reset")
def reset() -> Response:
    """Forget every order, or one partner's with `{"partnerId": ...}`."""
    removed = backend().reset(_body().get("partnerId"))
    return jsonify({"removedOrders": removed})


@control.get("/snapshot")
def export_snapshot() -> Response:
    """Everything the sandbox holds as one versioned JSON document, as a download (`otacm sandbox export`)."""
    document = backend().export_snapshot()
    stamp = document["exportedAt"].replace("-", "").replace(":", "")
    response = Response(json.dumps(document, ensure_ascii=False, indent=1) + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="otacm-sandbox-{stamp}.json"'
    return response


@control.post("/snapshot")
def import_snapshot() -> Response:
    """Body: a snapshot (gzip-compressed with `Content-Encoding: gzip`, if large). It replaces everything
    the sandbox holds; over orders, webhook records or pending steps only with `?replace=1` or
    `"replace": true` (else a 409). A document that cannot be loaded is a 400 and changes nothing."""
    try:
        document = _snapshot_body()
        snapshot = from_document(document)
        replace = request.args.get("replace", "").lower() in ("1", "true", "yes") or document.get("replace") is True
        backend().load_snapshot(snapshot, replace)
    except SandboxNotEmpty as error:
        return _error(f"{error}; pass replace to load it anyway (POST /_mock/snapshot?replace=1, or "
                      "otacm sandbox import FILE --replace)", 409, "sandbox_not_empty")
    except SnapshotError as error:
        return _error(f"snapshot not loaded: {error}")
    return jsonify({"loaded": snapshot.summary(), "clock": clock_state()})


def _snapshot_body() -> Any:
    """The request's JSON, unpacked first if sent gzip-compressed; a SnapshotError if it is not JSON."""
    data = request.get_data()
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        data = _gunzip(data)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise SnapshotError(f"the body is not a JSON document ({error})") from None


def _gunzip(data: bytes) -> bytes:
    """At most SNAPSHOT_MAX_BYTES of it: a small body must not unpack into all the memory there is."""
    inflate = zlib.decompressobj(wbits=31)
    try:
        unpacked = inflate.decompress(data, SNAPSHOT_MAX_BYTES)
    except zlib.error as error:
        raise SnapshotError(f"the body is not gzip data ({error})") from None
    if inflate.unconsumed_tail:
        raise SnapshotError(f"the snapshot unpacks to more than {SNAPSHOT_MAX_BYTES} bytes")
    return unpacked


@control.get("/requests")
def requests() -> Response:
    """The request log, newest first: `?status=4xx` (a class, or a code such as 404), `operation`,
    `partner`, `order`; `limit` (1–1000, default 100) and `before` (an id: the next page, `nextBefore`).
    Any other value is a 400 saying what it takes. Also how many the log holds (`kept`) of its bound."""
    args, log = request.args, _request_log()
    try:
        limit = _whole(args.get("limit", str(REQUESTS_PAGE)), "limit", 1, REQUESTS_MAX_PAGE)
        before = _whole(args["before"], "before", 1) if "before" in args else None
        found = log.entries(args.get("status", ""), args.get("operation", ""), args.get("partner", ""),
                            args.get("order", ""), before, limit)
    except BadFilter as error:
        return _error(str(error))
    return jsonify({"requests": found, "nextBefore": found[-1]["id"] if len(found) == limit else None,
                    "kept": log.kept(), "limit": log.limit})


@control.get("/requests/<int:entry_id>")
def logged_request(entry_id: int) -> Response:
    """One logged request, bodies included."""
    found = _request_log().entry(entry_id)
    if found is None:
        return _error(f"no logged request {entry_id} (never logged, or no longer kept)", 404, "not_found")
    return jsonify(found)


@control.delete("/requests")
def clear_requests() -> Response:
    """Forget every logged request (the orders stay; ids go on)."""
    _request_log().clear()
    return jsonify({"cleared": True})


def _request_log() -> RequestLog:
    return current_app.extensions["otacm"].request_log


def _whole(text: str, name: str, low: int, high: int | None = None) -> int:
    """A query parameter that must be a whole number in [low, high]; a BadFilter says so."""
    if not text.isascii() or not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadFilter(f"{name} must be a whole number {bounds} (got {text!r})")
    return int(text)


@control.get("/orders")
def orders() -> Response:
    """Every order with its status history (status, clock time, trigger, reason)."""
    return jsonify({"orders": [order_history(order) for order in backend().orders()]})


@control.get("/info")
def info() -> Response:
    """What a client needs to talk to this sandbox."""
    config = current_app.extensions["otacm"].config
    return jsonify({
        "apiKey": config.default_api_key,
        "partnerId": config.default_partner_id,
        "tenant": config.tenant,
        "environment": config.environment,
        "company": config.company,
        "apiMode": config.api_mode,
        "clock": clock_state(),
    })


def order_history(order: Any) -> dict[str, Any]:
    return {
        "orderId": order.order_id,
        "partnerId": order.partner_id,
        "sellToOrderReference": order.sell_to_order_reference,
        "status": order.status,
        "history": [
            {"status": change.status, "at": iso(change.at), "trigger": change.trigger, "reason": change.reason}
            for change in order.history
        ],
    }
