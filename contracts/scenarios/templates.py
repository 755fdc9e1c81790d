"""`{{ templates }}` in scenario values: variables, filters (upper, lower, shift, days)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from contracts.scenarios.model import parse_duration
from contracts.scenarios.paths import MISSING, resolve

# -- templates ----------------------------------------------------------------------
_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")


class TemplateError(ValueError):
    pass


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace `{{ name }}` / `{{ name.path[0] | filter }}` in strings, recursively.

    A string that is one template keeps the variable's type (a list stays a
    list); templates inside a longer string are formatted as text. Filters:
    `upper`, `lower`, `shift:<duration>` (an ISO 8601 instant moved by e.g.
    `-1s` or `+2h`), `days:<n>` (a YYYY-MM-DD date moved by n days).
    """
    if isinstance(value, str):
        whole = _TEMPLATE.fullmatch(value.strip()) if value.strip().startswith("{{") else None
        if whole and whole.group(0) == value.strip():
            return _evaluate(whole.group(1), variables)
        return _TEMPLATE.sub(lambda m: _text(_evaluate(m.group(1), variables)), value)
    if isinstance(value, list):
        return [render(item, variables) for item in value]
    if isinstance(value, dict):
        return {render(key, variables): render(item, variables) for key, item in value.items()}
    return value


def template_names(value: Any) -> list[str]:
    """The variable names `{{ }}` templates in `value` start with, in order of appearance
    (recursively; `{{ order.items[0] | upper }}` names `order`): what a scenario needs defined."""
    names: list[str] = []
    if isinstance(value, str):
        for expression in _TEMPLATE.findall(value):
            head = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)", expression)
            if head:
                names.append(head.group(1))
    elif isinstance(value, list):
        for item in value:
            names += template_names(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            names += template_names(key) + template_names(item)
    return names


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    name, *filters = [part.strip() for part in expression.split("|")]
    head = re.match(r"[A-Za-z_][A-Za-z0-9_]*", name)
    if not head or head.group(0) not in variables:
        known = ", ".join(sorted(variables))
        raise TemplateError(f"{{{{ {expression} }}}}: no variable {name!r} (known: {known})")
    value: Any = variables[head.group(0)]
    rest = name[head.end():].lstrip(".")
    if rest:
        found = resolve(value, rest)
        if found is MISSING:
            raise TemplateError(f"{{{{ {expression} }}}}: {rest!r} not found in {head.group(0)}")
        value = found
    for spec in filters:
        value = _filter(value, spec, expression)
    return value


def _filter(value: Any, spec: str, expression: str) -> Any:
    name, _, argument = spec.partition(":")
    name = name.strip()
    if name == "upper":
        return _text(value).upper()
    if name == "lower":
        return _text(value).lower()
    if name == "shift":
        instant = datetime.fromisoformat(_text(value).replace("Z", "+00:00"))
        sign = -1 if argument.strip().startswith("-") else 1
        moved = instant + timedelta(seconds=sign * parse_duration(argument.strip().lstrip("+-"), expression))
        return moved.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if name == "days":
        day = datetime.strptime(_text(value), "%Y-%m-%d") + timedelta(days=int(argument))
        return day.strftime("%Y-%m-%d")
    raise TemplateError(f"{{{{ {expression} }}}}: unknown filter {name!r} (upper, lower, shift:<duration>, days:<n>)")


