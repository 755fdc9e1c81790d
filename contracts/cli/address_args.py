"""The target's address and credentials as options: one wording for every command that reaches a target."""

from __future__ import annotations

import argparse
from typing import Any

from contracts.target import TargetOptions


def add_address_arguments(group: Any, default: str, partner: bool = True) -> None:
    """--base-url (the full base, or a root with the three segments), --api-key and, for orders, --partner-id."""
    group.add_argument("--base-url", metavar="URL",
                       help="the API's base {server}/{tenant}/{environment}/{company}, exactly as `otacm mock` "
                            "prints it (%%20, + or %%2520 in the company), or the server root together with "
                            f"--tenant/--environment/--company ({default})")
    group.add_argument("--api-key", metavar="KEY", help="API key sent as x-np-api-key (default for a mock: its own)")
    if partner:
        group.add_argument("--partner-id", metavar="GUID", help="the partner to order for (default for a mock: its own)")
    group.add_argument("--tenant", help="tenant segment, with a server root as --base-url")
    group.add_argument("--environment", help="environment segment, with a server root as --base-url")
    group.add_argument("--company", help="company segment, unencoded, with a server root as --base-url")


def target_options(args: argparse.Namespace, **more: Any) -> TargetOptions:
    """The address options as contracts.target takes them."""
    return TargetOptions(args.base_url, args.api_key, getattr(args, "partner_id", None), args.tenant,
                         args.environment, args.company, **more)
