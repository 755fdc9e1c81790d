"""The mutants: every place a cosmic-ray operator applies, and a reproducible sample.

A mutant is (module, operator, occurrence): the operator's n-th position in
the module, exactly as cosmic-ray's `init` numbers them, so
`cosmic_ray.mutating.mutate_code` makes the same change. The list is sorted
before sampling, so one seed on one source always picks the same mutants.
"""

from __future__ import annotations

import ast
import difflib
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The mock's rules (backend, order_input, validation, store's list filters and
# paging, issuance), its representation and its webhooks (subscriptions,
# webhooks, delivery). HTTP plumbing, the dashboard and the clock are left out.
TARGETS = (
    "mockserver/sandbox/backend.py",
    "mockserver/sandbox/order_input.py",
    "mockserver/api/validation.py",
    "mockserver/store/memory.py",
    "mockserver/sandbox/issuance.py",
    "mockserver/sandbox/representation.py",
    "mockserver/webhooks/subscriptions.py",
    "mockserver/webhooks/sending.py",
    "mockserver/webhooks/deliveries.py",
)


@dataclass(frozen=True, order=True)
class Mutant:
    """One mutation: where, which operator, and which of its occurrences."""

    module: str
    line: int
    column: int
    operator: str
    occurrence: int

    def label(self) -> str:
        """`file:line operator`, how a report names it."""
        return f"{self.module}:{self.line} {self.operator.removeprefix('core/')}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _operators() -> Iterator[tuple[str, Any]]:
    """Every cosmic-ray operator that needs no arguments, by name, instantiated."""
    import cosmic_ray.plugins  # the optional extra: imported only when mutants are made

    for name in sorted(cosmic_ray.plugins.operator_names()):
        operator_class = cosmic_ray.plugins.get_operator(name)
        if not operator_class.arguments():
            yield name, operator_class()


Span = tuple[tuple[int, int], tuple[int, int]]


def annotation_spans(source: str) -> list[Span]:
    """Where the module's type annotations are: under `from __future__ import
    annotations` they are never evaluated, so a mutant there (`X | None` to
    `X % None`) is equivalent by construction and only dilutes the sample."""
    spans: list[Span] = []
    for node in ast.walk(ast.parse(source)):
        hints = [getattr(node, "annotation", None), getattr(node, "returns", None)]
        spans += [((hint.lineno, hint.col_offset), (hint.end_lineno or hint.lineno, hint.end_col_offset or 0))
                  for hint in hints if isinstance(hint, ast.expr)]
    return spans


def _in_spans(position: tuple[int, int], spans: Sequence[Span]) -> bool:
    return any(start <= position < end for start, end in spans)


def enumerate_mutants(root: Path, modules: Sequence[str]) -> list[Mutant]:
    """Every mutant of `modules` (paths relative to `root`) outside annotations, sorted."""
    from cosmic_ray.ast import ast_nodes, get_ast_from_path

    found: list[Mutant] = []
    for module in modules:
        nodes = list(ast_nodes(get_ast_from_path(root / module)))
        hints = annotation_spans((root / module).read_text(encoding="utf-8"))
        for name, operator in _operators():
            positions = (start for node in nodes for start, _end in operator.mutation_positions(node))
            found += [Mutant(module, start[0], start[1], name, n) for n, start in enumerate(positions)
                      if not _in_spans(tuple(start), hints)]
    return sorted(found)


def sample(mutants: Sequence[Mutant], size: int, seed: int) -> list[Mutant]:
    """`size` mutants by `seed`, in source order: first `size` distinct sites
    (file, line, column), then one operator at each. Drawing mutants directly
    would give one `a + b` its 11 operator swaps' weight and sample fewer places."""
    rng = random.Random(seed)
    sites: dict[tuple[str, int, int], list[Mutant]] = {}
    for mutant in sorted(mutants):
        sites.setdefault((mutant.module, mutant.line, mutant.column), []).append(mutant)
    chosen = sorted(sites) if size >= len(sites) else sorted(rng.sample(sorted(sites), size))
    return sorted(rng.choice(sites[site]) for site in chosen)


def mutated_source(mutant: Mutant, source: str) -> str | None:
    """The module's source with the mutation applied; None if the operator no longer applies there."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    operator = cosmic_ray.plugins.get_operator(mutant.operator)()
    return mutate_code(source, operator, mutant.occurrence)


def diff(mutant: Mutant, before: str, after: str) -> str:
    """The mutation as a unified diff with one line of context."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{mutant.module}", tofile=f"b/{mutant.module}", n=1)
    return "".join(lines)
