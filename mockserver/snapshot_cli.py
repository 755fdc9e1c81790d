"""`otacm sandbox export FILE` and `otacm sandbox import FILE [--replace]`: snapshots of a running sandbox.

A partner exports the sandbox where a bug shows and hands the file to QA,
who imports it into theirs: every order with its history, the clock, the
pending lifecycle steps and the webhook state (store/snapshot.py says what a
snapshot holds). Both talk to the sandbox over its control API
(`GET/POST /_mock/snapshot`), found as `otacm clock` finds it: `--url`,
`--token` or `$OTACM_CONTROL_TOKEN`. `-` is stdout or stdin. Every error is
one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any

import requests

from mockserver.cli import DEFAULT_URL
from mockserver.control.access import TOKEN_HEADER
from mockserver.store.snapshot import FORMAT

TIMEOUT = 300  # seconds: a large sandbox takes a while to write down or load


class Failed(Exception):
    """What went wrong, in one line for stderr."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="export a running sandbox's state to a file, or import one",
        description="Snapshots of a running otacm mock: everything it holds (orders and their history, the clock, "
        "pending lifecycle steps, webhook subscriptions, held events and pending deliveries) as one versioned JSON "
        "file that any sandbox, on any store, can load.",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the mock's root URL (default {DEFAULT_URL})")
    parser.add_argument("--token", default=os.environ.get("OTACM_CONTROL_TOKEN"),
                        help="the control token a mock off loopback printed (default $OTACM_CONTROL_TOKEN)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write the sandbox's state to FILE (- for stdout)")
    export.add_argument("file", metavar="FILE")
    load = actions.add_parser("import", help="replace the sandbox's state with FILE's (- for stdin)",
                              description="Load a snapshot. Into a sandbox that holds orders, webhook records or "
                              "pending steps only with --replace: the snapshot replaces all of it.")
    load.add_argument("file", metavar="FILE")
    load.add_argument("--replace", action="store_true",
                      help="load it even though the sandbox holds state (all of which it replaces)")
    parser.set_defaults(handler=run_sandbox)


def run_sandbox(args: argparse.Namespace) -> int:
    session = requests.Session()
    if args.token:
        session.headers[TOKEN_HEADER] = args.token
    try:
        if args.action == "export":
            print(export(session, args.url, args.file), file=sys.stderr if args.file == "-" else sys.stdout)
        else:
            print(load(session, args.url, args.file, args.replace))
    except Failed as failure:
        print(f"otacm sandbox {args.action}: {failure}", file=sys.stderr)
        return 2
    return 0


def export(session: requests.Session, url: str, file: str) -> str:
    """Write the snapshot to `file`; what it holds, in one line."""
    response = _call(session, "GET", url)
    document = json.loads(response.content)
    if file == "-":
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
    else:
        _write(Path(file), response.content)
    counts = {"orders": len(document["orders"]), "pendingSteps": len(document["steps"]),
              "records": {kind: len(records) for kind, records in document["records"].items()}}
    return f"exported {_counts(counts)}; clock {_clock(document['clock'])} (to {'stdout' if file == '-' else file})"


def load(session: requests.Session, url: str, file: str, replace: bool) -> str:
    """Send `file`'s snapshot (gzip-compressed: the sandbox's body limit counts what is sent)."""
    content = _read(file)
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise Failed(f"{_name(file)} is not an otacm sandbox snapshot (make one with `otacm sandbox export FILE`)")
    body = gzip.compress(content, compresslevel=6)
    response = _call(session, "POST", url, data=body, params={"replace": "1"} if replace else None,
                     headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    answer = response.json()
    return f"imported {_counts(answer['loaded'])} from {_name(file)}; clock {_clock(answer['clock'])}"


def _call(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    """The control API's answer; a Failed for an unreachable sandbox or any answer but 200."""
    try:
        response = session.request(method, f"{url.rstrip('/')}/_mock/snapshot", timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise Failed(f"cannot reach a sandbox at {url} ({type(error).__name__}); start one with `otacm mock` "
                     "or name it with --url") from None
    if response.status_code == 200:
        return response
    try:
        message = str(response.json()["message"])
    except (ValueError, KeyError, TypeError):
        message = ""
    if not message or (response.status_code in (401, 404) and "control token" not in message):
        message = (f"HTTP {response.status_code} from {url}/_mock/snapshot: is it an otacm mock with its control "
                   "API on (not started with --no-control)?")  # the API's own 401/404 would mislead here
    if response.status_code == 413:
        message += " (the sandbox's maxBodyBytes config limits a snapshot, gzip-compressed, too)"
    raise Failed(message)


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except FileNotFoundError:
        raise Failed(f"{file}: no such file") from None
    except OSError as error:
        raise Failed(f"cannot read {file}: {error.strerror or error}") from None


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as error:
        raise Failed(f"cannot write {path}: {error.strerror or error}") from None


def _name(file: str) -> str:
    return "stdin" if file == "-" else file


def _counts(summary: dict[str, Any]) -> str:
    """`7 orders, 3 pending steps, 2 webhook records` from the control API's counts."""
    records = sum(summary["records"].values())
    return f"{summary['orders']} order(s), {summary['pendingSteps']} pending step(s), {records} webhook record(s)"


def _clock(clock: dict[str, Any]) -> str:
    return f"{'frozen at' if clock['frozen'] else 'running at'} {clock['now']}"
