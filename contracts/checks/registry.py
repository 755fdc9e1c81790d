"""The check registry: every check is one decorated function, found by reading the modules.

A check is a function `name(ctx, subject) -> Iterable[Finding] | None`:
- `None`: nothing to judge on this subject (the verdict is `skipped`, never `passed`);
- an empty list: the property holds (`passed`);
- findings: each one a violation, or a `warning` where CONTRACT.md is silent.

`@check(...)` only annotates the function; `Registry.collect()` reads the
modules of this package, so adding a check is writing one decorated function
(and one broken-target test). The CLI, the reports, `--checks` and
`--list-rules` read the registry; nothing else lists check names.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

LEVELS = ("documented", "strict")
SUBJECTS = ("order", "exchange", "delivery", "run")


@dataclass(frozen=True)
class Finding:
    """One thing a check found wrong: plain words, where, and how to see it again."""

    message: str
    where: str = ""
    details: tuple[str, ...] = ()  # the request/response, a curl command, the statuses seen
    warning: bool = False  # a difference CONTRACT.md does not decide: reported, never a failure


@dataclass(frozen=True)
class Check:
    """A registered check: what it judges, at which level, and which rules it asserts."""

    name: str
    family: str  # responses | lifecycle | webhooks | orders | listing | sync | strict
    subject: str  # order | exchange | delivery | run
    level: str  # documented: asserted at both levels; strict: only at --strictness strict
    rules: tuple[str, ...]  # ids of contracts/data/rules.yaml
    function: Callable[..., Iterable[Finding] | None] = field(repr=False, compare=False)
    doc: str = ""

    def __call__(self, ctx: Any, subject: Any) -> list[Finding] | None:
        found = self.function(ctx, subject)
        return None if found is None else list(found)


def check(*, family: str, subject: str, rules: Iterable[str], level: str = "documented") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function as a check; `Registry.collect` finds it."""
    if subject not in SUBJECTS:
        raise ValueError(f"subject must be one of {SUBJECTS}")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")

    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        doc = (function.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        function.__otacm_check__ = Check(function.__name__, family, subject, level, tuple(rules), function, doc)  # type: ignore[attr-defined]
        return function

    return mark


class Registry:
    """The checks of a run, by name, in the order their modules define them."""

    def __init__(self, checks: Iterable[Check] = ()) -> None:
        self._checks: dict[str, Check] = {}
        for item in checks:
            self.add(item)

    def add(self, item: Check) -> None:
        if item.name in self._checks:
            raise ValueError(f"two checks are named {item.name!r}")
        self._checks[item.name] = item

    @classmethod
    def collect(cls, package: str = "contracts.checks") -> "Registry":
        """Every `@check` function of the package's modules."""
        registry = cls()
        root = importlib.import_module(package)
        for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package}.{info.name}")
            for value in vars(module).values():
                found = getattr(value, "__otacm_check__", None)
                if isinstance(found, Check) and getattr(value, "__module__", "") == module.__name__:
                    registry.add(found)
        return registry

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def get(self, name: str) -> Check:
        return self._checks[name]

    @property
    def families(self) -> list[str]:
        return list(dict.fromkeys(c.family for c in self))

    def for_subject(self, subject: str) -> list[Check]:
        return [c for c in self if c.subject == subject]

    def select(self, names: Iterable[str], strictness: str) -> "Registry":
        """The checks a run asserts: by name or family (all when `names` is empty), at its level."""
        wanted = set(names)
        unknown = wanted - set(self._checks) - set(self.families)
        if unknown:
            raise ValueError(f"unknown check(s) {', '.join(sorted(unknown))}; known: "
                             f"{', '.join(self.families + list(self._checks))}")
        return Registry(c for c in self if (not wanted or c.name in wanted or c.family in wanted)
                        and (c.level == "documented" or strictness == "strict"))
