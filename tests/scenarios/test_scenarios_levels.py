"""Strictness levels in scenarios: where the docs only say "rejected", `documented` accepts any
4xx and `strict` asserts the server's exact code (`@status`), so an implementation that follows
the docs but answers 409 is not failed by a default run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from contracts.scenarios import ScenarioFormatError, load_file, load_library
from contracts.scenarios.runner import RunOptions, run_scenarios
from contracts.target import Target
from rewriting import Rewrite, broken  # noqa: F401 (the fixture)


def conflict_on_rejected_put(method: str, path: str, status: int, body: Any, state: dict) -> Any:
    """A docs-following target that answers a rejected replaceOrder 409 instead of the server's 400."""
    if method == "PUT" and status == 400:
        return 409, body
    return None


@pytest.mark.parametrize("strictness, outcome", [("documented", "passed"), ("strict", "failed")])
def test_a_rejection_code_is_exact_only_in_strict_runs(
    strictness: str, outcome: str, broken: Callable[[Rewrite], Target]
) -> None:
    library = load_library()
    chosen = [s for s in library.scenarios if s.name == "replace-rejected-when-issued"]
    report = run_scenarios(library, broken(conflict_on_rejected_put), RunOptions(strictness=strictness), chosen)
    (result,) = report.results
    assert result.outcome == outcome, result.render()
    if outcome == "failed":
        assert result.failures[0].message.startswith("@status: expected 400")


def test_status_classes_in_the_format(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    template = "scenarios:\n  - {name: s, doc: d, steps: [{call: getOrder, params: {orderId: x}, expect: {status: %s}}]}\n"
    path.write_text(template % "[4xx, 200]", encoding="utf-8")
    assert load_file(path)[0].steps[0].expect.status == ["4xx", 200]
    path.write_text(template % "4x", encoding="utf-8")
    with pytest.raises(ScenarioFormatError, match=r"a class \(4xx\)"):
        load_file(path)
