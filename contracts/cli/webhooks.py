"""`otacm webhooks listen`: receive `ota_cm_order_processed` POSTs and say what is wrong with them.

A partner points a subscription's `notificationUrl` at it to see exactly what
their sender (or the mock) delivers; with `--base-url` each event is also
compared with what getOrder says about its order at arrival.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TextIO

from contracts.cli.address_args import add_address_arguments, target_options
from contracts.target import FORMS, Target, TargetClient, Unreachable, UsageProblem
from contracts.target.resolve import resolve_target
from contracts.webhooks.receiver import Delivery, WebhookReceiver


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "webhooks",
        help="receive and check ota_cm_order_processed webhooks",
        description="Tools for the ota_cm_order_processed webhook.",
    )
    actions = parser.add_subparsers(dest="webhooks_command", metavar="ACTION", required=True)
    _register_listen(actions)


def _register_listen(actions: argparse._SubParsersAction) -> None:
    listen = actions.add_parser(
        "listen",
        help="run a local endpoint that prints and validates every webhook POST",
        description=(
            "Listen for webhook POSTs, print each one and flag every violation of the spec's "
            "WebhookEnvelope (the envelope's `values` key, eventName, clientState, payload). "
            "With --base-url each event's orderId is looked up with getOrder at arrival to check "
            "that the payload's status matches and that the order had settled. An order announced "
            "again with the status it was last announced with (across POSTs or inside one) is "
            "reported as `duplicate?`: once per settle. Always answers 200 so the sender does not "
            "retry. Ctrl-C stops with a verdict line."
        ),
        epilog=f"the two forms of --base-url:\n{FORMS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listen.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    listen.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free one (default: %(default)s)")
    listen.add_argument("--client-state", metavar="S", default=None,
                        help="the subscription's clientState; every event must mirror it exactly (default: not checked)")
    listen.add_argument("--strict", action="store_true",
                        help="also apply the spec's x-strict rules (lower-case GUIDs, UTC 'Z' timestamps)")
    add_address_arguments(listen, "enables the getOrder checks: payload status matches the order, event only after it settled; $OTACM_API_KEY is the key's default too", partner=False)
    listen.add_argument("--json", action="store_true", help="print one JSON line per delivery instead of text blocks")
    listen.set_defaults(handler=run_listen, _parser=listen)


def make_order_lookup(target: Target, timeout: float = 10.0) -> Callable[[str], dict[str, Any] | None]:
    """An `order_lookup` doing getOrder: the order's JSON, None on 404, an error otherwise."""
    client = TargetClient(target, timeout)

    def lookup(order_id: str) -> dict[str, Any] | None:
        exchange = client.call("getOrder", {"orderId": order_id})
        if exchange.status == 404:
            return None
        if exchange.status != 200:
            raise RuntimeError(f"GET {exchange.url} answered {exchange.status or exchange.error}: "
                               f"{str(exchange.response)[:200]}")
        return exchange.response

    return lookup


def format_delivery(delivery: Delivery) -> str:
    """One human-readable block for a delivery: time, events, then every violation."""
    stamp = delivery.received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    answered = "no answer" if delivery.answered is None else f"answered {delivery.answered}"
    lines = [f"--- #{delivery.sequence} POST {delivery.path} at {stamp} ({answered}) ---"]
    events = delivery.events
    if not events:
        lines.append("  no events found in the body")
    for event in events:
        lines.append(f"  event {event.index + 1}: orderId {event.order_id} status {event.status} "
                     f"buyFromOrderReference {event.buy_from_order_reference}")
    if delivery.json is None:
        lines.append(f"  body: {delivery.body[:500].decode('utf-8', 'replace')}")
    lines += [f"  {violation}" for violation in delivery.violations]
    lines += [f"  {repeat}" for repeat in delivery.repeats]
    lines.append("  OK: no violations" if delivery.clean else "  " + _tally(len(delivery.violations),
                                                                            len(delivery.repeats)))
    return "\n".join(lines)


def _tally(violations: int, repeats: int) -> str:
    parts = [f"{violations} violation(s)"] if violations or not repeats else []
    return ", ".join(parts + ([f"{repeats} duplicate?"] if repeats else []))


def verdict(deliveries: list[Delivery]) -> str:
    """The line printed on stopping: what arrived, and whether it was all OK (a `duplicate?` is not)."""
    events = sum(len(d.events) for d in deliveries)
    violations = sum(len(d.violations) for d in deliveries)
    repeats = [text for d in deliveries for text in d.repeats]
    head = f"Stopped. {len(deliveries)} POST(s), {events} event(s): "
    if not violations and not repeats:
        return head + ("OK" if deliveries else "nothing arrived")
    text = head + "NOT OK: " + _tally(violations, len(repeats))
    if repeats:
        text += (" — an order was announced with the same status twice, no other status between (the same settle "
                 "sent twice, unless it settled to that status again after a replace); see the duplicate? lines")
    return text


def format_delivery_json(delivery: Delivery) -> str:
    """One JSON line per delivery, for piping into other tools."""
    return json.dumps(delivery.to_dict(), separators=(",", ":"))


def run_listen(args: argparse.Namespace, out: TextIO | None = None, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or `stop` is set, for callers embedding it)."""
    out = out or sys.stdout
    stop = stop or threading.Event()
    lookup = None
    if args.base_url:
        options = target_options(args)
        options.api_key = args.api_key or os.environ.get("OTACM_API_KEY")
        try:
            lookup = make_order_lookup(resolve_target(options, need_partner=False))
        except (UsageProblem, Unreachable) as error:
            args._parser.error(str(error))
    render = format_delivery_json if args.json else format_delivery
    printing = threading.Lock()  # deliveries arrive on several threads; keep blocks whole

    def show(delivery: Delivery) -> None:
        with printing:
            _emit(out, render(delivery))

    receiver = WebhookReceiver(args.host, args.port, expected_client_state=args.client_state,
                               order_lookup=lookup, strict=args.strict, on_delivery=show)
    with receiver, _stop_on_sigterm(stop):
        if not args.json:
            _emit(out, f"Listening for webhooks on {receiver.url} (Ctrl-C to stop)")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    if not args.json:
        _emit(out, verdict(receiver.deliveries()))
    return 0


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C (process managers, and shells where SIGINT is ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _emit(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()
