"""The load generator every server is measured with: wrk when it is
installed (`apt-get install wrk`), else bench/loadgen.py. One function,
`measure`, answers the same keys either way.

wrk is C and needs a fraction of a core, so on 2 cores the server, not the
client, is the bottleneck. Its latency percentiles include wrk's correction
for coordinated omission: a request that stalls for S ms also stands for the
requests a steady client would have sent meanwhile, so one stall weighs in
the p99 as it would for a real client. bench/loadgen.py reports raw latencies.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional

from bench.visits import FIRST_VISIT

ROOT = Path(__file__).resolve().parent.parent

# Prints what `measure` returns, from wrk's own figures (latency in µs).
DONE = r"""
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


# The first page of 100 in a status (bench/loadgen.py's scenarios of the same names).
LIST_FILTERS = {"list-issued": "status=Issued&pageSize=100", "list-status": "status=Draft&pageSize=100"}


def generator() -> str:
    """Which load generator `measure` uses on this machine."""
    return "wrk" if shutil.which("wrk") else "bench.loadgen (install wrk for lower client overhead)"


def measure(port: int, info_file: Path, scenario: str, seconds: float, connections: int,
            warmup: float = 0.5, cpu: Optional[int] = None) -> dict[str, Any]:
    """Closed-loop load on 127.0.0.1:port: req/s, p50/p90/p99/max ms, non-2xx count. `cpu`: the load
    generator runs on that core only (`pinned`)."""
    if not shutil.which("wrk"):
        return _loadgen(port, info_file, scenario, seconds, connections, warmup, cpu)
    script = _script(info_file, scenario)
    if warmup > 0:
        _wrk(port, script, warmup, connections, cpu)
    return _wrk(port, script, seconds, connections, cpu)


def pinned(command: list[str], cpu: Optional[int]) -> list[str]:
    """`command` run on one core (util-linux's taskset), or as it is without one."""
    return command if cpu is None else ["taskset", "-c", str(cpu), *command]


def _wrk(port: int, script: Path, seconds: float, connections: int, cpu: Optional[int] = None) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", str(script), f"http://127.0.0.1:{port}"]
    run = subprocess.run(pinned(command, cpu), capture_output=True, text=True, timeout=seconds + 60)
    lines = [line for line in run.stdout.splitlines() if line.startswith('{"requests"')]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed: {run.stderr[-1000:]} {run.stdout[-1000:]}")
    result = json.loads(lines[-1])
    result["statuses"] = {"non-2xx": result["non2xx"]} if result["non2xx"] else {"2xx": result["requests"]}
    result["errors"] = {"socket": result["socket_errors"]} if result["socket_errors"] else {}
    return result


def _script(info_file: Path, scenario: str) -> Path:
    """A wrk Lua script for the scenario, written once beside the info file."""
    path = info_file.with_name(f"wrk-{scenario}.lua")
    if not path.exists():
        info = json.loads(info_file.read_text())
        path.write_text(_lua(info, scenario, info_file.with_name("ids.txt")) + DONE)
    return path


def _lua(info: dict[str, Any], scenario: str, ids_file: Path) -> str:
    key, base, partner = info["api_key"], info["base_path"], info["partner_id"]
    head = f'wrk.headers["x-np-api-key"] = "{key}"\n'
    if scenario in ("limit", "floor"):
        return head + f'request = function() return wrk.format("GET", "/_bench/{scenario}") end\n'
    if scenario == "get":
        ids_file.write_text("\n".join(info["ids"]) + "\n")
        return head + f"""
local ids = {{}}
for line in io.lines("{ids_file}") do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function() return wrk.format("GET", "{base}/channelManager/" .. ids[math.random(#ids)]) end
"""
    if scenario == "list":  # one page of 100 summaries anywhere in the partner's orders
        top = max(1, info["max_seq"] - 100)
        return head + f"""
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "{base}/channelManager/orders/{partner}?pageSize=100&pageKey=" .. math.random(0, {top}))
end
"""
    if scenario in LIST_FILTERS:
        return head + f'request = function() return wrk.format("GET", "{base}/channelManager/orders/{partner}?{LIST_FILTERS[scenario]}") end\n'
    if scenario == "list-reference":
        return head + f"""
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "{base}/channelManager/orders/{partner}?sellToOrderReference=FILL-" .. math.random(0, {len(info["ids"]) - 1}))
end
"""
    if scenario == "create":
        return head + _create_lua(base, partner)
    raise SystemExit(f"unknown scenario {scenario}")


def _create_lua(base: str, partner: str) -> str:
    """Unique references; visit slots spread as bench/visits.py spreads them."""
    offset = random.randrange(10**6)  # other slots than the fill's and than another run's
    first_day = offset // 32_000  # the day of order n is n // 32,000 (bench/visits.py)
    days = ", ".join(f'"{FIRST_VISIT + timedelta(days=first_day + i)}"' for i in range(64))
    return f"""
wrk.headers["Content-Type"] = "application/json"
local days = {{{days}}}
local counter = 0
local tag = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000))
request = function()
  counter = counter + 1
  local n = {offset} + counter
  local day = days[math.floor(n / 32000) - {offset // 32_000} + 1]
  local body = string.format('{{"partnerId": "{partner}", "sellToOrderReference": "WRK-%s-%d", ' ..
    '"paymentReference": "PAY-WRK", "sellToEmail": "guest@example.com", "sellToName": "Load Guest", ' ..
    '"items": [{{"itemNumber": "31001", "visitDate": "%s", "visitTime": "%02d:30:00", "quantity": 1}}]}}',
    tag, counter, day, 9 + n % 8)
  return wrk.format("POST", "{base}/channelManager", nil, body)
end
"""


def _loadgen(port: int, info_file: Path, scenario: str, seconds: float, connections: int,
             warmup: float, cpu: Optional[int] = None) -> dict[str, Any]:
    output = subprocess.run(
        pinned([sys.executable, "-m", "bench.loadgen", "--port", str(port), "--info-file", str(info_file),
                "--scenario", scenario, "--seconds", str(seconds), "--connections", str(connections),
                "--warmup", str(warmup)], cpu),
        cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120,
    )
    if output.returncode != 0:
        raise RuntimeError(f"loadgen {scenario} failed: {output.stderr[-2000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])
