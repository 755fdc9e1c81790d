"""`otacm verify --strictness strict` and the scenario library pass against `otacm mock --workers 2` on PostgreSQL
(issue 20).

Two granian worker processes on one database, as a team shares a sandbox:
the verifier's and the library's requests land on either worker (each a new
connection or a kept one, as the kernel hands them out), so an order made
through one worker is read, warped and deleted through the other, and the
webhooks one worker sends are awaited through the other
(`/_mock/webhooks/wait` looks at every worker's queued deliveries).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_process import SandboxProcess, free_port
from store_engines import POSTGRESQL

from contracts.cli import main as otacm


@pytest.fixture
def workers(tmp_path: Path):  # noqa: ANN201
    box = SandboxProcess(POSTGRESQL.database(), free_port(), tmp_path / "mock.log", workers=2).start()
    try:
        yield box
    finally:
        box.stop()


@pytest.mark.timeout(300)
def test_strict_verify_passes_against_two_workers_on_postgresql(workers: SandboxProcess,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = otacm(["verify", "--base-url", f"http://127.0.0.1:{workers.port}", "--strictness", "strict", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 failed, 0 warning" in out, out


@pytest.mark.timeout(300)
def test_the_scenario_library_passes_against_two_workers_on_postgresql(workers: SandboxProcess,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    base_url = f"http://127.0.0.1:{workers.port}{workers.base_path}"
    code = otacm(["scenarios", "run", "--base-url", base_url, "--strictness", "strict", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 failed, 0 skipped" in out, out
