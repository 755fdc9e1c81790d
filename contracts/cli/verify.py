"""`otacm verify`: gate a deployment on the API contract (see contracts.verify)."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import TextIO

from contracts.verify.schemathesis_run import PHASES
from contracts.verify.run import (
    CHECKS_BY_FAMILY,
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_USAGE,
    FAMILIES,
    VerifyOptions,
    verify,
)


def _exit_code_text() -> str:
    return "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


def _families_text() -> str:
    return "check families (--checks takes families or check names):\n" + "\n".join(
        f"  {family:<10} {', '.join(CHECKS_BY_FAMILY[family])}" for family in FAMILIES)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="verify an implementation against the contract (CI gate: JUnit/HTML/Markdown, exit codes)",
        description=(
            "Verify an implementation of the Orders API against the contract: Schemathesis on the spec "
            "(examples, coverage, fuzzing, stateful via the spec's links), a lifecycle probe with the "
            "async checks transition_legality, terminal_sticky, settles_within, a subscribed webhook "
            "receiver (webhook_conformance, webhook_matches_status, ...) and the scenario library. "
            "Without --base-url an embedded mock is verified."
        ),
        epilog=_families_text() + "\n\n" + _exit_code_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_argument_group("target")
    target.add_argument("--base-url", metavar="URL", help="server root, e.g. https://api.npretail.app "
                        "(default: an embedded mock)")
    target.add_argument("--embedded", action="store_true",
                        help="verify an embedded mock (what happens anyway without --base-url)")
    target.add_argument("--api-key", metavar="KEY", help="API key sent as x-np-api-key (default for a mock: its own)")
    target.add_argument("--partner-id", metavar="GUID", help="the partner to order for; creates must use it")
    target.add_argument("--tenant", help="tenant path segment (default: the mock's)")
    target.add_argument("--environment", help="environment path segment (default: the mock's)")
    target.add_argument("--company", help="company path segment, unencoded (default: the mock's)")

    what = parser.add_argument_group("what to check")
    what.add_argument("--strictness", choices=["documented", "strict"], default="documented",
                      help="documented: doc facts and the spec's shapes (default); strict: every line of "
                           "CONTRACT.md — x-strict schemas, key order, exact error messages")
    what.add_argument("--checks", metavar="LIST", default="",
                      help="comma list of families (responses, lifecycle, webhooks, scenarios) and/or check "
                           "names; default: everything")
    what.add_argument("--phases", metavar="LIST", default=",".join(PHASES),
                      help=f"Schemathesis phases (default {','.join(PHASES)})")
    what.add_argument("--operations", metavar="LIST", default="",
                      help="Schemathesis: only these operationIds (comma list)")
    what.add_argument("--no-scenarios", action="store_true", help="skip the scenario library")
    what.add_argument("--no-webhooks", action="store_true", help="no webhook receiver (and no webhook checks)")
    what.add_argument("-k", "--scenario", metavar="TEXT", help="only scenarios whose name contains TEXT")

    budget = parser.add_argument_group("budget and replay")
    budget.add_argument("--max-examples", type=int, default=25, metavar="N",
                        help="Schemathesis examples per operation and phase (default 25)")
    budget.add_argument("--max-time", type=float, default=90.0, metavar="SECONDS",
                        help="hard stop of the Schemathesis part (default 90)")
    budget.add_argument("--seed", type=int, help="Schemathesis seed; the summary prints the one used, pass it "
                        "again to replay a failure")
    budget.add_argument("--settle-within", type=float, default=10.0, metavar="SECONDS",
                        help="settles_within: seconds an order may take to settle after pickup (the spec's "
                             "60 s pickup interval and one polling interval are added; default 10)")
    budget.add_argument("--poll-interval", type=float, metavar="SECONDS",
                        help="lifecycle polling cadence (default 1 s warped, 2 s on a real target)")
    budget.add_argument("--webhook-wait", type=float, default=30.0, metavar="SECONDS",
                        help="how long to wait for a webhook on a real target (default 30)")
    budget.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS", help="per-request timeout")

    output = parser.add_argument_group("reports")
    output.add_argument("--junit", metavar="PATH", help="write JUnit XML (one test case per check per subject)")
    output.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    output.add_argument("--markdown", metavar="PATH", help="write Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    output.add_argument("--quiet", action="store_true", help="no live progress, only the summary")
    parser.set_defaults(handler=verify_command)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def verify_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from contracts.reports import html_page, junit_xml, markdown, summary_text

    out = out or sys.stdout
    if args.embedded and args.base_url:
        print("otacm verify: --embedded and --base-url exclude each other", file=sys.stderr)
        return EXIT_USAGE
    phases = _split(args.phases)
    bad = [p for p in phases if p not in PHASES]
    if bad:
        print(f"otacm verify: unknown phase(s) {', '.join(bad)}; known: {', '.join(PHASES)}", file=sys.stderr)
        return EXIT_USAGE

    def progress(text: str) -> None:
        print(text, file=out, flush=True)

    options = VerifyOptions(
        base_url=args.base_url, api_key=args.api_key, partner_id=args.partner_id, tenant=args.tenant,
        environment=args.environment, company=args.company, strictness=args.strictness,
        checks=_split(args.checks), phases=phases, operations=_split(args.operations),
        max_examples=args.max_examples, max_time=args.max_time, seed=args.seed,
        scenarios=not args.no_scenarios, scenario_filter=args.scenario, webhooks=not args.no_webhooks,
        poll_interval=args.poll_interval, settle_within=args.settle_within, webhook_wait=args.webhook_wait,
        request_timeout=args.timeout, progress=None if args.quiet else progress,
    )
    try:
        report = verify(options)
    except ValueError as error:
        print(f"otacm verify: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:  # noqa: BLE001 — a bug of ours: say so with its own exit code
        traceback.print_exc()
        print("otacm verify: internal error (exit 4); please report it with the output above", file=sys.stderr)
        return EXIT_ERROR
    print(summary_text(report), file=out, flush=True)
    for path, render in ((args.junit, junit_xml), (args.html, html_page), (args.markdown, markdown)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(render(report), encoding="utf-8")
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
