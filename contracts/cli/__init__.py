"""`otacm`: the harness's one command.

Each subcommand lives in the module that owns the concept and registers
itself through a `register(subparsers)` function; this file only lists them.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.metadata
import os
import sys
from typing import Any, Sequence

# module → the subcommand(s) it registers
SUBCOMMAND_MODULES = (
    "mockserver.cli",
    "mockserver.snapshot_cli",
    "contracts.cli.spec",
    "contracts.cli.webhooks",
    "contracts.cli.scenarios",
    "contracts.cli.verify",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otacm",
        description=(
            "Sandbox and conformance harness for the NaviPartner OTA Channel Manager Orders API. "
            "Run a mock sandbox, warp its clock, listen for webhooks, run scenarios, verify an implementation."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=CommandParser)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    for command in subparsers.choices.values():
        options_before_or_after_action(command)
    return parser


def installed_version() -> str:
    """The installed distribution's version (pyproject.toml's), or 'unknown' when run from a bare tree."""
    try:
        return importlib.metadata.version("otacm")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


# -- options before or after an action ---------------------------------------------------
# argparse looks for an option only in the parser of the level it appears at:
# `otacm clock advance 5m --url U` would fail because --url is `clock`'s, and
# `otacm scenarios --base-url U run` because --base-url is `run`'s. So a
# command with actions (clock, scenarios, webhooks) gets each option on both
# levels, and `ActionParsers` keeps an option given before the action from
# being reset by the action's default.
class ActionParsers(argparse._SubParsersAction):
    """A command's actions (`otacm clock advance`, ...)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        given_before = dict(vars(namespace))
        super().__call__(parser, namespace, values, option_string)
        action_parser = self._name_parser_map[values[0]]
        for option in action_parser._actions:
            if option.dest in given_before and getattr(namespace, option.dest, None) == option.default:
                setattr(namespace, option.dest, given_before[option.dest])  # not given after: keep it


class CommandParser(argparse.ArgumentParser):
    """A command's parser; its actions are `ActionParsers`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", ActionParsers)


def options_before_or_after_action(command: argparse.ArgumentParser) -> None:
    """Give a command's options to each of its actions and the actions' options
    to the command, the copies without defaults (they set only what is given)."""
    actions = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        return
    action_parsers = list(dict.fromkeys(actions[0].choices.values()))
    for option in _options(command._actions):
        for action_parser in action_parsers:
            _add_copy(action_parser, option)
    for action_parser in action_parsers:
        for option in _options(action_parser._actions):
            _add_copy(command, option)


def _options(actions: Sequence[argparse.Action]) -> list[argparse.Action]:
    return [a for a in actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


def _add_copy(parser: argparse.ArgumentParser, option: argparse.Action) -> None:
    if any(string in parser._option_string_actions for string in option.option_strings):
        return  # the level has it already (an option two actions share)
    duplicate = copy.copy(option)
    duplicate.default = argparse.SUPPRESS
    parser._add_action(duplicate)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:
        # `otacm verify --list-rules | head`: the reader left; say nothing more (Python's documented recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by it


if __name__ == "__main__":
    sys.exit(main())
