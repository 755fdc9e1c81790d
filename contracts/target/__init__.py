"""How `otacm` reaches a target: its address, its description and the one client for it."""

from contracts.target.address import FORMS, Address, AddressError, decode_company, parse_address
from contracts.target.client import EVENT_NAME, Capabilities, SubscriptionFailed, Target, TargetClient, detect
from contracts.target.exchange import Exchange
from contracts.target.resolve import TargetOptions, Unreachable, UsageProblem, embedded_mock, open_target, reach

__all__ = [
    "FORMS", "Address", "AddressError", "decode_company", "parse_address", "EVENT_NAME", "Capabilities",
    "SubscriptionFailed", "Target", "TargetClient", "detect", "Exchange", "TargetOptions", "Unreachable",
    "UsageProblem", "embedded_mock", "open_target", "reach",
]
