"""The scenario format (contracts.scenarios): loading, templates, paths, matchers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts.scenarios import (
    MISSING,
    ScenarioFormatError,
    TemplateError,
    build_body,
    load_file,
    load_library,
    match,
    parse_duration,
    render,
    resolve,
    scenarios_dir,
)

LIBRARY = scenarios_dir()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the library ------------------------------------------------------------------
def test_the_library_loads_with_sources_and_unique_names() -> None:
    library = load_library()
    names = [s.name for s in library.scenarios]
    assert len(names) == len(set(names)) >= 40
    for scenario in library.scenarios:
        assert scenario.doc and scenario.section and scenario.title, scenario.name
        assert scenario.modes <= {"async", "sync"}
    assert "orders.paid" in library.fixtures and "individual_item" in library.variables


def test_the_library_covers_every_documented_behaviour() -> None:
    scenarios = {s.name: s for s in load_library().scenarios}
    for name in [
        "submitted-settles-issued", "draft-confirm-issued", "error-statusmessage-replace-reissues",
        "cancelled-is-terminal", "scheduled-stall-recovers", "processing-stall-flips-to-error",
        "duplicate-create-rejected", "replace-rejected-when-issued", "replace-partner-change-rejected",
        "replace-reference-change-rejected", "delete-rejected-in-flight", "confirm-rejected-in-flight",
        "confirm-issued-is-noop", "delete-issued-keeps-cancelled", "delete-draft-removes", "delete-error-removes",
        "replace-draft-reissues-new-wallets", "external-references-echoed-then-stamped",
        "individual-wallet-per-ticket", "group-single-wallet", "package-wallets-tickets-and-coupons",
        "list-filter-status", "list-filter-reference-case-insensitive", "list-filter-received-window",
        "partner-isolation", "webhook-once-per-settle", "sync-create-issued", "sync-failure-error-then-replace",
    ]:
        assert name in scenarios, name
    assert {"strict", "mock-only"} <= scenarios["partner-isolation"].tags
    assert "clock" in scenarios["processing-stall-flips-to-error"].requires
    assert scenarios["sync-create-issued"].modes == {"sync"}
    assert scenarios["duplicate-create-rejected"].modes == {"async", "sync"}


def test_the_readme_example_is_a_valid_scenario(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"### A complete example\n\n```yaml\n(.*?)```", readme, re.S)
    assert example
    (scenario,) = load_file(write(tmp_path, example.group(1)))
    assert [s.kind for s in scenario.steps] == ["call", "wait_until", "call", "expect_webhook"]
    assert scenario.requires == {"webhook"}


# -- format errors say where and what ------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("scenarios: []", "expected `scenarios:` with a list"),
    ("scenarios:\n  - {name: Bad Name, doc: d, steps: [{advance_clock: 1m}]}", "lower-case slug"),
    ("scenarios:\n  - {name: a, steps: [{advance_clock: 1m}]}", "`doc`"),
    ("scenarios:\n  - {name: a, doc: d, steps: [{call: makeOrder}]}", "not an operationId"),
    ("scenarios:\n  - {name: a, doc: d, steps: [{sleep: 3}]}", "exactly one of call, wait_until"),
    ("scenarios:\n  - {name: a, doc: d, steps: [{wait_until: {order: x, status: Done}}]}", "unknown status"),
    ("scenarios:\n  - {name: a, doc: d, steps: [{advance_clock: soon}]}", "not a duration"),
    ("scenarios:\n  - {name: a, doc: d, steps: [{call: getOrder, expect: {code: 200}}]}", "unknown key(s) ['code']"),
    ("scenarios:\n  - {name: a, doc: d, colour: red, steps: [{advance_clock: 1m}]}", "unknown key(s) ['colour']"),
])
def test_format_errors_are_clear(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScenarioFormatError, match=re.escape(message)):
        load_file(write(tmp_path, text))


def test_unknown_fixture_and_duplicate_names_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "orders.yaml").write_text("paid: {a: 1}\n")
    (tmp_path / "a.yaml").write_text(
        "scenarios:\n  - {name: a, doc: d, steps: [{call: createOrder, body: {fixture: orders.nope}}]}\n")
    with pytest.raises(ScenarioFormatError, match=r"unknown fixture 'orders.nope' \(known: orders.paid\)"):
        load_library([tmp_path], root=tmp_path)
    (tmp_path / "a.yaml").write_text("scenarios:\n  - {name: a, doc: d, steps: [{advance_clock: 1m}]}\n")
    (tmp_path / "b.yaml").write_text("scenarios:\n  - {name: a, doc: d, steps: [{advance_clock: 1m}]}\n")
    with pytest.raises(ScenarioFormatError, match="already used"):
        load_library([tmp_path], root=tmp_path)


# -- pieces ----------------------------------------------------------------------------------
def test_durations() -> None:
    assert parse_duration("90s") == 90 and parse_duration("1h30m") == 5400 and parse_duration(2) == 2
    assert parse_duration("0.5s") == 0.5


def test_templates_keep_types_and_apply_filters() -> None:
    variables = {"ids": ["a", "b"], "ref": "Abc", "at": "2026-05-15T09:30:00Z", "day": "2026-05-31",
                 "order": {"items": [{"n": 3}]}}
    assert render("{{ids}}", variables) == ["a", "b"]
    assert render({"x": ["{{ ref | upper }}-1"]}, variables) == {"x": ["ABC-1"]}
    assert render("{{ref|lower}}", variables) == "abc"
    assert render("{{at | shift:-1s}}", variables) == "2026-05-15T09:29:59Z"
    assert render("{{at | shift:+2h}}", variables) == "2026-05-15T11:30:00Z"
    assert render("{{day | days:1}}", variables) == "2026-06-01"
    assert render("{{order.items[0].n}}", variables) == 3
    with pytest.raises(TemplateError, match="no variable 'nope'"):
        render("{{nope}}", variables)


def test_paths() -> None:
    body = {"items": [{"wallets": [{"id": 1, "assets": []}, {"id": 2, "assets": [{"t": "x"}]}]}]}
    assert resolve(body, "items[0].wallets[*].id") == [1, 2]
    assert resolve(body, "items[*].wallets[*].assets[*].t") == ["x"]
    assert resolve(body, "items[0].wallets[1].id") == 2
    assert resolve(body, "items[0].wallets[-1].id") == 2
    assert resolve(body, "items[3]") is MISSING
    assert resolve(body, "manifestUrl") is MISSING
    assert resolve(body, "$") == body
    with pytest.raises(ScenarioFormatError):
        resolve(body, "items[0")


def test_matchers_explain_what_they_expected() -> None:
    assert match("Issued", "Issued") == []
    assert match("Draft", "Issued") == ["expected 'Issued', got 'Draft'"]
    assert match("partner-42", {"equals_ci": "PARTNER-42"}) == []
    assert match(MISSING, {"present": False}) == []
    assert match("x", {"present": False}) == ["expected the field absent, got 'x'"]
    assert match([1, 2], {"length": 2, "distinct": True}) == []
    assert match([1, 1], {"distinct": True}) == ["expected distinct values, got duplicates 1"]
    assert match([[], [1]], {"each": {"length": 0}}) == ["[1]: expected 0 entries, got 1: [1]"]
    assert match(["a", "b"], {"disjoint_from": ["b"]}) == ["expected none of ['b'], but found ['b']"]
    assert match(["ticket", "ticket", "coupon"], {"counts": {"ticket": 2, "coupon": 1}}) == []
    assert match(["ticket"], {"counts": {"coupon": 1}}) == ["found 'coupon' 0 time(s) instead of 1 in ['ticket']"]
    assert match("An order ... ALREADY exists", {"contains": "already exists"}) == []
    assert match("", {"empty": False}) == ["expected a non-empty value, got ''"]
    assert match(["a"], {"includes": "b"}) == ["expected a list including 'b', got ['a']"]


def test_bodies_from_fixtures() -> None:
    fixtures = {"orders.paid": {"a": 1, "pay": "P", "items": [{"n": 1, "wallet": {"x": 1}}], "h": {"k": 1, "j": 2}}}
    body = build_body({"fixture": "orders.paid", "with": {"h": {"j": 3}, "b": 2},
                       "without": ["pay", "items.0.wallet"]}, fixtures)
    assert body == {"a": 1, "items": [{"n": 1}], "h": {"k": 1, "j": 3}, "b": 2}
    assert fixtures["orders.paid"]["pay"] == "P"  # the fixture itself is untouched
    assert build_body({"inline": True}, fixtures) == {"inline": True}
