"""`otacm mock` (run the sandbox) and `otacm clock` (warp a running one)."""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

import requests

from mockserver.config import ApiKeyConfig, MockConfig, PartnerConfig, pickup_seconds, request_log_bound
from mockserver.control.access import TOKEN_HEADER, token_for
from mockserver.sandbox.clock import iso, parse_duration, parse_instant
from mockserver.store import StoreError, StoreInfo, inspect_store, shown

DEFAULT_URL = "http://127.0.0.1:8080"
# One blocking thread: with two, CPython's GIL starves whichever thread waits
# for it while the other releases and retakes it between requests (the
# waiter's timer restarts at every release), and requests wait 0.1–1 s at 4
# connections and more (README, "The getOrder tail"). A request that blocks
# (an advance with `waitForWebhooks` whose receiver calls the mock back) is a
# control request, and those run on the front's own pool (mockserver/front.py).
GRANIAN_THREADS = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_mock(subparsers)
    _register_clock(subparsers)


# -- otacm mock -------------------------------------------------------------------
def _register_mock(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mock",
        help="run the sandbox mock server",
        description=(
            "Run the OTA Channel Manager sandbox: the documented API, with a clock you can warp through "
            "/_mock/ (or `otacm clock`). With no arguments it serves on port 8080 with a default API key and "
            "partner, printed at start, and keeps its state in memory; --store sqlite:sandbox.db keeps it "
            "across restarts."
        ),
        formatter_class=OneDefaultHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--store", metavar="URL", help="where the sandbox's state lives: memory (lost on exit), "
                        "sqlite:PATH (a file) or postgresql://USER@HOST:PORT/DATABASE (a database), both kept "
                        "across restarts: started again on one, the sandbox continues where it stood and the saved "
                        "clock wins over --clock/--clock-start [config: memory]")
    parser.add_argument("--port", type=int, default=8080, metavar="N", help="port to listen on (0: any free port)")
    parser.add_argument("--config", metavar="FILE", help="YAML config overriding mockserver/data/defaults.yaml")
    parser.add_argument("--api-mode", choices=["async", "sync"], help="async: documented background issuance; "
                        "sync: issue inside createOrder/replaceOrder (the earlier API, docs/003) [config: async]")
    parser.add_argument("--clock", choices=["real", "frozen"], default="real",
                        help="real: time runs (shift it with `otacm clock advance`); frozen: time moves only when told")
    parser.add_argument("--clock-start", metavar="INSTANT", help="start the clock at this ISO 8601 instant (default: now)")
    parser.add_argument("--api-key", action="append", default=[], metavar="KEY",
                        help="also accept this API key for every partner (repeatable)")
    parser.add_argument("--partner-id", action="append", default=[], metavar="GUID",
                        help="also know this active partner (repeatable)")
    parser.add_argument("--processing-seconds", type=float, metavar="SECONDS", help="Processing → settled delay [config: 3]")
    parser.add_argument("--scheduled-seconds", type=float, metavar="SECONDS", help="Scheduled → Processing delay [config: 1]")
    parser.add_argument("--pickup-seconds", type=float, metavar="SECONDS",
                        help="seconds between pickups on the mock's clock, e.g. 2 for a real-time target that "
                        "settles quickly [config: the spec's 60]")
    parser.add_argument("--no-control", action="store_true",
                        help="look like a real server: no /_mock/ control API (its paths answer as unknown API "
                        "routes), no dashboard, real-time clock only [config: control: true]")
    parser.add_argument("--control-token", metavar="TOKEN",
                        help="require this token for /_mock/ and the dashboard (header x-otacm-control-token, or "
                        "open /_mock/ui?token=TOKEN); off loopback one is generated and printed if unset "
                        "[config: controlToken]")
    parser.add_argument("--server", choices=["granian", "waitress"], default="granian",
                        help="WSGI server: granian is the fastest measured (bench/README.md), waitress is pure Python "
                        "and one process; falls back to waitress without granian")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="granian worker processes serving one sandbox; more than 1 needs --store "
                        "postgresql://... (each worker has its own memory: the memory store and an SQLite file "
                        "are one process's)")
    parser.add_argument("--threads", type=int, metavar="N", help="threads running the app (default: granian 1, waitress 8). With granian "
                        "a second thread makes requests wait up to a second under load (the GIL); the control API "
                        "(/_mock/) has threads of its own")
    parser.add_argument("--body-timeout", metavar="DURATION",
                        help="a request body not whole after this long (30s, 1m, or seconds) gets a 408 and the "
                        "connection is closed, so a client trickling its body holds no one else up "
                        "[config: bodyTimeoutSeconds: 30]")
    parser.add_argument("--log", nargs="?", const="text", choices=["text", "json"], metavar="FORMAT",
                        help="print one line per API request to stdout, as servers log them: text (the default "
                        "with --log alone: time, client, request line, status, operation, latency, error) or json "
                        "(the request log's entry without its bodies, one object a line)")
    parser.add_argument("--request-log-limit", metavar="N",
                        help="API requests the request log keeps, newest first (GET /_mock/requests, the "
                        "dashboard); 0 keeps none [config: requestLog.limit: 10000]")
    parser.add_argument("--validate-responses", action="store_true",
                        help="check every response against the spec and answer 500 on a mismatch (for mock development)")
    parser.set_defaults(handler=run_mock)


def mock_config(args: argparse.Namespace) -> MockConfig:
    config = MockConfig.load(args.config)
    changes: dict[str, Any] = {"clock_mode": args.clock, "validate_responses": args.validate_responses,
                               "host": args.host}
    # Decided here, not in the server process, so the banner can print it.
    changes["control_token"] = token_for(args.host, args.control_token or config.control_token)
    if args.store:
        changes["store"] = args.store
    if args.api_mode:
        changes["api_mode"] = args.api_mode
    if args.clock_start:
        changes["clock_start"] = _instant(args.clock_start)
    if args.processing_seconds is not None:
        changes["processing_seconds"] = args.processing_seconds
    if args.scheduled_seconds is not None:
        changes["scheduled_to_processing_seconds"] = args.scheduled_seconds
    if args.pickup_seconds is not None:
        changes["pickup_seconds"] = pickup_seconds(args.pickup_seconds)
    if getattr(args, "request_log_limit", None) is not None:
        changes["request_log_limit"] = request_log_bound(args.request_log_limit, "--request-log-limit")
    if getattr(args, "log", None):
        changes["request_log_print"] = args.log
    if getattr(args, "body_timeout", None) is not None:
        changes["body_timeout_seconds"] = _body_timeout(args.body_timeout)
    if args.no_control:
        changes["control"] = False
    if args.no_control or not config.control:
        if args.clock == "frozen":
            raise SystemExit("otacm mock: --no-control runs on the real clock (nothing could move a frozen one); "
                             "drop --clock frozen")
    if args.api_key:
        changes["api_keys"] = [*config.api_keys, *(ApiKeyConfig(key) for key in args.api_key)]
    if args.partner_id:
        extra = {p.lower(): PartnerConfig(p.lower(), "added with --partner-id") for p in args.partner_id}
        changes["partners"] = {**config.partners, **extra}
    return config.replace(**changes)


def run_mock(args: argparse.Namespace) -> int:
    config = mock_config(args)
    try:  # before serving: a file that cannot be a sandbox is an error now, not in the worker
        store = inspect_store(config.store)
    except StoreError as error:
        print(f"otacm mock: --store {shown(config.store)}: {error}", file=sys.stderr)  # its password masked
        return 2
    granian = getattr(args, "server", "granian") == "granian" and importlib.util.find_spec("granian") is not None
    refusal = _workers_refusal(getattr(args, "workers", 1), store, config.store, granian)
    if refusal:
        print(f"otacm mock: {refusal}", file=sys.stderr)
        return 2
    if granian:
        return _run_granian(config, args, store)
    return _run_waitress(config, args, store)


def _workers_refusal(workers: int, store: StoreInfo, url: str, granian: bool) -> str:
    """Why `--workers` cannot be served as asked ("" if it can)."""
    if workers < 1:
        return f"--workers {workers}: give 1 or more worker processes"
    if workers == 1:
        return ""
    if not store.shared:
        where = "the memory store lives in one process" if url == "memory" else "an SQLite file is one process's"
        return (f"--workers {workers} needs a store every worker shares, and {where}: use --store "
                "postgresql://USER@HOST:PORT/DATABASE, or --workers 1")
    if not granian:
        return f"--workers {workers} runs granian worker processes: drop --server waitress (or install granian)"
    return ""


def state_lines(store: StoreInfo) -> list[str]:
    """The banner's `state` line, and on a sandbox started again what it continues from."""
    lines = [f"  state       {store.description}"]
    if store.clock is not None:
        at = iso(store.clock.frozen_at) if store.clock.frozen_at is not None else "running"
        clock = f"frozen at {at}" if store.clock.frozen_at is not None else "running at its saved offset"
        lines.append(f"  resumed     {store.orders} order(s), clock {clock} (the saved clock wins; "
                     "--clock and --clock-start apply to a new store)")
    return lines


def server_line(name: str, threads: int, workers: int = 1) -> str:
    """The banner's `server` line. (With granian, `/_mock/` runs beside the
    app's threads, so a request waiting for webhooks holds none of them.)"""
    processes = "one process" if workers == 1 else f"{workers} worker processes sharing the store"
    return f"{name}, {processes}, {threads} thread{'s' if threads != 1 else ''}{' each' if workers != 1 else ''}"


def _announce(config: MockConfig, url: str, store: StoreInfo, server: str = "") -> None:
    from mockserver.server import api_base_url

    mode = config.clock_mode if store.clock is None else ("frozen" if store.clock.frozen_at is not None else "real")
    clock = mode if config.control else "real, no control API"  # a store started again: its saved clock
    print(f"otacm mock: serving the OTA Channel Manager sandbox ({config.api_mode}, clock {clock})")
    print(f"  base URL    {api_base_url(url, config)}")
    print(f"  API key     {config.default_api_key}   (header x-np-api-key)")
    print(f"  partner id  {config.default_partner_id}")
    for line in state_lines(store):
        print(line)
    if config.pickup_seconds is not None:
        print(f"  pickups     every {config.pickup_seconds:g} s")
    if server:
        print(f"  server      {server}")
    if config.control:
        token = f"?token={config.control_token}" if config.control_token else ""
        print(f"  dashboard   {url}/_mock/ui{token}")
        print(f"  control     {url}/_mock/clock   (otacm clock advance 5m --url {url}"
              f"{' --token ' + config.control_token if config.control_token else ''})")
        if config.control_token:
            print(f"  token       {config.control_token}   (header {TOKEN_HEADER}; needed off loopback)")
    sys.stdout.flush()


def _run_waitress(config: MockConfig, args: argparse.Namespace, store: StoreInfo) -> int:
    from waitress.server import create_server

    from mockserver.app import create_app
    from mockserver.server import Ticker

    app = create_app(config)
    server = create_server(app, host=args.host, port=args.port, threads=args.threads or 8)
    ticker = Ticker(app.extensions["otacm"].backend, config.ticker_interval_seconds,
                    app.extensions["otacm"].webhooks).start()
    _announce(config, f"http://{args.host}:{server.effective_port}", store,
              server_line("waitress", args.threads or 8))
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly under process managers too
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        ticker.stop()
        server.close()
        app.extensions["otacm"].request_log.stop()
    return 0


def _run_granian(config: MockConfig, args: argparse.Namespace, store: StoreInfo) -> int:
    """`--workers` granian worker processes (each its own app and store: one sandbox only on a shared store),
    the app on `--threads` threads behind mockserver/front.py, which takes each body whole first. Granian
    handles SIGINT and SIGTERM itself; the banner is printed once a worker accepts."""
    port = args.port or _free_port(args.host)
    url = f"http://{args.host}:{port}"
    threads = args.threads or GRANIAN_THREADS
    workers = getattr(args, "workers", 1)
    server = granian_server(args.host, port, workers)
    announced = server_line("granian", threads, workers)
    server.on_startup(lambda: threading.Thread(target=_announce_when_up,
                                               args=(config, url, store, args.host, port, announced),
                                               daemon=True).start())
    server.serve(target_loader=functools.partial(_granian_app, config, threads, os.getpid()), wrap_loader=False)
    return 0


def granian_server(host: str, port: int, workers: int = 1) -> Any:
    """The granian server `otacm mock` runs (the bench too): `workers`
    worker processes on granian's RSGI interface, so granian's Rust side collects each
    request body before the app's thread sees the request (a slow client
    held the WSGI interface's blocking thread while it read: issue 19). RSGI
    has one event-loop thread; `--threads` are the app's, in `for_granian`."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    return Server("otacm-mock", address=host, port=port, interface=Interfaces.RSGI, workers=workers,
                  blocking_threads=1, websockets=False, log_level=LogLevels.error)


def _granian_app(config: MockConfig, threads: int, parent: int) -> Any:
    """Runs in the worker process: the app, its store and its ticker live there; it dies with `parent`."""
    from mockserver.app import create_app
    from mockserver.lifeline import die_with_parent
    from mockserver.server import Ticker, for_granian

    die_with_parent(parent)  # a kill -9 of `otacm mock` must not leave the worker holding the file and port
    app = create_app(config)
    Ticker(app.extensions["otacm"].backend, config.ticker_interval_seconds, app.extensions["otacm"].webhooks).start()
    return for_granian(app, threads)


def _announce_when_up(config: MockConfig, url: str, store: StoreInfo, host: str, port: int, server: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    _announce(config, url, store, server)


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


class OneDefaultHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default said once: argparse's `(default: X)` only where
    the help does not already say it (`default`, `[config: ...]`) and there is
    a default worth saying (not None, False or an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "default" in text or "[config:" in text:
            return text
        return super()._get_help_string(action)


# -- otacm clock ------------------------------------------------------------------
def _register_clock(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "clock",
        help="read or warp the clock of a running mock",
        description="Read or move the clock of a running otacm mock. Moving it runs every lifecycle step "
        "and webhook that comes due on the way, in time order.",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the mock's root URL (default {DEFAULT_URL})")
    parser.add_argument("--token", default=os.environ.get("OTACM_CONTROL_TOKEN"),
                        help="the control token a mock off loopback printed (default $OTACM_CONTROL_TOKEN)")
    # No action is `show`: `otacm clock` alone prints the sandbox time.
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=False)
    actions.add_parser("show", help="print the mock's time (what `otacm clock` alone does)")
    advance = actions.add_parser("advance", help="move forward by a duration: 90s, 5m, 2h, 1d, 1h30m")
    advance.add_argument("duration")
    jump = actions.add_parser("jump", help="move forward to an ISO 8601 instant")
    jump.add_argument("instant")
    actions.add_parser("freeze", help="stop time where it stands")
    actions.add_parser("resume", help="let time run again from where it stands")
    parser.set_defaults(handler=run_clock)


def run_clock(args: argparse.Namespace) -> int:
    session = requests.Session()
    if getattr(args, "token", None):
        session.headers[TOKEN_HEADER] = args.token
    try:
        if args.action == "advance":
            parse_duration(args.duration)  # fail early with a clear message
            response = session.post(f"{args.url}/_mock/clock/advance", json={"by": args.duration}, timeout=300)
        elif args.action == "jump":
            response = session.post(f"{args.url}/_mock/clock/jump", json={"to": args.instant}, timeout=300)
        elif args.action in ("freeze", "resume"):
            response = session.post(f"{args.url}/_mock/clock/{args.action}", timeout=30)
        else:
            response = session.get(f"{args.url}/_mock/clock", timeout=30)
    except ValueError as error:
        print(f"otacm clock: {error}", file=sys.stderr)
        return 2
    except requests.RequestException as error:
        print(f"otacm clock: cannot reach a mock at {args.url} ({error}); start one with `otacm mock`", file=sys.stderr)
        return 3
    body = response.json()
    if response.status_code != 200:
        print(f"otacm clock: {body.get('message', body)}", file=sys.stderr)
        return 2
    state = "frozen" if body["frozen"] else "running"
    print(f"{body['now']} ({state}; next event due {body['nextDue'] or 'none'}, {body['pendingEvents']} pending)")
    return 0


def _body_timeout(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise SystemExit(f"otacm mock: --body-timeout {text!r} is not a positive duration (e.g. 30s, 2m, 10)")
    return seconds


def _instant(text: str) -> float:
    try:
        return parse_instant(text)
    except ValueError:
        raise SystemExit(f"otacm mock: --clock-start {text!r} is not an ISO 8601 instant (e.g. 2026-06-01T09:00:00Z)") from None
