"""The mock's order records: plain data, no HTTP and no rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

# (tenant, environment, company): one Business Central company, the scope of
# every order and subscription.
Scope = tuple[str, str, str]
# Lines are numbered 100000, 200000, ... in request order; error messages name a line by it.
LINE_NO_STEP = 100000


@dataclass(slots=True)
class Asset:
    id: str
    type: str  # ticket | coupon
    asset_id: str
    reference_number: str
    item_number: str
    description: str


@dataclass(slots=True)
class Wallet:
    """A minted wallet. Shells are never stored: they are derived from the line."""

    seq_no: int
    wallet_id: str
    wallet_reference_number: str
    external_reference_number: str
    name: str
    issued_at: str
    unit_price_excl_vat: float
    unit_price_incl_vat: float
    currency_code: str
    assets: list[Asset]
    manifest_url: str = ""


@dataclass(slots=True)
class ComponentVisit:
    item_number: str
    visit_date: str
    visit_time: str


@dataclass(slots=True)
class OrderLine:
    line_no: int
    item_number: str
    description: str
    is_package: bool
    quantity: int
    expected_wallets: int
    visit_date: str
    visit_time: str
    sell_to_name: str
    sell_to_email: str
    sell_to_language: str
    wallet_names: list[str] = field(default_factory=list)
    external_reference_numbers: list[str] = field(default_factory=list)
    component_schedule: list[ComponentVisit] = field(default_factory=list)
    wallets: list[Wallet] = field(default_factory=list)

    def submitted_name(self, seq: int) -> str:
        """The `wallet.names` entry for wallet `seq` (1-based), or ""."""
        return self.wallet_names[seq - 1] if seq <= len(self.wallet_names) else ""

    def submitted_reference(self, seq: int) -> str:
        """The `wallet.externalReferenceNumbers` entry for wallet `seq`, or ""."""
        refs = self.external_reference_numbers
        return refs[seq - 1] if seq <= len(refs) else ""


@dataclass(slots=True)
class StatusChange:
    """One step of an order's history, for the control API and tests."""

    status: str
    at: float
    trigger: str
    reason: str = ""


@dataclass(slots=True)
class Directives:
    """Forced outcomes and faults for one order (Prefer header or partner config)."""

    outcome: Optional[str] = None  # "Error" forces issuance to fail
    message: str = ""
    stall: Optional[str] = None  # "Scheduled" (once) or "Processing"
    delay: float = 0.0  # extra processing seconds


@dataclass(slots=True)
class Order:
    order_id: str
    scope: Scope
    partner_id: str
    sell_to_order_reference: str
    buy_from_order_reference: str
    received_at: float
    seq: int
    status: str = "Submitted"
    status_message: str = ""
    sell_to_email: str = ""
    sell_to_name: str = ""
    sell_to_language: str = ""
    payment_reference: str = ""
    job_id: str = ""
    manifest_url: str = ""
    lines: list[OrderLine] = field(default_factory=list)
    directives: Directives = field(default_factory=Directives)
    history: list[StatusChange] = field(default_factory=list)
    status_since: float = 0.0
    generation: int = 0  # bumped on replace so stale background events are ignored
    # The API's JSON of this version of the order, serialised on first read
    # (Representation.order_bytes, summary_bytes); None once the order changes.
    rendered: Optional[bytes] = field(default=None, repr=False, compare=False)
    summary: Optional[bytes] = field(default=None, repr=False, compare=False)
    # The JSON a durable store loaded this order from, until a field outside
    # its index is first read (store/codec.py `stored_order`); None after.
    stored: Optional[str] = field(default=None, repr=False, compare=False)

    def changed(self) -> None:
        """Drop the cached JSON. Every change the API shows must call this
        (under the backend lock), or readers would get the old version."""
        self.rendered = None
        self.summary = None
