"""The real `otacm mock --store sqlite:PATH` in its own process, for the kill -9 tests (tests/store/test_kill9*.py).

`otacm mock` serves with granian: the process the user starts (and kills) is
granian's main process; the app, its store and its webhook threads live in
one worker process it forks. So the helper knows both pids: `kill9()` kills
the main one as a user would and then checks the worker went with it (a
worker left serving would hold the sandbox file and the port), and the
teardown kills whatever is left, by pid. Output goes to a file, never a pipe
nobody reads. Linux only (/proc).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

START = "2026-05-15T09:30:00Z"
PARTNER = "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e"  # the default partner
CUT = (OSError, http.client.HTTPException)  # what a call raises when the sandbox dies under it


def free_port() -> int:
    """A port free now on 127.0.0.1; the same one serves every restart of a test's sandbox."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def order_body(reference: str, slot: int = 0) -> dict[str, Any]:
    """A paid order (it settles Issued); `slot` spreads orders over visit times (capacity is per slot)."""
    return {"partnerId": PARTNER, "sellToOrderReference": reference, "paymentReference": "PAY-1",
            "items": [{"itemNumber": "31001", "visitDate": "2026-06-01", "visitTime": f"{9 + slot % 8:02d}:15:00",
                       "quantity": 1}]}


class Http:
    """Keep-alive HTTP/1.1 to the sandbox, one connection per thread (thousands of calls, from a pool)."""

    def __init__(self, port: int, api_key: str, timeout: float = 30) -> None:
        self.port, self.api_key, self.timeout = port, api_key, timeout
        self._local = threading.local()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, parsed JSON or None); a connection error propagates (the sandbox may just have died)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                             timeout=self.timeout)
        headers = {"x-np-api-key": self.api_key, "Content-Type": "application/json"}
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = connection.getresponse()
            data = response.read()
        except CUT:
            connection.close()
            self._local.connection = None
            raise
        return response.status, json.loads(data) if data else None


class SandboxProcess:
    """One `otacm mock` on a sandbox file (or a store URL: PostgreSQL, where `workers` may be more than one) and a
    fixed port; start it again after a kill."""

    def __init__(self, store: Path | str, port: int, log: Path, workers: int = 1) -> None:
        self.store, self.port, self.log, self.workers = store, port, log, workers
        self.store_url = store if isinstance(store, str) else f"sqlite:{store}"
        self.process: subprocess.Popen[bytes] | None = None
        self.worker = 0
        self.worker_pids: list[int] = []
        self.base_path = ""
        self.api_key = ""
        self._strays: list[int] = []  # pids to kill at teardown if still alive

    def start(self, timeout: float = 60) -> "SandboxProcess":
        argv = [sys.executable, "-c", "from contracts.cli import main; main()", "mock", "--port", str(self.port),
                "--store", self.store_url, "--clock", "frozen", "--clock-start", START, "--workers", str(self.workers)]
        with self.log.open("ab") as out:
            offset = out.tell()
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        fields = self._banner(offset, timeout)
        self.base_path = urlsplit(fields["base URL"]).path
        self.api_key = fields["API key"]
        self.worker_pids = _children(self.process.pid, self.workers, timeout)
        self.worker = self.worker_pids[0]
        self._strays += [self.process.pid, *self.worker_pids]
        return self

    def http(self, timeout: float = 30) -> Http:
        return Http(self.port, self.api_key, timeout)

    @property
    def orders_path(self) -> str:
        return self.base_path + "/channelManager"

    # -- what a client does ------------------------------------------------------------
    def create_orders(self, count: int, prefix: str, threads: int = 8) -> dict[str, str]:
        """`count` paid orders created from a bounded pool; reference → orderId of each one answered 201."""
        http = self.http()

        def create(n: int) -> tuple[str, int, Any]:
            status, body = http.call("POST", self.orders_path, order_body(f"{prefix}-{n}", slot=n))
            return f"{prefix}-{n}".upper(), status, body

        with ThreadPoolExecutor(threads) as pool:
            answers = list(pool.map(create, range(count), timeout=120))
        assert all(status == 201 for _, status, _ in answers), {status for _, status, _ in answers}
        return {reference: body["orderId"] for reference, _, body in answers}

    def subscribe(self, url: str) -> str:
        """A subscription to `ota_cm_order_processed` at `url`; its id."""
        status, body = self.http().call("POST", self.base_path + "/webhook", {
            "notificationUrl": url, "eventName": "ota_cm_order_processed", "clientState": "kill9"})
        assert status == 201, body
        return body["id"]

    def advance(self, by: str, wait_for_webhooks: bool = False) -> dict[str, Any]:
        status, body = self.http(timeout=120).call("POST", "/_mock/clock/advance",
                                                   {"by": by, "waitForWebhooks": wait_for_webhooks})
        assert status == 200, body
        return body

    def now(self) -> float:
        status, body = self.http().call("GET", "/_mock/clock")
        assert status == 200, body
        return body["nowEpoch"]

    def timelines(self) -> dict[str, list[dict[str, str]]]:
        """orderId → its status history (status, at, trigger, reason), from `/_mock/orders`."""
        status, body = self.http(timeout=120).call("GET", "/_mock/orders")
        assert status == 200, body
        return {order["orderId"]: order["history"] for order in body["orders"]}

    def wait_for_webhooks(self, timeout: float = 10) -> None:
        status, body = self.http(timeout=timeout + 5).call("POST", "/_mock/webhooks/wait", {"timeout": timeout})
        assert status == 200 and body["idle"], body

    # -- the process -------------------------------------------------------------------
    def worker_cpu(self) -> float:
        """Seconds of CPU the worker (where the sandbox runs) has used."""
        fields = _stat(self.worker)
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill9(self, timeout: float = 10) -> None:
        """`kill -9` of the `otacm mock` process; returns once it and its worker are gone."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout)
        deadline = time.monotonic() + timeout
        while any(map(_alive, self.worker_pids)):
            assert time.monotonic() < deadline, (
                f"kill -9 of otacm mock (pid {self.process.pid}) left a worker ({self.worker_pids}) running: "
                "it still holds the sandbox file and the port")
            time.sleep(0.01)

    def stop(self) -> None:
        """Teardown: stop the process if it runs, and kill by pid anything it left."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for pid in self._strays:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

    def _banner(self, offset: int, timeout: float) -> dict[str, str]:
        """The banner's `name  value` lines, polled from the log file up to a deadline."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            fields = {f"{w[0]} {w[1]}": w[2] for w in map(str.split, text.splitlines()) if len(w) >= 3}
            if "partner id" in fields and "base URL" in fields:
                return fields
            if self.process.poll() is not None:
                raise AssertionError(f"otacm mock exited ({self.process.returncode}): {text!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"otacm mock printed no banner in {timeout} s: {text!r}")
            time.sleep(0.02)


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name: [0] state, [1] ppid, [11] utime, [12] stime."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie does not: its parent may not have reaped it yet)."""
    try:
        return _stat(pid)[0] != "Z"
    except (OSError, IndexError):
        return False


def _children(parent: int, count: int, timeout: float) -> list[int]:
    """The `count` processes `parent` forked: granian's workers (the banner is printed once one accepts; the
    others may still be starting)."""
    deadline = time.monotonic() + timeout
    while True:
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int(_stat(int(entry.name))[1]) == parent:
                        children.append(int(entry.name))
                except (OSError, IndexError, ValueError):
                    continue
        if len(children) == count or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert len(children) == count, f"otacm mock (pid {parent}) has {len(children)} child processes, not {count}"
    return sorted(children)
