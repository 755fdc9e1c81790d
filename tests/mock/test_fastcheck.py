"""The quick body check (mockserver/api/fastcheck.py) must agree with jsonschema
on every body: a yes where jsonschema says no would let a bad body through.
Thousands of mutated bodies per operation, each judged by both."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from contracts.spec import load_spec
from mockserver.api.fastcheck import compile_check
from mockserver.api.validation import RequestValidator

ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 2.5, 0.0, "", "x", "  ", "2026-06-01", "10:30:00", "1:2:3", "2026-6-1",
    "٢٠٢٦-٠٦-٠١", "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e", "21E8C1D2-3F4A-4C5B-9E6D-7F8A9B0C1D2E",
    "{21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e}", "21e8c1d23f4a4c5b9e6d7f8a9b0c1d2e", "urn:uuid:21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e",
    "x" * 50, "x" * 51, [], [1], ["a", "b"], {}, {"a": 1}, [{}], 10**20, float("inf"),
]
BASE: dict[str, Any] = {
    "partnerId": "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e",
    "sellToOrderReference": "REF-1",
    "paymentReference": "PAY",
    "sellToEmail": "a@example.com",
    "items": [{"itemNumber": "31100", "visitDate": "2026-06-01", "visitTime": "10:30:00", "quantity": 2,
               "wallet": {"names": ["A", "B"], "externalReferenceNumbers": ["1", "2"],
                          "componentSchedule": [{"itemNumber": "31001", "visitDate": "2026-06-01",
                                                 "visitTime": "11:00:00"}]}}],
}


def mutate(body: Any, rng: random.Random) -> Any:
    """Replace, drop or add one value somewhere in the body."""
    body = copy.deepcopy(body)
    containers = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            containers.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            containers.append(node)
            for value in node:
                walk(value)

    walk(body)
    node = rng.choice(containers)
    if isinstance(node, dict) and node:
        key = rng.choice(list(node))
        action = rng.random()
        if action < 0.2:
            del node[key]
        elif action < 0.3:
            node["extra"] = rng.choice(ODD_VALUES)
        else:
            node[key] = rng.choice(ODD_VALUES)
    elif isinstance(node, list) and node:
        index = rng.randrange(len(node))
        node[index] = rng.choice(ODD_VALUES) if rng.random() < 0.5 else node[index]
        if rng.random() < 0.3:
            node.clear()
    return body


@pytest.mark.parametrize("operation_id", ["createOrder", "replaceOrder", "confirmOrder"])
def test_quick_check_agrees_with_jsonschema(operation_id: str) -> None:
    checker = RequestValidator(load_spec())
    validator = checker._body_validator(operation_id)
    quick = checker._quick_checks[operation_id]
    assert quick is not None and validator is not None
    rng = random.Random(13)
    seeds = [BASE, {"paymentReference": "PAY-1"}]
    agreed = {True: 0, False: 0}
    for _ in range(4000):
        body = rng.choice(seeds)
        for _ in range(rng.randrange(1, 4)):
            body = mutate(body, rng)
        expected = validator.is_valid(body)
        assert quick(body) == expected, body
        agreed[expected] += 1
    assert agreed[True] > 100 and agreed[False] > 100  # both kinds were exercised


def test_a_keyword_it_does_not_implement_means_no_quick_check() -> None:
    spec = load_spec()
    assert compile_check({"type": "string", "enum": ["a"]}, spec.resolve) is None
    assert compile_check({"type": "object", "additionalProperties": False}, spec.resolve) is None
    assert compile_check({"type": "string", "format": "email"}, spec.resolve) is None
