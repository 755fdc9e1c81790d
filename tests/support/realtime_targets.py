"""Real-time targets for `otacm verify`'s own tests: the mock as a foreign implementation would look.

`realtime_mock()` is `otacm mock --no-control` with fast timings: no `/_mock/`
(verify cannot warp, it polls on the real clock), pickups every half second,
settling a second later. `verify_argv(server)` is what a QA engineer types:
the base URL exactly as the mock's banner prints it, the key and the partner.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

from mockserver.config import MockConfig
from mockserver.server import MockServer

PICKUP_SECONDS = 0.5
FAST = {"scheduled_to_processing_seconds": 0.6, "processing_seconds": 1.0}  # long enough to be seen polling at 0.1 s on a busy machine
# verify's budget on these targets: tight polling, a short quiet window, a small Schemathesis run
VERIFY_BUDGET = ("--pickup-seconds", str(PICKUP_SECONDS), "--poll-interval", "0.2", "--close-poll", "0.1",
                 "--quiet-window", "2", "--settle-within", "5", "--max-examples", "5", "--quiet")


@contextlib.contextmanager
def realtime_mock(apply: Callable[[MockServer], None] | None = None, **config: Any) -> Iterator[MockServer]:
    """A real-time mock without control, optionally broken by `apply` before it serves."""
    server = MockServer(MockConfig.load().replace(**{**FAST, **config}), control=False, pickup_seconds=PICKUP_SECONDS)
    if apply is not None:
        apply(server)
    with server:
        yield server


def verify_argv(server: MockServer, *extra: str) -> list[str]:
    """`otacm verify` against the server, addressed as its banner prints it."""
    return ["verify", "--base-url", server.base_url, "--api-key", server.api_key, "--partner-id", server.partner_id,
            *VERIFY_BUDGET, *extra]
