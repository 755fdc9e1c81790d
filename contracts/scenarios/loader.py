"""Reading scenario files: YAML into the model, validated, with fixtures and variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from contracts.scenarios.bodies import build_body
from contracts.scenarios.matchers import check_matcher
from contracts.scenarios.model import (
    BUILTIN_VARIABLES,
    FIXTURES_DIR,
    TARGET_FACTS,
    VARS_FILE,
    Expect,
    Library,
    Scenario,
    ScenarioFormatError,
    Step,
    parse_duration,
    scenarios_dir,
)
from contracts.scenarios.templates import template_names
from contracts.spec import load_spec


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
        scenario.needs = facts_needed(scenario, fixtures)
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


_SCENARIO_KEYS = frozenset({"name", "title", "doc", "section", "tags", "steps", "requires", "needs"})


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
    scenario = Scenario(
        name=name,
        title=str(raw.get("title", "")),
        doc=str(doc),
        section=str(raw.get("section", "")),
        tags=tags,
        steps=steps,
        path=path,
        requires=frozenset(requires),
        needs=tuple(_str_list(raw.get("needs", []), f"{where}: needs")),
    )
    scenario.needs = facts_needed(scenario, {})
    return scenario


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioFormatError(f"{where}: expected a string or a list of strings")
    return list(value)


_STEP_KINDS = ("call", "wait_until", "expect_webhook", "advance_clock")
_COMMON_KEYS = frozenset({"title", "expect", "save"})
_CALL_KEYS = frozenset({"call", "params", "query", "headers", "body", "auth"})


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
    status = [status] if isinstance(status, (int, str)) else status
    if not isinstance(status, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) or isinstance(s, str) and re.fullmatch(r"[1-5]xx", s)
            for s in status):
        raise ScenarioFormatError(f"{where}: expect.status is an HTTP status code (400), a class (4xx) "
                                  "or a list of them")
    fields = raw.get("fields", {})
    if not isinstance(fields, dict):
        raise ScenarioFormatError(f"{where}: expect.fields maps a field path to a value or a matcher")
    for path, matcher in fields.items():
        check_matcher(matcher, f"{where}: expect.fields[{path!r}]")
    return Expect(
        status=list(status),
        order_status=_statuses(raw.get("order_status"), where, required=False),
        fields=dict(fields),
        schema=bool(raw.get("schema", True)),
    )


def facts_needed(scenario: Scenario, fixtures: Mapping[str, Any]) -> tuple[str, ...]:
    """The venue facts a scenario needs: its declared `needs:`, then every `{{ name }}` its
    steps (and the fixtures they use) reference that is neither built in nor saved by a step.
    A venue without one of them cannot run the scenario: it is skipped, never failed."""
    saved = {name for step in scenario.steps for name in step.save}
    names = list(scenario.needs)
    for step in scenario.steps:
        names += template_names([step.params, step.query, step.headers, step.order, step.expect.fields])
        names += template_names(_fixture_source(step.body, fixtures))
    ignored = saved | (set(BUILTIN_VARIABLES) - set(TARGET_FACTS))
    return tuple(dict.fromkeys(n for n in names if n not in ignored or n in scenario.needs))


def _fixture_source(body: Any, fixtures: Mapping[str, Any]) -> Any:
    """A body as it will be sent (a fixture with its `with`/`without` applied), before templates:
    a line that `with` replaces does not make the scenario need the fixture's item."""
    if isinstance(body, dict) and "fixture" in body:
        if body["fixture"] not in fixtures:
            return body.get("with")  # load_library reports the unknown fixture
        return build_body(body, fixtures)
    return body


def _check_fixture_refs(scenario: Scenario, fixtures: Mapping[str, Any]) -> None:
    for step in scenario.steps:
        if isinstance(step.body, dict) and "fixture" in step.body:
            name = step.body["fixture"]
            if name not in fixtures:
                raise ScenarioFormatError(
                    f"{scenario.path}: scenario {scenario.name!r}: {step.label()}: unknown fixture {name!r} "
                    f"(known: {', '.join(sorted(fixtures)) or 'none'})"
                )


# -- venue facts ---------------------------------------------------------------------------------
class VenueError(ValueError):
    """A `--vars` file or `--var` pair that cannot be read; the message names it."""


def load_venue(files: Sequence[Path | str] = (), pairs: Sequence[str] = (),
               defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The venue facts of a run, for `otacm scenarios run` and `otacm verify` alike.

    Without `files` the facts are `defaults` (the shipped `vars.yaml`: the
    sandbox's catalog). A venue file describes a whole venue, so with `files`
    the defaults are not used: later files override earlier ones, and a fact
    no file names (or names as `null`) is one the venue does not have — the
    scenarios needing it are skipped. `pairs` (`NAME=VALUE`) come last;
    `NAME=` or `NAME=null` removes a fact. A value takes the type the fact has
    in the defaults (item numbers and times are text, counts integers).
    """
    defaults = dict(_read_yaml(scenarios_dir() / VARS_FILE) if defaults is None else defaults)
    venue: dict[str, Any] = {} if files else dict(defaults)
    for file in files:
        venue.update({name: _typed(name, value, defaults, f"--vars {file}")
                      for name, value in _venue_file(Path(file)).items()})
    for pair in pairs:
        name, value = _pair(pair, defaults)
        venue[name] = value
    return {name: value for name, value in venue.items() if value is not None}


def _venue_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise VenueError(f"--vars {path}: no such file")
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise VenueError(f"--vars {path}: not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise VenueError(f"--vars {path}: expected a YAML mapping of fact names to values (see scenarios/vars.yaml)")
    return data


def _pair(pair: str, defaults: Mapping[str, Any]) -> tuple[str, Any]:
    name, sep, text = pair.partition("=")
    name = name.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise VenueError(f"--var {pair!r}: expected NAME=VALUE, e.g. --var group_item=31010")
    if text.strip() in ("", "null", "~"):
        return name, None
    if isinstance(defaults.get(name), str):
        return name, text  # item numbers and times stay text (YAML would read 31001 or 10:30:00 as numbers)
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise VenueError(f"--var {pair!r}: the value is not valid YAML: {error}") from None
    return name, _typed(name, value, defaults, f"--var {pair!r}")


def _typed(name: str, value: Any, defaults: Mapping[str, Any], where: str) -> Any:
    """`value` checked against the type of the fact's default, so a mistyped fact fails here,
    naming its source, instead of as a puzzling answer of the target."""
    default = defaults.get(name)
    if value is None or default is None or isinstance(value, type(default)) and not isinstance(value, bool):
        return value
    if isinstance(default, str):
        raise VenueError(f"{where}: {name} must be text; quote it ({name}: \"{value}\") — YAML reads "
                         "unquoted numbers and times such as 10:30:00 as numbers")
    kind = "an integer" if isinstance(default, int) else type(default).__name__
    raise VenueError(f"{where}: {name} must be {kind} like {default!r} (got {value!r})")
