"""The anchors: other mock servers measured in the same run, on the same
load generator, serving getOrder's URL.

- Prism (`@stoplight/prism-cli mock` on our spec): answers the spec's
  example, as a partner would run it against the same file.
- WireMock (the standalone jar of the npm package `wiremock`): one stub that
  answers the same bytes as the otacm order the bench reads, warmed (the JIT)
  before it is measured.

Both are installed with npm into a cache directory outside the repository
(`$OTACM_BENCH_CACHE`, default `~/.cache/otacm-bench`). An anchor that cannot
be installed or started is reported as skipped with the reason, never guessed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "channel-manager.yaml"
PACKAGES = ["@stoplight/prism-cli@5", "wiremock@3"]


def cache_dir() -> Path:
    return Path(os.environ.get("OTACM_BENCH_CACHE", Path.home() / ".cache" / "otacm-bench"))


class Skipped(Exception):
    """Why an anchor is not measured (reported as such)."""


@dataclass
class Anchor:
    """A running anchor: the port serving getOrder's URL, and its process group."""

    name: str
    version: str
    port: int
    process: subprocess.Popen

    def stop(self) -> None:
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


def install() -> Optional[str]:
    """npm-install the anchors into the cache once; the reason if that fails."""
    modules = cache_dir() / "node_modules"
    if (modules / ".bin" / "prism").exists() and _wiremock_jar(modules):
        return None
    if not shutil.which("npm"):
        return "npm is not installed"
    cache_dir().mkdir(parents=True, exist_ok=True)
    try:
        run = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache_dir()), *PACKAGES],
                             capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return "npm install timed out"
    return None if run.returncode == 0 else f"npm install failed: {run.stderr.strip()[-300:]}"


def start_prism(workdir: Path, get_path: str) -> Anchor:
    prism = cache_dir() / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        raise Skipped(f"{prism} missing (npm install @stoplight/prism-cli failed)")
    if not shutil.which("node"):
        raise Skipped("node is not installed")
    port = _free_port()
    process = _spawn([str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)], workdir / "prism.log")
    anchor = Anchor("Prism", _package_version("@stoplight/prism-cli"), port, process)
    _wait_ready(anchor, get_path, workdir / "prism.log")
    return anchor


def start_wiremock(workdir: Path, get_path: str, body: bytes) -> Anchor:
    jar = _wiremock_jar(cache_dir() / "node_modules")
    if jar is None:
        raise Skipped("the wiremock npm package's standalone jar is missing")
    java = shutil.which("java")
    if java is None:
        raise Skipped("java is not installed")
    root = workdir / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    stub = {"request": {"method": "GET", "urlPathPattern": r"/.*/channelManager/[0-9a-fA-F-]{36}"},
            "response": {"status": 200, "body": body.decode(), "headers": {"Content-Type": "application/json"}}}
    (root / "mappings" / "getOrder.json").write_text(json.dumps(stub))
    port = _free_port()
    process = _spawn([java, "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1",
                      "--root-dir", str(root), "--disable-banner", "--no-request-journal"], workdir / "wiremock.log")
    anchor = Anchor("WireMock", _package_version("wiremock"), port, process)
    _wait_ready(anchor, get_path, workdir / "wiremock.log")
    return anchor


STARTERS: dict[str, Callable[..., Anchor]] = {"prism": start_prism, "wiremock": start_wiremock}


def _wiremock_jar(modules: Path) -> Optional[Path]:
    jars = sorted((modules / "wiremock").glob("**/wiremock-standalone-*.jar"))
    return jars[-1] if jars else None


def _package_version(name: str) -> str:
    try:
        return json.loads((cache_dir() / "node_modules" / name / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def _spawn(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "w") as out:  # the child keeps its own descriptor
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait_ready(anchor: Anchor, path: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if anchor.process.poll() is not None:
            raise Skipped(f"{anchor.name} exited: {log.read_text()[-300:]}")
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{anchor.port}{path}",
                                             headers={"x-np-api-key": "otacm-sandbox-key"})
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    anchor.stop()
    raise Skipped(f"{anchor.name} did not answer getOrder with 200 within {timeout:.0f} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
