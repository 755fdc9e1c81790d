"""Every reproduction a failing run prints works when pasted: run with bash, `OTACM_API_KEY` exported as the
report says, against the same still-running broken target, it shows the defect again (issue 18)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable

import pytest
from broken_targets import _errors_as_text, _unknown_order_500
from realtime_targets import realtime_mock, verify_argv

from contracts.cli import main
from mockserver.server import MockServer

# --keep-orders: a reproduction of a duplicate reference needs the first order still there (cleanup removes it)
SCOPE = ("--checks", "responses,rejections", "--operations", "getOrder,createOrder", "--keep-orders")


def _is_text_error(status: int, body: str) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return 400 <= status < 500
    return False


BREAKS: dict[str, tuple[Callable[[MockServer], None], Callable[[int, str], bool]]] = {
    "unknown order answers 500": (_unknown_order_500, lambda status, body: status == 500),
    "errors as plain text": (_errors_as_text, _is_text_error),
}


def _pasted(command: str, api_key: str | None) -> tuple[int, str]:
    """The command as a person pastes it into bash (plus curl's own flags to print the status)."""
    env = {k: v for k, v in os.environ.items() if k != "OTACM_API_KEY"}
    if api_key is not None:
        env["OTACM_API_KEY"] = api_key
    done = subprocess.run(["bash", "-c", command + " -s -w '\\n%{http_code}'"], capture_output=True, text=True,
                          env=env, timeout=30, check=True)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.parametrize("name", list(BREAKS))
def test_the_printed_reproductions_reproduce_the_failure(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    apply, shows_defect = BREAKS[name]
    with realtime_mock(apply) as server:
        code = main(verify_argv(server, *SCOPE))
        out = capsys.readouterr().out
        assert code == 1, out
        commands = re.findall(r"^\s+reproduce: (curl .*)$", out, re.MULTILINE)
        assert commands, out
        # the mock's key is public (its banner prints it), so the report names it once
        assert out.count(f"export OTACM_API_KEY={server.api_key}") == 1, out
        for command in commands:
            assert '-H "x-np-api-key: $OTACM_API_KEY"' in command and server.api_key not in command
            status, body = _pasted(command, server.api_key)
            assert shows_defect(status, body), (command, status, body)
        assert _pasted(commands[0], None)[0] == 401  # the key reaches the target only through the variable
