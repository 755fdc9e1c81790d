"""`otacm verify` inside your own pytest run: one test per check.

In a test module of your suite:

    from contracts.verify.pytest_entry import contract_tests

    test_contract = contract_tests(
        base_url="https://sandbox.example.com",      # or None: the embedded mock
        api_key="...", partner_id="...",
        tenant="...", environment="sandbox", company="CRONUS International Ltd.",
        strictness="documented",                      # or "strict"
        checks=("responses", "lifecycle", "webhooks"),  # families or check names; () for all
        max_examples=10,
    )

pytest then collects `test_contract[responses/status_code_conformance]`,
`test_contract[lifecycle/settles_within]`, … . The first of them runs
`verify()` once (the result is shared by the module's tests); each test
fails with the messages of its check, or is skipped when the check did not
run. Any keyword of `contracts.verify.VerifyOptions` is accepted; unset
target options fall back to the environment variables `OTACM_BASE_URL`,
`OTACM_API_KEY`, `OTACM_PARTNER_ID`, `OTACM_TENANT`, `OTACM_ENVIRONMENT`,
`OTACM_COMPANY`, `OTACM_STRICTNESS`.
"""

from __future__ import annotations

import os
import threading
from types import MappingProxyType
from typing import Any, Callable

import pytest

from contracts.checks.registry import Registry
from contracts.verify.options import RESPONSES, SCENARIOS, VerifyOptions
from contracts.verify.results import EXIT_UNREACHABLE, EXIT_USAGE, Report
from contracts.verify.run import SCENARIO_CHECK, selection, verify
from contracts.verify.schemathesis_run import SCHEMATHESIS_CHECKS

_ENV = MappingProxyType({
    "base_url": "OTACM_BASE_URL",
    "api_key": "OTACM_API_KEY",
    "partner_id": "OTACM_PARTNER_ID",
    "tenant": "OTACM_TENANT",
    "environment": "OTACM_ENVIRONMENT",
    "company": "OTACM_COMPANY",
    "strictness": "OTACM_STRICTNESS",
})


def options_from(**overrides: Any) -> VerifyOptions:
    """VerifyOptions from keywords, then the OTACM_* environment variables."""
    values: dict[str, Any] = {key: os.environ[name] for key, name in _ENV.items() if os.environ.get(name)}
    values.update({key: value for key, value in overrides.items() if value is not None})
    if "checks" in values and isinstance(values["checks"], str):
        values["checks"] = tuple(c.strip() for c in values["checks"].split(",") if c.strip())
    return VerifyOptions(**values)


def check_ids(options: VerifyOptions) -> list[str]:
    """`family/check` for every check the options select (the tests' ids)."""
    ids = [f"{RESPONSES}/{c}" for c in SCHEMATHESIS_CHECKS
           if options.wants(RESPONSES, SCHEMATHESIS_CHECKS) and (not options.checks or c in options.checks
                                                                  or RESPONSES in options.checks)]
    ids += [f"{c.family}/{c.name}" for c in selection(options, Registry.collect())]
    if options.wants(SCENARIOS, (SCENARIO_CHECK,)):
        ids.append(f"{SCENARIOS}/{SCENARIO_CHECK}")
    return ids


def contract_tests(**keywords: Any) -> Callable[[str], None]:
    """A parametrized pytest test function: one test per selected check."""
    options = options_from(**keywords)
    lock = threading.Lock()
    cache: dict[str, Report] = {}

    def report() -> Report:
        with lock:
            if "report" not in cache:
                cache["report"] = verify(options)
            return cache["report"]

    @pytest.mark.parametrize("check_id", check_ids(options))
    def test_contract(check_id: str) -> None:
        result = report()
        if result.exit_code in (EXIT_UNREACHABLE, EXIT_USAGE):
            pytest.fail(f"otacm verify could not check {result.target}: {result.problem}", pytrace=False)
        family, check = check_id.split("/", 1)
        outcomes = [o for o in result.outcomes if o.family == family and o.check == check]
        if not outcomes or all(o.verdict == "skipped" for o in outcomes):
            reasons = "; ".join(dict.fromkeys(m for o in outcomes for m in o.messages[:1]))
            pytest.skip(f"{check_id} had nothing to judge against {result.target}" + (f": {reasons}" if reasons else ""))
        failed = [o for o in outcomes if o.failed]
        if failed:
            lines = [f"{len(failed)} of {len(outcomes)} subject(s) failed {check}"
                     + (f" (seed {result.seed})" if result.seed is not None else "")]
            for outcome in failed:
                lines.append(f"- {outcome.subject}")
                lines += [f"    {m}" for m in outcome.messages[:3]]
                lines += [f"    reproduce: {d}" for d in outcome.details[:1] if d.startswith("curl")]
            pytest.fail("\n".join(lines), pytrace=False)

    test_contract.verify_report = report  # type: ignore[attr-defined]
    return test_contract
