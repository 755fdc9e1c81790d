"""README's "Quick start: a session with curl", run exactly as printed (issue 21).

The test takes the first ```bash block under that heading, starts a real `otacm mock`
with nothing but a port, and runs the block with `bash -e`, unedited. The only thing it
sets is the environment variable the block itself reads, `OTACM_URL`, so the sandbox can
listen on a free port: running the suite while the main job holds 8080 must not fail it.
Its default, `http://127.0.0.1:8080`, is checked against the CLI's and the banner's.

Every `# → ...` line is what the command above it prints; the session's whole stdout
must be those lines, in order (a command without one prints nothing). No sleeps: the
block freezes the clock and its warp settles the order. Only 127.0.0.1 is called.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.slow_clients import stop_process
from mockserver.cli import DEFAULT_URL

README = Path(__file__).resolve().parents[1] / "README.md"
HEADING = "## Quick start: a session with curl"
SHOWN = "# → "


def quickstart() -> str:
    """The first ```bash block under the heading, before the next `## ` section."""
    text = README.read_text(encoding="utf-8")
    assert HEADING in text, f"README.md has no {HEADING!r} section"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```bash\n(.*?)^```$", section, re.S | re.M)
    assert match, f"no ```bash block under {HEADING!r}"
    return match.group(1)


def expected_lines(block: str) -> list[str]:
    return [line[len(SHOWN):] for line in block.splitlines() if line.startswith(SHOWN)]


def assignment(block: str, name: str) -> str:
    match = re.search(rf"^{name}=(\S+)", block, re.M)
    assert match, f"the quick start sets no {name}"
    return match.group(1).strip('"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def banner(process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> dict[str, str]:
    """The banner's `name  value` lines, read from the log file up to a deadline (it is
    printed, in one flush, once the sandbox accepts connections)."""
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace")
        fields = {f"{w[0]} {w[1]}": w[2] for w in map(str.split, text.splitlines()) if len(w) >= 3}
        if "base URL" in fields and "partner id" in fields:
            return fields
        if process.poll() is not None:
            raise AssertionError(f"otacm mock exited ({process.returncode}): {text!r}")
        assert time.monotonic() < deadline, f"otacm mock printed no banner in {timeout} s: {text!r}"
        time.sleep(0.02)


def test_the_block_reads_the_banners_defaults() -> None:
    block = quickstart()
    assert assignment(block, "MOCK") == "${OTACM_URL:-" + DEFAULT_URL + "}", "MOCK must default to `otacm mock`'s URL"
    assert expected_lines(block), "the quick start shows no `# → ` answer"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the quick start needs curl on the PATH")
def test_readme_quickstart_runs_exactly_as_printed(tmp_path: Path) -> None:
    block = quickstart()
    otacm = Path(sys.executable).parent / "otacm"
    assert otacm.exists(), "the otacm console script is installed beside the interpreter"
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "mock.log"
    with log.open("wb") as out:  # a file, never a pipe nobody reads
        process = subprocess.Popen([str(otacm), "mock", "--port", url.rsplit(":", 1)[1]],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        fields = banner(process, log)
        # The block's variables are what the banner prints (only the port differs from 8080).
        assert fields["base URL"] == assignment(block, "BASE").replace("$MOCK", url), fields
        assert fields["API key"] == assignment(block, "KEY"), fields
        assert fields["partner id"] == assignment(block, "PARTNER"), fields
        env = {**os.environ, "OTACM_URL": url, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(name, None)
        result = subprocess.run(["bash", "-e", "-c", block], env=env, capture_output=True, text=True,
                                timeout=60, cwd=tmp_path)
        shown = result.stdout.splitlines()
        assert result.returncode == 0, (
            f"the quick start stopped (bash -e, exit {result.returncode}) after printing {shown}:\n{result.stderr}")
        expected = expected_lines(block)
        for step, (want, got) in enumerate(zip(expected, shown, strict=False), 1):
            assert got == want, f"answer {step} of the quick start:\n  README shows  {want}\n  it printed   {got}"
        assert shown == expected, f"the quick start printed {len(shown)} lines, README shows {len(expected)}"
        assert result.stderr == "", result.stderr
    finally:
        stop_process(process)
