"""The scenario library passes against a sandbox kept in SQLite, and again once that sandbox is started again.

The library is the documented behaviour step by step; every other test of
it runs on the memory store. Here the sandbox writes each unit of work
through to a file (`--store sqlite:PATH`), and the second run is on the same
file reopened: its clock where the first run left it, that run's orders
(cancelled or deleted by its cleanup) still there, the counters going on.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contracts.cli import main as otacm
from mockserver.server import MockServer, frozen_config


@pytest.mark.timeout(90)
@pytest.mark.parametrize("api_mode", ["async", "sync"])
def test_the_library_passes_on_sqlite_and_again_after_a_restart(api_mode: str, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:{tmp_path / 'sandbox.db'}"
    started = time.monotonic()
    for run in ("first", "after a restart"):
        # a whole second, as the embedded mock starts (the API shows instants to the second)
        config = frozen_config(api_mode=api_mode, clock_start=float(int(time.time())), store=store)
        with MockServer(config) as mock:
            assert mock.backend.resumed == (run != "first")
            code = otacm(["scenarios", "run", "--base-url", mock.base_url, "--api-mode", api_mode,
                          "--strictness", "strict", "--quiet"])
        out = capsys.readouterr().out
        assert code == 0, f"{run} run:\n{out}"
        assert " 0 failed, 0 skipped" in out, out
    assert time.monotonic() - started < 60
