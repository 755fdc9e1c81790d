"""Matchers of a step's `expect.fields`: equals, one_of, length, each, ... with plain-words mismatches."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any

from contracts.scenarios.model import ScenarioFormatError
from contracts.scenarios.paths import MISSING

# -- matchers ------------------------------------------------------------------------------
MATCHER_KEYS = frozenset({
    "equals", "equals_ci", "not_equals", "one_of", "contains", "matches", "length", "min_length",
    "present", "empty", "each", "includes", "excludes", "disjoint_from", "distinct", "counts", "strict", "because",
})


def is_matcher(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= MATCHER_KEYS


def check_matcher(value: Any, where: str) -> None:
    if isinstance(value, dict) and not is_matcher(value):
        odd = set(value) - MATCHER_KEYS
        if odd & {"equal", "contain", "include", "exclude", "len", "regex", "absent"}:
            raise ScenarioFormatError(f"{where}: unknown matcher key(s) {sorted(odd)}; "
                                      f"matchers: {', '.join(sorted(MATCHER_KEYS))}")
    if is_matcher(value) and "each" in value:
        check_matcher(value["each"], where + ".each")


def is_strict(matcher: Any) -> bool:
    return is_matcher(matcher) and bool(matcher.get("strict"))


def match(value: Any, matcher: Any) -> list[str]:
    """Problems with `value` against `matcher` (empty when it matches), in plain words.

    A matcher that is not a mapping of matcher keys means `equals`.
    """
    if not is_matcher(matcher):
        matcher = {"equals": matcher}
    problems: list[str] = []
    for key, expected in matcher.items():
        if key in ("strict", "because"):
            continue
        problem = _MATCHERS[key](value, expected)
        if problem:
            problems.append(problem)
    return problems


def show(value: Any, limit: int = 300) -> str:
    text = "(absent)" if value is MISSING else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _equals(value: Any, expected: Any) -> str:
    return "" if value == expected else f"expected {show(expected)}, got {show(value)}"


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, list):
        return [_fold(v) for v in value]
    return value


def _equals_ci(value: Any, expected: Any) -> str:
    if _fold(value) == _fold(expected):
        return ""
    return f"expected {show(expected)} (case-insensitive), got {show(value)}"


def _not_equals(value: Any, expected: Any) -> str:
    return f"expected anything but {show(expected)}" if value == expected else ""


def _one_of(value: Any, expected: Any) -> str:
    return "" if value in expected else f"expected one of {show(expected)}, got {show(value)}"


def _contains(value: Any, expected: Any) -> str:
    if isinstance(value, str) and str(expected).casefold() in value.casefold():
        return ""
    return f"expected text containing {str(expected)!r}, got {show(value)}"


def _matches(value: Any, expected: Any) -> str:
    if isinstance(value, str) and re.search(str(expected), value):
        return ""
    return f"expected a value matching /{expected}/, got {show(value)}"


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, (list, str, dict)) else None


def _length(value: Any, expected: Any) -> str:
    size = _sized(value)
    return "" if size == expected else f"expected {expected} entr{'y' if expected == 1 else 'ies'}, got " + (
        f"{size}: {show(value)}" if size is not None else show(value))


def _min_length(value: Any, expected: Any) -> str:
    size = _sized(value)
    return "" if size is not None and size >= expected else f"expected at least {expected} entries, got {show(value)}"


def _present(value: Any, expected: Any) -> str:
    if bool(expected) == (value is not MISSING):
        return ""
    return "expected the field to be present, but it is absent" if expected else f"expected the field absent, got {show(value)}"


def _empty(value: Any, expected: Any) -> str:
    is_empty = value is MISSING or value in ("", [], {}, None)
    if bool(expected) == is_empty:
        return ""
    return f"expected an empty value, got {show(value)}" if expected else f"expected a non-empty value, got {show(value)}"


def _each(value: Any, expected: Any) -> str:
    if not isinstance(value, list):
        return f"expected a list, got {show(value)}"
    problems = [f"[{i}]: {'; '.join(p)}" for i, item in enumerate(value) if (p := match(item, expected))]
    return "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")


def _includes(value: Any, expected: Any) -> str:
    if isinstance(value, list) and expected in value:
        return ""
    return f"expected a list including {show(expected)}, got {show(value)}"


def _excludes(value: Any, expected: Any) -> str:
    if isinstance(value, list) and expected not in value:
        return ""
    return f"expected a list without {show(expected)}, got {show(value)}"


def _disjoint_from(value: Any, expected: Any) -> str:
    if not isinstance(value, list):
        return f"expected a list, got {show(value)}"
    common = [v for v in value if v in (expected or [])]
    return f"expected none of {show(expected)}, but found {show(common)}" if common else ""


def _distinct(value: Any, expected: Any) -> str:
    if not expected:
        return ""
    if not isinstance(value, list):
        return f"expected a list, got {show(value)}"
    duplicates = sorted({repr(v) for v in value if value.count(v) > 1})
    return f"expected distinct values, got duplicates {', '.join(duplicates)}" if duplicates else ""


def _counts(value: Any, expected: Any) -> str:
    if not isinstance(value, list):
        return f"expected a list, got {show(value)}"
    wrong = [f"{key!r} {value.count(key)} time(s) instead of {want}" for key, want in dict(expected).items()
             if value.count(key) != want]
    return f"found {', '.join(wrong)} in {show(value)}" if wrong else ""


_MATCHERS = MappingProxyType({
    "equals": _equals, "equals_ci": _equals_ci, "not_equals": _not_equals, "one_of": _one_of,
    "contains": _contains, "matches": _matches, "length": _length, "min_length": _min_length,
    "present": _present, "empty": _empty, "each": _each, "includes": _includes, "excludes": _excludes,
    "disjoint_from": _disjoint_from, "distinct": _distinct, "counts": _counts,
})
