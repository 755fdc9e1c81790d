"""`python -m bench` section 7 (`--sections slow`): slow clients against the real `otacm mock`.

Issue 19: served through granian's WSGI interface, the app's one thread read
request bodies itself, so one client trickling a body held every other
request up for as long as it trickled. This section starts `otacm mock`
(each `--server`) and times cheap GETs (getOrder of one order, one
keep-alive connection, one after another) with 0 and with 8 clients that
each send a createOrder's headers with its Content-Length and then the body
a byte at a time (a body lasts `trickle_seconds`; then it starts over on a
new connection). With the body read before the app's thread
(mockserver/front.py) the GETs do not notice them. Last, a body that stops
arriving on a mock started with `--body-timeout 1s`: how long until its 408.

    python -m bench.slow_clients [--requests 200] [--tricklers 8] [--server granian,waitress]

Everything on 127.0.0.1; every socket has a timeout, every thread is joined.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlsplit

from bench.apps import order_body

PYTHON = sys.executable
REQUEST_TIMEOUT = 10.0  # s: a GET held longer counts as this long (the old server held them for seconds)


def log(message: str = "") -> None:
    print(message, flush=True)


@dataclass
class Mock:
    """A running `otacm mock`: its process and what its banner said."""

    process: subprocess.Popen
    host: str
    port: int
    base_path: str
    api_key: str
    partner_id: str

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen) -> None:
    """End an `otacm mock` as a user does (SIGTERM), killing it if it has not gone within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def start_mock(*flags: str, timeout: float = 60) -> Mock:
    """`otacm mock --port 0 --clock frozen` with `flags`, once its banner is out."""
    process = subprocess.Popen(
        [PYTHON, "-c", "from contracts.cli import main; main()", "mock", "--port", "0", "--clock", "frozen",
         "--clock-start", "2026-05-15T09:30:00Z", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        fields = read_banner(process, timeout)
    except BaseException:
        process.kill()
        process.wait(timeout=5)
        raise
    parts = urlsplit(fields["base URL"])
    return Mock(process, parts.hostname or "127.0.0.1", parts.port or 80, parts.path, fields["API key"],
                fields["partner id"])


def read_banner(process: subprocess.Popen, timeout: float) -> dict[str, str]:
    """The `name  value` lines of the banner, read with a deadline."""
    assert process.stdout is not None
    fields: dict[str, str] = {}
    output = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while "partner id" not in fields:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise RuntimeError(f"otacm mock printed no banner in {timeout} s: {output!r}")
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"otacm mock exited ({process.poll()}): {output!r}")
            output += chunk
            for line in output.decode(errors="replace").splitlines():
                words = line.split()
                if len(words) >= 3:
                    fields[f"{words[0]} {words[1]}"] = words[2]
    return fields


def create_order(mock: Mock) -> str:
    """One order, created with a whole body: the id the GETs read."""
    connection = http.client.HTTPConnection(mock.host, mock.port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("POST", f"{mock.base_path}/channelManager",
                           json.dumps(order_body(mock.partner_id, f"SLOW-{uuid.uuid4().hex[:8]}")),
                           {"x-np-api-key": mock.api_key, "Content-Type": "application/json"})
        response = connection.getresponse()
        body = json.loads(response.read())
        if response.status != 201:
            raise RuntimeError(f"createOrder answered {response.status}: {body}")
        return str(body["orderId"])
    finally:
        connection.close()


def trickled_request(mock: Mock) -> tuple[bytes, bytes]:
    """A createOrder's request head (with its Content-Length) and its body."""
    body = json.dumps(order_body(mock.partner_id, f"TRICKLE-{uuid.uuid4().hex[:8]}")).encode()
    head = (f"POST {mock.base_path}/channelManager HTTP/1.1\r\nHost: {mock.host}:{mock.port}\r\n"
            f"x-np-api-key: {mock.api_key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head, body


@dataclass
class Tricklers:
    """`count` threads, each sending createOrder bodies a byte at a time, a
    body over `seconds`, then reading the answer and starting over."""

    mock: Mock
    count: int
    seconds: float
    answers: dict[int, int] = field(default_factory=dict)  # status -> how many
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> "Tricklers":
        started = threading.Barrier(self.count + 1, timeout=30)
        for index in range(self.count):
            thread = threading.Thread(target=self._run, args=(started,), name=f"trickler-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        started.wait()  # every trickler has sent its first head and byte
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)

    def _run(self, started: threading.Barrier) -> None:
        first = True
        while not self._stop.is_set():
            head, body = trickled_request(self.mock)
            with socket.create_connection((self.mock.host, self.mock.port), timeout=REQUEST_TIMEOUT) as sock:
                sock.sendall(head + body[:1])
                if first:
                    started.wait()
                    first = False
                pause = self.seconds / len(body)
                for index in range(1, len(body)):
                    if self._stop.wait(pause):
                        return
                    sock.sendall(body[index:index + 1])
                status = _status_line(sock)
            with self._lock:
                self.answers[status] = self.answers.get(status, 0) + 1


def _status_line(sock: socket.socket) -> int:
    """The status of the response on `sock` (0: none before the timeout or the close)."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        return 0
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def time_gets(mock: Mock, order_id: str, requests: int, budget: float = 60.0) -> list[float]:
    """Milliseconds per getOrder, one after another on one keep-alive
    connection (a stalled one counts as REQUEST_TIMEOUT), until `requests`
    or `budget` seconds."""
    path = f"{mock.base_path}/channelManager/{order_id}"
    headers = {"x-np-api-key": mock.api_key}
    connection = http.client.HTTPConnection(mock.host, mock.port, timeout=REQUEST_TIMEOUT)
    times: list[float] = []
    deadline = time.monotonic() + budget
    try:
        while len(times) < requests and time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"getOrder answered {response.status}")
                times.append((time.perf_counter() - began) * 1000)
            except (OSError, http.client.HTTPException):
                times.append(REQUEST_TIMEOUT * 1000)
                connection.close()
                connection = http.client.HTTPConnection(mock.host, mock.port, timeout=REQUEST_TIMEOUT)
            time.sleep(0.005)  # spread over the tricklers' bodies, as other clients would be
    finally:
        connection.close()
    return times


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` 0.99: p99)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(times: list[float]) -> dict[str, Any]:
    return {"requests": len(times), "p50_ms": percentile(times, 0.5), "p99_ms": percentile(times, 0.99),
            "max_ms": max(times)}


def measure_server(server: str, requests: int, tricklers: int, trickle_seconds: float) -> dict[str, Any]:
    """GETs with no trickler, then with `tricklers`, on one `otacm mock --server SERVER`."""
    mock = start_mock("--server", server)
    try:
        order_id = create_order(mock)
        time_gets(mock, order_id, 20)  # warm up
        figures: dict[str, Any] = {"0": summary(time_gets(mock, order_id, requests))}
        with Tricklers(mock, tricklers, trickle_seconds) as slow:
            figures[str(tricklers)] = summary(time_gets(mock, order_id, requests))
        figures["trickler_answers"] = dict(slow.answers)
        return figures
    finally:
        mock.stop()


def stalled_body_answer(limit: str = "1s") -> dict[str, Any]:
    """A body that stops arriving, on `otacm mock --body-timeout LIMIT`: its status and when it came."""
    mock = start_mock("--body-timeout", limit)
    try:
        head, body = trickled_request(mock)
        with socket.create_connection((mock.host, mock.port), timeout=REQUEST_TIMEOUT) as sock:
            began = time.monotonic()
            sock.sendall(head + body[:10])
            status = _status_line(sock)
            return {"limit": limit, "status": status, "after_s": time.monotonic() - began}
    finally:
        mock.stop()


def bench_slow_clients_section(figures: dict[str, Any], servers: Optional[list[str]] = None, requests: int = 200,
                               tricklers: int = 8, trickle_seconds: float = 1.0) -> None:
    """Section 7 of `python -m bench`, printed as it goes and kept in `figures["slow_clients"]`."""
    servers = servers or ["granian", "waitress"]
    log(f"\n7. Slow clients: getOrder one after another ({requests} per figure) while {tricklers} clients trickle "
        f"createOrder bodies a byte at a time ({trickle_seconds:g} s a body); `otacm mock --server NAME`")
    results: dict[str, Any] = {}
    log(f"    {'server':<10}{'tricklers':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}   trickled bodies answered")
    for server in servers:
        result = results[server] = measure_server(server, requests, tricklers, trickle_seconds)
        for count in ("0", str(tricklers)):
            run = result[count]
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(result["trickler_answers"].items())) \
                if count != "0" else ""
            log(f"    {server:<10}{count:>10}{run['p50_ms']:>9.2f}{run['p99_ms']:>9.2f}{run['max_ms']:>9.1f}   "
                f"{answers}")
    stalled = results["stalled"] = stalled_body_answer()
    log(f"    a body that stops arriving (--body-timeout {stalled['limit']}): {stalled['status']} after "
        f"{stalled['after_s']:.2f} s")
    figures["slow_clients"] = results


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_clients", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="GETs per figure")
    parser.add_argument("--tricklers", type=int, default=8)
    parser.add_argument("--trickle-seconds", type=float, default=1.0, help="how long one trickled body takes")
    parser.add_argument("--server", default="granian,waitress", help="`otacm mock --server` values to measure")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {}
    bench_slow_clients_section(figures, [s for s in args.server.split(",") if s], args.requests, args.tricklers,
                               args.trickle_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
