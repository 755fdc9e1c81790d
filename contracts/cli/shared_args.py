"""Options `otacm verify` and `otacm scenarios run` share: one spelling, one unit, one help text.

Durations are parsed once, here, on top of the scenario format's grammar
(contracts.scenarios.parse_duration: `90s`, `2m`, `1h30m`), so a flag takes
what a scenario's `within` takes, plus plain seconds (`2.5`) and `500ms`.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from contracts.scenarios import ScenarioFormatError, parse_duration

DURATION = "DURATION"
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_MILLISECONDS = re.compile(r"^(\d+(?:\.\d+)?)ms$")


def duration(text: str) -> float:
    """Seconds from `10`, `2.5`, `500ms`, `10s`, `2m`, `1h30m` (an argparse type)."""
    compact = text.strip().lower()
    if _NUMBER.match(compact):
        return float(compact)
    millis = _MILLISECONDS.match(compact)
    if millis:
        return float(millis.group(1)) / 1000.0
    try:
        return parse_duration(compact, "duration")
    except ScenarioFormatError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 10, 500ms, 10s, 2m or 1h30m)") from None


def add_name_filter(group: Any) -> None:
    """`-k/--name TEXT`; `--scenario` stays as verify's earlier spelling."""
    group.add_argument("-k", "--name", "--scenario", dest="name", metavar="TEXT",
                       help="only scenarios whose name contains TEXT")


def add_webhook_arguments(group: Any) -> None:
    """Where the webhook receiver listens and which URL the target is told to call."""
    group.add_argument("--no-webhooks", action="store_true",
                       help="no webhook receiver: what needs one is skipped, with that reason")
    group.add_argument("--webhook-host", default="127.0.0.1", metavar="HOST",
                       help="interface the webhook receiver listens on (default 127.0.0.1; 0.0.0.0 for a runner "
                            "port a remote target can reach)")
    group.add_argument("--webhook-port", type=int, default=0, metavar="N",
                       help="port of the webhook receiver (default 0: any free port)")
    group.add_argument("--webhook-url", metavar="URL",
                       help="URL the target must call, if not the receiver's own (e.g. a tunnel to "
                            "--webhook-host:--webhook-port); required for a target that cannot reach this machine")


def add_other_partner_arguments(group: Any) -> None:
    """A second partner of the target (isolation flows and scenarios)."""
    group.add_argument("--other-api-key", metavar="KEY", help="a second partner's key (isolation scenarios)")
    group.add_argument("--other-partner-id", metavar="GUID",
                       help="a second partner of the target (the other-partner flow and isolation scenarios; "
                            "default for a mock: its own)")


def add_keep_orders(group: Any) -> None:
    group.add_argument("--keep-orders", action="store_true",
                       help="keep the orders the run created (default: delete the settled ones at the end)")
