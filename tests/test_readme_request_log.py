"""README's request-log commands ("### The request log"), run as printed against a real `otacm mock`.

The only edit is the address: the sandbox listens on a free port, not 8080 (the suite
may run beside a mock that holds it). A rejected createOrder is sent first, so the
filter has a row to find and id 1 exists. Only 127.0.0.1 is called.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bench.slow_clients import stop_process
from test_readme_quickstart import README, banner, free_port

HEADING = "### The request log"


def commands() -> list[str]:
    """The indented curl lines right under the heading, comments dropped."""
    section = README.read_text(encoding="utf-8").split(HEADING, 1)[1].split("\n### ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.startswith("    curl ")]
    assert len(lines) == 3, f"the request log section shows {len(lines)} curl lines, this test knows 3"
    return [re.sub(r"\s+#.*$", "", line) for line in lines]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the commands need curl on the PATH")
def test_the_request_log_commands_answer_as_the_readme_says(tmp_path: Path) -> None:
    otacm = Path(sys.executable).parent / "otacm"
    port = free_port()
    log = tmp_path / "mock.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(otacm), "mock", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        fields = banner(process, log)
        rejected = requests.post(f"{fields['base URL']}/channelManager", json={"partnerId": fields["partner id"]},
                                 headers={"x-np-api-key": fields["API key"]}, timeout=10)
        assert rejected.status_code == 400
        listed, one, cleared = (subprocess.run(["bash", "-c", command.replace("127.0.0.1:8080", f"127.0.0.1:{port}")],
                                               capture_output=True, text=True, timeout=30) for command in commands())
        page = json.loads(listed.stdout)
        assert [(r["id"], r["status"], r["operation"]) for r in page["requests"]] == [(1, 400, "createOrder")]
        entry = json.loads(one.stdout)
        assert entry["id"] == 1 and json.loads(entry["requestBody"]) == {"partnerId": fields["partner id"]}
        assert cleared.returncode == 0
        assert requests.get(f"http://127.0.0.1:{port}/_mock/requests", timeout=10).json()["requests"] == []
    finally:
        stop_process(process)
