"""Wall time of one default `otacm verify` run: against the embedded mock, and against a real-time target.

The real-time target is `otacm mock --no-control` (no `/_mock/`, the real clock)
with the documented 60 s pickup unless told otherwise: what a QA engineer sees
against a real implementation. Issue 10's bounds: at most 60 s embedded, at
most 5 minutes real-time.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

BANNER_BASE = re.compile(r"base URL\s+(\S+)")
BANNER_KEY = re.compile(r"API key\s+(\S+)")
BANNER_PARTNER = re.compile(r"partner id\s+(\S+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timed(command: list[str], cwd: Path, timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    lines = (run.stdout + run.stderr).strip().splitlines()
    return {"wall_seconds": time.perf_counter() - started, "exit": run.returncode,
            "verdict": next((line for line in reversed(lines) if line.startswith(("PASSED", "FAILED", "ERROR"))), ""),
            "args": command[1:]}


def embedded(otacm: list[str], cwd: Path) -> dict[str, Any]:
    return _timed([*otacm, "verify", "--quiet"], cwd, timeout=600)


def real_time(otacm: list[str], cwd: Path, pickup_seconds: float | None = None) -> dict[str, Any]:
    """Start the real-time mock, read its banner as a person would, run verify with what it printed."""
    port = _free_port()
    mock = [*otacm, "mock", "--no-control", "--port", str(port)]
    if pickup_seconds:
        mock += ["--pickup-seconds", str(pickup_seconds)]
    server = subprocess.Popen(mock, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = _banner(server)
        command = [*otacm, "verify", "--base-url", banner["base"], "--api-key", banner["key"], "--partner-id",
                   banner["partner"], "--quiet"]
        if pickup_seconds:
            command += ["--pickup-seconds", str(pickup_seconds)]
        result = _timed(command, cwd, timeout=900)
        result["pickup_seconds"] = pickup_seconds or 60.0
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def _banner(server: subprocess.Popen[str]) -> dict[str, str]:
    """The base URL, key and partner `otacm mock` prints (it prints them before serving)."""
    found: dict[str, str] = {}
    deadline = time.monotonic() + 60
    assert server.stdout is not None
    while len(found) < 3 and time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            raise RuntimeError("otacm mock stopped before printing its banner")
        for name, pattern in (("base", BANNER_BASE), ("key", BANNER_KEY), ("partner", BANNER_PARTNER)):
            if (match := pattern.search(line)) and name not in found:
                found[name] = match.group(1)
    if len(found) < 3:
        raise RuntimeError(f"otacm mock printed no complete banner within 60 s (found {sorted(found)})")
    _until_listening(found["base"], deadline)  # the banner is printed just before the server binds
    return found


def _until_listening(base: str, deadline: float) -> None:
    host, port = re.match(r"https?://([^:/]+):(\d+)", base).groups()  # type: ignore[union-attr]
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((host, int(port))) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"otacm mock is not listening on {host}:{port}")
