"""What the bench sections share: the server processes they measure, requests to them, the state check.

`Zygote` fills a store once and forks a server per candidate (bench/serve.py);
`ServerProcess` is one of them; `check_state` is the correctness check every
server passes before it is measured; `loadgen` one measurement of one scenario.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from bench.wrk import measure

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def log(message: str = "") -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- servers ------------------------------------------------------------------
class Zygote:
    """`python -m bench.serve`: fills the store once, then forks one child
    per server asked for, each serving a copy of the same store."""

    def __init__(self, orders: int, workdir: Path) -> None:
        self.workdir = workdir
        self.info_file = workdir / "info.json"
        self.log_file = open(workdir / "zygote.log", "w")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "bench.serve", "--orders", str(orders), "--info-file", str(self.info_file)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log_file, text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + 600
        while not self.info_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bench.serve did not fill its store; see {self.log_file.name}")
            time.sleep(0.1)
        self.info: dict[str, Any] = json.loads(self.info_file.read_text())

    def serve(self, name: str, threads: int) -> "ServerProcess":
        port = free_port()
        log_path = self.workdir / f"{name}-{port}.log"
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"{name} {port} {threads} {log_path}\n")
        self.process.stdin.flush()
        pid = int(self.process.stdout.readline())
        return ServerProcess(name, pid, port, self.info, self.info_file, log_path)

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


@dataclass
class ServerProcess:
    """One forked server (its own session: killing the group stops its workers too)."""

    name: str
    pid: int
    port: int
    info: dict[str, Any]
    info_file: Path
    log_path: Path

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited; see {self.log_path}: {self.log_path.read_text()[-2000:]}")
            try:
                if request(self.port, "GET", "/_bench/limit")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout} s")

    def stop(self) -> None:
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.pid, sig)  # the group: granian/gunicorn workers too
            except ProcessLookupError:
                return
            deadline = time.monotonic() + grace
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self.alive():
                return


def request(port: int, method: str, path: str, body: Any = None, key: Optional[str] = None,
            timeout: float = 10) -> tuple[int, Any]:
    """One request on a fresh connection (so a second process would show)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"x-np-api-key": key} if key else {}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw
    finally:
        connection.close()


def check_state(server: ServerProcess) -> list[str]:
    """What breaks if the server does not keep one in-memory store."""
    from bench.apps import order_body

    info, port, key = server.info, server.port, server.info["api_key"]
    base, partner = info["base_path"], info["partner_id"]
    problems: list[str] = []
    reference = f"STATE-{uuid.uuid4().hex[:8]}"
    status, created = request(port, "POST", f"{base}/channelManager", order_body(partner, reference), key)
    if status != 201:
        return [f"createOrder answered {status}: {created}"]
    order_id = created["orderId"]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:  # concurrent: every worker process accepts some
        reads = list(pool.map(
            lambda _: request(port, "GET", f"{base}/channelManager/{order_id}", key=key)[0], range(64)))
    if reads.count(200) != len(reads):
        problems.append(f"{len(reads) - reads.count(200)}/{len(reads)} getOrder on fresh connections did not find "
                        f"the order just created")
    tenant, environment, _ = base.strip("/").split("/")
    for company in ("CRONUS+International+Ltd.", "CRONUS%2520International%2520Ltd."):
        status, _ = request(port, "GET", f"/{tenant}/{environment}/{company}/channelManager/{order_id}", key=key)
        if status != 200:
            problems.append(f"company encoded as {company}: getOrder {status}")
    race = f"RACE-{uuid.uuid4().hex[:8]}"
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(
            lambda _: request(port, "POST", f"{base}/channelManager", order_body(partner, race), key)[0], range(16)))
    if statuses.count(201) != 1:
        problems.append(f"16 racing creates of one reference: {statuses.count(201)} x 201 (want exactly 1)")
    return problems


def loadgen(server: ServerProcess, scenario: str, seconds: float, connections: int) -> dict[str, Any]:
    """One measurement on the bench's one load generator (bench/wrk.py: wrk, else bench/loadgen.py)."""
    return measure(server.port, server.info_file, scenario, seconds, connections)



def otacm_command() -> list[str]:
    found = shutil.which("otacm", path=str(Path(PYTHON).parent)) or shutil.which("otacm")
    return [found] if found else [PYTHON, "-m", "contracts.cli"]


