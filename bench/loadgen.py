"""A closed-loop HTTP/1.1 load generator, run as its own process.

    python -m bench.loadgen --port P --info-file F --scenario get --seconds 4 --connections 8

`connections` keep-alive connections each send a request, wait for the whole
response, and send the next; every latency is recorded (after a warm-up).
Prints one JSON line: requests, requests/s, p50/p99 in ms, statuses.
Plain asyncio sockets: a Python client costs a fraction of what a Flask
request costs the server, so the server (one GIL) stays the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections import Counter
from typing import Any, Callable

from bench.visits import visit

Request = Callable[[], bytes]


def requests_for(scenario: str, info: dict[str, Any], host: str) -> Request:
    base = info["base_path"]
    key = info["api_key"]
    partner = info["partner_id"]
    ids = info["ids"]
    head = f"Host: {host}\r\nx-np-api-key: {key}\r\n"
    rng = random.Random(os.getpid())
    counter = iter(range(10**9))
    tag = f"{os.getpid()}-{time.time_ns() % 10**9}"

    def get(path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\n{head}\r\n".encode()

    if scenario == "limit":
        return lambda: get("/_bench/limit")
    if scenario == "floor":
        return lambda: get("/_bench/floor")
    if scenario == "get":
        return lambda: get(f"{base}/channelManager/{rng.choice(ids)}")
    if scenario == "list":  # one page of 100 summaries, anywhere in the partner's 100,000 orders
        top = max(1, info["max_seq"] - 100)
        return lambda: get(f"{base}/channelManager/orders/{partner}?pageSize=100&pageKey={rng.randrange(top)}")
    if scenario == "list-status":  # the 10 % in Draft, first page of 100
        return lambda: get(f"{base}/channelManager/orders/{partner}?status=Draft&pageSize=100")
    if scenario == "list-issued":  # the 90 % in Issued, first page of 100
        return lambda: get(f"{base}/channelManager/orders/{partner}?status=Issued&pageSize=100")
    if scenario == "list-reference":
        return lambda: get(f"{base}/channelManager/orders/{partner}?sellToOrderReference=FILL-{rng.randrange(len(ids))}")
    if scenario == "create":
        offset = rng.randrange(10**6)  # another slot spread than the fill's, per process

        def create() -> bytes:
            number = next(counter)
            visit_date, visit_time = visit(offset + number)
            body = json.dumps({
                "partnerId": partner,
                "sellToOrderReference": f"LG-{tag}-{number}",
                "paymentReference": "PAY-LG",
                "sellToEmail": "guest@example.com",
                "sellToName": "Load Guest",
                "items": [{"itemNumber": "31001", "visitDate": visit_date, "visitTime": visit_time, "quantity": 1}],
            }).encode()
            return (f"POST {base}/channelManager HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        return create
    raise SystemExit(f"unknown scenario {scenario}")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; (status, whether the server closes the connection)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed by the server")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, close


async def connection(port: int, make: Request, start: float, end: float,
                     latencies: list[float], statuses: Counter, errors: Counter) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            sent = time.perf_counter()
            if sent >= end:
                return
            writer.write(make())
            try:
                status, close = await read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                errors[type(error).__name__] += 1
                close = True
                status = 0
            done = time.perf_counter()
            if sent >= start:
                latencies.append(done - sent)
                statuses[status] += 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def run(port: int, make: Request, seconds: float, warmup: float, connections: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    begin = time.perf_counter()
    start, end = begin + warmup, begin + warmup + seconds
    await asyncio.gather(*(connection(port, make, start, end, latencies, statuses, errors) for _ in range(connections)))
    elapsed = max(time.perf_counter(), end) - start
    latencies.sort()
    count = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(count - 1, int(p * count))] * 1000 if count else float("nan")

    return {
        "requests": count,
        "rps": count / elapsed,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000 if count else float("nan"),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": dict(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info-file", required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with open(args.info_file) as source:
        info = json.load(source)
    make = requests_for(args.scenario, info, f"127.0.0.1:{args.port}")
    print(json.dumps(asyncio.run(run(args.port, make, args.seconds, args.warmup, args.connections))))


if __name__ == "__main__":
    main()
