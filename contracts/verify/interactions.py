"""What a Schemathesis case and interaction say, in the terms of a verify run.

Which cases are positive, which order status an answer shows, the order
observations the lifecycle checks read, and the `Exchange` the registry's
answer checks judge. Pure functions: no run state.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from contracts.target import Exchange

# orderId → [(time, status, operationId, sync)] as the order calls answered (the fuzzed orders' lifecycle)
OrderObservations = dict[str, list[tuple[float, str, str, bool]]]


def is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    if meta is None:
        return True
    try:
        return not meta.generation.mode.is_negative and not any(
            info.mode.is_negative for info in getattr(meta, "components", {}).values()
        )
    except AttributeError:
        return True


def body_is_positive(case: Any) -> bool:
    """Whether the case's body is schema-valid: the whole case is, or only another part (a header, the query)
    is the negative one."""
    if is_positive(case):
        return True
    components = getattr(getattr(case, "meta", None), "components", None) or {}
    try:
        return not any(info.mode.is_negative for location, info in components.items()
                       if str(getattr(location, "value", location)) == "body")
    except AttributeError:
        return False


def answered_status(response: Any) -> str | None:
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, TypeError, AttributeError):
        return None
    return body.get("status") if isinstance(body, dict) else None


ORDER_CALLS = ("createOrder", "getOrder", "replaceOrder", "confirmOrder", "deleteOrder")


def observe_order(case: Any, operation_id: str, interaction: Any, observations: OrderObservations) -> None:
    """Keep what an order call showed of the order's status (lifecycle checks on the fuzzed orders).

    It fills the run's observations, not the run's result: this module knows no run (no import cycle)."""
    if operation_id not in ORDER_CALLS:
        return
    status = int(interaction.response.status_code)
    sync = str((case.query or {}).get("sync", "")).lower() in ("1", "true")
    if 200 <= status < 300:
        try:
            body = json.loads(interaction.response.content or b"null")
        except (ValueError, TypeError):
            return
        if isinstance(body, dict) and isinstance(body.get("orderId"), str) and isinstance(body.get("status"), str):
            observations.setdefault(body["orderId"].lower(), []).append(
                (interaction.timestamp, body["status"], operation_id, sync))
    elif status == 404 and operation_id == "getOrder":
        order_id = str((case.path_parameters or {}).get("orderId", "")).lower()
        if order_id in observations:
            observations[order_id].append((interaction.timestamp, "removed", operation_id, sync))


def exchange_of(case: Any, operation_id: str, interaction: Any, at: float | None = None) -> Exchange:
    """A Schemathesis interaction as the registry's exchange checks see it. `at` is the target's time when it
    answered: the interaction's timestamp (this machine's clock) unless told otherwise, and 0.0 for "not
    known" (a target whose clock is warped: this machine's clock says nothing of it)."""
    request, response = interaction.request, interaction.response
    try:
        body: Any = json.loads(response.content or b"null")
    except (ValueError, TypeError):
        body = (response.content or b"").decode("utf-8", "replace")
    return Exchange(request.method, request.uri, {}, case.body if isinstance(case.body, (dict, list)) else None,
                    operation_id, {k: str(v) for k, v in (case.path_parameters or {}).items()},
                    {k: str(v) for k, v in (case.query or {}).items()}, int(response.status_code), body,
                    {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in response.headers.items()},
                    at=float(interaction.timestamp) if at is None else at)


# Headers a reproduction leaves out: the transport's own, Schemathesis' markers and the key (written as a variable).
_TRANSPORT_HEADERS = frozenset({"user-agent", "accept-encoding", "accept", "connection", "content-length", "host"})


def reproduce_command(request: Any, api_key: str) -> str:
    """A recorded request as a curl command that works when pasted into a POSIX shell.

    The target's key is `"$OTACM_API_KEY"` (double quotes: the shell expands it; the report says to export it),
    so no secret lands in a report; a different key value (an `ignored_auth` probe) is shown as sent. Every other
    value is shell-quoted: a `&` in a query or a quote in a body reaches the target as Schemathesis sent it.
    """
    parts = ["curl", "-X", shlex.quote(str(request.method).upper()), shlex.quote(str(request.uri))]
    for name, values in (request.headers or {}).items():
        lowered = name.lower()
        if lowered in _TRANSPORT_HEADERS or lowered.startswith("x-schemathesis"):
            continue
        for value in values if isinstance(values, list) else [values]:
            if lowered in ("x-np-api-key", "authorization") and api_key and api_key in str(value):
                value = str(value).replace(api_key, "$OTACM_API_KEY")
                parts.append(f'-H "{name}: {value}"')
            else:
                parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body is not None:
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
        parts += ["--data-binary", shlex.quote(body)]
    return " ".join(parts)
