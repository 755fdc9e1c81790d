"""What one `otacm verify` run is asked to do (the CLI and the pytest entry fill it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from contracts.verify.schemathesis_run import PHASES

STRICTNESS_LEVELS = ("documented", "strict")
# The families that are not registry checks: Schemathesis' own checks and the scenario library.
RESPONSES, SCENARIOS = "responses", "scenarios"


@dataclass
class VerifyOptions:
    base_url: str | None = None  # the full base, or a server root with the three segments; None: the embedded mock
    api_key: str | None = None
    partner_id: str | None = None
    tenant: str | None = None
    environment: str | None = None
    company: str | None = None
    strictness: str = "documented"
    checks: tuple[str, ...] = ()  # check names or family names; empty: everything
    venue: dict[str, Any] = field(default_factory=lambda: _sandbox_venue())  # venue facts (vars.yaml, --vars, --var)
    phases: tuple[str, ...] = PHASES
    operations: tuple[str, ...] = ()  # Schemathesis: only these operationIds
    max_examples: int = 25
    # Schemathesis' hard stop, seconds: a safety net, not the budget (max_examples is). At 90 s two runs at a
    # time on a loaded 2-core machine were cut short (a warning against a correct target).
    max_time: float | None = 300.0
    seed: int | None = None
    scenarios: bool = True
    scenario_filter: str | None = None  # only scenarios whose name contains this
    webhooks: bool = True
    webhook_host: str = "127.0.0.1"  # where the receiver listens (0.0.0.0: a runner port a remote target reaches)
    webhook_port: int = 0  # 0: any free port
    webhook_url: str | None = None  # what the target is told to call (a tunnel); default: the receiver's own
    keep_orders: bool = False  # leave the run's orders on the target (default: delete the settled ones at the end)
    other_api_key: str | None = None  # a second partner's key (isolation scenarios)
    other_partner_id: str | None = None  # a second partner of the target (the other-partner flow)
    poll_interval: float | None = None  # default: 1 s warped, 2 s real
    close_poll: float = 0.25  # cadence around the pickup, to see Scheduled and Processing
    settle_within: float = 10.0  # seconds after pickup (x-lifecycle's pickup interval is added)
    quiet_window: float | None = None  # seconds to wait for late or duplicate webhooks (default 20 real, 0 warped)
    pickup_interval: float | None = None  # the target's pickup cadence if not the documented 60 s
    request_timeout: float = 15.0
    fail_on_warning: bool = False
    progress: Callable[[str], None] | None = None

    def wants(self, family: str, names: tuple[str, ...] = ()) -> bool:
        """Whether a family runs: selected by name (or one of its checks), and not switched off."""
        if family == SCENARIOS and not self.scenarios:
            return False
        if not self.checks:
            return True
        return family in self.checks or any(name in self.checks for name in names)

    @property
    def routed_webhooks(self) -> bool:
        """Whether the user named the receiver's address: then one listener serves the probe and the scenarios."""
        return bool(self.webhook_url) or self.webhook_port != 0 or self.webhook_host != "127.0.0.1"


def _sandbox_venue() -> dict[str, Any]:
    """The shipped venue facts (scenarios/vars.yaml): the sandbox mock's catalog."""
    from contracts.scenarios.loader import load_venue

    return load_venue()
