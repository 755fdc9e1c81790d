"""`otacm verify`: gate a deployment on the API contract (see contracts.verify.run)."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import TextIO

from contracts.cli.address_args import add_address_arguments
from contracts.cli.shared_args import (
    DURATION,
    add_keep_orders,
    add_name_filter,
    add_other_partner_arguments,
    add_webhook_arguments,
    duration,
)
from contracts.target.address import FORMS
from contracts.verify.options import STRICTNESS_LEVELS, VerifyOptions
from contracts.verify.results import EXIT_CODES, EXIT_ERROR, EXIT_USAGE
from contracts.verify.schemathesis_run import PHASES

EPILOG = f"""the two forms of the address:
{FORMS}

verdicts: passed, failed, warning (a difference CONTRACT.md does not decide), skipped (nothing to judge, with
the reason). Only failures make the run fail, unless --fail-on warning.

exit codes:
""" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="verify an implementation against the contract (CI gate: JUnit/HTML/Markdown, exit codes)",
        description=(
            "Verify an implementation of the Orders API against the contract: Schemathesis on the spec "
            "(family responses), a lifecycle probe of documented flows judged by every registered check "
            "(--list-checks), and the scenario library. Without --base-url an embedded mock is verified."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _target_arguments(parser.add_argument_group("target"))
    _selection_arguments(parser.add_argument_group("what to check"))
    _budget_arguments(parser.add_argument_group("budget and replay"))
    output = parser.add_argument_group("reports")
    output.add_argument("--junit", metavar="PATH", help="write JUnit XML (one test case per check per subject)")
    output.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    output.add_argument("--markdown", metavar="PATH", help="write Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    output.add_argument("--quiet", action="store_true", help="no live progress, only the summary")
    parser.set_defaults(handler=verify_command)


def _target_arguments(group: argparse._ArgumentGroup) -> None:
    add_address_arguments(group, "default: an embedded mock")
    group.add_argument("--embedded", action="store_true",
                       help="verify an embedded mock (what happens anyway without --base-url)")
    add_other_partner_arguments(group)
    add_webhook_arguments(group)
    add_keep_orders(group)


def _selection_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--strictness", choices=STRICTNESS_LEVELS, default="documented",
                       help="documented: doc facts only (default); strict: every line of CONTRACT.md")
    group.add_argument("--checks", metavar="LIST", default="",
                       help="comma list of families and/or check names (--list-checks); default: everything")
    group.add_argument("--vars", metavar="FILE", action="append", default=[],
                       help="venue facts (YAML) overriding scenarios/vars.yaml: the items and times the probe and "
                            "the scenarios order (repeatable)")
    group.add_argument("--var", metavar="NAME=VALUE", action="append", default=[], help="one venue fact (repeatable)")
    group.add_argument("--fail-on", choices=("failure", "warning"), default="failure",
                       help="what makes the exit code non-zero: failures only (default), or warnings too")
    group.add_argument("--phases", metavar="LIST", default=",".join(PHASES),
                       help=f"Schemathesis phases (default {','.join(PHASES)})")
    group.add_argument("--operations", metavar="LIST", default="", help="Schemathesis: only these operationIds")
    group.add_argument("--no-scenarios", action="store_true", help="skip the scenario library")
    add_name_filter(group)
    group.add_argument("--list-rules", action="store_true",
                       help="print every documented rule, its source and level, and the checks asserting it; exit")
    group.add_argument("--list-checks", action="store_true", help="print every check with its family and level; exit")
    group.add_argument("--format", choices=("text", "json"), default="text", dest="list_format",
                       help="how --list-rules and --list-checks print: text fitted to the terminal (default) or JSON")


def _budget_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--max-examples", type=int, default=25, metavar="N",
                       help="Schemathesis examples per operation and phase (default 25)")
    group.add_argument("--max-time", type=duration, default=300.0, metavar=DURATION,
                       help="hard stop of the Schemathesis part, a safety net against a target that hangs: a run "
                            "it cuts short warns (default 300s; --max-examples is the budget)")
    group.add_argument("--seed", type=int, help="Schemathesis seed; the summary prints it, pass it again to replay")
    group.add_argument("--settle-within", type=duration, default=10.0, metavar=DURATION,
                       help="how long an order may take to settle after pickup (the pickup interval and one poll "
                            "are added; default 10s)")
    group.add_argument("--pickup-seconds", type=duration, metavar=DURATION,
                       help="the target's pickup cadence when it is not the documented 60s (tightens settles_within)")
    group.add_argument("--poll-interval", type=duration, metavar=DURATION,
                       help="polling cadence of waits (default 1s warped, 2s on a real target)")
    group.add_argument("--close-poll", type=duration, default=0.25, metavar=DURATION,
                       help="cadence around the pickup, to see Scheduled and Processing (default 250ms)")
    group.add_argument("--quiet-window", type=duration, metavar=DURATION,
                       help="wait once, at the end, for late or duplicate webhooks (default 20s real, 0 warped)")
    group.add_argument("--timeout", type=duration, default=15.0, metavar=DURATION,
                       help="per-request timeout (default 15s)")


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _options(args: argparse.Namespace, out: TextIO) -> VerifyOptions:
    from contracts.scenarios.loader import load_venue

    def progress(text: str) -> None:
        print(text, file=out, flush=True)

    return VerifyOptions(
        base_url=args.base_url, api_key=args.api_key, partner_id=args.partner_id, tenant=args.tenant,
        environment=args.environment, company=args.company, strictness=args.strictness,
        checks=_split(args.checks), venue=load_venue(args.vars, args.var), phases=_split(args.phases),
        operations=_split(args.operations), max_examples=args.max_examples, max_time=args.max_time, seed=args.seed,
        scenarios=not args.no_scenarios, scenario_filter=args.name, webhooks=not args.no_webhooks,
        webhook_host=args.webhook_host, webhook_port=args.webhook_port, webhook_url=args.webhook_url,
        keep_orders=args.keep_orders, other_api_key=args.other_api_key, other_partner_id=args.other_partner_id,
        poll_interval=args.poll_interval, close_poll=args.close_poll, settle_within=args.settle_within,
        quiet_window=args.quiet_window, pickup_interval=args.pickup_seconds, request_timeout=args.timeout,
        fail_on_warning=args.fail_on == "warning", progress=None if args.quiet else progress,
    )


def verify_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from contracts.reports import WRITERS, summary_text
    from contracts.verify.run import verify

    out = out or sys.stdout
    if args.list_rules or args.list_checks:
        from contracts.cli.rules import print_checks, print_rules

        return (print_rules if args.list_rules else print_checks)(out, args.list_format)
    if args.embedded and args.base_url:
        print("otacm verify: --embedded and --base-url exclude each other", file=sys.stderr)
        return EXIT_USAGE
    bad = [p for p in _split(args.phases) if p not in PHASES]
    if bad:
        print(f"otacm verify: unknown phase(s) {', '.join(bad)}; known: {', '.join(PHASES)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = verify(_options(args, out))
    except ValueError as error:
        print(f"otacm verify: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:  # noqa: BLE001 — a bug of ours: say so with its own exit code
        traceback.print_exc()
        print("otacm verify: internal error (exit 4); please report it with the output above", file=sys.stderr)
        return EXIT_ERROR
    if report.problem and report.exit_code == EXIT_USAGE:
        print(f"otacm verify: {report.problem}", file=sys.stderr)
    print(summary_text(report, color=out.isatty()), file=out, flush=True)
    for name, path in (("junit", args.junit), ("html", args.html), ("markdown", args.markdown)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(WRITERS[name](report), encoding="utf-8")
            print(f"wrote {path}", file=out)
    return report.exit_code


# for `python -m contracts.cli.verify`
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="otacm")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())



