"""Scenarios: documented behaviours as YAML steps, runnable against any target.

The format lives in `model` (the dataclasses), `loader` (files → model, venue facts), `bodies` (fixtures),
`templates` (`{{ }}`), `paths` (field paths) and `matchers`; `runner` runs
them. The names below are the package's public face.
"""

from contracts.scenarios.loader import (
    VenueError,
    build_body,
    facts_needed,
    load_file,
    load_fixtures,
    load_library,
    load_scenarios,
    load_venue,
)
from contracts.scenarios.matchers import MATCHER_KEYS, is_matcher, is_strict, match, show
from contracts.scenarios.model import (
    BUILTIN_VARIABLES,
    KNOWN_TAGS_HINT,
    MODE_TAGS,
    Expect,
    Library,
    Scenario,
    ScenarioFormatError,
    Step,
    parse_duration,
    scenarios_dir,
)
from contracts.scenarios.paths import MISSING, has_wildcard, parse_path, resolve
from contracts.scenarios.templates import TemplateError, render

__all__ = [
    "VenueError", "facts_needed", "load_venue", "build_body", "load_file", "load_fixtures", "load_library", "load_scenarios", "MATCHER_KEYS", "is_matcher",
    "is_strict", "match", "show", "BUILTIN_VARIABLES", "KNOWN_TAGS_HINT", "MODE_TAGS", "Expect", "Library", "Scenario",
    "ScenarioFormatError", "Step", "parse_duration", "scenarios_dir", "MISSING", "has_wildcard", "parse_path",
    "resolve", "TemplateError", "render",
]
