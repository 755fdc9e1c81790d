"""The HTTP layer of webhook subscriptions and the `/_mock/webhooks` control API.

No rule lives here: `urls.py` routes to the handlers, which parse (through
`http.json_body`, so bad bodies get the server's words), call `Webhooks` and
shape JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from mockserver.api.http import Call, json_body
from mockserver.api.state import state
from mockserver.sandbox.clock import iso
from mockserver.webhooks.service import Webhooks
from mockserver.webhooks.subscriptions import CHAOS_FIELD, Subscription

Answer = tuple[int, Any]  # (status, JSON body or None)
# The list's `@odata.context`, as the spec's example shows it.
ODATA_CONTEXT = "webhook"


def webhooks() -> Webhooks:
    return state().webhooks


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": subscription.id,
        "notificationUrl": subscription.notification_url,
        "eventName": subscription.event_name,
        "appId": subscription.app_id,
        "eventVersion": subscription.event_version,
        "clientState": subscription.client_state,
        "timestamp": iso(subscription.timestamp),
    }
    if subscription.chaos_requested is not None:
        body[CHAOS_FIELD] = subscription.chaos.to_json()
    return body


# -- handlers (wired to their operations in urls.py) -----------------------------------
def create_webhook_subscription(call: Call) -> Answer:
    body = json_body(call, "createWebhookSubscription")
    return 201, subscription_json(call.mock.webhooks.subscribe(call.scope, body, call.caller.api_key.partners))


def list_webhook_subscriptions(call: Call) -> Answer:
    value = [subscription_json(s) for s in call.mock.webhooks.subscriptions(call.scope)]
    return 200, {"@odata.context": ODATA_CONTEXT, "value": value}


def get_webhook_subscription(call: Call) -> Answer:
    return 200, subscription_json(call.mock.webhooks.subscription(call.scope, call.match.params["id"]))


def delete_webhook_subscription(call: Call) -> Answer:
    call.mock.webhooks.unsubscribe(call.scope, call.match.params["id"])
    return 204, None


# -- /_mock/webhooks: the control API ------------------------------------------------------
webhook_control = Blueprint("webhook_control", __name__, url_prefix="/_mock/webhooks")


@webhook_control.get("/deliveries")
def deliveries() -> Response:
    """Every delivery attempt (`?orderId=` narrows it), plus whether the dispatcher is idle."""
    dispatcher = webhooks().dispatcher
    return jsonify({
        "deliveries": dispatcher.deliveries(request.args.get("orderId")),
        "pendingDeliveries": dispatcher.pending_count(),
        "heldEvents": dispatcher.held_count(),
        "idle": dispatcher.wait_idle(0),
    })


@webhook_control.post("/wait")
def wait() -> Response:
    """Body `{"timeout": 5}`: block until no attempt is queued or in flight (max 60 s)."""
    body = request.get_json(force=True, silent=True)  # whatever the Content-Type, as the control API reads it
    raw = body.get("timeout", 5) if isinstance(body, dict) else request.args.get("timeout", 5)
    try:
        timeout = min(max(float(raw), 0.0), 60.0)
    except (TypeError, ValueError):
        response = jsonify({"code": "generic_error", "message": f"timeout must be a number of seconds (got {raw!r})"})
        response.status_code = 400
        return response
    return jsonify({"idle": webhooks().wait_idle(timeout)})


@webhook_control.get("/subscriptions")
def all_subscriptions() -> Response:
    """Every subscription of every tenant and company, with its scope."""
    return jsonify({"subscriptions": [
        {**subscription_json(s), "tenant": s.scope[0], "environment": s.scope[1], "company": s.scope[2]}
        for s in webhooks().subscriptions()
    ]})


@webhook_control.post("/deliveries/<delivery_id>/retry")
def retry_delivery(delivery_id: str) -> Response:
    """Send a delivery's waiting retry now (the dashboard's "deliver now")."""
    if not webhooks().dispatcher.retry_now(delivery_id):
        response = jsonify({"code": "generic_error",
                            "message": f"delivery {delivery_id!r} has no retry waiting (delivered, given up, "
                                       "dropped, in flight or unknown)"})
        response.status_code = 409
        return response
    return jsonify({"deliveryId": delivery_id, "retrying": True})
