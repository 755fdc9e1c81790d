"""`otacm`: the harness's one command.

Each subcommand lives in the module that owns the concept and registers
itself through a `register(subparsers)` function; this file only lists them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# module → the subcommand(s) it registers
SUBCOMMAND_MODULES = [
    "mockserver.cli",
    "contracts.cli.spec",
    "contracts.cli.webhooks",
    "contracts.cli.scenarios",
    "contracts.cli.verify",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otacm",
        description=(
            "Sandbox and conformance harness for the NaviPartner OTA Channel Manager Orders API. "
            "Run a mock sandbox, warp its clock, listen for webhooks, run scenarios, verify an implementation."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
