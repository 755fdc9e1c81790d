"""`otacm spec`: where the shipped OpenAPI contract is, or its text."""

from __future__ import annotations

import argparse

from contracts.spec import spec_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "spec",
        help="print the path of the shipped OpenAPI spec (or its contents with --print)",
        description="The OpenAPI 3.1 contract every other command is driven by.",
    )
    parser.add_argument("--print", action="store_true", help="print the spec's YAML instead of its path")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path = spec_path()
    print(path.read_text(encoding="utf-8") if args.print else path)
    return 0
