"""`otacm verify --strictness strict` passes against the real `otacm mock --store sqlite:...` (issue 19).

The mock runs as users run it: its own process, granian, the RSGI front.
This run also caught a deadlock of the front's first control pool (two
threads): the probe's flows waited for webhooks on both while the
verifier's receiver read `/_mock/clock`, so a delivery timed out and came
again (`webhook_once_per_settle`). The pool is large now (front.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_process import SandboxProcess, free_port

from contracts.cli import main as otacm


@pytest.mark.timeout(300)
def test_strict_verify_passes_against_the_real_mock_on_sqlite(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = SandboxProcess(tmp_path / "sandbox.db", free_port(), tmp_path / "mock.log").start()
    try:
        code = otacm(["verify", "--base-url", f"http://127.0.0.1:{sandbox.port}", "--strictness", "strict",
                      "--quiet"])
    finally:
        sandbox.stop()
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 failed, 0 warning" in out, out
