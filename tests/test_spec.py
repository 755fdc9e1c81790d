"""The OpenAPI spec against OpenAPI itself, its own examples, and the docs.

- the spec is valid OpenAPI 3.1 (openapi-spec-validator);
- every example in it validates against its schema (jsonschema, Draft 2020-12)
  at both strictness levels;
- every JSON example of docs/002 and docs/004, extracted from the page text,
  validates against the schema the spec declares for it, except the named
  slips below, which must fail (and pass once the slip is undone);
- `x-lifecycle` equals the status lifecycle table of docs/000.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

import pytest
import yaml
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import validate as validate_openapi

import docs_examples as docs
from contracts.lifecycle import load_lifecycle
from contracts.spec import load_spec, spec_path

SPEC = load_spec()
LIFECYCLE_DATA = SPEC.document["components"]["schemas"]["OrderStatus"]["x-lifecycle"]
STATUS_ENUM = SPEC.document["components"]["schemas"]["OrderStatus"]["enum"]


def needs_docs() -> None:
    if not docs.docs_dir().is_dir():
        pytest.skip(f"documentation pages not found at {docs.docs_dir()} (set OTACM_DOCS_DIR)")


def leaf_errors(errors: list[ValidationError]) -> list[ValidationError]:
    """The innermost errors, descending into oneOf/anyOf contexts."""
    leaves = []
    for error in errors:
        leaves.extend(leaf_errors(list(error.context)) if error.context else [error])
    return leaves


def error_paths(errors: list[ValidationError]) -> set[str]:
    return {"/".join(map(str, error.absolute_path)) for error in leaf_errors(errors)}


def schema_errors(name: str, value: Any, strict: bool = False) -> list[ValidationError]:
    return list(SPEC.validator(name, strict).iter_errors(value))


# -- the spec as OpenAPI ----------------------------------------------------------


def test_spec_is_valid_openapi_31() -> None:
    with open(spec_path(), encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)  # raises OpenAPIValidationError on any problem


def test_spec_path_is_the_repository_spec_in_a_checkout() -> None:
    assert spec_path().name == "channel-manager.yaml"
    assert spec_path().is_file()


# -- the spec's own examples ----------------------------------------------------

SPEC_EXAMPLES = list(SPEC.examples())


def test_spec_has_examples_and_every_component_example_is_used() -> None:
    assert len(SPEC_EXAMPLES) > 30
    used = set()
    for node in _walk(SPEC.document["paths"]) + _walk(SPEC.document["webhooks"]) + _walk(
        SPEC.document["components"]["responses"]
    ):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/examples/"):
            used.add(ref.rsplit("/", 1)[1])
    assert used == set(SPEC.document["components"]["examples"]), "an example is defined but never shown"


def _walk(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


@pytest.mark.parametrize("strict", [False, True], ids=["documented", "strict"])
@pytest.mark.parametrize(("where", "schema", "value"), SPEC_EXAMPLES, ids=[where for where, _, _ in SPEC_EXAMPLES])
def test_spec_example_validates(where: str, schema: dict[str, Any], value: Any, strict: bool) -> None:
    errors = list(SPEC.validator_for(schema, strict).iter_errors(value))
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in leaf_errors(errors)]


# -- the docs' JSON examples ----------------------------------------------------

WEBHOOK = "webhook ota_cm_order_processed"

# (docs section, role) → (operation, "request" or status code, schema it must be)
DOC_EXAMPLE_SCHEMAS: dict[tuple[str, str], tuple[str, str | int, str]] = {
    ("Submit the order", "request"): ("createOrder", "request", "OrderRequest"),
    ("Submit the order", "response"): ("createOrder", 201, "Order"),
    ("Receive the completion", "response"): ("getOrder", 200, "Order"),
    ("Confirm payment after the fact (optional)", "request"): ("confirmOrder", "request", "ConfirmRequest"),
    ("Confirm payment after the fact (optional)", "response"): ("confirmOrder", 200, "Order"),
    ("Replace an order's contents", "request"): ("replaceOrder", "request", "OrderRequest"),
    ("Replace an order's contents", "response"): ("replaceOrder", 200, "Order"),
    # the spec declares the Cancelled shape for deleteOrder (docs/000, CONTRACT.md)
    ("Cancel an order", "response"): ("deleteOrder", 200, "CancelledOrder"),
    ("Look up orders by partner", "response"): ("listOrdersByPartner", 200, "OrderList"),
    ("Payload", "payload"): (WEBHOOK, "request", "WebhookEnvelope"),
}


def _shells_instead_of_minted(order: dict[str, Any]) -> dict[str, Any]:
    order = copy.deepcopy(order)
    order.pop("manifestUrl", None)
    for line in order["items"]:
        for wallet in line["wallets"]:
            wallet["assets"] = []
            wallet.pop("manifestUrl", None)
    return order


def _cancelled_instead_of_issued(order: dict[str, Any]) -> dict[str, Any]:
    order = copy.deepcopy(order)
    order.update(status="Cancelled", items=[], jobId="")
    order.pop("manifestUrl", None)
    return order


# The documented slips this test tolerates (the spec's header lists them too):
# each must FAIL its schema, and pass once the slip is undone, so the
# tolerance cannot hide any other problem in the same example.
KNOWN_SLIPS: dict[tuple[str, str], tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    ("Submit the order", "response"): (
        "createOrder answers Submitted, but the example shows minted wallets (assets, manifestUrl) "
        "where the docs' own prose says wallets are not populated until issuance settles",
        _shells_instead_of_minted,
    ),
    ("Replace an order's contents", "response"): (
        "replaceOrder answers Submitted again, but the example shows minted wallets (assets, manifestUrl)",
        _shells_instead_of_minted,
    ),
    ("Cancel an order", "response"): (
        "deleteOrder's example shows the order still Issued with items instead of Cancelled with items: []",
        _cancelled_instead_of_issued,
    ),
}


def _doc_examples() -> dict[tuple[str, str], docs.DocExample]:
    found: dict[tuple[str, str], docs.DocExample] = {}
    for example in docs.getting_started_examples() + docs.webhook_examples():
        key = (example.section, example.role)
        assert key not in found, f"two examples for {key}"
        found[key] = example
    return found


def _declared_schema(operation: str, where: str | int) -> dict[str, Any]:
    if operation == WEBHOOK:
        definition = SPEC.webhook()
        return SPEC.resolve(definition["requestBody"])["content"]["application/json"]["schema"]
    if where == "request":
        return SPEC.request_schema(operation)
    return SPEC.response_schema(operation, where)


def test_every_doc_example_is_extracted_and_mapped() -> None:
    needs_docs()
    found = _doc_examples()
    assert set(found) == set(DOC_EXAMPLE_SCHEMAS)
    for key, example in found.items():
        operation = DOC_EXAMPLE_SCHEMAS[key][0]
        method = "POST" if operation == WEBHOOK else SPEC.operations[operation].method
        assert example.method == method, f"{example.name}: the section's curl is not {operation}"


@pytest.mark.parametrize("key", list(DOC_EXAMPLE_SCHEMAS), ids=[f"{s} {r}" for s, r in DOC_EXAMPLE_SCHEMAS])
def test_doc_example_validates_or_is_a_named_slip(key: tuple[str, str]) -> None:
    needs_docs()
    example = _doc_examples()[key]
    operation, where, schema_name = DOC_EXAMPLE_SCHEMAS[key]
    assert _declared_schema(operation, where) == {"$ref": f"#/components/schemas/{schema_name}"}
    errors = schema_errors(schema_name, example.value)
    if key not in KNOWN_SLIPS:
        assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in leaf_errors(errors)]
        return
    slip, undo = KNOWN_SLIPS[key]
    assert errors, f"{example.name} was expected to fail {schema_name} (known slip: {slip}); was the page fixed?"
    fixed = undo(example.value)
    still = schema_errors(schema_name, fixed)
    assert not still, (
        f"{example.name} fails {schema_name} for more than the known slip ({slip}): "
        f"{[f'{chr(47).join(map(str, e.absolute_path))}: {e.message}' for e in leaf_errors(still)]}"
    )


def test_create_slip_fails_exactly_on_wallets_and_manifest() -> None:
    needs_docs()
    value = _doc_examples()[("Submit the order", "response")].value
    wallet = value["items"][0]["wallets"][0]
    errors = leaf_errors(schema_errors("InFlightOrder", value))
    # `manifestUrl: false` reports at the wallet (jsonschema does not extend the
    # path for boolean schemas); the rejected instance is the wallet's manifest
    found = {("/".join(map(str, e.absolute_path)), e.validator, repr(e.instance)) for e in errors}
    assert found == {
        ("items/0/wallets/0/assets", "maxItems", repr(wallet["assets"])),
        ("items/0/wallets/0", None, repr(wallet["manifestUrl"])),
    }


def test_doc_requests_are_the_spec_request_examples() -> None:
    """The spec's request and webhook examples are the docs' own, verbatim."""
    needs_docs()
    found = _doc_examples()
    examples = SPEC.document["components"]["examples"]
    assert examples["createOrderRequest"]["value"] == found[("Submit the order", "request")].value
    assert examples["replaceOrderRequest"]["value"] == found[("Replace an order's contents", "request")].value
    assert examples["confirmOrderRequest"]["value"] == found[("Confirm payment after the fact (optional)", "request")].value
    assert examples["webhookEnvelope"]["value"] == found[("Payload", "payload")].value


# -- x-strict has teeth -----------------------------------------------------------

SERVER_BUY_FROM = "CM-260515093000-A1B2"
SERVER_JOB_ID = "5F0C3A1B9D2E4F6A8B7C6D5E4F3A2B1C"


def _issued_example() -> dict[str, Any]:
    return copy.deepcopy(SPEC.document["components"]["examples"]["issuedOrder"]["value"])


def test_strict_rejects_the_docs_22_character_buy_from_reference() -> None:
    needs_docs()
    doc_reference = _doc_examples()[("Receive the completion", "response")].value["buyFromOrderReference"]
    assert len(doc_reference) == 22
    order = _issued_example()
    order["buyFromOrderReference"] = doc_reference
    assert not schema_errors("Order", order, strict=False)
    errors = schema_errors("Order", order, strict=True)
    assert "buyFromOrderReference" in error_paths(errors)


def test_strict_rejects_a_non_hex_job_id_and_a_minted_wallet_id_on_a_shell() -> None:
    order = _issued_example()
    order["jobId"] = "TM-IMPORT-000123"
    assert not schema_errors("Order", order, strict=False)
    assert "jobId" in error_paths(schema_errors("Order", order, strict=True))

    submitted = copy.deepcopy(SPEC.document["components"]["examples"]["submittedOrder"]["value"])
    submitted["items"][0]["wallets"][0]["walletId"] = "5a1c2b3d-4e5f-6071-8293-a4b5c6d7e8f9"
    assert not schema_errors("Order", submitted, strict=False)
    assert "items/0/wallets/0/walletId" in error_paths(schema_errors("Order", submitted, strict=True))


def test_strict_requires_the_list_envelope_the_docs_show_a_bare_array() -> None:
    needs_docs()
    bare = _doc_examples()[("Look up orders by partner", "response")].value
    assert isinstance(bare, list)
    assert not schema_errors("OrderList", bare, strict=False)
    assert schema_errors("OrderList", bare, strict=True)


@pytest.mark.parametrize(
    "key",
    [("Receive the completion", "response"), ("Confirm payment after the fact (optional)", "response")],
    ids=["getOrder", "confirmOrder"],
)
def test_docs_issued_order_fails_strict_only_on_the_known_server_formats(key: tuple[str, str]) -> None:
    """CONTRACT.md's divergences (reference and jobId formats) are all strict rejects of the docs' Issued order."""
    needs_docs()
    order = copy.deepcopy(_doc_examples()[key].value)
    assert error_paths(schema_errors("Order", order, strict=True)) >= {"buyFromOrderReference", "jobId"}
    order.update(buyFromOrderReference=SERVER_BUY_FROM, jobId=SERVER_JOB_ID)
    errors = schema_errors("Order", order, strict=True)
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in leaf_errors(errors)]


# -- x-lifecycle against the docs' table --------------------------------------


def _table() -> list[tuple[str, str]]:
    return docs.lifecycle_rows(docs.read_page(docs.ORDERS_PAGE), STATUS_ENUM)


def test_lifecycle_states_are_the_table_rows_in_order() -> None:
    needs_docs()
    doc_states = [state for state, _ in _table()]
    assert doc_states == list(LIFECYCLE_DATA["states"])
    assert doc_states == STATUS_ENUM
    assert load_lifecycle().states == doc_states


def test_lifecycle_rows_equal_set_by_and_allowed() -> None:
    needs_docs()
    for state, rest in _table():
        row = LIFECYCLE_DATA["states"][state]
        assert rest == row["setBy"] + row["allowed"], state


def _removal_on_bare_delete() -> dict[str, str]:
    """'Deleting a Draft or Error order removes the order row entirely' (Replacing versus deleting)."""
    text = docs.section_text(docs.read_page(docs.ORDERS_PAGE), "Replacing versus deleting")
    match = re.search(r"Deleting an? (\w+) or (\w+) order removes the order row", text)
    assert match, "the 'Replacing versus deleting' section no longer says which deletes remove the row"
    return {match.group(1): "removed", match.group(2): "removed"}


def doc_transitions() -> set[tuple[str, str, str | None]]:
    """(from, to, call) derived from the table text by explicit phrase rules.

    `call` is the operation the doc names for the move, None for background
    moves. Every `;`-separated clause of "Allowed transitions" must match a
    rule, so a new clause in the docs cannot be silently ignored.
    """
    bare_delete = _removal_on_bare_delete()
    found: set[tuple[str, str, str | None]] = set()
    for state, rest in _table():
        set_by = LIFECYCLE_DATA["states"][state]["setBy"]
        assert rest.startswith(set_by)
        allowed = rest[len(set_by):]

        # "deleteOrder on an Issued or Cancelled order" sets Cancelled
        match = re.fullmatch(r"deleteOrder on an? (\w+) or (\w+) order", set_by)
        if match:
            found |= {(match.group(1), state, "deleteOrder"), (match.group(2), state, "deleteOrder")}

        for clause in (part.strip() for part in allowed.split(";")):
            matched = False
            if clause == "terminal":
                matched = True
            arrow = re.match(r"→ (\w+(?: / \w+)*)(.*)$", clause)
            if arrow:  # → X / Y / Z, optionally "via confirmOrder"
                via = re.search(r"\bvia (\w+)", arrow.group(2))
                found |= {(state, target, via.group(1) if via else None) for target in arrow.group(1).split(" / ")}
                matched = True
            for phrase in ("recovered to", "flipped to"):
                hit = re.search(rf"\b{phrase} (\w+)", clause)
                if hit:
                    found.add((state, hit.group(1), None))
                    matched = True
            if re.match(r"replace\b", clause):
                found.add((state, "Submitted", "replaceOrder"))  # createOrder / replaceOrder set Submitted
                matched = True
            if re.match(r"delete\b", clause):
                if "removes the order row" in clause:
                    target = "removed"
                elif "keeps the order row" in clause:
                    target = "Cancelled"
                else:
                    target = bare_delete[state]
                found.add((state, target, "deleteOrder"))
                matched = True
            assert matched, f"no rule reads the {state} clause {clause!r}"
    return found


def test_lifecycle_transitions_equal_the_table() -> None:
    needs_docs()
    derived = doc_transitions()
    spec_pairs = {(t["from"], t["to"]) for t in LIFECYCLE_DATA["transitions"]}
    assert {(source, target) for source, target, _ in derived} == spec_pairs
    spec_triples = {(t["from"], t["to"], t["trigger"]) for t in LIFECYCLE_DATA["transitions"]}
    for source, target, call in derived:
        if call is not None:
            assert (source, target, call) in spec_triples, f"{source} → {target} is not triggered by {call}"
    # the calls the spec names are exactly the ones the docs name
    calls = {t["trigger"] for t in LIFECYCLE_DATA["transitions"] if t["trigger"] in SPEC.operations}
    assert calls == {call for _, _, call in derived if call}


def test_lifecycle_submitted_is_set_by_create_and_replace() -> None:
    needs_docs()
    set_by = dict(_table())["Submitted"]
    assert set_by.startswith("createOrder / replaceOrder")
    assert LIFECYCLE_DATA["initial"] == "Submitted"
    assert {t["from"] for t in LIFECYCLE_DATA["transitions"] if t["to"] == "Submitted" and t["trigger"] == "replaceOrder"} == {
        "Draft",
        "Error",
    }


def test_lifecycle_timings_are_the_documented_ones() -> None:
    needs_docs()
    orders = docs.read_page(docs.ORDERS_PAGE)
    prose = docs.read_page(docs.GETTING_STARTED_PROSE)
    timing = LIFECYCLE_DATA["timing"]
    scheduled = re.search(r"recovered to Submitted after (\d+) min stall", orders)
    processing = re.search(r"flipped to Error after a (\d+)-hour stall", orders)
    pickup = re.search(r"roughly a\s+(\d+)-second\s+cadence", prose)
    assert scheduled and processing and pickup
    assert timing["scheduledStallSeconds"] == int(scheduled.group(1)) * 60 == 300
    assert timing["processingStallSeconds"] == int(processing.group(1)) * 3600 == 3600
    assert timing["pickupIntervalSeconds"] == int(pickup.group(1)) == 60
    stalls = {t["trigger"]: t.get("afterSeconds") for t in LIFECYCLE_DATA["transitions"] if "afterSeconds" in t}
    assert stalls == {"scheduledStall": 300, "processingStall": 3600}
    lifecycle = load_lifecycle()
    assert (lifecycle.pickup_interval, lifecycle.scheduled_stall, lifecycle.processing_stall) == (60, 300, 3600)


def test_webhook_fires_on_the_documented_terminal_states() -> None:
    needs_docs()
    text = docs.read_page(docs.WEBHOOK_PAGE)
    match = re.search(r"settled to a terminal state \(`?(\w+)`?, `?(\w+)`?, or `?(\w+)`?\)", text)
    assert match
    documented = set(match.groups())
    assert {t["to"] for t in LIFECYCLE_DATA["transitions"] if t.get("webhook")} == documented
    assert set(LIFECYCLE_DATA["settled"]) == documented
    payload_status = SPEC.document["components"]["schemas"]["WebhookEvent"]["properties"]["payload"]["properties"]["status"]
    assert set(payload_status["enum"]) == documented


def test_lifecycle_is_closed() -> None:
    states = set(LIFECYCLE_DATA["states"])
    for transition in LIFECYCLE_DATA["transitions"] + LIFECYCLE_DATA["syncTransitions"]:
        assert transition["from"] in states
        assert transition["to"] in states | {LIFECYCLE_DATA["removed"]}
    for group in ("inFlight", "settled", "terminal", "sticky"):
        assert set(LIFECYCLE_DATA[group]) <= states, group
    assert LIFECYCLE_DATA["initial"] in states

