"""The scenario format: YAML files under `scenarios/` and their loader.

A scenario is one documented behaviour written as steps a partner would take:
call an operation (by the spec's `operationId`) and check its answer, wait for
an order to reach a status, wait for a webhook, move the mock's clock. The
format is described for users in `scenarios/README.md`; this module parses
and validates it, renders `{{ templates }}`, resolves field paths
(`items[0].wallets[*].externalReferenceNumber`) and evaluates matchers.
Running scenarios is `contracts.runner`'s job.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from contracts.spec import data_dir, load_spec
from mockserver.clock import duration_with_units

FIXTURES_DIR = "fixtures"
VARS_FILE = "vars.yaml"
MODE_TAGS = ("async", "sync")
KNOWN_TAGS_HINT = "async, sync, strict, mock-only, webhook, clock"


class ScenarioFormatError(ValueError):
    """A scenario file that does not follow the format (says which file and where)."""


def scenarios_dir() -> Path:
    """The shipped scenario library (inside the wheel, else the repo's `scenarios/`)."""
    return data_dir("scenarios")


# -- durations ----------------------------------------------------------------
def parse_duration(value: Any, where: str = "") -> float:
    """Seconds from `90` (a number), `90s`, `5m`, `2h`, `1d`, `1h30m`, `0.5s`
    (the mock's grammar: a string needs its units)."""
    if isinstance(value, bool):
        raise ScenarioFormatError(f"{where}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return duration_with_units(str(value))
    except ValueError as error:
        raise ScenarioFormatError(f"{where}: {error}") from None


# -- the model -------------------------------------------------------------------
@dataclass
class Expect:
    """What a step's answer must be. Empty fields assert nothing."""

    status: list[int] = field(default_factory=list)  # HTTP status code(s)
    order_status: list[str] = field(default_factory=list)  # the body's `status`, any of
    fields: dict[str, Any] = field(default_factory=dict)  # path → matcher (see `match`)
    schema: bool = True  # validate the body against the spec's response schema


@dataclass
class Step:
    """One step. `kind` is call | wait_until | expect_webhook | advance_clock."""

    kind: str
    index: int
    title: str = ""
    # call
    operation: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    auth: str = "default"  # default | other | none
    # wait_until / expect_webhook
    order: Any = None
    statuses: list[str] = field(default_factory=list)
    within: float | None = None
    every: float | None = None
    count: int | None = None
    quiet: float = 0.0
    # advance_clock
    seconds: float = 0.0
    # all
    expect: Expect = field(default_factory=Expect)
    save: dict[str, str] = field(default_factory=dict)

    def label(self) -> str:
        """`step 3 (call createOrder: submit the order)`, as failures name it."""
        what = {
            "call": f"call {self.operation}",
            "wait_until": f"wait_until {'|'.join(self.statuses)}",
            "expect_webhook": "expect_webhook" + (f" {'|'.join(self.statuses)}" if self.statuses else ""),
            "advance_clock": f"advance_clock {self.seconds:g}s",
        }[self.kind]
        return f"step {self.index} ({what}{': ' + self.title if self.title else ''})"


@dataclass
class Scenario:
    name: str
    title: str
    doc: str
    section: str
    tags: frozenset[str]
    steps: list[Step]
    path: Path | None = None
    requires: frozenset[str] = frozenset()  # clock | webhook

    @property
    def modes(self) -> frozenset[str]:
        """API modes the scenario applies to: its mode tags, else async only."""
        modes = self.tags & set(MODE_TAGS)
        return frozenset(modes) if modes else frozenset({"async"})

    @property
    def source(self) -> str:
        return f"{self.doc} — {self.section}" if self.section else self.doc


@dataclass
class Library:
    """Loaded scenarios plus the fixtures and default variables they use."""

    scenarios: list[Scenario]
    fixtures: dict[str, Any]
    variables: dict[str, Any]


# -- loading -----------------------------------------------------------------------
def load_library(paths: Iterable[Path | str] | None = None, root: Path | None = None) -> Library:
    """Scenarios from files or folders (default: the whole library), with the
    fixtures and `vars.yaml` of the library folder `root` (default: the shipped one,
    or the folder of the first path that has a `fixtures/` folder next to it)."""
    root = root or scenarios_dir()
    files: list[Path] = []
    for raw in list(paths or [root]):
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.yaml") if _is_scenario_file(p, path)))
        elif path.is_file():
            files.append(path)
        else:
            raise ScenarioFormatError(f"{path}: no such scenario file or folder")
    fixtures = load_fixtures(root / FIXTURES_DIR)
    variables = _read_yaml(root / VARS_FILE) if (root / VARS_FILE).is_file() else {}
    scenarios: list[Scenario] = []
    seen: dict[str, Path] = {}
    for file in files:
        for scenario in load_file(file):
            if scenario.name in seen:
                raise ScenarioFormatError(
                    f"{file}: scenario name {scenario.name!r} is already used in {seen[scenario.name]}"
                )
            seen[scenario.name] = file
            scenarios.append(scenario)
    for scenario in scenarios:
        _check_fixture_refs(scenario, fixtures)
    return Library(scenarios, fixtures, variables)


def load_scenarios(paths: Iterable[Path | str] | None = None) -> list[Scenario]:
    return load_library(paths).scenarios


def _is_scenario_file(path: Path, base: Path) -> bool:
    relative = path.relative_to(base).parts
    return FIXTURES_DIR not in relative[:-1] and path.name != VARS_FILE


def load_fixtures(folder: Path) -> dict[str, Any]:
    """`fixtures/<file>.yaml` holding `name: body` → `{"<file>.<name>": body}`."""
    fixtures: dict[str, Any] = {}
    if not folder.is_dir():
        return fixtures
    for file in sorted(folder.glob("*.yaml")):
        data = _read_yaml(file)
        for name, body in data.items():
            fixtures[f"{file.stem}.{name}"] = body
    return fixtures


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise ScenarioFormatError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ScenarioFormatError(f"{path}: expected a YAML mapping at the top level")
    return data


def load_file(path: Path) -> list[Scenario]:
    """The scenarios of one file: `scenarios: [...]`, with optional file-wide `doc` and `tags`."""
    data = _read_yaml(path)
    unknown = set(data) - {"scenarios", "doc", "tags"}
    if unknown:
        raise ScenarioFormatError(f"{path}: unknown top-level key(s) {sorted(unknown)}; expected scenarios, doc, tags")
    raw_list = data.get("scenarios")
    if not isinstance(raw_list, list) or not raw_list:
        raise ScenarioFormatError(f"{path}: expected `scenarios:` with a list of scenarios")
    file_tags = _str_list(data.get("tags", []), f"{path}: tags")
    return [_scenario(raw, path, i, data.get("doc"), file_tags) for i, raw in enumerate(raw_list)]


_SCENARIO_KEYS = {"name", "title", "doc", "section", "tags", "steps", "requires"}


def _scenario(raw: Any, path: Path, index: int, file_doc: Any, file_tags: list[str]) -> Scenario:
    where = f"{path}: scenarios[{index}]"
    if not isinstance(raw, dict):
        raise ScenarioFormatError(f"{where}: expected a mapping")
    unknown = set(raw) - _SCENARIO_KEYS
    if unknown:
        raise ScenarioFormatError(f"{where}: unknown key(s) {sorted(unknown)}; expected {sorted(_SCENARIO_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise ScenarioFormatError(f"{where}: `name` must be a lower-case slug such as draft-confirm (got {name!r})")
    where = f"{path}: scenario {name!r}"
    doc = raw.get("doc", file_doc)
    if not doc:
        raise ScenarioFormatError(f"{where}: `doc` (the docs file it comes from, e.g. docs/000) is required")
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise ScenarioFormatError(f"{where}: `steps` must be a non-empty list")
    steps = [_step(s, i + 1, where) for i, s in enumerate(steps_raw)]
    tags = frozenset(file_tags + _str_list(raw.get("tags", []), f"{where}: tags"))
    requires = set(_str_list(raw.get("requires", []), f"{where}: requires"))
    if any(step.kind == "advance_clock" for step in steps):
        requires.add("clock")
    if any(step.kind == "expect_webhook" for step in steps):
        requires.add("webhook")
    bad = requires - {"clock", "webhook"}
    if bad:
        raise ScenarioFormatError(f"{where}: unknown requirement(s) {sorted(bad)}; expected clock, webhook")
    return Scenario(
        name=name,
        title=str(raw.get("title", "")),
        doc=str(doc),
        section=str(raw.get("section", "")),
        tags=tags,
        steps=steps,
        path=path,
        requires=frozenset(requires),
    )


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioFormatError(f"{where}: expected a string or a list of strings")
    return list(value)


_STEP_KINDS = ("call", "wait_until", "expect_webhook", "advance_clock")
_COMMON_KEYS = {"title", "expect", "save"}
_CALL_KEYS = {"call", "params", "query", "headers", "body", "auth"}


def _step(raw: Any, index: int, where: str) -> Step:
    where = f"{where}: step {index}"
    if not isinstance(raw, dict):
        raise ScenarioFormatError(f"{where}: expected a mapping")
    kinds = [k for k in _STEP_KINDS if k in raw]
    if len(kinds) != 1:
        raise ScenarioFormatError(f"{where}: a step has exactly one of {', '.join(_STEP_KINDS)} (got {sorted(raw)})")
    kind = kinds[0]
    allowed = _COMMON_KEYS | ({kind} if kind != "call" else _CALL_KEYS)
    unknown = set(raw) - allowed
    if unknown:
        raise ScenarioFormatError(f"{where}: unknown key(s) {sorted(unknown)} for a {kind} step")
    step = Step(kind=kind, index=index, title=str(raw.get("title", "")))
    step.expect = _expect(raw.get("expect"), where)
    save = raw.get("save", {})
    if not isinstance(save, dict) or not all(isinstance(v, str) for v in save.values()):
        raise ScenarioFormatError(f"{where}: `save` maps a variable name to a field path")
    step.save = dict(save)
    if kind == "call":
        operation = raw["call"]
        if operation not in load_spec().operations:
            known = ", ".join(sorted(load_spec().operations))
            raise ScenarioFormatError(f"{where}: {operation!r} is not an operationId of the spec ({known})")
        step.operation = operation
        for key in ("params", "query", "headers"):
            value = raw.get(key, {})
            if not isinstance(value, dict):
                raise ScenarioFormatError(f"{where}: `{key}` must be a mapping")
            setattr(step, key, dict(value))
        step.body = raw.get("body")
        step.auth = str(raw.get("auth", "default"))
        if step.auth not in ("default", "other", "none"):
            raise ScenarioFormatError(f"{where}: `auth` is default, other or none (got {step.auth!r})")
    elif kind == "advance_clock":
        step.seconds = parse_duration(raw["advance_clock"], where)
    else:
        spec = raw[kind]
        if not isinstance(spec, dict) or "order" not in spec:
            raise ScenarioFormatError(f"{where}: `{kind}` needs a mapping with at least `order`")
        allowed_keys = {"order", "status", "within", "every"} | ({"count", "quiet"} if kind == "expect_webhook" else set())
        unknown = set(spec) - allowed_keys
        if unknown:
            raise ScenarioFormatError(f"{where}: unknown key(s) {sorted(unknown)} in {kind}")
        step.order = spec["order"]
        step.statuses = _statuses(spec.get("status"), where, required=kind == "wait_until")
        step.within = parse_duration(spec["within"], where) if "within" in spec else None
        step.every = parse_duration(spec["every"], where) if "every" in spec else None
        if kind == "expect_webhook":
            count = spec.get("count", 1)
            if not isinstance(count, int) or count < 0:
                raise ScenarioFormatError(f"{where}: `count` must be an integer >= 0")
            step.count = count
            step.quiet = parse_duration(spec.get("quiet", 0), where)
    return step


def _statuses(value: Any, where: str, required: bool) -> list[str]:
    if value is None:
        if required:
            raise ScenarioFormatError(f"{where}: `status` (one status or a list) is required")
        return []
    statuses = _str_list(value, f"{where}: status")
    known = load_spec().document["components"]["schemas"]["OrderStatus"]["enum"]
    bad = [s for s in statuses if s not in known]
    if bad:
        raise ScenarioFormatError(f"{where}: unknown status(es) {bad}; expected {', '.join(known)}")
    return statuses


def _expect(raw: Any, where: str) -> Expect:
    if raw is None:
        return Expect()
    if not isinstance(raw, dict):
        raise ScenarioFormatError(f"{where}: `expect` must be a mapping")
    unknown = set(raw) - {"status", "order_status", "fields", "schema"}
    if unknown:
        raise ScenarioFormatError(f"{where}: unknown key(s) {sorted(unknown)} in expect "
                                  "(status, order_status, fields, schema)")
    status = raw.get("status", [])
    status = [status] if isinstance(status, int) else status
    if not isinstance(status, list) or not all(isinstance(s, int) for s in status):
        raise ScenarioFormatError(f"{where}: expect.status is an HTTP status code or a list of them")
    fields = raw.get("fields", {})
    if not isinstance(fields, dict):
        raise ScenarioFormatError(f"{where}: expect.fields maps a field path to a value or a matcher")
    for path, matcher in fields.items():
        _check_matcher(matcher, f"{where}: expect.fields[{path!r}]")
    return Expect(
        status=list(status),
        order_status=_statuses(raw.get("order_status"), where, required=False),
        fields=dict(fields),
        schema=bool(raw.get("schema", True)),
    )


def _check_fixture_refs(scenario: Scenario, fixtures: Mapping[str, Any]) -> None:
    for step in scenario.steps:
        if isinstance(step.body, dict) and "fixture" in step.body:
            name = step.body["fixture"]
            if name not in fixtures:
                raise ScenarioFormatError(
                    f"{scenario.path}: scenario {scenario.name!r}: {step.label()}: unknown fixture {name!r} "
                    f"(known: {', '.join(sorted(fixtures)) or 'none'})"
                )


# -- bodies from fixtures ------------------------------------------------------------
def build_body(raw: Any, fixtures: Mapping[str, Any]) -> Any:
    """A step's body: inline, or `{fixture: file.name, with: {...}, without: [paths]}`.

    `with` is merged into the fixture (mappings deeply, anything else replaced);
    `without` removes dotted paths (`paymentReference`, `items.0.wallet`).
    """
    if not (isinstance(raw, dict) and "fixture" in raw):
        return copy.deepcopy(raw)
    unknown = set(raw) - {"fixture", "with", "without"}
    if unknown:
        raise ScenarioFormatError(f"body: unknown key(s) {sorted(unknown)} next to `fixture` (with, without)")
    body = copy.deepcopy(fixtures[raw["fixture"]])
    body = _merge(body, copy.deepcopy(raw.get("with") or {}))
    for dotted in _str_list(raw.get("without", []), "body.without"):
        _remove(body, dotted.split("."))
    return body


def _merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return overlay


def _remove(node: Any, parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(node, list) and head.isdigit() and int(head) < len(node):
        if rest:
            _remove(node[int(head)], rest)
        else:
            del node[int(head)]
    elif isinstance(node, dict) and head in node:
        if rest:
            _remove(node[head], rest)
        else:
            del node[head]


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


# -- field paths ------------------------------------------------------------------------
class _Missing:
    def __repr__(self) -> str:
        return "(absent)"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
_PATH_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(\*|-?\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """`items[0].wallets[*].walletId` → ['items', 0, 'wallets', '*', 'walletId'].

    `$` (or an empty path) is the whole body. Keys are plain names; `@rows`
    and `@seen` are pseudo-fields the runner adds (see scenarios/README.md).
    """
    path = path.strip()
    if path in ("", "$"):
        return []
    tokens: list[str | int] = []
    position = 0
    for match in _PATH_TOKEN.finditer(path):
        if match.start() != position:
            break
        key, index = match.groups()
        tokens.append(key if key is not None else (index if index == "*" else int(index)))
        position = match.end()
    if position != len(path):
        raise ScenarioFormatError(f"field path {path!r} is not valid (e.g. items[0].wallets[*].walletId)")
    return tokens


def has_wildcard(path: str) -> bool:
    return "*" in parse_path(path)


def resolve(document: Any, path: str) -> Any:
    """The value at `path`: one value (or MISSING), or with `[*]` the list of every match."""
    tokens = parse_path(path)
    values = _walk([document], tokens)
    if "*" in tokens:
        return [v for v in values if v is not MISSING]
    return values[0] if values else MISSING


def _walk(nodes: list[Any], tokens: list[str | int]) -> list[Any]:
    for token in tokens:
        following: list[Any] = []
        for node in nodes:
            if token == "*":
                following.extend(node if isinstance(node, list) else [MISSING])
            elif isinstance(token, int):
                ok = isinstance(node, list) and -len(node) <= token < len(node)
                following.append(node[token] if ok else MISSING)
            else:
                following.append(node[token] if isinstance(node, dict) and token in node else MISSING)
        nodes = following
    return nodes


# -- matchers ------------------------------------------------------------------------------
MATCHER_KEYS = {
    "equals", "equals_ci", "not_equals", "one_of", "contains", "matches", "length", "min_length",
    "present", "empty", "each", "includes", "excludes", "disjoint_from", "distinct", "counts", "strict", "because",
}


def is_matcher(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= MATCHER_KEYS


def _check_matcher(value: Any, where: str) -> None:
    if isinstance(value, dict) and not is_matcher(value):
        odd = set(value) - MATCHER_KEYS
        if odd & {"equal", "contain", "include", "exclude", "len", "regex", "absent"}:
            raise ScenarioFormatError(f"{where}: unknown matcher key(s) {sorted(odd)}; "
                                      f"matchers: {', '.join(sorted(MATCHER_KEYS))}")
    if is_matcher(value) and "each" in value:
        _check_matcher(value["each"], where + ".each")


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


_MATCHERS = {
    "equals": _equals, "equals_ci": _equals_ci, "not_equals": _not_equals, "one_of": _one_of,
    "contains": _contains, "matches": _matches, "length": _length, "min_length": _min_length,
    "present": _present, "empty": _empty, "each": _each, "includes": _includes, "excludes": _excludes,
    "disjoint_from": _disjoint_from, "distinct": _distinct, "counts": _counts,
}
