"""The Schemathesis part of `otacm verify`: the spec's operations fuzzed against a target.

Schemathesis 4.x runs through its Python engine (`schemathesis.engine`), one
cycle of the phases asked for (`examples`, `coverage`, `fuzzing`, `stateful`;
the spec's links drive the stateful phase), with the checks asked for. The
run is bounded by `max_examples` per operation and phase and by `max_time`
(a hard stop of the event stream: Schemathesis' own `max-time` would repeat
fuzzing and stateful until the budget is spent). `seed` makes it replayable.

Pinned for every request: the path parameters `tenant`, `environment`,
`company` (the target's) and `partnerId` (the given partner), and the API key
in `x-np-api-key`. Positive createOrder/replaceOrder bodies are made
acceptable by a `before_call` hook (the spec's schema cannot say which item
numbers exist or that a visit date must not be in the past on the target's
clock): the given partner, a catalog item of the spec's examples, a visit
date 30 days after the target's today, a unique `sellToOrderReference` on
create. Negative cases are left alone.

Two tolerances, following CONTRACT.md (the README lists them):
- `use_after_free` does not count a read answering `Cancelled`: deleteOrder
  keeps an Issued order as `Cancelled` (getOrder 200 afterwards is the contract).
- `negative_data_rejection` does not count confirmOrder answering `200` with an
  `Issued` order: on Issued it is a no-op that does not read the body.

The strict checks of contracts.checks.strict are registered as Schemathesis
checks (`strict_response_schema`, `strict_key_order`, `strict_error_message`)
and do nothing outside a `--strictness strict` run of this module.
"""

from __future__ import annotations

import copy
import json
import itertools
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

import schemathesis
from schemathesis.engine import from_schema

from contracts.spec import load_spec
from contracts.target import Target, TargetClient
from contracts.checks.strict import strict_error_message, strict_key_order, strict_response_schema

PHASES = ("examples", "coverage", "fuzzing", "stateful")
# The checks `otacm verify` runs by default (Schemathesis' names). Left out:
# `positive_data_acceptance` (business rules reject schema-valid bodies: an
# unknown item, a duplicate reference), `unsupported_method` (CONTRACT.md: an
# undeclared method is `404 resource_not_found`, never `405`),
# `missing_required_header` (no header is required by the spec).
SCHEMATHESIS_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)
STRICT_CHECK_NAMES = ("strict_response_schema", "strict_key_order", "strict_error_message")
ALL_CHECKS = SCHEMATHESIS_CHECKS + STRICT_CHECK_NAMES
VISIT_DAYS_AHEAD = 30
FUZZ_NOTIFICATION_URL = "http://127.0.0.1:9/otacm-verify-fuzz"


@dataclass
class FuzzTarget:
    target: Target
    today: date  # on the target's clock: visit dates must not be in its past

    @property
    def partner_id(self) -> str:
        return self.target.partner_id


@dataclass
class FuzzOptions:
    phases: tuple[str, ...] = PHASES
    checks: tuple[str, ...] = SCHEMATHESIS_CHECKS
    strictness: str = "documented"
    max_examples: int = 25
    max_time: float | None = None  # seconds; a hard stop
    seed: int | None = None
    operations: tuple[str, ...] = ()  # operationIds; empty: all
    request_timeout: float = 10.0
    workers: int = 1


@dataclass
class FuzzFailure:
    check: str
    operation: str  # operationId
    title: str
    message: str
    reproduce: str  # a curl command
    phase: str


@dataclass
class FuzzTally:
    passed: int = 0
    failed: int = 0
    failures: list[FuzzFailure] = field(default_factory=list)


@dataclass
class FuzzResult:
    seed: int
    tallies: dict[tuple[str, str], FuzzTally] = field(default_factory=dict)  # (check, operationId)
    statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))  # operationId → codes seen
    requests: int = 0
    phases: dict[str, str] = field(default_factory=dict)  # phase → status
    links: set[str] = field(default_factory=set)  # stateful links followed
    link_statuses: dict[str, set[int]] = field(default_factory=dict)
    # orderId → [(time, status, operationId, sync)] as the order calls answered, for the lifecycle checks
    order_observations: dict[str, list[tuple[float, str, str, bool]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # engine errors (not check failures)
    fatal: str | None = None
    stop_reason: str = ""
    seconds: float = 0.0
    unreachable: bool = False

    def tally(self, check: str, operation: str) -> FuzzTally:
        return self.tallies.setdefault((check, operation), FuzzTally())


# -- the active run, seen by the global hook and checks ------------------------------------
@dataclass
class _Active:
    target: FuzzTarget
    options: FuzzOptions
    run_id: str
    counter: Any = field(default_factory=itertools.count)
    item_numbers: tuple[str, ...] = ("31001",)


_ACTIVE: _Active | None = None
_ACTIVE_LOCK = threading.Lock()
_REGISTERED = False


def _operation_id(case: Any) -> str | None:
    """The case's operationId; None for a request with a method the path does not declare."""
    if str(getattr(case, "method", case.operation.method)).upper() != case.operation.method.upper():
        return None
    label = f"{case.operation.method.upper()} {case.operation.path}"
    return _operation_ids().get(label)


_LABELS: dict[str, str] | None = None


def _operation_ids() -> dict[str, str]:
    global _LABELS
    if _LABELS is None:
        _LABELS = {f"{op.method.upper()} {op.path}": op.operation_id for op in load_spec().operations.values()}
    return _LABELS


def _is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    if meta is None:
        return True
    try:
        return not meta.generation.mode.is_negative and not any(
            info.mode.is_negative for info in getattr(meta, "components", {}).values()
        )
    except AttributeError:
        return True


def _spec_item_numbers() -> tuple[str, ...]:
    """Item numbers the spec's request examples use: the venue's catalog as the docs show it."""
    numbers = []
    for where, _, value in load_spec().examples():
        if " request " in where and isinstance(value, dict):
            for line in value.get("items") or []:
                if isinstance(line, dict) and isinstance(line.get("itemNumber"), str):
                    numbers.append(line["itemNumber"])
    return tuple(dict.fromkeys(numbers)) or ("31001",)


def _acceptable_body(active: _Active, operation_id: str, body: Any) -> None:
    """Make a positive create/replace body one the business rules accept (in place)."""
    if not isinstance(body, dict):
        return
    target = active.target
    body["partnerId"] = target.partner_id
    if operation_id == "createOrder":
        body["sellToOrderReference"] = f"OTACM-FZ-{active.run_id}-{next(active.counter)}"
    items = body.get("items")
    if not isinstance(items, list) or not items:
        items = [{}]
        body["items"] = items
    visit = (target.today + timedelta(days=VISIT_DAYS_AHEAD)).isoformat()
    for index, line in enumerate(items[:3]):
        if not isinstance(line, dict):
            line = {}
        line["itemNumber"] = active.item_numbers[index % len(active.item_numbers)]
        line["visitDate"] = visit
        line["visitTime"] = "10:30:00"
        quantity = line.get("quantity", 1)
        line["quantity"] = quantity if isinstance(quantity, int) and 1 <= quantity <= 3 else 1
        wallet = line.get("wallet")
        if isinstance(wallet, dict):
            wallet.pop("componentSchedule", None)
            for key in ("names", "externalReferenceNumbers"):
                values = wallet.get(key)
                if isinstance(values, list) and len(values) != line["quantity"]:
                    wallet[key] = [f"{key[:4].upper()}-{i}" for i in range(1, line["quantity"] + 1)]
        items[index] = line
    del items[3:]


def _register() -> None:
    """Register the hook, the failure filter and the strict checks once per process."""
    global _REGISTERED
    if _REGISTERED:
        return
    _REGISTERED = True

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: Any) -> None:  # noqa: ARG001
        active = _ACTIVE
        if active is None:
            return
        operation_id = _operation_id(case)
        if operation_id in ("createOrder", "replaceOrder") and _is_positive(case):
            _acceptable_body(active, operation_id, case.body)
        elif operation_id == "createWebhookSubscription" and _is_positive(case) and isinstance(case.body, dict):
            # a loopback address nothing answers on: the target may POST there, nobody is bothered
            case.body["notificationUrl"] = FUZZ_NOTIFICATION_URL

    @schemathesis.hook
    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:  # noqa: ARG001
        if _ACTIVE is None:
            return True
        return not _tolerated(failure, case, response)

    def strict_check(name: str, function: Callable[..., list[Any]]) -> None:
        def check(ctx: Any, response: Any, case: Any) -> bool | None:  # noqa: ARG001
            # Schemathesis: a truthy return means "skipped", None means "passed".
            active = _ACTIVE
            if active is None or active.options.strictness != "strict":
                return True
            operation_id = _operation_id(case)
            if operation_id is None and name != "strict_error_message":
                return True
            try:
                body = response.json()
            except Exception:  # noqa: BLE001 — not JSON: content_type_conformance reports it
                return True
            if name == "strict_error_message":
                violations = function(operation_id, response.status_code, body, case.path_parameters or {})
            else:
                violations = function(operation_id, response.status_code, body)
            if violations:
                raise AssertionError("\n".join(v.message for v in violations))
            return None

        check.__name__ = name
        check.__qualname__ = name
        schemathesis.check(check)

    strict_check("strict_response_schema", strict_response_schema)
    strict_check("strict_key_order", strict_key_order)
    strict_check("strict_error_message", strict_error_message)


def _tolerated(failure: Any, case: Any, response: Any) -> bool:
    """Failures CONTRACT.md says are the contract (see the module docstring)."""
    kind = type(failure).__name__
    if kind == "UseAfterFree":
        return _answered_status(response) == "Cancelled"
    if kind == "AcceptedNegativeData" and _operation_id(case) == "confirmOrder":
        # confirmOrder on an Issued order answers it unchanged without reading the body
        return response.status_code == 200 and _answered_status(response) == "Issued"
    return False


def _answered_status(response: Any) -> str | None:
    try:
        return response.json().get("status")
    except Exception:  # noqa: BLE001 — not a JSON object: nothing to tolerate
        return None


# -- running ------------------------------------------------------------------------------------
def _config(target: FuzzTarget, options: FuzzOptions, seed: int) -> Any:
    checks: dict[str, Any] = {"enabled": False}
    for name in options.checks:
        checks[name] = {"enabled": True}
    if options.strictness == "strict":
        for name in STRICT_CHECK_NAMES:
            checks[name] = {"enabled": name in options.checks or not set(options.checks) & set(STRICT_CHECK_NAMES)}
    phases = {name: {"enabled": name in options.phases} for name in PHASES}
    phases["stateful"]["max-steps"] = max(4, options.max_examples)
    # the spec's own links drive the stateful phase (inferred ones would replace them)
    phases["stateful"]["inference"] = {"algorithms": []}
    data: dict[str, Any] = {
        "seed": seed,
        "base-url": target.target.server,
        "headers": {"x-np-api-key": target.target.api_key},
        "parameters": {
            "tenant": target.target.address.tenant,
            "environment": target.target.address.environment,
            "company": target.target.address.company,
            "partnerId": target.partner_id,
        },
        # extra (unknown) parameters are not generated: CONTRACT.md has unknown fields ignored, not rejected
        "generation": {"max-examples": options.max_examples, "allow-extra-parameters": False},
        "checks": checks,
        "phases": phases,
        "request-timeout": options.request_timeout,
        "workers": options.workers,
    }
    return schemathesis.Config.from_dict(data)


def _schema_document() -> dict[str, Any]:
    """The spec as Schemathesis sees it: the webhook (a call *to* the client) left out."""
    document = copy.deepcopy(load_spec().document)
    document.pop("webhooks", None)
    return document


def run_fuzz(
    target: FuzzTarget,
    options: FuzzOptions,
    progress: Callable[[str], None] | None = None,
) -> FuzzResult:
    """Run Schemathesis against `target`; never raises for a failing check."""
    global _ACTIVE
    _register()
    seed = options.seed if options.seed is not None else secrets.randbits(32)
    result = FuzzResult(seed=seed)
    started = time.monotonic()
    schema = schemathesis.openapi.from_dict(_schema_document(), config=_config(target, options, seed))
    if options.operations:
        schema = schema.include(operation_id=list(options.operations))
    active = _Active(target, options, secrets.token_hex(3).upper(), item_numbers=_spec_item_numbers())
    with _ACTIVE_LOCK:
        _ACTIVE = active
        try:
            stream = from_schema(schema).execute()
            try:
                for event in stream:
                    _consume(event, result, progress)
                    if options.max_time is not None and time.monotonic() - started > options.max_time:
                        result.stop_reason = "max_time"
                        stream.stop()
                        break
            finally:
                stream.stop()
        finally:
            _ACTIVE = None
    _remove_fuzz_subscriptions(target, options)
    result.seconds = time.monotonic() - started
    return result


def _remove_fuzz_subscriptions(target: FuzzTarget, options: FuzzOptions) -> None:
    """Delete the subscriptions the fuzzer made (they point at FUZZ_NOTIFICATION_URL)."""
    client = TargetClient(target.target, options.request_timeout)
    listing = client.call("listWebhookSubscriptions")
    rows = listing.response.get("value", []) if listing.status == 200 and isinstance(listing.response, dict) else []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("notificationUrl") == FUZZ_NOTIFICATION_URL and row.get("id"):
            client.call("deleteWebhookSubscription", {"id": str(row["id"])})
    client.close()


def _consume(event: Any, result: FuzzResult, progress: Callable[[str], None] | None) -> None:
    kind = type(event).__name__
    if kind == "PhaseStarted" and progress:
        progress(f"schemathesis: {event.phase.name.value} phase")
    elif kind == "PhaseFinished":
        name = event.phase.name.value
        if name in PHASES:
            result.phases[name] = event.status.value
    elif kind in ("ScenarioFinished", "FuzzScenarioFinished"):
        _record(event.recorder, getattr(event, "phase", None), result)
        if progress and kind == "ScenarioFinished" and event.recorder.label:
            failed = any(c.status.value == "failure" for checks in event.recorder.checks.values() for c in checks)
            progress(f"  {'FAIL' if failed else 'ok  '} {event.recorder.label}")
    elif kind == "NonFatalError":
        text = f"{event.label}: {getattr(event.info, 'title', '')} {getattr(event.info, 'message', '')}".strip()
        result.errors.append(text)
        if _is_unreachable(event.value):
            result.unreachable = True
    elif kind == "FatalError":
        result.fatal = f"{type(event.exception).__name__}: {event.exception}"
        if _is_unreachable(event.exception):
            result.unreachable = True
    elif kind == "EngineFinished":
        result.stop_reason = result.stop_reason or event.stop_reason.value


def _is_unreachable(error: Any) -> bool:
    import requests

    current = error
    for _ in range(5):
        if current is None:
            return False
        if isinstance(current, (requests.ConnectionError, ConnectionError)):
            return True
        current = getattr(current, "__cause__", None) or getattr(current, "__context__", None)
    return False


def _record(recorder: Any, phase: Any, result: FuzzResult) -> None:
    phase_name = getattr(getattr(phase, "name", phase), "value", str(phase or ""))
    for case_id, node in recorder.cases.items():
        operation_id = _operation_id(node.value) or f"{node.value.method.upper()} (undeclared) {node.value.operation.label}"
        interaction = recorder.interactions.get(case_id)
        if interaction is not None and interaction.response is not None and "(undeclared)" not in operation_id:
            result.requests += 1
            result.statuses[operation_id].add(int(interaction.response.status_code))
        if interaction is not None and interaction.response is not None:
            _observe_order(node.value, operation_id, interaction, result)
        if node.transition is not None:
            result.links.add(f"{node.transition.id}")
            if interaction is not None and interaction.response is not None:
                result.link_statuses.setdefault(node.transition.id, set()).add(int(interaction.response.status_code))
        for check in recorder.checks.get(case_id, []):
            tally = result.tally(check.name, operation_id)
            if check.status.value == "success":
                tally.passed += 1
            elif check.status.value == "failure":
                tally.failed += 1
                info = check.failure_info
                if info is not None and len(tally.failures) < 5:
                    failure = info.failure
                    key = (failure.title, failure.message)
                    if all((f.title, f.message) != key for f in tally.failures):
                        tally.failures.append(FuzzFailure(
                            check.name, operation_id, str(failure.title), str(failure.message).strip(),
                            info.code_sample, phase_name,
                        ))


ORDER_CALLS = ("createOrder", "getOrder", "replaceOrder", "confirmOrder", "deleteOrder")


def _observe_order(case: Any, operation_id: str, interaction: Any, result: FuzzResult) -> None:
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


def spec_links() -> list[str]:
    """Every link of the spec as `<operationId>.<link>` (stateful coverage's denominator)."""
    spec = load_spec()
    links = []
    for operation in spec.operations.values():
        for status, response in operation.definition.get("responses", {}).items():
            for name in spec.resolve(response).get("links", {}) or {}:
                links.append(f"{operation.operation_id} {status} → {name}")
    return links
