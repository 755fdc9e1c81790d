"""The Schemathesis part of `otacm verify`: the spec's operations fuzzed against a target.

Schemathesis 4.x runs through its Python engine (`schemathesis.engine`), one
cycle of the phases asked for (`examples`, `coverage`, `fuzzing`, `stateful`;
the spec's links drive the stateful phase). The run is bounded by
`max_examples` per operation and phase and by `max_time` (a hard stop of the
event stream; a phase it cuts short is a `phases_completed` warning). `seed` makes it
replayable: the same seed draws the same inputs (no example database is read).

Pinned for every request: the path parameters `tenant`, `environment`,
`company` and `partnerId`, and the API key. Positive createOrder/replaceOrder
bodies are made acceptable by a schema-local `before_call` hook of this run
(the venue's item, a visit date after the target's today, a unique reference).

Schemathesis' findings are mapped onto the strictness levels, not taken raw
(`classify`): where CONTRACT.md is silent (an empty query value, a `null`
optional field, an out-of-range `pageSize`, an unknown parameter accepted) an
accepted negative case is a `warning`; an error status other than the
documented ones for an invalid request is a warning at `documented` and a
failure at `strict`; two CONTRACT.md facts are tolerated (a read answering
`Cancelled` after delete, confirmOrder answering an Issued order unchanged).
Every answer is also kept as an `Exchange`, so the registry's exchange
checks (the strict ones among them) judge the fuzzed traffic too. Nothing
here is process-wide: no global hook, no global check.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, cast

import schemathesis
from schemathesis.engine import from_schema

from contracts.spec import load_spec
from contracts.target import Exchange, Target, TargetClient
from contracts.verify.interactions import (
    OrderObservations,
    answered_status,
    body_is_positive,
    exchange_of,
    is_positive,
    observe_order,
    reproduce_command,
)

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiSchema

PHASES = ("examples", "coverage", "fuzzing", "stateful")
# The checks `otacm verify` runs (Schemathesis' names). Left out:
# `positive_data_acceptance` (business rules reject schema-valid bodies: an
# unknown item, a duplicate reference), `unsupported_method` (it expects 405;
# CONTRACT.md: an undeclared GET/POST/PUT/PATCH/DELETE is `404 resource_not_found`,
# any other method `400 unsupported_http_method`), `missing_required_header` (none is required).
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
VISIT_DAYS_AHEAD = 30
FUZZ_NOTIFICATION_URL = "http://127.0.0.1:9/otacm-verify-fuzz"
MAX_EXCHANGES = 5000  # kept for the registry's exchange checks


@dataclass
class FuzzTarget:
    target: Target
    today: date  # on the target's clock: visit dates must not be in its past
    item_number: str = "31001"  # a venue item positive bodies order (venue fact individual_item)
    visit_time: str = "10:30:00"

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
    verdict: str = "failed"  # failed | warning


@dataclass
class FuzzTally:
    passed: int = 0
    failed: int = 0
    warned: int = 0
    failures: list[FuzzFailure] = field(default_factory=list)


@dataclass
class FuzzResult:
    seed: int
    tallies: dict[tuple[str, str], FuzzTally] = field(default_factory=dict)  # (check, operationId)
    statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))  # operationId → codes seen
    requests: int = 0
    phases: dict[str, str] = field(default_factory=dict)  # phase → status
    links: set[str] = field(default_factory=set)  # stateful links followed
    order_observations: OrderObservations = field(default_factory=dict)  # for the lifecycle checks
    exchanges: list[Exchange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # engine errors (not check failures)
    fatal: str | None = None
    stop_reason: str = ""
    current_phase: str = ""  # the phase that was running when the stream stopped
    seconds: float = 0.0
    unreachable: bool = False

    def tally(self, check: str, operation: str) -> FuzzTally:
        return self.tallies.setdefault((check, operation), FuzzTally())


def classify(check: str, operation_id: str, positive: bool, status: int, answered: str | None,
             strictness: str) -> str | None:
    """The verdict of one Schemathesis failure at this level: failed, warning, or None (tolerated)."""
    if check == "use_after_free" and answered == "Cancelled":
        return None  # deleteOrder keeps an Issued order as Cancelled: a read finding it is the contract
    if check == "negative_data_rejection":
        if operation_id == "confirmOrder" and status == 200 and answered == "Issued":
            return None  # on Issued, confirmOrder answers the order unchanged without reading the body
        return "warning"  # CONTRACT.md's silence: invalid-by-schema input an implementation may accept
    if check == "status_code_conformance" and not positive and 400 <= status < 500:
        return "failed" if strictness == "strict" else "warning"  # an invalid request's error status (server)
    return "failed"


class SchemathesisRun:
    """One Schemathesis run against one target; its state lives here, not in the module."""

    def __init__(self, target: FuzzTarget, options: FuzzOptions,
                 progress: Callable[[str], None] | None = None) -> None:
        self.target, self.options, self.progress = target, options, progress
        self.run_id = secrets.token_hex(3).upper()
        self.counter = itertools.count()
        self.operation_ids = {f"{op.method.upper()} {op.path}": op.operation_id
                              for op in load_spec().operations.values()}

    @property
    def answered_at(self) -> float | None:
        """The target's time to stamp a fuzz answer with: unknown (0.0) on a target whose clock can be warped
        (the probe warps it while Schemathesis runs, and it may never have matched this machine's clock),
        else this machine's clock at the answer (None: the interaction's timestamp)."""
        return 0.0 if self.target.target.clock_control else None

    def operation_id(self, case: Any) -> str | None:
        """The case's operationId; None for a request with a method the path does not declare."""
        if str(getattr(case, "method", case.operation.method)).upper() != case.operation.method.upper():
            return None
        return self.operation_ids.get(f"{case.operation.method.upper()} {case.operation.path}")

    def before_call(self, context: Any, case: Any, kwargs: Any) -> None:
        """Make positive bodies ones the business rules accept (the schema cannot say which items exist)."""
        operation_id = self.operation_id(case)
        if operation_id in ("createOrder", "replaceOrder") and is_positive(case):
            self.acceptable_body(operation_id, case.body)
        elif operation_id == "createWebhookSubscription" and isinstance(case.body, dict) and body_is_positive(case):
            # A loopback address nothing answers on, so the target's POSTs bother nobody; also when only a header is
            # negative (the target may accept the body, and its URL could be a receiver of this run's).
            case.body["notificationUrl"] = FUZZ_NOTIFICATION_URL

    def acceptable_body(self, operation_id: str, body: Any) -> None:
        """A positive create/replace body the business rules accept (in place)."""
        if not isinstance(body, dict):
            return
        body["partnerId"] = self.target.partner_id
        if operation_id == "createOrder":
            body["sellToOrderReference"] = f"OTACM-FZ-{self.run_id}-{next(self.counter)}"
        items = body.get("items")
        if not isinstance(items, list) or not items:
            items = [{}]
            body["items"] = items
        visit = (self.target.today + timedelta(days=VISIT_DAYS_AHEAD)).isoformat()
        for index, line in enumerate(items[:3]):
            line = line if isinstance(line, dict) else {}
            line.update(itemNumber=self.target.item_number, visitDate=visit, visitTime=self.target.visit_time)
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

    def run(self) -> FuzzResult:
        """Run Schemathesis; never raises for a failing check."""
        seed = self.options.seed if self.options.seed is not None else secrets.randbits(32)
        result = FuzzResult(seed=seed)
        started = time.monotonic()
        schema = schemathesis.openapi.from_dict(_schema_document(), config=_config(self.target, self.options, seed))
        run = self

        def map_case(context: Any, case: Any) -> Any:
            run.before_call(context, case, None)  # Schemathesis marks the function it registers: not a bound method
            return case

        def before_add_examples(context: Any, examples: list[Any]) -> None:
            for case in examples:  # the spec's examples: dates in the docs' past, the docs' items
                run.before_call(context, case, None)

        schema.hook(map_case)  # schema-scoped hooks: this run's, nobody else's
        schema.hook(before_add_examples)
        if self.options.operations:
            # include() is typed as returning BaseSchema; it returns a clone of the same (OpenAPI) schema class.
            schema = cast("OpenApiSchema", schema.include(operation_id=list(self.options.operations)))
        stream = from_schema(schema).execute()
        try:
            for event in stream:
                self.consume(event, result)
                if self.options.max_time is not None and time.monotonic() - started > self.options.max_time:
                    result.stop_reason = "max_time"
                    break
        finally:
            stream.stop()
        if result.stop_reason == "max_time":
            record_cut_short(result, self.options)
        _remove_fuzz_subscriptions(self.target, self.options)
        result.seconds = time.monotonic() - started
        return result

    # -- events ------------------------------------------------------------------------------
    def consume(self, event: Any, result: FuzzResult) -> None:
        kind = type(event).__name__
        if kind == "PhaseStarted":
            result.current_phase = event.phase.name.value
            if self.progress:
                self.progress(f"schemathesis: {event.phase.name.value} phase")
        elif kind == "PhaseFinished":
            name = event.phase.name.value
            if name in PHASES:
                result.phases[name] = event.status.value
        elif kind in ("ScenarioFinished", "FuzzScenarioFinished"):
            self.record(event.recorder, getattr(event, "phase", None), result)
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

    def record(self, recorder: Any, phase: Any, result: FuzzResult) -> None:
        phase_name = getattr(getattr(phase, "name", phase), "value", str(phase or ""))
        for case_id, node in recorder.cases.items():
            case = node.value
            operation_id = self.operation_id(case)
            label = operation_id or f"{case.method.upper()} (undeclared) {case.operation.label}"
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            if response is not None and operation_id:
                result.requests += 1
                result.statuses[operation_id].add(int(response.status_code))
                observe_order(case, operation_id, interaction, result.order_observations)
                if len(result.exchanges) < MAX_EXCHANGES:
                    result.exchanges.append(exchange_of(case, operation_id, interaction, self.answered_at))
            if node.transition is not None:
                result.links.add(f"{node.transition.id}")
            for check in recorder.checks.get(case_id, []):
                self.tally(check, case, label, interaction, phase_name, result)

    def tally(self, check: Any, case: Any, label: str, interaction: Any, phase: str, result: FuzzResult) -> None:
        tally = result.tally(check.name, label)
        response = interaction.response if interaction is not None else None
        if check.status.value == "success":
            tally.passed += 1
            return
        if check.status.value != "failure":
            return
        status = int(response.status_code) if response is not None else 0
        verdict = classify(check.name, label, is_positive(case), status, answered_status(response),
                           self.options.strictness)
        if verdict is None:
            tally.passed += 1
            return
        if verdict == "warning":
            tally.warned += 1
        else:
            tally.failed += 1
        info = check.failure_info
        if info is not None and len(tally.failures) < 5:
            failure = info.failure
            key = (str(failure.title), str(failure.message).strip())
            if all((f.title, f.message) != key for f in tally.failures):
                tally.failures.append(FuzzFailure(check.name, label, key[0], key[1],
                                                  self.reproduction(interaction, info.code_sample), phase, verdict))

    def reproduction(self, interaction: Any, code_sample: str) -> str:
        """The failing request as a pasteable curl (Schemathesis' own sample when nothing was recorded)."""
        if interaction is None or getattr(interaction, "request", None) is None:
            return code_sample.replace("'x-np-api-key: [Filtered]'", '"x-np-api-key: $OTACM_API_KEY"')
        return reproduce_command(interaction.request, self.target.target.api_key)


CUT_SHORT_CHECK = "phases_completed"  # the warning a run stopped by --max-time carries


def record_cut_short(result: FuzzResult, options: FuzzOptions) -> None:
    """A run stopped by `--max-time` before every phase asked for finished is a warning that says which.

    A phase that never ran judged nothing: passing silently would read as "the spec was fuzzed"."""
    unfinished = [name for name in PHASES if name in options.phases and name not in result.phases]
    if not unfinished:
        return
    cut = [name for name in unfinished if name == result.current_phase]
    never = [name for name in unfinished if name not in cut]
    parts = [f"the {cut[0]} phase was cut short"] if cut else []
    parts += [f"the {', '.join(never)} phase{'s' if len(never) > 1 else ''} did not run"] if never else []
    message = (f"stopped by --max-time {options.max_time:g} s after {result.requests} requests: "
               f"{' and '.join(parts)}, so what {'they' if len(unfinished) > 1 else 'it'} would have judged was not")
    tally = result.tally(CUT_SHORT_CHECK, "schemathesis run")
    tally.warned += 1
    tally.failures.append(FuzzFailure(CUT_SHORT_CHECK, "schemathesis run", "Schemathesis phases cut short", message,
                                      "raise --max-time, or leave it out, to run every phase",
                                      result.current_phase, "warning"))


# -- running ------------------------------------------------------------------------------------
def _config(target: FuzzTarget, options: FuzzOptions, seed: int) -> Any:
    checks: dict[str, Any] = {"enabled": False}
    for name in options.checks:
        checks[name] = {"enabled": True}
    # No values harvested from answers: fuzzing `DELETE /webhook/{id}` with the ids `GET /webhook` lists would
    # remove the probe's and the scenarios' subscriptions (and their orders) that run alongside.
    phases: dict[str, dict[str, Any]] = {name: {"enabled": name in options.phases} for name in PHASES}
    for name in ("examples", "coverage", "fuzzing"):
        phases[name]["extra-data-sources"] = {"responses": False}
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
        # extra (unknown) parameters are not generated: CONTRACT.md has unknown fields ignored, not rejected.
        # No example database: Hypothesis would replay what an earlier run stored (./.hypothesis) before the
        # seeded draws, so one seed would not give one set of inputs.
        "generation": {"max-examples": options.max_examples, "allow-extra-parameters": False, "database": "none"},
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


def _remove_fuzz_subscriptions(target: FuzzTarget, options: FuzzOptions) -> None:
    """Delete the subscriptions the fuzzer made (they point at FUZZ_NOTIFICATION_URL)."""
    client = TargetClient(target.target, options.request_timeout)
    listing = client.call("listWebhookSubscriptions")
    rows = listing.response.get("value", []) if listing.status == 200 and isinstance(listing.response, dict) else []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("notificationUrl") == FUZZ_NOTIFICATION_URL and row.get("id"):
            client.call("deleteWebhookSubscription", {"id": str(row["id"])})
    client.close()


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


