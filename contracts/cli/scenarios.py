"""`otacm scenarios run` and `otacm scenarios list`."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from contracts.cli.address_args import add_address_arguments, target_options
from contracts.cli.shared_args import (
    DURATION,
    add_keep_orders,
    add_name_filter,
    add_other_partner_arguments,
    add_webhook_arguments,
    duration,
)
from contracts.scenarios import Library, ScenarioFormatError, load_library, scenarios_dir
from contracts.scenarios.loader import VenueError, load_venue
from contracts.scenarios.runner import (
    DEFAULT_DEADLINE,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_QUIET_WINDOW,
    REAL_TIME_JOBS,
    RunOptions,
    ScenarioResult,
    run_scenarios,
    select,
)
from contracts.target import Target, Unreachable, UsageProblem, open_target
from contracts.target.cleanup import Cleanup, Created, clean_up


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scenarios",
        help="run or list the YAML scenario library (docs' behaviours, step by step)",
        description="The scenario library: each documented behaviour as steps against the API. "
        "The format is in the README, section Scenarios.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    run = actions.add_parser(
        "run",
        help="run scenarios against the embedded mock (default) or a base URL",
        description="Run scenarios. Without --base-url an in-process mock is started. A target with the "
        "mock's clock control is warped instead of waited on; any other target is polled every "
        "--poll-interval seconds up to each wait's deadline.",
    )
    run.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or folders (default: the whole library)")
    add_address_arguments(run, "default: an embedded mock")
    add_other_partner_arguments(run)
    run.add_argument("--api-mode", choices=["async", "sync"], default="async",
                     help="async: the documented API; sync: the earlier synchronous API of docs/003 "
                          "(selects the sync-tagged scenarios; the embedded mock runs in sync mode)")
    run.add_argument("--strictness", choices=["documented", "strict"],
                     help="documented: doc facts only; strict: every CONTRACT.md line "
                          "(default: strict for the embedded mock, documented for a base URL)")
    run.add_argument("--poll-interval", type=duration, default=DEFAULT_POLL_INTERVAL, metavar=DURATION,
                     help="polling cadence of waits (default 10s, as docs/001 advises); warped runs advance by it")
    run.add_argument("--deadline", type=duration, default=DEFAULT_DEADLINE, metavar=DURATION,
                     help="deadline of waits that name no `within` (default 3m)")
    run.add_argument("--jobs", type=int, metavar="N",
                     help="scenarios run at once (default: 1 on a warpable target — its clock is global — else "
                          f"all of them, up to {REAL_TIME_JOBS})")
    run.add_argument("--quiet-window", type=duration, default=DEFAULT_QUIET_WINDOW, metavar=DURATION,
                     help="after the last scenario, wait this long once, then re-count every expect_webhook's "
                          "events: a late extra event fails its scenario (default 20s; a warped mock advances "
                          "its clock instead, a mock that reports idle deliveries is not waited on)")
    run.add_argument("--no-warp", action="store_true", help="never warp the clock, even when the target allows it")
    add_webhook_arguments(run)
    add_keep_orders(run)
    run.add_argument("--vars", metavar="FILE", action="append", default=[],
                     help="the venue's facts (a copy of scenarios/vars.yaml with its items), used instead of "
                          "scenarios/vars.yaml; a fact it leaves out or sets to null is one the venue does not "
                          "have, and the scenarios needing it are skipped (repeatable: later files win)")
    run.add_argument("--var", metavar="NAME=VALUE", action="append", default=[],
                     help="one venue fact, over the files (repeatable; NAME= removes it)")
    add_name_filter(run)
    run.add_argument("--tag", action="append", default=[], help="only scenarios with this tag (repeatable)")
    run.add_argument("--quiet", action="store_true", help="print failures and the summary only")
    run.set_defaults(handler=run_command)

    listing = actions.add_parser("list", help="list the scenarios with their source, tags and needs")
    listing.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or folders (default: the library)")
    listing.add_argument("--api-mode", choices=["async", "sync"], help="only scenarios of this API mode")
    listing.add_argument("--tag", action="append", default=[], help="only scenarios with this tag (repeatable)")
    listing.set_defaults(handler=list_command)


def _library(paths: list[str]) -> Library | None:
    """The library at `paths` (default: the shipped one), or None after saying what is malformed."""
    try:
        return load_library(paths or None)
    except ScenarioFormatError as error:
        print(f"otacm scenarios: {error}", file=sys.stderr)
        return None


def _filter(library: Library, name: str | None, tags: list[str]) -> list[Any]:
    chosen = library.scenarios
    if name:
        chosen = [s for s in chosen if name in s.name]
    for tag in tags:
        chosen = [s for s in chosen if tag in s.tags or tag in s.modes]
    return chosen


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[Target]:
    options = target_options(args, other_api_key=args.other_api_key, other_partner_id=args.other_partner_id,
                             api_mode=args.api_mode)
    try:
        with open_target(options) as target:
            if args.base_url and target.is_mock:  # the defaults' second partner, as an `otacm mock` has it
                target.other_api_key = target.other_api_key or _mock_other_key()
                target.other_partner_id = target.other_partner_id or _mock_other_partner()
            yield target
    except (UsageProblem, Unreachable) as error:
        raise SystemExit(f"otacm scenarios: {error}") from None


def _mock_other_key() -> str | None:
    """The defaults' second-partner key (an `otacm mock` with default config has it)."""
    from mockserver.config import MockConfig

    bound = [k for k in MockConfig.load().api_keys if k.partners]
    return bound[0].key if bound else None


def _mock_other_partner() -> str | None:
    from mockserver.config import MockConfig

    bound = [k for k in MockConfig.load().api_keys if k.partners]
    return sorted(bound[0].partners)[0] if bound and bound[0].partners else None


def _printer(out: TextIO, quiet: bool, shown: set[str]) -> Any:
    """Progress per finished scenario; `shown` collects the failures printed in full."""

    def progress(result: ScenarioResult, position: int, total: int) -> None:
        if result.outcome == "failed":
            shown.add(result.scenario.name)
        if quiet and result.outcome != "failed":
            return
        width = len(str(total))
        text = result.render()
        first, _, rest = text.partition("\n")
        print(f"[{position:>{width}}/{total}] {first}", file=out)
        if rest:
            print(rest, file=out)
        out.flush()

    return progress


def run_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    library = _library(args.paths)
    if library is None:
        return 2
    try:
        library.variables = load_venue(args.vars, args.var, defaults=library.variables)
    except VenueError as error:
        print(f"otacm scenarios: {error}", file=sys.stderr)
        return 2
    scenarios = _filter(library, args.name, args.tag)
    strictness = args.strictness or ("strict" if not args.base_url else "documented")
    shown: set[str] = set()
    options = RunOptions(
        strictness=strictness,
        api_mode=args.api_mode,
        poll_interval=args.poll_interval,
        deadline=args.deadline,
        jobs=args.jobs,
        warp=False if args.no_warp else None,
        webhooks=not args.no_webhooks,
        webhook_host=args.webhook_host,
        webhook_port=args.webhook_port,
        webhook_url=args.webhook_url,
        quiet_window=args.quiet_window,
        progress=_printer(out, args.quiet, shown),
    )
    with _target(args) as target:
        where = "the embedded mock" if not args.base_url else target.base
        warp = target.clock_control and not args.no_warp
        how = "warping its clock" if warp else f"polling every {options.poll_interval:g} s"
        print(f"otacm scenarios: {len(select(scenarios, args.api_mode)[0])} scenario(s), {args.api_mode} API, "
              f"{strictness} strictness, against {where} ({how})", file=out)
        report = run_scenarios(library, target, options, scenarios)
        cleanup = _clean_up(target, report, args.keep_orders, options.request_timeout)
    failed = [r for r in report.results if r.outcome == "failed"]
    if args.quiet:  # progress printed failures already; add those of the run's final webhook re-count
        failed = [r for r in failed if r.scenario.name not in shown]
    if failed:
        print("\nFailures:", file=out)
        for result in failed:
            print(result.render(), file=out)
    print(f"\n{cleanup.summary()}", file=out)
    print(report.summary(), file=out)
    return report.exit_code


def _clean_up(target: Target, report: Any, keep: bool, timeout: float) -> Cleanup:
    """After every scenario (and the final webhook re-count): delete the settled orders the run made."""
    created = Created()
    for result in report.results:
        created.add_timelines(result.timelines)
    return clean_up(target, created, keep, timeout)


def list_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    library = _library(args.paths)
    if library is None:
        return 2
    scenarios = _filter(library, None, args.tag)
    if args.api_mode:
        scenarios = select(scenarios, args.api_mode)[0]
    root = scenarios_dir()
    for scenario in scenarios:
        tags = sorted(scenario.tags - {"async", "sync"})
        extras = [f"modes {'+'.join(sorted(scenario.modes))}"]
        if tags:
            extras.append("tags " + ",".join(tags))
        if scenario.requires:
            extras.append("requires " + ",".join(sorted(scenario.requires)))
        file = scenario.path
        try:
            file = scenario.path.relative_to(root) if scenario.path else None
        except ValueError:
            pass
        print(f"{scenario.name}  [{'; '.join(extras)}]", file=out)
        print(f"    {scenario.title}", file=out)
        print(f"    from {scenario.source}  ({file})", file=out)
        if scenario.needs:
            print(f"    venue facts: {', '.join(scenario.needs)}", file=out)
    print(f"\n{len(scenarios)} scenario(s)", file=out)
    return 0


# for `python -m contracts.cli.scenarios`
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="otacm")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["scenarios", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
