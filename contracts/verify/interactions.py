"""What a Schemathesis case and interaction say, in the terms of a verify run.

Which cases are positive, which order status an answer shows, the order
observations the lifecycle checks read, and the `Exchange` the registry's
answer checks judge. Pure functions: no run state.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contracts.target import Exchange

if TYPE_CHECKING:
    from contracts.verify.schemathesis_run import FuzzResult


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


def answered_status(response: Any) -> str | None:
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, TypeError, AttributeError):
        return None
    return body.get("status") if isinstance(body, dict) else None


ORDER_CALLS = ("createOrder", "getOrder", "replaceOrder", "confirmOrder", "deleteOrder")


def observe_order(case: Any, operation_id: str, interaction: Any, result: FuzzResult) -> None:
    """Keep what an order call showed of the order's status (lifecycle checks on the fuzzed orders)."""
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
            result.order_observations.setdefault(body["orderId"].lower(), []).append(
                (interaction.timestamp, body["status"], operation_id, sync))
    elif status == 404 and operation_id == "getOrder":
        order_id = str((case.path_parameters or {}).get("orderId", "")).lower()
        if order_id in result.order_observations:
            result.order_observations[order_id].append((interaction.timestamp, "removed", operation_id, sync))


def exchange_of(case: Any, operation_id: str, interaction: Any) -> Exchange:
    """A Schemathesis interaction as the registry's exchange checks see it."""
    request, response = interaction.request, interaction.response
    try:
        body: Any = json.loads(response.content or b"null")
    except (ValueError, TypeError):
        body = (response.content or b"").decode("utf-8", "replace")
    return Exchange(request.method, request.uri, {}, case.body if isinstance(case.body, (dict, list)) else None,
                    operation_id, {k: str(v) for k, v in (case.path_parameters or {}).items()},
                    {k: str(v) for k, v in (case.query or {}).items()}, int(response.status_code), body,
                    {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in response.headers.items()},
                    at=float(interaction.timestamp))
