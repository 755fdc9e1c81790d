"""Webhook subscriptions: who hears `ota_cm_order_processed`, and how.

The registry (per company scope), the `notificationUrl` allow-list that
keeps a shared sandbox from reaching internal hosts, the delivery settings
and the opt-in chaos options. No Flask and no I/O here: delivery lives in
webhooks.py.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from mockserver.sandbox.errors import ApiError, Problem, bad_request
from mockserver.sandbox.models import Order, Scope

EVENT_NAME = "ota_cm_order_processed"
EVENT_VERSION = "1.0"
CHAOS_FIELD = "x-otacm-chaos"
# Loopback is always a legal notificationUrl host: a sandbox's receivers run
# next to it. `webhooks.allowedHosts` adds to this list.
LOOPBACK_HOSTS = ("127.0.0.0/8", "::1", "localhost")


# -- configuration ----------------------------------------------------------------
@dataclass(frozen=True)
class ChaosOptions:
    """Misbehaviour a partner's receiver must survive (opt-in, WEBHOOKS.md)."""

    duplicate: bool = False  # every POST is sent twice
    batch: int = 1  # hold events until this many are pending, then send them in one POST
    delay_seconds: float = 0.0  # deliver this many clock seconds after the settle
    out_of_order: bool = False  # hold events and deliver the newest first

    @property
    def holds(self) -> bool:
        """Whether events wait for company before going out."""
        return self.batch > 1 or self.out_of_order

    @property
    def threshold(self) -> int:
        """How many held events release a flush (out-of-order needs two to swap)."""
        return max(self.batch, 2 if self.out_of_order else 1)

    def to_json(self) -> dict[str, Any]:
        return {"duplicate": self.duplicate, "batch": self.batch,
                "delaySeconds": self.delay_seconds, "outOfOrder": self.out_of_order}


def chaos_from(values: Any, base: ChaosOptions, where: str = CHAOS_FIELD) -> ChaosOptions:
    """`base` with the options given in `values` (camelCase keys); ValueError on a bad one."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{where} must be an object such as {{\"duplicate\": true, \"batch\": 3}}")
    unknown = sorted(set(values) - {"duplicate", "batch", "delaySeconds", "outOfOrder"})
    if unknown:
        raise ValueError(f"{where}: unknown option '{unknown[0]}' (known: duplicate, batch, delaySeconds, outOfOrder)")
    changes: dict[str, Any] = {}
    for key, name in (("duplicate", "duplicate"), ("outOfOrder", "out_of_order")):
        if key in values:
            if not isinstance(values[key], bool):
                raise ValueError(f"{where}.{key} must be true or false")
            changes[name] = values[key]
    if "batch" in values:
        batch = values["batch"]
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"{where}.batch must be an integer >= 1")
        changes["batch"] = batch
    if "delaySeconds" in values:
        delay = values["delaySeconds"]
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError(f"{where}.delaySeconds must be a number >= 0")
        changes["delay_seconds"] = float(delay)
    return dataclasses.replace(base, **changes)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff on the mock's clock: 30 s, 60 s, 2 min, … capped."""

    max_attempts: int = 10
    initial_seconds: float = 30.0
    factor: float = 2.0
    max_seconds: float = 3600.0

    def backoff(self, attempt: int) -> float:
        """Clock seconds from attempt `attempt`'s due time to the next one."""
        return min(self.initial_seconds * self.factor ** (attempt - 1), self.max_seconds)


@dataclass(frozen=True)
class WebhookConfig:
    """The `webhooks:` section of the mock's config (defaults mirror defaults.yaml)."""

    allowed_hosts: tuple[str, ...] = ()
    initiating_user_aad_object_id: str = "ef546153-4168-4bd5-9365-a3161608da72"
    timeout_seconds: float = 5.0
    workers: int = 4
    max_events_per_post: int = 100
    hold_seconds: float = 600.0
    delivery_log_limit: int = 10000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    chaos: ChaosOptions = field(default_factory=ChaosOptions)

    def replace(self, **changes: Any) -> "WebhookConfig":
        return dataclasses.replace(self, **changes)


def webhook_config(raw: Mapping[str, Any] | None) -> WebhookConfig:
    """The section parsed; a missing key keeps its default. SystemExit on a bad value,
    as the rest of the config loader does."""
    raw = raw or {}
    default = WebhookConfig()
    try:
        retry_raw = raw.get("retry") or {}
        retry = RetryPolicy(
            max_attempts=_positive(int(retry_raw.get("maxAttempts", default.retry.max_attempts)), "retry.maxAttempts"),
            initial_seconds=float(retry_raw.get("initialSeconds", default.retry.initial_seconds)),
            factor=float(retry_raw.get("factor", default.retry.factor)),
            max_seconds=float(retry_raw.get("maxSeconds", default.retry.max_seconds)),
        )
        return WebhookConfig(
            allowed_hosts=tuple(str(host) for host in raw.get("allowedHosts") or ()),
            initiating_user_aad_object_id=str(raw.get("initiatingUserAADObjectId",
                                                      default.initiating_user_aad_object_id)),
            timeout_seconds=float(raw.get("timeoutSeconds", default.timeout_seconds)),
            workers=_positive(int(raw.get("workers", default.workers)), "workers"),
            max_events_per_post=_positive(int(raw.get("maxEventsPerPost", default.max_events_per_post)),
                                          "maxEventsPerPost"),
            hold_seconds=float(raw.get("holdSeconds", default.hold_seconds)),
            delivery_log_limit=_positive(int(raw.get("deliveryLogLimit", default.delivery_log_limit)),
                                         "deliveryLogLimit"),
            retry=retry,
            chaos=chaos_from(raw.get("chaos") or {}, ChaosOptions(), "webhooks.chaos"),
        )
    except (TypeError, ValueError) as error:
        raise SystemExit(f"otacm mock: webhooks config: {error}") from None


def _positive(value: int, name: str) -> int:
    if value < 1:
        raise ValueError(f"{name} must be >= 1 (got {value})")
    return value


# -- the allow-list ---------------------------------------------------------------
class HostAllowList:
    """Where the sandbox may POST: names, `*.suffix` wildcards, IP networks, or `*`.

    A mock reachable by anyone must not become a tool to make requests to
    arbitrary hosts, so only loopback is allowed unless the config says more.
    No DNS lookups: a name is allowed by its spelling.
    """

    def __init__(self, extra: tuple[str, ...] = ()) -> None:
        self.entries = tuple(dict.fromkeys((*LOOPBACK_HOSTS, *extra)))
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._names: set[str] = set()
        self._suffixes: list[str] = []
        for entry in self.entries:
            self._add(entry.strip().lower())

    def _add(self, entry: str) -> None:
        try:
            self._networks.append(ipaddress.ip_network(entry, strict=False))
            return
        except ValueError:
            pass
        if entry.startswith("*."):
            self._suffixes.append(entry[1:])
        else:
            self._names.add(entry.rstrip("."))

    def allows(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if "*" in self._names or host in self._names or any(host.endswith(s) for s in self._suffixes):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def describe(self) -> str:
        return ", ".join(self.entries)


# -- subscriptions ----------------------------------------------------------------
@dataclass(frozen=True)
class Subscription:
    id: str
    scope: Scope
    notification_url: str
    event_name: str
    app_id: str
    event_version: str
    client_state: str
    timestamp: float
    chaos: ChaosOptions  # effective: the config's, overridden by the request's
    chaos_requested: Optional[dict[str, Any]] = None  # as sent, echoed back
    # The partners the subscribing API key holds (None: all): a key bound to
    # some partners never hears of other partners' orders (sandbox isolation).
    partners: Optional[frozenset[str]] = None

    def hears(self, order: Order) -> bool:
        return self.partners is None or order.partner_id in self.partners


def _checked_event(name: str) -> None:
    """A subscription to an event the sandbox never sends would wait silently: 400 naming the one it has.
    CONTRACT.md marks this a decision of the mock only (the real server's list of events is not public),
    so no level of `otacm verify` asserts it."""
    if name != EVENT_NAME:
        message = f"Unknown eventName '{name}': the sandbox sends only '{EVENT_NAME}'"
        raise bad_request(message, [Problem("eventName", f"must be '{EVENT_NAME}'")])


def subscription_not_found(subscription_id: str) -> ApiError:
    return ApiError(404, "resource_not_found", f"Subscription '{subscription_id}' not found Not Found")


class SubscriptionRegistry:
    """Subscriptions per scope (tenant, environment, company).

    Not thread-safe on its own: `Webhooks` calls it under the backend lock,
    the same lock the settle listener runs under.
    """

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.allow_list = HostAllowList(config.allowed_hosts)
        self._by_id: dict[str, Subscription] = {}

    def create(self, scope: Scope, body: Mapping[str, Any], now: float,
               partners: frozenset[str] | None = None) -> Subscription:
        """A subscription from a schema-valid body; 400 on a URL or chaos option the sandbox refuses."""
        url = self._checked_url(body["notificationUrl"])
        _checked_event(body["eventName"])
        requested = body.get(CHAOS_FIELD)
        try:
            chaos = self.config.chaos if requested is None else chaos_from(requested, self.config.chaos)
        except ValueError as error:
            raise bad_request(str(error), [Problem(CHAOS_FIELD, str(error))]) from None
        subscription = Subscription(
            id=str(uuid.uuid4()),
            scope=scope,
            notification_url=url,
            event_name=body["eventName"],
            app_id=body.get("appId", ""),
            event_version=body.get("eventVersion", EVENT_VERSION),
            client_state=body.get("clientState", ""),
            timestamp=now,
            chaos=chaos,
            chaos_requested=dict(requested) if requested is not None else None,
            partners=partners,
        )
        self._by_id[subscription.id] = subscription
        return subscription

    def restore(self, subscription: Subscription) -> None:
        """Know a subscription again (a sandbox started again on its store)."""
        self._by_id[subscription.id] = subscription

    def clear(self) -> None:
        """Know none (a snapshot loaded: its subscriptions replace these)."""
        self._by_id.clear()

    def all(self, scope: Scope | None = None) -> list[Subscription]:
        """In creation order; every scope's when `scope` is None (control API)."""
        return [s for s in self._by_id.values() if scope is None or s.scope == scope]

    def get(self, scope: Scope, subscription_id: str) -> Subscription:
        found = self._by_id.get(subscription_id.lower())
        if found is None or found.scope != scope:
            raise subscription_not_found(subscription_id)
        return found

    def delete(self, scope: Scope, subscription_id: str) -> Subscription:
        return self._by_id.pop(self.get(scope, subscription_id).id)

    def find(self, subscription_id: str) -> Subscription | None:
        return self._by_id.get(subscription_id)

    def matching(self, scope: Scope, event_name: str) -> list[Subscription]:
        return [s for s in self._by_id.values() if s.scope == scope and s.event_name == event_name]

    def _checked_url(self, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            message = f"notificationUrl must be an absolute http or https URL (got '{url}')"
            raise bad_request(message, [Problem("notificationUrl", "is not an http(s) URL")])
        if not self.allow_list.allows(parts.hostname):
            message = (f"notificationUrl host '{parts.hostname}' is not allowed in this sandbox; "
                       f"allowed: {self.allow_list.describe()} (configure webhooks.allowedHosts)")
            raise bad_request(message, [Problem("notificationUrl", "host is not allowed")])
        return url.strip()


