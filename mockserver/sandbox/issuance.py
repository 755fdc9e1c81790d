"""Minting wallets, tickets and coupons for an order's lines.

Issuance is all-or-nothing: it either mints every wallet of the order or
raises `IssuanceFailed` with the reason the order's `statusMessage` shows,
leaving no capacity taken.
"""

from __future__ import annotations

import random
import string
import uuid
from collections import Counter
from typing import Callable, Mapping, Optional

from mockserver.sandbox.catalog import Catalog, CatalogItem
from mockserver.sandbox.clock import iso
from mockserver.sandbox.models import Asset, ComponentVisit, Order, OrderLine, Wallet

SlotKey = tuple[str, str, str]  # item, visit date, visit time


class IssuanceFailed(Exception):
    """The ticketing could not issue; the text becomes the order's statusMessage."""


def new_guid() -> str:
    return str(uuid.uuid4())


class Issuer:
    """Mints wallets from the catalog and keeps per-slot capacity."""

    def __init__(self, catalog: Catalog, manifest_base_url: str, rng: random.Random | None = None) -> None:
        self.catalog = catalog
        self.manifest_base_url = manifest_base_url
        self._rng = rng or random.Random()
        self._sold: Counter[SlotKey] = Counter()
        #: told each slot's new count when issuance or a release changes it (the backend keeps it in the store)
        self.on_sold: Optional[Callable[[SlotKey, int], None]] = None

    def issue(self, order: Order, at: float) -> None:
        """Mint every line's wallets or raise IssuanceFailed (nothing taken)."""
        demand = self._demand(order)
        for (item_number, visit_date, visit_time), count in demand.items():
            item = self.catalog.items[item_number]
            if not item.admits_at(visit_time):
                raise IssuanceFailed(
                    f"Visit time {visit_time} is outside the admission slots of item '{item_number}' "
                    f"({item.opens}-{item.closes})"
                )
            if self._sold[(item_number, visit_date, visit_time)] + count > item.capacity:
                raise IssuanceFailed(f"Slot {visit_date} {visit_time} of item '{item_number}' is sold out")
        self._sold.update(demand)
        self._tell(demand)
        order.job_id = uuid.uuid4().hex.upper()
        for line in order.lines:
            item = self.catalog.items[line.item_number]
            line.wallets = [self._wallet(order, line, item, seq, at) for seq in range(1, line.expected_wallets + 1)]

    def release(self, order: Order) -> None:
        """Give back the capacity of an order whose wallets are destroyed."""
        if any(line.wallets for line in order.lines):
            demand = self._demand(order)
            self._sold.subtract(demand)
            self._tell(demand)

    def restore(self, order: Order) -> None:
        """Count the capacity a stored order's wallets hold (a store that kept no counts)."""
        if any(line.wallets for line in order.lines):
            self._sold.update(self._demand(order))

    def restore_sold(self, sold: Mapping[SlotKey, int]) -> None:
        """Stand on the counts a store kept: no order needs reading (a sandbox of 100,000 orders starts
        without decoding them)."""
        self._sold = Counter(sold)

    def sold(self) -> dict[SlotKey, int]:
        """Every slot's capacity taken, the slots with none left out."""
        return {slot: count for slot, count in self._sold.items() if count}

    def _tell(self, demand: Mapping[SlotKey, int]) -> None:
        if self.on_sold is not None:
            for slot in demand:
                self.on_sold(slot, self._sold[slot])

    def build_manifests(self, order: Order) -> None:
        """The manifest exists once the order is Issued (docs/000)."""
        order.manifest_url = self.manifest_base_url + order.order_id
        for line in order.lines:
            for wallet in line.wallets:
                wallet.manifest_url = self.manifest_base_url + wallet.wallet_id

    def reset(self) -> None:
        self._sold.clear()

    def _demand(self, order: Order) -> Counter[SlotKey]:
        """Tickets per (item, date, time) the order needs."""
        demand: Counter[SlotKey] = Counter()
        for line in order.lines:
            item = self.catalog.items[line.item_number]
            for visit in component_visits(line, item):
                demand[(visit.item_number, visit.visit_date, visit.visit_time)] += line.quantity
            if not item.is_package:
                demand[(item.number, line.visit_date, line.visit_time)] += line.quantity
        return demand

    def _wallet(self, order: Order, line: OrderLine, item: CatalogItem, seq: int, at: float) -> Wallet:
        units = line.quantity if item.kind == "group" else 1
        return Wallet(
            seq_no=seq,
            wallet_id=new_guid(),
            wallet_reference_number="".join(self._rng.choices(string.digits, k=18)),
            external_reference_number=line.submitted_reference(seq),
            name=line.submitted_name(seq) or item.description,
            issued_at=iso(at),
            unit_price_excl_vat=item.price_excl_vat * units,
            unit_price_incl_vat=item.price_incl_vat * units,
            currency_code=self.catalog.currency,
            assets=self._assets(line, item),
        )

    def _assets(self, line: OrderLine, item: CatalogItem) -> list[Asset]:
        if not item.is_package:
            return [self._asset("ticket", item.number, item.description)]
        tickets = [
            self._asset("ticket", visit.item_number, self.catalog.items[visit.item_number].description)
            for visit in component_visits(line, item)
        ]
        coupons = [self._asset("coupon", coupon.item_number, coupon.description) for coupon in item.coupons]
        return tickets + coupons

    def _asset(self, kind: str, item_number: str, description: str) -> Asset:
        prefix = "ATF" if kind == "ticket" else "CPN"
        code = "".join(self._rng.choices(string.ascii_uppercase + string.digits, k=9))
        return Asset(new_guid(), kind, new_guid(), f"{prefix}-{code}-{self._rng.randint(1, 9)}", item_number, description)


def component_visits(line: OrderLine, item: CatalogItem) -> list[ComponentVisit]:
    """When each component of a package line is visited: its schedule entry,
    else the line's own date and time."""
    scheduled = {visit.item_number: visit for visit in line.component_schedule}
    return [
        scheduled.get(component, ComponentVisit(component, line.visit_date, line.visit_time))
        for component in item.components
    ]
